#!/usr/bin/env python3
"""IPFIX over TCP (RFC 7011 section 10.3; collector/rx/ipfix_tcp.c), live on
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

Connection cap (flow.tcp_max_connections=2, clients bound to distinct
127.0.0.x addresses): exporter A streams the first capture and stays
connected; a second connection from A's address, and two connections past
the cap, must be closed by the collector at once while B (the second
address, which sent one header-only message, so it is no silent
connection a newcomer may replace) is kept; /metrics must count exactly that (2 accepted, 2 refused
at the cap, 1 refused for the exporter already connected, A's bytes and
messages as sent), and after A and B close, the templates dropped must be
the templates A's stream left defined (flow_oracle.py's walk of the same
bytes).  A's records must still come out as the UDP replay's.
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
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
import flow_oracle as fo  # noqa: E402

CAPTURES = ["pmacctd-ipfix-sampled10-live.pcap", "pmacctd-ipfix-live.pcap"]
CHUNKS = [1, 3, 15, 16, 17, 1000, 7]
# RFC 7011 3.1: version 10, length 16, export time, sequence, domain 1
B_HELLO = bytes.fromhex("000a0010" "00000000" "00000000" "00000001")


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
    if os.path.exists(out):
        os.remove(out)  # the daemon appends: one run, one file
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


def metrics_text(http_port):
    url = "http://127.0.0.1:%d/metrics" % http_port
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def scrape(http_port):
    """The peerscope_ipfix_tcp_* series of /metrics: {series: value}."""
    text = metrics_text(http_port)
    vals = {}
    for line in text.splitlines():
        if line.startswith("peerscope_ipfix_tcp_"):
            name, v = line.rsplit(" ", 1)
            vals[name] = int(float(v))
    return vals


def wait_for(http_port, series, want, seconds=5.0):
    """Poll /metrics until `series` reads `want` (bounded); the last read."""
    deadline = time.time() + seconds
    vals = {}
    while time.time() < deadline:
        try:
            vals = scrape(http_port)
        except OSError:
            vals = {}
        if vals.get(series) == want:
            break
        time.sleep(0.1)
    return vals


def connect_from(src_ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src_ip, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def closed_by_collector(s, seconds):
    """True when the peer closes the connection (EOF or reset) in time."""
    s.settimeout(seconds)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def cap_scenario(rep, args, pcap, want_totals):
    payloads = [d[5] for d in cl.read_pcap_udp(pcap)]
    stream = b"".join(payloads)
    oracle = fo.walk([("127.0.0.1", p) for p in payloads])
    port, http_port = free_port(), free_port()
    tmp = tempfile.mkdtemp(prefix="ps-ipfix-tcp-cap-")
    out = os.path.join(tmp, "live.jsonl")
    stats = os.path.join(tmp, "live.stats.json")
    if os.path.exists(out):
        os.remove(out)  # the daemon appends: one run, one file
    proc = subprocess.Popen(
        [args.peerscope, "--set", "listen.sflow=127.0.0.1:%d" % free_port(),
         "--set", "listen.ipfix=", "--set", "listen.netflow=",
         "--set", "flow.tcp_listen=127.0.0.1:%d" % port,
         "--set", "flow.tcp_max_connections=2",
         "--set", "flow.window_grace_seconds=0",
         "--window", "3600", "--workers", "2", "--output", out,
         "--stats", stats, "--set", "allow_root=true",
         "--set", "http.listen=127.0.0.1:%d" % http_port],
        stderr=subprocess.PIPE, text=True)
    socks = []
    mid, end = {}, {}
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            line = proc.stderr.readline()
            if "collecting" in line or line == "":
                break
        a = connect_from("127.0.0.1", port)
        socks.append(a)
        a.sendall(stream)
        wait_for(http_port, "peerscope_ipfix_tcp_messages_total",
                 len(payloads))
        dup = connect_from("127.0.0.1", port)  # A's address again
        socks.append(dup)
        rep.check("cap: a second connection from A's address is closed",
                  closed_by_collector(dup, 3))
        b = connect_from("127.0.0.2", port)
        socks.append(b)
        # B sends one whole message (a header with no set): a session
        # that has spoken is not evicted for a newcomer, one that has
        # not would be (test_hostile.py)
        b.sendall(B_HELLO)
        wait_for(http_port, "peerscope_ipfix_tcp_messages_total",
                 len(payloads) + 1)
        rep.check("cap: B (another address, under the cap) is kept",
                  not closed_by_collector(b, 0.5))
        extra = [connect_from("127.0.0.%d" % i, port) for i in (3, 4)]
        socks.extend(extra)
        rep.equal("cap: the two connections past the cap are closed",
                  [closed_by_collector(s, 3) for s in extra], [True, True])
        mid = scrape(http_port)
        if shutil.which("promtool"):
            lint = subprocess.run(["promtool", "check", "metrics"],
                                  input=metrics_text(http_port),
                                  capture_output=True, text=True, timeout=30)
            # other families are test_ops.py's business
            rep.check("cap: promtool finds nothing to say about the "
                      "IPFIX/TCP families",
                      "ipfix_tcp" not in lint.stdout + lint.stderr,
                      lint.stdout + lint.stderr)
        a.close()
        b.close()
        end = wait_for(http_port,
                       "peerscope_ipfix_tcp_connections_closed_total", 2)
    finally:
        for s in socks:
            s.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    refused = 'peerscope_ipfix_tcp_connections_refused_total{reason="%s"}'
    rep.equal("cap: /metrics while A and B are open",
              [mid.get(k) for k in (
                  "peerscope_ipfix_tcp_connections",
                  "peerscope_ipfix_tcp_connections_accepted_total",
                  refused % "cap", refused % "exporter_connected",
                  refused % "out_of_memory",
                  "peerscope_ipfix_tcp_received_bytes_total",
                  "peerscope_ipfix_tcp_messages_total",
                  "peerscope_ipfix_tcp_framing_errors_total",
                  "peerscope_ipfix_tcp_connections_closed_total")],
              [2, 2, 2, 1, 0, len(stream) + len(B_HELLO),
               len(payloads) + 1, 0, 0])
    rep.equal("cap: after A and B closed: open, closed, templates dropped "
              "(the oracle's live templates)",
              [end.get(k) for k in (
                  "peerscope_ipfix_tcp_connections",
                  "peerscope_ipfix_tcp_connections_closed_total",
                  "peerscope_ipfix_tcp_templates_dropped_total")],
              [0, 2, len(oracle.templates)])
    st = {}
    if os.path.exists(stats):
        with open(stats) as f:
            st = json.load(f).get("ipfix_tcp", {})
    rep.equal("cap: --stats ipfix_tcp says the same",
              [st.get(k) for k in ("accepted", "refused_cap",
                                   "refused_exporter_connected", "bytes",
                                   "messages", "closed",
                                   "templates_dropped")],
              [2, 2, 1, len(stream) + len(B_HELLO), len(payloads) + 1, 2,
               len(oracle.templates)])
    msgs = []
    if os.path.exists(out):
        with open(out) as f:
            msgs = [json.loads(x) for x in f if x.strip()]
    rep.equal("cap: A's records still decoded as over UDP", totals(msgs),
              want_totals)
    shutil.rmtree(tmp, ignore_errors=True)


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
            if name == CAPTURES[0]:
                cap_scenario(rep, args, pcap, want)
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
        rep.equal("bad framing: one framing error, one connection closed",
                  [(st or {}).get("ipfix_tcp", {}).get(k)
                   for k in ("framing_errors", "closed")], [1, 1])
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
