#!/usr/bin/env python3
"""Per-interval rates, p95, utilisation and drops of connection_metrics
(issue 11 item 5).

Truth is tshark's decoding of the captures (`tshark -T pdml`, the peering
lab's truth.py readers) and hand arithmetic on it, by the definitions of
schemas/connection_metrics.v1.schema.json $defs.rate:

  * counters: each generic interface counter reading (tshark's ifInOctets /
    ifOutOctets and the datagram's uptime) closes an interval since the
    interface's previous reading: rate = octet delta x 8 / uptime delta.
    The reading was taken at boot + uptime, boot being the least
    (capture time - uptime) of the interface's readings so far; the
    interval counts in the window its reading arrived in, weighted by its
    time inside that window (the part before it fell in a window already
    closed);
  * samples (the same capture with its counter datagrams removed by
    tshark): 10 s slots from the window start, a slot's rate = the frame
    lengths x sampling rate of the flow samples that arrived in it, x 8,
    over the part of the slot between the router's first and last
    datagram; no sample = 0;
  * p95: rates sorted, the smallest whose cumulative weight reaches 95 %
    of the total (nearest rank, duration-weighted); mean = sum(rate x
    weight) / sum(weight);
  * utilisation: mean and p95 over the configured capacity;
  * drops (a crafted capture): tshark's count of sFlow samples of type 5
    (discarded packet) plus, per flow sample whose output interface
    format is 1 (discard), its sampling rate; drop_pct over the input's
    flow samples x rate plus the type-5 samples; reasons as crafted.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus_lib as cl  # noqa: E402
import hostile_lib as hl  # noqa: E402

ROUTER = "198.51.100.5"
SLOT = 10.0


def truth_mod(data):
    sys.path.insert(0, os.path.join(data, "peering"))
    import truth  # noqa: E402  (the lab's tshark readers)
    return truth


def gunzip(src, dst):
    subprocess.run("zcat %s > %s" % (src, dst), shell=True, check=True)


def p95(rates):
    """[(rate, weight)] -> (mean, p95, max) by nearest rank on weights."""
    total = sum(w for _, w in rates)
    mean = sum(r * w for r, w in rates) / total
    cum = 0.0
    for r, w in sorted(rates):
        cum += w
        if 100 * cum >= 95 * total - 1e-6:
            return mean, r, max(r for r, _ in rates)
    raise AssertionError("no rank")


def close(a, b, rel=1e-6, abs_=0.002):
    return abs(a - b) <= max(abs_, rel * abs(b))


# ------------------------------------------------------------- counters
def counter_readings(tr, pcap):
    """ifindex -> [(capture time, uptime s, in octets, out octets)]."""
    out = {}
    for t, pkt in tr.tshark_pdml(pcap, ["-d", "udp.port==6343,sflow"],
                                 "sflow_245.ifinoct"):
        sf = next(p for p in pkt.iter("proto") if p.get("name") == "sflow")
        up = int(tr.first(sf, "sflow_245.sysuptime")) / 1000.0
        for smp in tr.children_named(sf, "Counters sample"):
            for rec in tr.children_named(smp, "Generic interface counters"):
                out.setdefault(int(tr.first(rec, "sflow_245.ifindex")),
                               []).append(
                    (t, up, int(tr.first(rec, "sflow_245.ifinoct")),
                     int(tr.first(rec, "sflow_245.ifoutoct"))))
    return out


def counter_rates(readings, lo, hi):
    """[(rate, weight)] per direction of the intervals inside [lo, hi)."""
    rates = ([], [])
    boot = None
    prev = None
    for t, up, o_in, o_out in readings:
        boot = t - up if boot is None else min(boot, t - up)
        # a window counts the intervals whose reading arrived in it, for
        # their part inside it (the part before it: its window had closed)
        if prev is not None and up > prev[1] and lo <= t < hi:
            dur = up - prev[1]
            end = boot + up
            w = min(end, hi) - max(end - dur, lo)
            if w > 0:
                rates[0].append(((o_in - prev[2]) * 8 / dur, w))
                rates[1].append(((o_out - prev[3]) * 8 / dur, w))
        prev = (t, up, o_in, o_out)
    return rates


def check_counters(rep, args, tr, pcap, readings):
    for window in (60, 300):
        run = cl.replay(args.peerscope, [pcap], window=window)
        msgs = [m for m in run.of_type("connection_metrics")
                if m["router"] == ROUTER]
        checked = 0
        for m in msgs:
            lo = cl_time(m["window"]["start"])
            hi = lo + window
            want = counter_rates(readings.get(m["ifindex"], []), lo, hi)
            for d, name in ((0, "in"), (1, "out")):
                rate = m[name]["rate"]
                tag = "w%d if%d %s %s" % (window, m["ifindex"], name,
                                          m["window"]["start"])
                if not want[d]:
                    continue
                mean, pct, mx = p95(want[d])
                checked += 1
                ok = (rate is not None and rate["source"] == "counters" and
                      rate["interval"] == "counter_samples" and
                      rate["intervals"] == len(want[d]) and
                      close(rate["covered_seconds"],
                            sum(w for _, w in want[d])) and
                      close(rate["mean_bits_per_second"], mean) and
                      close(rate["p95_bits_per_second"], pct) and
                      close(rate["max_bits_per_second"], mx))
                rep.check("counters " + tag, ok,
                          "got %s, want n=%d mean=%.3f p95=%.3f max=%.3f" %
                          (json.dumps(rate), len(want[d]), mean, pct, mx))
        rep.check("counters window %d: intervals checked" % window,
                  checked >= 4, "%d" % checked)


def cl_time(iso):
    import datetime
    return datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


# -------------------------------------------------------------- samples
def flow_samples(tr, pcap):
    """[(time, input, output, frame_length x rate)] and datagram times."""
    out, times = [], []
    for t, pkt in tr.tshark_pdml(pcap, ["-d", "udp.port==6343,sflow"],
                                 "sflow"):
        sf = next(p for p in pkt.iter("proto") if p.get("name") == "sflow")
        times.append(t)
        for smp in tr.children_named(sf, "Flow sample"):
            rate = int(tr.first(smp, "sflow.flow_sample.sampling_rate"))
            out.append((t,
                        int(tr.first(smp, "sflow.flow_sample.input_interface")),
                        int(tr.first(
                            smp, "sflow.flow_sample.output_interface_value")),
                        int(tr.first(smp, "sflow_245.header.frame_length")) *
                        rate))
    return out, times


def slot_rates(samples, ifindex, d, lo, hi, first, last):
    slots = {}
    for t, inp, outp, b in samples:
        if (inp if d == 0 else outp) == ifindex and lo <= t < hi:
            k = int((t - lo) // SLOT)
            slots[k] = slots.get(k, 0) + b
    rates = []
    for k in range(int((hi - lo) // SLOT)):
        a, z = lo + k * SLOT, lo + (k + 1) * SLOT
        seen = min(z, last) - max(a, first)
        if seen <= 0 and slots.get(k, 0) > 0:
            seen = SLOT
        if seen > 0:
            rates.append((slots.get(k, 0) * 8 / seen, seen))
    return rates


def check_samples(rep, args, tr, tmp, pcap):
    flows = os.path.join(tmp, "no-counters.pcap")
    subprocess.run(["tshark", "-r", pcap, "-Y", "not sflow_245.ifinoct",
                    "-w", flows], check=True, capture_output=True)
    samples, times = flow_samples(tr, flows)
    window = 300
    run = cl.replay(args.peerscope, [flows], window=window)
    msgs = [m for m in run.of_type("connection_metrics")
            if m["router"] == ROUTER]
    checked = 0
    for m in msgs:
        lo = cl_time(m["window"]["start"])
        hi = lo + window
        # the router's heard part: first datagram to the window's end, or
        # to its last datagram in the window where the data ends
        first = max(lo, min(times))
        last = min(hi, max(times))
        for d, name in ((0, "in"), (1, "out")):
            want = slot_rates(samples, m["ifindex"], d, lo, hi, first, last)
            rate = m[name]["rate"]
            if not want:
                continue
            mean, pct, mx = p95(want)
            checked += 1
            ok = (rate is not None and rate["source"] == "samples" and
                  rate["interval"] == "slots" and
                  rate["slot_seconds"] == SLOT and
                  rate["intervals"] == len(want) and
                  close(rate["mean_bits_per_second"], mean, 1e-4) and
                  close(rate["p95_bits_per_second"], pct, 1e-4) and
                  close(rate["max_bits_per_second"], mx, 1e-4))
            rep.check("samples if%d %s" % (m["ifindex"], name), ok,
                      "got %s, want n=%d mean=%.3f p95=%.3f max=%.3f" %
                      (json.dumps(rate), len(want), mean, pct, mx))
            if len(want) >= 20:
                rep.check("samples if%d %s: p95 below max over %d slots" %
                          (m["ifindex"], name, len(want)), pct < mx,
                          "p95 %.3f max %.3f" % (pct, mx))
    rep.check("samples: directions checked", checked >= 2, "%d" % checked)


# ---------------------------------------------------------- utilisation
def check_capacity(rep, args, tmp, pcap):
    cfg = os.path.join(tmp, "cap.yaml")
    with open(cfg, "w") as f:
        f.write("connections:\n"
                "  - id: pni-d\n    kind: direct\n    router: %s\n"
                "    interface: 23\n    peer_asn: 64499\n"
                "    peer_addresses: [\"198.51.100.2\"]\n"
                "    capacity: 10M\n" % ROUTER)
    run = cl.replay(args.peerscope, ["--config", cfg, pcap], window=300)
    got = {m["ifindex"]: m for m in run.of_type("connection_metrics")
           if m["router"] == ROUTER}
    m = got.get(23)
    if not rep.check("configured capacity: if23 published", m is not None,
                     run.describe()):
        return
    rep.equal("configured capacity_bps", m["capacity_bps"], 10000000)
    rep.equal("configured capacity_source", m["capacity_source"],
              "configured")
    u = m["utilisation"]
    for name in ("in", "out"):
        r = m[name]["rate"]
        rep.check("utilisation %s = rate / 10M" % name,
                  close(u[name], r["mean_bits_per_second"] / 1e7, 0,
                        1e-6) and
                  close(u[name + "_p95"], r["p95_bits_per_second"] / 1e7, 0,
                        1e-6),
                  "%s vs %s" % (json.dumps(u), json.dumps(r)))
    other = got.get(17)
    if other is not None:
        # not configured: the ifSpeed of its counters (tshark: 1 Gbit/s)
        rep.equal("ifSpeed capacity of if17",
                  (other["capacity_bps"], other["capacity_source"]),
                  (1000000000, "if_speed"))


# --------------------------------------------------------------- status
def check_status(rep, args, tmp, pcap):
    """status.degraded.utilisation_pct compares utilisation.in/out (the
    mean of the rates over the capacity), not the p95: with if23's mean
    in at 0.2058 % of 10M and its p95 at 0.333 % (both from the counter
    intervals checked against tshark above), 0.2 degrades it and 0.3 does
    not."""
    for threshold, want in ((0.2, "degraded"), (0.3, "up")):
        cfg = os.path.join(tmp, "status.yaml")
        with open(cfg, "w") as f:
            f.write(CAP_CONFIG + "status:\n  degraded:\n"
                    "    utilisation_pct: %s\n" % threshold)
        run = cl.replay(args.peerscope, ["--config", cfg, pcap], window=300)
        m = [x for x in run.of_type("connection_metrics")
             if x["ifindex"] == 23 and x["router"] == ROUTER]
        if not rep.check("status %s: if23 published" % threshold,
                         len(m) == 1, run.describe()):
            continue
        m = m[0]
        util = [r for r in m["status_reasons"]
                if r["reason"] == "utilisation"]
        mean_pct = 100 * max(m["utilisation"]["in"], m["utilisation"]["out"])
        p95_pct = 100 * max(m["utilisation"]["in_p95"],
                            m["utilisation"]["out_p95"])
        rep.check("status threshold %s between mean %.4f%% and p95 %.4f%%" %
                  (threshold, mean_pct, p95_pct),
                  mean_pct < 0.3 < p95_pct and 0.2 < mean_pct)
        rep.equal("status with utilisation_pct %s" % threshold,
                  (m["status"], [(r["direction"], r["threshold"]) for r in
                                 util]),
                  (want, [("in", 0.2)] if want == "degraded" else []))
        if util:
            rep.check("utilisation reason value = 100 x utilisation.in",
                      close(util[0]["value"],
                            100 * m["utilisation"]["in"], 0, 0.001),
                      "%r vs %r" % (util[0], m["utilisation"]))


# -------------------------------------------------- /metrics and top
CAP_CONFIG = ("connections:\n"
              "  - id: pni-d\n    kind: direct\n    router: %s\n"
              "    interface: 23\n    peer_asn: 64499\n"
              "    peer_addresses: [\"198.51.100.2\"]\n"
              "    capacity: 10M\n" % ROUTER)


def serve(args, tmp, pcap, cfg):
    """Replay with /metrics and the embedded broker served after it:
    (metrics text, top --once, JSON lines).  Stops what it started."""
    out = os.path.join(tmp, "serve.jsonl")
    top = ""
    with cl.ServedReplay(args.peerscope,
                         ["--config", cfg, "--window", "300", "-o", out,
                          pcap],
                         os.path.join(tmp, "serve.err"),
                         "peerscope_connection_status{") as s:
        if s.broker:
            top = subprocess.run([args.peerscope, "top", "--once",
                                  "--brokers", s.broker],
                                 capture_output=True, text=True,
                                 timeout=60).stdout
    with open(out) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    return s.metrics, top, lines


def series_of(text, name):
    """{labels text: value} of one metric."""
    got = {}
    for line in text.splitlines():
        m = re.match(r'%s\{(.*)\} (\S+)$' % re.escape(name), line)
        if m:
            got[m.group(1)] = float(m.group(2))
    return got


def check_metrics_and_top(rep, args, tmp, pcap):
    cfg = os.path.join(tmp, "serve.yaml")
    with open(cfg, "w") as f:
        f.write(CAP_CONFIG)
    text, top, lines = serve(args, tmp, pcap, cfg)
    metrics = [m for m in lines if m["type"] == "connection_metrics"]
    if not rep.check("serve: messages and /metrics", metrics and text,
                     "%d messages" % len(metrics)):
        return
    end = max(m["window"]["end"] for m in metrics)
    last = {m["connection_id"]: m for m in metrics
            if m["window"]["end"] == end}
    pni = last.get("pni-d")  # a configured connection: its id (v2)
    if not rep.check("serve: pni-d (if23) in the last window", pni is not None):
        return
    # the gauges are the last window's published figures
    st = series_of(text, "peerscope_connection_status")
    want = {'connection_id="pni-d",status="%s"' % k:
            float(k == pni["status"])
            for k in ("up", "down", "degraded", "unknown")}
    rep.equal("status gauges = the message's status (one 1, three 0)", st,
              want)
    av = series_of(text, "peerscope_connection_availability_ratio")
    rep.check("availability gauge = the message's",
              pni["availability"] is not None and
              close(av.get('connection_id="pni-d"', -1),
                    pni["availability"]), "%r vs %r" %
              (av, pni["availability"]))
    p95 = series_of(text, "peerscope_connection_p95_bytes_per_second")
    u95 = series_of(text, "peerscope_connection_utilisation_p95_ratio")
    util = series_of(text, "peerscope_connection_utilisation_ratio")
    cap = series_of(text, "peerscope_connection_capacity_bytes_per_second")
    for cid, m in sorted(last.items()):
        for d in ("in", "out"):
            r = m[d]["rate"]
            key = 'connection="%s",direction="%s",source="%s"' % (
                cid, d, r["source"])
            rep.check("p95 gauge %s %s = rate.p95 / 8" % (cid, d),
                      close(p95.get(key, -1), r["p95_bits_per_second"] / 8),
                      "%r vs %r" % (p95.get(key), r))
            key = 'connection="%s",direction="%s"' % (cid, d)
            rep.check("utilisation gauges %s %s = the message's" % (cid, d),
                      close(util.get(key, -1), m["utilisation"][d], 0,
                            1e-6) and
                      close(u95.get(key, -1), m["utilisation"][d + "_p95"],
                            0, 1e-6), "%r %r vs %r" %
                      (util.get(key), u95.get(key), m["utilisation"]))
        rep.check("capacity gauge %s = capacity_bps / 8" % cid,
                  close(cap.get('connection="%s"' % cid, -1),
                        m["capacity_bps"] / 8), "%r" % cap)
    promtool = shutil.which("promtool")
    if promtool is None:
        rep.skip("promtool not installed")
    else:
        r = subprocess.run([promtool, "check", "metrics"], input=text,
                           capture_output=True, text=True, timeout=60)
        rep.check("promtool check metrics", r.returncode == 0,
                  (r.stdout + r.stderr)[-300:])
    # top --once: the newest message per connection, columns by title
    lines = top.splitlines()
    head = [ln for ln in lines if ln.startswith("CONNECTION")]
    rows = {ln.split()[0]: ln for ln in lines
            if ln.split() and ln.split()[0] in last}
    if not rep.check("top: header and both rows",
                     head and len(rows) == 2, top[:600]):
        return
    h = head[0]

    def col(row, title, width):
        """A right-aligned column ending at its title's end."""
        e = h.index(title) + len(title)
        return row[e - width:e].strip()

    def left(row, title):
        return row[h.index(title):].split()[0]

    row = rows["pni-d"]
    rep.equal("top pni-d status, kind, peer AS",
              (left(row, "STATUS"), left(row, "KIND"), left(row, "PEER AS")),
              (pni["status"], "direct", str(pni["peer_asn"])))
    rep.equal("top pni-d AVAIL%", col(row, "AVAIL%", 6),
              "%.2f" % (100 * pni["availability"]))
    r17 = rows[ROUTER + "/if17"]
    m17 = last[ROUTER + "/if17"]
    rep.equal("top if17: discovered, its oper status",
              (left(r17, "STATUS"), left(r17, "KIND")),
              (m17["oper_status"], "discovered"))
    for cid, row in sorted(rows.items()):
        m = last[cid]
        rep.equal("top %s IN/OUT p95 and UTIL%%, P95 U%%" % cid,
                  (col(row, "IN p95", 9), col(row, "OUT p95", 9),
                   col(row, "UTIL%", 6), col(row, "P95 U%", 6)),
                  (rate_text(m["in"]["rate"]["p95_bits_per_second"]),
                   rate_text(m["out"]["rate"]["p95_bits_per_second"]),
                   "%.2f" % (100 * max(m["utilisation"]["in"],
                                       m["utilisation"]["out"])),
                   "%.2f" % (100 * max(m["utilisation"]["in_p95"],
                                       m["utilisation"]["out_p95"]))))


