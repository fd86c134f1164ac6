#!/usr/bin/env python3
"""Passive latency (issue 12): crafted sFlow (0:2209 tcp_info, 0:1039
transit delay, 0:1040 queue depth) and IPFIX (pathDelay 530-532, Cisco ART
PEN 9 9282/9316-9321, nProbe PEN 35632 82-85 and 123-124) streams with
known value distributions, written here byte by byte from the specs (sFlow
v5 sFlow.org 2004 and the tcp_info / transit delay structures; RFC 7011),
replayed through peerscope.

Checks against numbers this script computes from the values it wrote:
the count is exact; p50/p90/p99 are within 2 % of the exact quantiles of
the same rank (floor(q * (n - 1)), numpy's "lower"); min/max exact; mean
within 0.5 %; impossible values counted by reason and left out; the
sketch's encoding decodes (with docs/latency.md's reference decoder logic,
re-implemented here) to the published count; latency lands on both
interfaces' connections.
"""
import base64
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

AGENT = bytes([192, 0, 2, 1])
T0 = 1700000000.0


# --- writers -------------------------------------------------------------

def write_pcap(path, datagrams):
    """[(ts, dport, payload)]: IPv4/UDP 127.0.0.1 -> 127.0.0.1, raw IP."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, (ts, dport, payload) in enumerate(datagrams):
            udp = struct.pack(">HHHH", 40000, dport, 8 + len(payload), 0)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload),
                             i & 0xFFFF, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                             bytes([127, 0, 0, 1]))
            frame = ip + udp + payload
            f.write(struct.pack("<IIII", int(ts), int(round((ts % 1) * 1e6)),
                                len(frame), len(frame)))
            f.write(frame)


def sflow_record(fmt, data):
    return struct.pack(">II", fmt, len(data)) + data


def sflow_ipv4(length=1000):
    # 0:3 sampled IPv4: length, protocol, src, dst, sport, dport, flags, tos
    return sflow_record(3, struct.pack(">II4s4sIIII", length, 6,
                                       bytes([198, 51, 100, 1]),
                                       bytes([203, 0, 113, 1]), 443, 50000,
                                       0x10, 0))


def sflow_tcp_info(dirn, rtt_us, min_rtt_us):
    # 0:2209: dirn, snd_mss, rcv_mss, unacked, lost, retrans, pmtu, rtt,
    # rttvar, snd_cwnd, reordering, min_rtt
    return sflow_record(2209, struct.pack(">12I", dirn, 1448, 1448, 0, 0, 0,
                                          1500, rtt_us, 100, 10, 3,
                                          min_rtt_us))


def sflow_flow_sample(seq, inp, out, records):
    body = struct.pack(">IIIIIIII", seq, 7, 1, seq, 0, inp, out,
                       len(records)) + b"".join(records)
    return struct.pack(">II", 1, len(body)) + body


def sflow_datagram(seq, samples):
    head = struct.pack(">II4sIIII", 5, 1, AGENT, 0, seq, 1000 * seq,
                       len(samples))
    return head + b"".join(samples)


def ipfix_message(seq, sets, export_time):
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), export_time, seq,
                       1) + body


def ipfix_set(set_id, body):
    return struct.pack(">HH", set_id, 4 + len(body)) + body


def ipfix_template(tid, fields):
    """fields: (ie, length) or (ie, length, pen)."""
    spec = b""
    for f in fields:
        if len(f) == 3:
            spec += struct.pack(">HHI", f[0] | 0x8000, f[1], f[2])
        else:
            spec += struct.pack(">HH", f[0], f[1])
    return ipfix_set(2, struct.pack(">HH", tid, len(fields)) + spec)


# --- truth ---------------------------------------------------------------

def exact_quantile(values, q):
    v = sorted(values)
    return v[int(q * (len(v) - 1))]


def decode_sketch(text):
    data, pos = base64.b64decode(text), 1
    assert data[0] == 1

    def varint():
        nonlocal pos
        value = shift = 0
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value
    assert varint() == 10000
    s = dict(zip(("count", "zero", "folded", "min", "max", "sum"),
                 (varint() for _ in range(6))))
    n, total = varint(), s["zero"]
    for _ in range(n):
        varint()
        total += varint()
    s["bucket_total"] = total
    return s


def check_figure(rep, name, blk, values_ns):
    """blk: a published figure; values_ns: what it must hold."""
    if not rep.check(name + ".present", blk is not None,
                     "" if blk is not None else "missing"):
        return
    rep.equal(name + ".count", blk["count"], len(values_ns))
    if not values_ns:
        return
    rep.check(name + ".min_ms", abs(blk["min_ms"] - min(values_ns) / 1e6)
              < 1e-6, "got %r want %r" % (blk["min_ms"], min(values_ns) / 1e6))
    rep.check(name + ".max_ms", abs(blk["max_ms"] - max(values_ns) / 1e6)
              < 1e-6, "got %r want %r" % (blk["max_ms"], max(values_ns) / 1e6))
    mean = sum(values_ns) / len(values_ns) / 1e6
    rep.check(name + ".mean_ms", abs(blk["mean_ms"] - mean) <= 0.005 * mean,
              "got %r want %r" % (blk["mean_ms"], mean))
    for q, key in ((0.5, "p50_ms"), (0.9, "p90_ms"), (0.99, "p99_ms")):
        want = exact_quantile(values_ns, q) / 1e6
        got = blk[key]
        rep.check("%s.%s" % (name, key), abs(got - want) <= 0.02 * want,
                  "got %r want %r (exact)" % (got, want))
    s = decode_sketch(blk["sketch"])
    rep.check(name + ".sketch", s["count"] == len(values_ns) and
              s["bucket_total"] == s["count"] and
              s["sum"] == sum(values_ns),
              "decoded count %d sum %d, want %d / %d" %
              (s["count"], s["sum"], len(values_ns), sum(values_ns)))


def schema_check(rep, schemas, messages):
    import jsonschema
    with open(os.path.join(schemas,
                           "connection_metrics.v2.schema.json")) as f:
        v = jsonschema.Draft202012Validator(json.load(f))
    bad = []
    for m in messages:
        if m.get("type") == "connection_metrics":
            bad += [e.message[:200] for e in v.iter_errors(m)]
    rep.check("connection_metrics valid against the v1 schema", not bad,
              "; ".join(bad[:3]))


def top_check(rep, peerscope, broker, want):
    """`peerscope top --once`: the row of if11 shows the best source's
    P50/P99 (tcp_info here: no probes), one decimal."""
    if not rep.check("embedded broker up", bool(broker)):
        return
    r = subprocess.run([peerscope, "top", "--once", "--brokers", broker],
                       capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()
    head = [ln for ln in lines if "P50 ms" in ln]
    row = [ln for ln in lines if ln.startswith("192.0.2.1/if11")]
    got = None
    if head and row:  # right-aligned 7-wide columns ending at each title
        a, b = head[0].index("P50 ms"), head[0].index("P99 ms")
        got = (row[0][a - 1:a + 6].strip(), row[0][b - 1:b + 6].strip())
    rep.equal("top: P50/P99 of if11 = tcp_info's", got,
              ("%.1f" % want["p50_ms"], "%.1f" % want["p99_ms"]))


def metrics_check(rep, peerscope, pcap, tmp, want):
    """/metrics after a replay: the latency summary of if11's tcp_info,
    count and sum since start and the window's quantiles, as published in
    connection_metrics; promtool accepts the text."""
    with cl.ServedReplay(peerscope,
                         ["--window", "60", "-o",
                          os.path.join(tmp, "m.jsonl"), pcap],
                         os.path.join(tmp, "metrics.err"),
                         "peerscope_connection_latency_seconds",
                         timeout=30) as s:
        if not rep.check("metrics endpoint up", s.port is not None):
            return
        top_check(rep, peerscope, s.broker, want)
    text = s.metrics
    series = {}
    for line in text.splitlines():
        m = re.match(r'(peerscope_connection_latency_seconds\w*)\{(.*)\} '
                     r'(\S+)$', line)
        if m and 'connection="192.0.2.1/if11"' in m.group(2) and \
                'source="tcp_info"' in m.group(2):
            q = re.search(r'quantile="([0-9.]+)"', m.group(2))
            series[(m.group(1), q.group(1) if q else None)] = float(m.group(3))
    rep.equal("summary count = tcp_info values",
              series.get(("peerscope_connection_latency_seconds_count",
                          None)), float(want["count"]))
    got = series.get(("peerscope_connection_latency_seconds", "0.5"))
    rep.check("summary median = published p50",
              got is not None and abs(got * 1e3 - want["p50_ms"]) < 1e-6,
              "got %r want %r ms" % (got, want["p50_ms"]))
    got = series.get(("peerscope_connection_latency_seconds_sum", None))
    rep.check("summary sum = count * mean",
              got is not None and
              abs(got - want["count"] * want["mean_ms"] / 1e3) < 1e-3,
              "got %r" % got)
    promtool = shutil.which("promtool")
    if promtool is not None:
        r = subprocess.run([promtool, "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
        rep.check("promtool check metrics accepts /metrics",
                  r.returncode == 0, (r.stdout + r.stderr)[-300:])


def conn(run, router, ifindex):
    for m in run.messages:
        if (m.get("type") == "connection_metrics" and
                m["router"] == router and m["ifindex"] == ifindex):
            return m
    return None


# --- the streams ---------------------------------------------------------

def sflow_stream(rng):
    """tcp_info RTTs (lognormal, ms range) by direction, transit delays
    (uniform, µs range) with saturated values, queue depths, and values
    that cannot be."""
    tcp = {1: [], 2: [], 0: []}
    transit, depth = [], []
    samples = []
    for i in range(3000):
        dirn = (1, 2, 0)[i % 3]
        rtt_us = max(1, int(rng.lognormvariate(9.5, 0.6)))  # ~13 ms
        tcp[dirn].append(rtt_us * 1000)
        recs = [sflow_ipv4(), sflow_tcp_info(dirn, rtt_us, rtt_us // 2)]
        if i % 2 == 0:
            d = rng.randint(2000, 900000)
            transit.append(d)
            recs.append(sflow_record(1039, struct.pack(">I", d)))
            q = rng.randint(0, 200000)
            depth.append(q)
            recs.append(sflow_record(1040, struct.pack(">I", q)))
        samples.append(sflow_flow_sample(i + 1, 11, 12, recs))
    # impossible: rtt 0 (zero), 70 s (above_max); transit saturated x3
    bad = [sflow_flow_sample(9001, 11, 12, [sflow_ipv4(),
                                            sflow_tcp_info(1, 0, 0)]),
           sflow_flow_sample(9002, 11, 12, [sflow_ipv4(),
                                            sflow_tcp_info(2, 70000000, 1)])]
    for k in range(3):
        bad.append(sflow_flow_sample(9003 + k, 11, 12, [
            sflow_ipv4(), sflow_record(1039, struct.pack(">I", 0xFFFFFFFF))]))
    samples += bad
    dgs = []
    for n, i in enumerate(range(0, len(samples), 8)):
        dgs.append((T0 + 1 + n * 0.001, 6343,
                    sflow_datagram(n + 1, samples[i:i + 8])))
    return dgs, tcp, transit, depth


def tcp_frame(src, dst, sport, dport, flags):
    """Ethernet + IPv4 + TCP (20 bytes, no options) with `flags`."""
    eth = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + struct.pack(">H", 0x0800)
    tcp = struct.pack(">HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, flags,
                      65535, 0, 0)
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6,
                     0, src, dst)
    return eth + ip + tcp


def sflow_raw_header(frame):
    pad = (4 - len(frame) % 4) % 4
    return sflow_record(1, struct.pack(">IIII", 1, len(frame) + 4, 4,
                                       len(frame)) + frame + bytes(pad))


HS_AGENT = bytes([192, 0, 2, 9])
BATCH_AGENT = bytes([192, 0, 2, 10])
T0_US = int(T0) * 1000000


def sflow_head(agent, seq, t_us, nsamples):
    """sFlow v5 datagram header; the agent's uptime (ms) runs with the
    capture clock, as a router's does."""
    return struct.pack(">II4sIIII", 5, 1, agent, 0, seq,
                       (t_us - T0_US) // 1000, nsamples)


def handshake_stream(rng):
    """Handshakes through agent 192.0.2.9: SYN in by if31, out by if32
    (the client beyond 31), SYN/ACK back, ACK; every packet sampled (1:1),
    each sent at once in its own datagram, and each datagram preceded by
    one of the agent's other datagrams (here empty) 1 ms earlier: an agent
    that exports as it samples.  A sample is then known to lie in the
    1 ms since that datagram, a half to within 2 ms, which is at most a
    tenth of every half drawn here (25 ms and up); the interval's midpoint
    is the exact RTT.  Handshakes 100 ms apart, each over in 95 ms, do
    not overlap; all of them fall in one 60 s window.  Returns
    the datagrams and the server (SYN -> SYN/ACK) and client (SYN/ACK ->
    ACK) halves, ns."""
    dgs, server, client = [], [], []
    cli, srv = bytes([198, 51, 100, 7]), bytes([203, 0, 113, 9])
    seq = 0
    for i in range(300):
        t_us = T0_US + 2000000 + i * 100000
        s_us = rng.randint(25000, 40000)   # SYN -> SYN/ACK
        c_us = rng.randint(25000, 55000)   # SYN/ACK -> ACK
        server.append(s_us * 1000)
        client.append(c_us * 1000)
        port = 20000 + i
        for dt, frame, inp, out in (
                (0, tcp_frame(cli, srv, port, 443, 0x02), 31, 32),
                (s_us, tcp_frame(srv, cli, 443, port, 0x12), 32, 31),
                (s_us + c_us, tcp_frame(cli, srv, port, 443, 0x10), 31, 32)):
            at = t_us + dt
            seq += 1
            dgs.append(((at - 1000) / 1e6, 6343,
                        sflow_head(HS_AGENT, seq, at - 1000, 0)))
            seq += 1
            smp = sflow_flow_sample(seq, inp, out, [sflow_raw_header(frame)])
            dgs.append((at / 1e6, 6343,
                        sflow_head(HS_AGENT, seq, at, 1) + smp))
    return dgs, server, client


def batched_stream():
    """Agent 192.0.2.10 holds its samples and sends them once a second,
    as pmacct's sfprobe does (SYN in by if41, out by if42).  Ten
    handshakes: five with SYN and SYN/ACK in one datagram and the ACK in
    the next second's, five with the SYN alone and the SYN/ACK and ACK
    together a second later.  No half can be timed: every one is paired,
    none published; ten halves share a datagram, ten lie a second apart
    (an interval of about two seconds around about one).  Returns the
    datagrams."""
    cli, srv = bytes([198, 51, 100, 8]), bytes([203, 0, 113, 10])
    flushes = [[] for _ in range(7)]
    for i in range(10):
        port, k = 30000 + i, i // 2
        syn = tcp_frame(cli, srv, port, 443, 0x02)
        synack = tcp_frame(srv, cli, 443, port, 0x12)
        ack = tcp_frame(cli, srv, port, 443, 0x10)
        if i % 2 == 0:
            flushes[k + 1] += [(syn, 41, 42), (synack, 42, 41)]
            flushes[k + 2] += [(ack, 41, 42)]
        else:
            flushes[k + 1] += [(syn, 41, 42)]
            flushes[k + 2] += [(synack, 42, 41), (ack, 41, 42)]
    dgs, seq = [], 0
    for n, held in enumerate(flushes):  # flush 0: the agent's first, empty
        t_us = T0_US + 3000000 + n * 1000000
        smps = b""
        for frame, inp, out in held:
            seq += 1
            smps += sflow_flow_sample(seq, inp, out, [sflow_raw_header(frame)])
        dgs.append((t_us / 1e6, 6343,
                    sflow_head(BATCH_AGENT, n + 1, t_us, len(held)) + smps))
    return dgs


PATH_TID, ART_TID, NP_TID = 256, 257, 258


def ipfix_stream(rng):
    """pathDelay records (mean weighted by packets, min/max bounds), ART
    client/server sums over new connections, nProbe halves in ms and as
    SEC/USEC pairs."""
    tmpl = [ipfix_template(PATH_TID, [(10, 4), (14, 4), (1, 8), (2, 8),
                                      (530, 4), (531, 4), (532, 4)]),
            ipfix_template(ART_TID, [(10, 4), (14, 4), (1, 8), (2, 8),
                                     (9282, 4, 9), (9316, 4, 9),
                                     (9317, 4, 9), (9318, 4, 9),
                                     (9319, 4, 9), (9320, 4, 9),
                                     (9321, 4, 9)]),
            ipfix_template(NP_TID, [(10, 4), (14, 4), (1, 8), (2, 8),
                                    (123, 4, 35632), (84, 4, 35632),
                                    (85, 4, 35632)])]
    path, path_min, path_max = [], [], []
    client, server = [], []
    recs = {PATH_TID: [], ART_TID: [], NP_TID: []}
    for i in range(1500):
        pk = rng.randint(1, 6)
        mean = max(1, int(rng.gauss(20000, 4000)))  # µs
        lo, hi = mean - rng.randint(0, 500), mean + rng.randint(0, 3000)
        path += [mean * 1000] * pk
        path_min.append(lo)
        path_max.append(hi)
        recs[PATH_TID].append(struct.pack(">IIQQIII", 21, 22, 1500 * pk, pk,
                                          mean, lo, hi))
    for i in range(800):
        conns = 1 if i % 4 else 3
        c_ms = rng.randint(1, 120)
        s_ms = rng.randint(5, 300)
        client += [c_ms * 1000000] * conns
        server += [s_ms * 1000000] * conns
        recs[ART_TID].append(struct.pack(
            ">IIQQIIIIIII", 21, 22, 9000, 10, conns, c_ms * conns, c_ms + 9,
            max(c_ms - 1, 0), s_ms * conns, s_ms + 9, max(s_ms - 1, 0)))
    for i in range(400):
        c_ms = rng.randint(2, 80)
        s_us = rng.randint(1000, 2500000)  # the older pair, up to 2.5 s
        client.append(c_ms * 1000000)
        server.append(s_us * 1000)
        recs[NP_TID].append(struct.pack(">IIQQIII", 21, 22, 9000, 10, c_ms,
                                        s_us // 1000000, s_us % 1000000))
    # impossible: a path delay of 0 and of 61 s (above the 60 s bound)
    recs[PATH_TID].append(struct.pack(">IIQQIII", 21, 22, 100, 2, 0, 0, 0))
    recs[PATH_TID].append(struct.pack(">IIQQIII", 21, 22, 100, 3, 61000000,
                                      61000000, 61000000))
    msgs, seq = [], 0
    msgs.append(ipfix_message(seq, tmpl, int(T0)))
    for tid, rs in recs.items():
        for i in range(0, len(rs), 20):
            chunk = rs[i:i + 20]
            msgs.append(ipfix_message(seq, [ipfix_set(tid, b"".join(chunk))],
                                      int(T0) + 1))
            seq += len(chunk)
    dgs = [(T0 + 1 + n * 0.001, 4739, m) for n, m in enumerate(msgs)]
    return dgs, path, (min(path_min), max(path_max)), client, server


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    rng = random.Random(12)
    s_dgs, tcp, transit, depth = sflow_stream(rng)
    i_dgs, path, path_bounds, client, server = ipfix_stream(rng)
    h_dgs, hs_server, hs_client = handshake_stream(rng)
    h_dgs += batched_stream()
    tmp = tempfile.mkdtemp(prefix="ps-latency-")
    pcap = os.path.join(tmp, "latency.pcap")
    write_pcap(pcap, sorted(s_dgs + i_dgs + h_dgs, key=lambda d: d[0]))
    run = cl.replay(args.peerscope, [pcap], window=60)
    if11 = conn(run, "192.0.2.1", 11)
    if if11 and if11.get("latency"):
        metrics_check(rep, args.peerscope, pcap, tmp,
                      if11["latency"]["tcp_info"])
    shutil.rmtree(tmp, ignore_errors=True)
    rep.equal("replay exit status", run.rc, 0)
    if run.rc != 0:
        print(run.stderr[-2000:])
        rep.finish()
    schema_check(rep, args.schemas, run.messages)

    # sFlow: the agent's interfaces 11 and 12 both carry the figures
    for ifx in (11, 12):
        m = conn(run, "192.0.2.1", ifx)
        if not rep.check("sflow if%d published" % ifx, m is not None and
                         "latency" in m, "no latency block"):
            continue
        lat = m["latency"]
        ti = lat.get("tcp_info")
        check_figure(rep, "if%d tcp_info" % ifx, ti,
                     tcp[1] + tcp[2] + tcp[0])
        if ti:
            check_figure(rep, "if%d tcp_info.in" % ifx,
                         ti["parts"].get("in"), tcp[1])
            check_figure(rep, "if%d tcp_info.out" % ifx,
                         ti["parts"].get("out"), tcp[2])
            rep.equal("if%d tcp_info.rejected" % ifx,
                      (ti["rejected"]["zero"], ti["rejected"]["above_max"]),
                      (1, 1))
        dt = lat.get("device_transit")
        check_figure(rep, "if%d device_transit" % ifx, dt, transit)
        if dt:
            rep.equal("if%d device_transit.saturated" % ifx,
                      dt["saturated"], 3)
            qd = dt["queue_depth_bytes"]
            rep.equal("if%d queue_depth.count" % ifx, qd["count"],
                      len(depth))
            want = exact_quantile(depth, 0.99)
            rep.check("if%d queue_depth.p99" % ifx,
                      abs(qd["p99"] - want) <= 0.02 * want + 1,
                      "got %r want %r" % (qd["p99"], want))

    # IPFIX: the exporter 127.0.0.1's interfaces 21 and 22
    for ifx in (21, 22):
        m = conn(run, "127.0.0.1", ifx)
        if not rep.check("ipfix if%d published" % ifx, m is not None and
                         "latency" in m, "no latency block"):
            continue
        lat = m["latency"]
        pd = lat.get("path_delay")
        check_figure(rep, "if%d path_delay" % ifx, pd, path)
        if pd:
            rep.equal("if%d path_delay.records" % ifx, pd["records"], 1502)
            rep.equal("if%d path_delay.rejected" % ifx,
                      (pd["rejected"]["zero"], pd["rejected"]["above_max"]),
                      (2, 3))
            rep.equal("if%d path_delay.bounds" % ifx,
                      (pd["bounds"]["min_ms"], pd["bounds"]["max_ms"]),
                      (path_bounds[0] / 1e3, path_bounds[1] / 1e3))
        an = lat.get("app_network")
        check_figure(rep, "if%d app_network" % ifx, an, client + server)
        if an:
            check_figure(rep, "if%d app_network.client" % ifx,
                         an["parts"].get("client"), client)
            check_figure(rep, "if%d app_network.server" % ifx,
                         an["parts"].get("server"), server)
    # handshakes: on if31 the client is beyond (its half external), on
    # if32 the server
    for ifx, ext, inte in ((31, hs_client, hs_server),
                           (32, hs_server, hs_client)):
        m = conn(run, "192.0.2.9", ifx)
        hs = m and m["latency"] and m["latency"].get("tcp_handshake")
        if not rep.check("handshake if%d published" % ifx, bool(hs),
                         "" if hs else "no tcp_handshake"):
            continue
        rep.equal("if%d tcp_handshake.paired" % ifx, hs["paired"], 600)
        rep.equal("if%d tcp_handshake.untimed" % ifx, hs["untimed"],
                  {"same_datagram": 0, "imprecise": 0})
        check_figure(rep, "if%d tcp_handshake" % ifx, hs, ext + inte)
        check_figure(rep, "if%d tcp_handshake.external" % ifx,
                     hs["parts"].get("external"), ext)
        check_figure(rep, "if%d tcp_handshake.internal" % ifx,
                     hs["parts"].get("internal"), inte)
    # the batching agent: every half paired, none timed, each counted
    for ifx in (41, 42):
        m = conn(run, "192.0.2.10", ifx)
        hs = m and m["latency"] and m["latency"].get("tcp_handshake")
        if not rep.check("batched if%d published" % ifx, bool(hs),
                         "" if hs else "no tcp_handshake"):
            continue
        rep.equal("batched if%d paired, count" % ifx,
                  (hs["paired"], hs["count"]), (20, 0))
        rep.equal("batched if%d untimed" % ifx, hs["untimed"],
                  {"same_datagram": 10, "imprecise": 10})
        rep.equal("batched if%d p50" % ifx, hs["p50_ms"], None)
    # the run's counters: halves once each (both agents' halves land on
    # two connections each, counted once here)
    st = (run.stats or {}).get("tcp_handshake")
    rep.equal("stats tcp_handshake", st,
              {"paired": 620,
               "untimed": {"same_datagram": 10, "imprecise": 10}})
    rep.finish()


if __name__ == "__main__":
    main()
