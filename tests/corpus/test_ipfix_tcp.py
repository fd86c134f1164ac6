#!/usr/bin/env python3
"""IPFIX over TCP (RFC 7011 section 10.3; collector/ipfix_tcp.c), live on
127.0.0.1.

Truth: the same corpus capture replayed as UDP (`peerscope replay`), whose
per-interface totals test_ipfix_corpus.py checks against the capture's
truth file.  The capture's IPFIX messages are concatenated into one TCP
stream and sent in chunks of 1, 3, 15, 16, 17, 1000 and 7 bytes (with
TCP_NODELAY and a pause, so headers and records are split across reads);
the live collector must publish the same records, sampled bytes and
scaled bytes per interface and direction.  Then a stream whose second
message says version 11 must be rejected by the decoder under its
named reason, flow.header.version_unsupported (reasons_ipfix.def), once:
the framing is lost, so the connection is closed and nothing after it
is decoded.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

CAPTURES = ["pmacctd-ipfix-sampled10-live.pcap", "pmacctd-ipfix-live.pcap"]
CHUNKS = [1, 3, 15, 16, 17, 1000, 7]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def totals(messages):
    """{(ifindex, dir): (records, sampled_bytes, round(scaled bytes))}"""
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


def send_split(port, payloads):
    stream = b"".join(payloads)
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    off, i = 0, 0
    while off < len(stream):
        n = CHUNKS[i % len(CHUNKS)]
        try:
            s.sendall(stream[off:off + n])
        except (BrokenPipeError, ConnectionResetError):
            break  # the collector closed it (bad framing): expected there
        off += n
        i += 1
        time.sleep(0.002)
    return s


def run_live(peerscope, tmp, payloads_list):
    """Start, send each payload list on its own connection, stop."""
    port = free_port()
    out = os.path.join(tmp, "live.jsonl")
    stats = os.path.join(tmp, "live.stats.json")
    proc = subprocess.Popen(
        [peerscope, "--set", "listen.sflow=127.0.0.1:%d" % free_port(),
         "--set", "listen.ipfix=", "--set", "listen.netflow=",
         "--set", "flow.tcp_listen=127.0.0.1:%d" % port,
         "--set", "flow.window_grace_seconds=0",
         "--window", "3600", "--workers", "2", "--output", out,
         "--stats", stats, "--set", "allow_root=true",
         "--set", "http.listen=127.0.0.1:0"],
        stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            line = proc.stderr.readline()
            if "collecting" in line or line == "":
                break
        for payloads in payloads_list:
            s = send_split(port, payloads)
            time.sleep(0.5)  # worker 0 reads at least every 100 ms
            s.close()
            time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    msgs = []
    if os.path.exists(out):
        with open(out) as f:
            msgs = [json.loads(x) for x in f if x.strip()]
    st = None
    if os.path.exists(stats):
        with open(stats) as f:
            st = json.load(f)
    return proc.returncode, msgs, st


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    flows = cl.corpus_flows(args)
    if flows is None:
        cl.skip_corpus_line(rep, args)
        rep.finish()
    tmp = tempfile.mkdtemp(prefix="ps-ipfix-tcp-")
    try:
        for name in CAPTURES:
            pcap = os.path.join(flows, name)
            dgs = cl.read_pcap_udp(pcap)
            port = dgs[0][4]
            payloads = [d[5] for d in dgs if d[4] == port]
            udp = cl.replay(args.peerscope, [pcap], 3600,
                            sets=cl.proto_sets("ipfix", [port]) +
                            ["flow.window_grace_seconds=0"])
            want = totals(udp.messages)
            rep.check("%s: UDP replay has flow totals" % name,
                      udp.rc == 0 and len(want) > 0, udp.describe())
            rc, msgs, _st = run_live(args.peerscope, tmp, [payloads])
            rep.equal("%s: live exits 0" % name, rc, 0)
            rep.equal("%s: over TCP, split at awkward boundaries: records, "
                      "sampled bytes, scaled bytes per interface" % name,
                      totals(msgs), want)
        # framing lost: the second message says version 11
        pcap = os.path.join(flows, CAPTURES[1])
        payloads = [d[5] for d in cl.read_pcap_udp(pcap)]
        bad = payloads[1][:1] + b"\x0b" + payloads[1][2:]
        rc, msgs, st = run_live(args.peerscope, tmp, [[payloads[0], bad] +
                                                      payloads[2:]])
        rep.equal("bad framing: live exits 0", rc, 0)
        errs = (st or {}).get("decode_errors", {})
        rep.equal("bad framing: counted by name once, connection closed",
                  errs, {"flow.header.version_unsupported": 1})
        full = sum(v[0] for v in totals(msgs).values())
        # want is CAPTURES[1]'s UDP totals (the last loop pass)
        rep.check("bad framing: the rest of the stream was not decoded",
                  full < sum(v[0] for v in want.values()),
                  "%d records" % full)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