def rate_text(bps):
    """top's rate format: 3 significant-ish digits and a unit."""
    for unit in ("", "k", "M", "G"):
        if bps < 1000:
            return "%.2f%s" % (bps, unit)
        bps /= 1000
    return "%.2fT" % bps


# ---------------------------------------------------------------- drops
def discard_sample(seq, inp, out, reason, frame):
    """sflow_drops.txt discarded_packet (0:5): sequence, expanded source
    id (type, index), drops, input, output, reason, one raw header."""
    pad = (4 - len(frame) % 4) % 4
    hdr = hl.struct.pack("!IIII", 1, len(frame), 0, len(frame)) + frame + \
        b"\0" * pad
    record = hl.struct.pack("!II", 1, len(hdr)) + hdr
    body = hl.struct.pack("!IIIIIIII", seq, 0, inp, 0, inp, out, reason,
                          1) + record
    return hl.struct.pack("!II", 5, len(body)) + body


DISCARD_OUT = (1 << 30)  # output interface format 1: a discard code


def drops_capture(path):
    """Agent 192.0.2.7, input ifIndex 7, rate 100.  Per datagram: 10 flow
    samples forwarded to ifIndex 9, 2 flow samples discarded (format 1,
    code 258 acl), and discarded-packet samples: 3 acl (258), 2
    ttl_exceeded (257), 1 code 4000 (no name)."""
    frame = hl.ethernet_frame(200)
    dgs = []
    seq = 0
    for i in range(6):
        smp = []
        for k in range(12):
            seq += 1
            out = 9 if k < 10 else DISCARD_OUT | 258
            smp.append(hl.sflow_flow_sample(seq, 7, 100, seq * 100, 7, out,
                                            frame))
        for reason in (258, 258, 258, 257, 257, 4000):
            seq += 1
            smp.append(discard_sample(seq, 7, 0, reason, frame))
        dgs.append((1796621410.0 + 5 * i, 6343,
                    hl.sflow_datagram("192.0.2.7", i + 1, 1000 * (i + 1),
                                      smp)))
    write_pcap(path, dgs)


