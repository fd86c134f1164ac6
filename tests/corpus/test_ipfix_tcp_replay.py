#!/usr/bin/env python3
"""IPFIX over TCP in `peerscope replay` (collector/replay/replay.c, tcp_reasm.c).

For each corpus IPFIX/UDP capture in CAPTURES, this test writes its IPFIX
messages, in order, as one TCP stream from the same exporter address into
a pcap (SYN, segments cut at odd sizes, FIN; the collector's ACKs too),
with one segment sent twice and one adjacent pair swapped, and replays it
with flow.tcp_listen on that port.

Truth:
  * the capture's truth.json (tshark 4.0.17): data records, bytes, packets
    per exporter; per (in, out) interface through flow_oracle.py's walk of
    the same bytes, which must agree with tshark first (as
    test_ipfix_corpus.py does);
  * the UDP replay of the original capture: the same records, sampled and
    scaled bytes per interface and direction;
  * the stream as written: one retransmission, one out-of-order segment,
    no gap (tcp.stream.*); the bytes and messages of the stream, one
    session accepted and closed, and as many templates dropped at its close
    as the oracle's walk leaves defined (ipfix_tcp in --stats).
Also: the output is byte-identical with 1 and 3 workers (10 s windows);
a segment lost mid-stream is one tcp.stream.gap, the stream resumes at
the next message start (the bytes between counted as passed over), and
the messages wholly before and after the hole are decoded (the oracle on
those, as cut from the written stream); a second
message that says version 11 is named once by the decoder
(flow.header.version_unsupported), is one framing error and ends the
session, so only the records before it count (as live); a second
session from the same address while the first is open is refused and
its bytes ignored; after the first session closes, a new session that
sends the same messages without their template sets decodes nothing
(RFC 7011 section 8: TCP templates die with their session).
"""
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
import flow_oracle as fo  # noqa: E402
import test_ipfix_corpus as tic  # noqa: E402

CAPTURES = ["pmacctd-ipfix-live.pcap", "softflowd-ipfix-live.pcap"]
TCP_PORT = 4799
CUTS = [1, 3, 15, 16, 17, 1000, 7, 1460, 333, 2, 64]
RETRANSMIT = 5    # this segment is sent again, two segments later
SWAP = 9          # this segment and the next are captured the other way
SRC = "127.0.0.1"
COLLECTOR = "127.0.0.1"


def segments(stream, times):
    """[(offset, bytes, ts)]: cut at CUTS sizes; ts = when the exporter
    sent the datagram holding the segment's last byte."""
    ends, off = [], 0
    for t, n in times:
        off += n
        ends.append((off, t))
    out, off, i = [], 0, 0
    while off < len(stream):
        n = min(CUTS[i % len(CUTS)], len(stream) - off)
        last = off + n - 1
        ts = next(t for e, t in ends if e > last)
        out.append((off, stream[off:off + n], ts))
        off += n
        i += 1
    return out


def add_session(pc, segs, sport, isn, t0, t_end, drop=None, perturb=True,
                fin=True):
    """One session's frames: SYN, data (with the perturbations), FIN, and
    an ACK from the collector after every fourth segment."""
    order = list(range(len(segs)))
    if perturb:
        order[SWAP], order[SWAP + 1] = order[SWAP + 1], order[SWAP]
        order.insert(RETRANSMIT + 3, RETRANSMIT)
    pc.tcp(t0, SRC, sport, COLLECTOR, TCP_PORT, isn, 0x02)
    pc.tcp(t0, COLLECTOR, TCP_PORT, SRC, sport, 7777, 0x12)
    for k, i in enumerate(order):
        if i == drop:
            continue
        off, data, ts = segs[i]
        pc.tcp(ts, SRC, sport, COLLECTOR, TCP_PORT, isn + 1 + off, 0x18,
               data)
        if k % 4 == 3:
            pc.tcp(ts, COLLECTOR, TCP_PORT, SRC, sport, 7778, 0x10)
    if fin:
        total = segs[-1][0] + len(segs[-1][1])
        pc.tcp(t_end, SRC, sport, COLLECTOR, TCP_PORT, isn + 1 + total,
               0x11)


def strip_templates(msg):
    """The IPFIX message without its template and options template sets."""
    body, off = b"", 16
    while off + 4 <= len(msg):
        sid, ln = struct.unpack(">HH", msg[off:off + 4])
        if ln < 4:
            break
        if sid not in (2, 3):
            body += msg[off:off + ln]
        off += ln
    return msg[:2] + struct.pack(">H", 16 + len(body)) + msg[4:16] + body


