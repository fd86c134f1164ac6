#!/usr/bin/env python3
"""Flows that span windows are apportioned by their start/end times
(issue 3 item 5; collector/ingest/flow_apportion.c, flow.window_grace_seconds).

Truth: one crafted IPFIX record (RFC 7011: template 256 = ingressInterface
4 B, octetDeltaCount 8 B, packetDeltaCount 8 B, flowStartSeconds 4 B,
flowEndSeconds 4 B), 1500 bytes and 10 packets from T0+30 s to T0+180 s,
i.e. 2.5 windows of 60 s.  Hand-computed shares (bytes per second = 10):
  grace 180 s: [T0,+60) 300 B / 2 pkts, [+60,+120) 600 / 4, [+120,+180)
               600 / 4; the record counts as a sample in each of the 3;
  grace 60 s:  only [+120,+180) is still open when the record arrives at
               +181 s: 1500 / 10 there, and late_records = 1;
  grace 0:     the record counts whole in its arrival window [+180,+240).
Windows are opened by template-only messages at +1, +61, +121 s.
"""
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

T0 = 1717718400  # 2024-06-07T00:00:00Z, a multiple of 60
IF_IN = 7


def ipfix_message(seq, export_time, sets):
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), export_time, seq, 0) + body


def ipfix_set(set_id, payload):
    return struct.pack(">HH", set_id, 4 + len(payload)) + payload


TEMPLATE = ipfix_set(2, struct.pack(">HH", 256, 5) + b"".join(
    struct.pack(">HH", ie, ln) for ie, ln in
    ((10, 4), (1, 8), (2, 8), (150, 4), (151, 4))))


def record(bytes_, packets, start, end):
    return struct.pack(">IQQII", IF_IN, bytes_, packets, start, end)


def write_pcap(path, datagrams, dport=4739, sources=None):
    """Classic pcap, LINKTYPE_RAW, IPv4/UDP 127.0.0.x -> 127.0.0.1
    (sources[i] = x for datagram i, default 1)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, (ts, payload) in enumerate(datagrams):
            src = bytes([127, 0, 0, sources[i] if sources else 1])
            udp = struct.pack(">HHHH", 40000, dport, 8 + len(payload), 0)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), i,
                             0, 64, 17, 0, src, bytes([127, 0, 0, 1]))
            frame = ip + udp + payload
            f.write(struct.pack("<IIII", ts, 0, len(frame), len(frame)))
            f.write(frame)


def per_window(run):
    """{window start offset s: (sampled_bytes, sampled_packets, samples)}"""
    out = {}
    for m in run.of_type("connection_metrics"):
        if m["router"] != "127.0.0.1" or m["ifindex"] != IF_IN:
            continue
        s = m["in"].get("samples") or {}
        start = m["window"]["start"]
        out[start] = (s.get("sampled_bytes"), s.get("packets"),
                      s.get("sample_count"))
    return out


def iso(offset):
    import datetime
    t = datetime.datetime.fromtimestamp(T0 + offset, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def late_records(run):
    return sum((m.get("flow") or {}).get("late_records", 0)
               for m in run.of_type("exporter_health"))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    tmp = tempfile.mkdtemp(prefix="ps-flow-windows-")
    try:
        path = os.path.join(tmp, "span.pcap")
        dgs = [(T0 + 1, ipfix_message(0, T0 + 1, [TEMPLATE])),
               (T0 + 61, ipfix_message(0, T0 + 61, [TEMPLATE])),
               (T0 + 121, ipfix_message(0, T0 + 121, [TEMPLATE])),
               (T0 + 181, ipfix_message(0, T0 + 181, [
                   ipfix_set(256, record(1500, 10, T0 + 30, T0 + 180))]))]
        write_pcap(path, dgs)
        cases = (
            (180, {iso(0): (300, 2, 1), iso(60): (600, 4, 1),
                   iso(120): (600, 4, 1)}, 0),
            (60, {iso(120): (1500, 10, 1)}, 1),
            (0, {iso(180): (1500, 10, 1)}, 0),
        )
        for grace, want, late in cases:
            sets = ["flow.window_grace_seconds=%d" % grace]
            runs = [cl.replay(args.peerscope, [path], 60, workers=n,
                              sets=sets) for n in (1, 2)]
            tag = "grace %d s" % grace
            if not rep.check(tag + ": replay exits 0",
                             all(r.rc == 0 for r in runs),
                             "; ".join(r.describe() for r in runs
                                       if r.rc != 0)):
                continue
            got = per_window(runs[0])
            rep.equal(tag + ": per-window bytes, packets, records", got, want)
            rep.equal(tag + ": totals unchanged",
                      (sum(v[0] for v in got.values()),
                       sum(v[1] for v in got.values()),
                       len(got)), (1500, 10, len(want)))
            rep.equal(tag + ": late_records", late_records(runs[0]), late)
            rep.check(tag + ": byte-identical output, --workers 1 and 2",
                      runs[0].stdout == runs[1].stdout,
                      "sizes %d, %d" % (len(runs[0].stdout),
                                        len(runs[1].stdout)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