def write_pcap(path, datagrams):
    with open(path, "wb") as f:
        f.write(hl.struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535,
                               101))
        for i, (ts, dport, payload) in enumerate(datagrams):
            udp = hl.struct.pack(">HHHH", 40000, dport, 8 + len(payload), 0)
            ip = hl.struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload),
                                i & 0xFFFF, 0, 64, 17, 0,
                                bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
            frame = ip + udp + payload
            f.write(hl.struct.pack("<IIII", int(ts),
                                   int(round((ts % 1) * 1e6)), len(frame),
                                   len(frame)))
            f.write(frame)


def tshark_drop_truth(path):
    """(type-5 samples, sum of rates of discard-output flow samples, sum
    of rates of the input's flow samples) from tshark."""
    out = subprocess.run(
        ["tshark", "-r", path, "-d", "udp.port==6343,sflow", "-T", "fields",
         "-E", "occurrence=a", "-E", "aggregator=,",
         "-e", "sflow_245.sampletype",
         "-e", "sflow.flow_sample.output_interface_format",
         "-e", "sflow.flow_sample.sampling_rate"],
        capture_output=True, text=True, check=True).stdout
    type5 = dropped = seen = 0
    for line in out.splitlines():
        types, fmts, rates = (c.split(",") if c else []
                              for c in line.split("\t"))
        type5 += sum(1 for t in types if int(t) & 0xFFF == 5)
        for fmt, rate in zip(fmts, rates):
            seen += int(rate)
            if int(fmt) == 1:
                dropped += int(rate)
    return type5, dropped, seen