def replay(args, pcap, workers=None, window=86400):
    return cl.replay(args.peerscope, [pcap], window, workers=workers,
                     sets=["flow.tcp_listen=127.0.0.1:%d" % TCP_PORT,
                           "flow.window_grace_seconds=0"])


def totals(messages):
    """{(ifindex, dir): (records, sampled bytes, round(scaled bytes))}"""
    acc = {}
    for m in messages:
        if m.get("type") != "connection_metrics":
            continue
        for d in ("in", "out"):
            s = m[d].get("samples")
            if not s:
                continue
            a = acc.setdefault((m["ifindex"], d), [0, 0, 0.0])
            a[0] += s["sample_count"]
            a[1] += s["sampled_bytes"]
            a[2] += s["bytes"]
    return {k: (v[0], v[1], round(v[2])) for k, v in acc.items()}


def tcp_stats(run):
    st = run.stats or {}
    errs = st.get("decode_errors", {})
    tcp = {k: v for k, v in errs.items() if k.startswith("tcp.stream.")}
    return tcp, st.get("ipfix_tcp", {})


def records(run):
    return sum(a["records"] for a in tic.our_exporters(run).values())


def oracle_records(o):
    return sum(e.records for e in o.exporters.values())


def one_capture(rep, args, flows, name, tmp):
    pcap = os.path.join(flows, name)
    truth = cl.load_json(pcap[:-5] + ".truth.json")
    dgs = cl.read_pcap_udp(pcap)
    port = dgs[0][4]
    dgs = [d for d in dgs if d[4] == port]
    rep.equal("%s: one exporter, from %s" % (name, SRC),
              sorted({d[1] for d in dgs}), [SRC])
    payloads = [d[5] for d in dgs]
    stream = b"".join(payloads)
    segs = segments(stream, [(d[0], len(d[5])) for d in dgs])
    t0, t_end = dgs[0][0] - 0.001, dgs[-1][0] + 0.001
    oracle = fo.walk([(SRC, p) for p in payloads])

    udp = cl.replay(args.peerscope, [pcap], 86400,
                    sets=cl.proto_sets("ipfix", [port]) +
                    ["flow.window_grace_seconds=0"])
    pc = cl.PcapWriter()
    add_session(pc, segs, 40001, 0xfffff000, t0, t_end)
    path = os.path.join(tmp, "session.pcap")
    pc.write(path)
    run = replay(args, path)
    if not rep.check("%s: TCP replay exits 0" % name, run.rc == 0,
                     run.describe()):
        return
    ours = tic.our_exporters(run)
    for tk, e in truth["exporters"].items():
        key = tic.truth_key(tk)
        got = ours.get(key, {})
        rep.equal("%s %s over TCP: records, bytes, packets (truth.json)"
                  % (name, tk), (got.get("records"), got.get("bytes"),
                                 got.get("packets")),
                  (e["flows"], e["bytes"], e["packets"]))
        o = oracle.exporters.get(key)
        collapsed = {}
        for (i, oo, _d), v in (o.by_if.items() if o else []):
            s = collapsed.setdefault((i, oo), [0, 0, 0])
            for n in range(3):
                s[n] += v[n]
        rep.equal("%s: oracle by interface agrees with tshark" % name,
                  collapsed, tic.truth_by_if(e))
        tic.check_interfaces(rep, name + " over TCP", run, key[0],
                             o.by_if if o else {}, 0)
    rep.equal("%s: per interface as the UDP replay" % name,
              totals(run.messages), totals(udp.messages))
    rep.check("%s: the UDP replay has totals" % name,
              len(totals(udp.messages)) > 0)
    tcp, st = tcp_stats(run)
    rep.equal("%s: one retransmission, one out of order, no gap" % name,
              tcp, {"tcp.stream.retransmission": 1,
                    "tcp.stream.out_of_order": 1})
    rep.equal("%s: ipfix_tcp accepted, closed, bytes, messages, framing "
              "errors, templates dropped (oracle's live templates)" % name,
              [st.get(k) for k in ("accepted", "closed", "bytes", "messages",
                                   "framing_errors", "templates_dropped")],
              [1, 1, len(stream), len(payloads), 0, len(oracle.templates)])
    rep.check("%s: TCP segments not counted as unconfigured" % name,
              "capture.frame.not_udp" not in
              (run.stats or {}).get("decode_errors", {}))

    # the same output whatever the number of workers (10 s windows)
    outs = [replay(args, path, workers=w, window=10) for w in (1, 3)]
    rep.check("%s: 1 and 3 workers, byte-identical output" % name,
              outs[0].rc == 0 and outs[0].stdout == outs[1].stdout and
              len(outs[0].messages) > 0,
              "%d vs %d messages" % (len(outs[0].messages),
                                     len(outs[1].messages)))

    # a lost segment: the message it cuts is lost, the stream resumes at
    # the next message start (the bytes before it are passed over), and
    # every message wholly before or after the hole counts
    hole = len(segs) * 2 // 3
    hole_off = segs[hole][0]
    hole_end = hole_off + len(segs[hole][1])
    pc = cl.PcapWriter()
    add_session(pc, segs, 40001, 1000, t0, t_end, drop=hole, perturb=False)
    path = os.path.join(tmp, "gap.pcap")
    pc.write(path)
    run = replay(args, path)
    kept, starts, end = [], [], 0
    for p in payloads:
        start, end = end, end + len(p)
        if end <= hole_off or start >= hole_end:
            kept.append(p)
        if start >= hole_end:
            starts.append(start)
    po = fo.walk([(SRC, p) for p in kept])
    tcp, st = tcp_stats(run)
    rep.equal("%s: a lost segment is one gap" % name, tcp,
              {"tcp.stream.gap": 1, "tcp.stream.out_of_order":
               len(segs) - hole - 1})
    rep.equal("%s: around the gap, the %d whole messages of %d" %
              (name, len(kept), len(payloads)),
              (records(run), st.get("messages")),
              (oracle_records(po), len(kept)))
    ports = [e for e in (run.stats or {}).get("ports", [])
             if e["transport"] == "tcp" and e["port"] == TCP_PORT]
    rep.equal("%s: resynchronised once, passing over the bytes up to the "
              "next message" % name,
              ((run.stats or {}).get("decode_errors", {}).get(
                  "capture.tcp.resynchronised"),
               [(e["resynchronised"], e["skipped_bytes"]) for e in ports]),
              (1, [(1, starts[0] - hole_end)] if starts else None))

    # the framing lost: message k says version 11 (as live)
    k = len(payloads) // 2
    bad = payloads[:k] + [payloads[k][:1] + b"\x0b" + payloads[k][2:]] + \
        payloads[k + 1:]
    pc = cl.PcapWriter()
    add_session(pc, segments(b"".join(bad), [(d[0], len(d[5]))
                                            for d in dgs]),
                40001, 1000, t0, t_end, perturb=False)
    path = os.path.join(tmp, "bad.pcap")
    pc.write(path)
    run = replay(args, path)
    tcp, st = tcp_stats(run)
    errs = (run.stats or {}).get("decode_errors", {})
    rep.equal("%s: bad framing: named once, one framing error, session "
              "closed after %d messages" % (name, k),
              (errs.get("flow.header.version_unsupported"),
               [st.get(k) for k in ("framing_errors", "closed", "messages")]),
              (1, [1, 1, k]))
    rep.equal("%s: bad framing: only the messages before it decoded" % name,
              records(run), oracle_records(fo.walk([(SRC, p)
                                                    for p in payloads[:k]])))

    # two sessions at once from one address; then one without templates
    stripped = [strip_templates(p) for p in payloads]
    rep.check("%s: the stripped stream lost its template sets" % name,
              oracle_records(fo.walk([(SRC, p) for p in stripped])) == 0 and
              sum(len(p) for p in stripped) < len(stream))
    t3 = t_end + 1  # the third session starts after the first two
    s2 = segments(b"".join(stripped), [(t3 + 0.001 * (i + 1), len(p))
                                       for i, p in enumerate(stripped)])
    pc = cl.PcapWriter()
    add_session(pc, segs, 40001, 5000, t0, t_end, perturb=False)
    add_session(pc, segs, 40002, 9000, t0, t_end, perturb=False)
    add_session(pc, s2, 40003, 70000, t3, t3 + 0.001 * (len(s2) + 2),
                perturb=False)
    pc.frames.sort(key=lambda f: f[0])  # interleaved, as captured
    path = os.path.join(tmp, "scope.pcap")
    pc.write(path)
    run = replay(args, path)
    tcp, st = tcp_stats(run)
    rep.equal("%s: second session from one address refused, the one "
              "after the close accepted" % name,
              [st.get(k) for k in ("accepted", "refused_exporter_connected",
                                   "closed", "templates_dropped", "bytes")],
              [2, 1, 2, len(oracle.templates),
               len(stream) + sum(len(p) for p in stripped)])
    rep.equal("%s: no gap in the three sessions" % name, tcp, {})
    rep.equal("%s: records once, none from the session without templates"
              % name, records(run), oracle_records(oracle))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    flows = cl.corpus_flows(args)
    if flows is None:
        cl.skip_corpus_line(rep, args)
        rep.finish()
    tmp = tempfile.mkdtemp(prefix="ps-ipfix-tcp-replay-")
    try:
        for name in CAPTURES:
            one_capture(rep, args, flows, name, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