def check_drops(rep, args, tmp):
    path = os.path.join(tmp, "drops.pcap")
    drops_capture(path)
    type5, dropped, seen = tshark_drop_truth(path)
    rep.equal("tshark sees the crafted samples", (type5, dropped, seen),
              (36, 1200, 7200))
    run = cl.replay(args.peerscope, [path], window=60)
    msgs = [m for m in run.of_type("connection_metrics")
            if m["router"] == "192.0.2.7" and m["ifindex"] == 7]
    if not rep.check("drops: if7 published", len(msgs) == 1,
                     run.describe()):
        return
    d = msgs[0]["drops"]
    want_pkts = type5 + dropped
    rep.check("drops.packets = type-5 samples + discarded x rate",
              d is not None and close(d["packets"], want_pkts),
              "got %s want %d" % (json.dumps(d), want_pkts))
    if d is None:
        return
    rep.equal("drops.discard_samples", d["discard_samples"], type5)
    rep.equal("drops.discarded_flow_samples", d["discarded_flow_samples"],
              12)
    rep.check("drops.drop_pct", close(d["drop_pct"],
                                      100.0 * want_pkts / (seen + type5),
                                      1e-6),
              "got %s want %.6f" % (d["drop_pct"],
                                    100.0 * want_pkts / (seen + type5)))
    # by hand: acl 3 x 6 type-5 + 2 x 6 x 100 discarded, ttl 2 x 6, 4000 6
    rep.equal("drops.reasons", d["reasons"],
              {"acl": 18 + 1200, "ttl_exceeded": 12, "4000": 6})
    rep.equal("drops.direction", d["direction"], "in")
    out9 = [m for m in run.of_type("connection_metrics")
            if m["router"] == "192.0.2.7" and m["ifindex"] == 9]
    rep.check("no drops on the output connection",
              len(out9) == 1 and out9[0]["drops"] is None,
              json.dumps([m["drops"] for m in out9]))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    tmp = tempfile.mkdtemp(prefix="ps-rates-")
    try:
        check_drops(rep, args, tmp)
        tr = truth_mod(args.data)
        pcap = os.path.join(tmp, "sflow-rate1.pcap")
        gunzip(os.path.join(args.data, "peering", "sflow-rate1.pcap.gz"),
               pcap)
        readings = counter_readings(tr, pcap)
        rep.check("tshark: counter readings of two interfaces",
                  sorted(readings) == [17, 23] and
                  all(len(v) >= 10 for v in readings.values()),
                  "%s" % {k: len(v) for k, v in readings.items()})
        check_counters(rep, args, tr, pcap, readings)
        check_samples(rep, args, tr, tmp, pcap)
        check_capacity(rep, args, tmp, pcap)
        check_status(rep, args, tmp, pcap)
        check_metrics_and_top(rep, args, tmp, pcap)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
