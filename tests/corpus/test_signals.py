#!/usr/bin/env python3
"""Operational signals you can trust (issue 13), each against a truth that
is not peerscope's own arithmetic:

  - one port, one receiver: a second peerscope, and a leftover receiver
    (a plain socket with SO_REUSEPORT, as an old instance would hold),
    are refused with the PID the kernel's socket table gives; one
    instance's own workers share the port (/metrics: a socket each);
  - live counters: BMP messages built here by hand (RFC 7854), with a
    known number of Peer Up/Down events, on a collector with no flow
    listener and a one-hour window (no window is ever published): within
    2 s /metrics counts them, and the Kafka delivered counter equals what
    kcat (librdkafka's own client) reads from the broker;
  - a Kafka outage: librdkafka's mock cluster in its own process
    (peerscope-mock-kafka) taken down and up: peerscope_sink_up and
    /readyz follow, with the reason, and the log says so by event name;
  - readable events: router connect/disconnect, peer up/down with the
    reason we sent, times in RFC 3339, a reopen that fails as the
    run_as_user, and output files handed to that user (stat);
  - every listener logged with protocol, address, port and workers.
Every process started here is stopped by its PID; traffic stays on
127.0.0.1.
"""
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
from test_conn_bgp import initiation, peer_down, peer_up  # noqa: E402
from test_ops import (Proc, free_port, get, http_port,  # noqa: E402
                      parse_metrics, total)

rep = cl.Reporter()
RFC3339 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def base_cmd(peerscope, extra):
    return [peerscope, "--set", "allow_root=true",
            "--set", "http.listen=127.0.0.1:0"] + extra


def udp_only(port, proto="sflow"):
    sets = []
    for p in ("sflow", "ipfix", "netflow"):
        sets += ["--set", "listen.%s=%s" % (
            p, "127.0.0.1:%d" % port if p == proto else "[]")]
    return sets


def no_flows():
    return ["--set", "listen.sflow=[]", "--set", "listen.ipfix=[]",
            "--set", "listen.netflow=[]"]


def events(proc, name):
    """The logfmt lines of one event, as {field: value} dicts."""
    out = []
    for line in proc.stderr().splitlines():
        if " event=%s " % name not in line:
            continue
        out.append(dict(re.findall(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)', line)))
        for k, v in out[-1].items():
            if v.startswith('"'):
                out[-1][k] = v[1:-1].replace('\\"', '"')
    return out


def wait_until(fn, seconds):
    """fn() until it is true or time runs out: (its value, seconds taken)."""
    t0 = time.time()
    v = fn()
    while not v and time.time() - t0 < seconds:
        time.sleep(0.05)
        v = fn()
    return v, time.time() - t0


def metrics(port):
    return parse_metrics(get(port, "/metrics")[1])


# --- 1. one port, one receiver -------------------------------------------

def test_second_instance(peerscope, tmp):
    port = free_port(socket.SOCK_DGRAM)
    a = Proc(base_cmd(peerscope, udp_only(port) + ["--workers", "2",
                                                   "-o", "/dev/null"]),
             tmp, "first")
    try:
        hp = http_port(a)
        if not rep.check("first instance up", hp is not None and
                         a.wait_for("collecting") is not None,
                         a.stderr()[-400:]):
            return
        m = metrics(hp)
        rep.equal("its two workers share the port: one socket each",
                  [total(m, "peerscope_sockets", worker=w) for w in "01"],
                  [1, 1])
        ls = [e for e in events(a, "listening") if e.get("protocol") ==
              "sflow"]
        rep.check("the listener is logged: protocol, address, port, workers",
                  len(ls) == 1 and ls[0].get("transport") == "udp" and
                  ls[0].get("address") == "127.0.0.1" and
                  ls[0].get("port") == str(port) and
                  ls[0].get("workers") == "2", str(ls))
        for what, listen in (("the same address", "127.0.0.1:%d" % port),
                             ("a wildcard over it", ":%d" % port)):
            p = subprocess.run(
                base_cmd(peerscope, ["--set", "listen.sflow=" + listen,
                                     "--set", "listen.ipfix=[]",
                                     "--set", "listen.netflow=[]",
                                     "-o", "/dev/null"]),
                capture_output=True, text=True, timeout=30)
            rep.check("a second instance on %s is refused: exit 1, "
                      "\"address in use (held by PID %d\""
                      % (what, a.p.pid),
                      p.returncode == 1 and "address in use (held by PID %d"
                      % a.p.pid in p.stderr, "rc=%s %r"
                      % (p.returncode, p.stderr[-300:]))
        rep.check("the first instance keeps running",
                  a.p.poll() is None and get(hp, "/healthz")[0] == 200)
    finally:
        a.stop()
    # A leftover receiver: a socket with SO_REUSEPORT of the same user, as
    # an instance that never exited holds it (the kernel would share).
    port = free_port(socket.SOCK_DGRAM)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as left:
        left.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        left.bind(("0.0.0.0", port))
        p = subprocess.run(base_cmd(peerscope, udp_only(port) +
                                    ["-o", "/dev/null"]),
                           capture_output=True, text=True, timeout=30)
    rep.check("a leftover receiver (SO_REUSEPORT, same user) is detected: "
              "held by PID %d (this test)" % os.getpid(),
              p.returncode == 1 and "address in use (held by PID %d"
              % os.getpid() in p.stderr,
              "rc=%s %r" % (p.returncode, p.stderr[-300:]))


# --- 3 and 7. live counters and BMP events --------------------------------

PEERS = [("10.0.0.1", 64500), ("10.0.0.2", 64501), ("10.0.0.3", 64502)]
T_UP = 1795679359.5  # the routers' clock in the BMP per-peer headers
T_DOWN = T_UP + 60


def kcat_count(broker, topic):
    p = subprocess.run(["kcat", "-C", "-b", broker, "-t", topic,
                        "-o", "beginning", "-e", "-q", "-f", "%k\n"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=60)
    return p.returncode, [x for x in p.stdout.decode().split("\n") if x]


def bgp_counts(port):
    m = metrics(port)
    return (total(m, "peerscope_messages_total", type="bgp_session"),
            total(m, "peerscope_kafka_messages_total", type="bgp_session",
                  outcome="delivered"),
            total(m, "peerscope_windows_published_total"))


def test_live_counters_and_events(peerscope, tmp):
    bmp_port = free_port()
    out = os.path.join(tmp, "bmp-only.jsonl")
    proc = Proc(base_cmd(peerscope, no_flows() + [
        "--set", "bmp.listen=127.0.0.1:%d" % bmp_port,
        "--window", "3600", "-o", out,
        "--set", "output.kafka.enabled=true",
        "--set", "runtime_dir=" + os.path.join(tmp, "run")]), tmp, "bmp-only")
    sock = None
    try:
        hp = http_port(proc)
        broker = proc.wait_for(r"event=kafka_embedded_broker .*brokers=(\S+)")
        if not rep.check("BMP-only collector (every listen.* []) up, "
                         "embedded broker", hp is not None and broker,
                         proc.stderr()[-400:]):
            return
        broker = broker.group(1)
        rep.equal("before any router: no bgp_session counted",
                  bgp_counts(hp), (0, 0, 0))
        sock = socket.create_connection(("127.0.0.1", bmp_port), 5)
        sock.sendall(initiation("edge-test") +
                     b"".join(peer_up(a, asn, T_UP) for a, asn in PEERS))
        got, took = wait_until(lambda: bgp_counts(hp) == (3, 3, 0), 2.0)
        rep.check("3 Peer Ups: /metrics counts 3 bgp_session messages, 3 "
                  "delivered to Kafka, within 2 s, no window published",
                  got, "%r after %.2f s" % (bgp_counts(hp), took))
        rc, keys = kcat_count(broker, "peerscope.bgp.sessions")
        rep.equal("kcat reads those 3 messages from the broker",
                  (rc, len(keys)), (0, 3))
        sock.sendall(peer_down(PEERS[1][0], PEERS[1][1], T_DOWN))
        got, took = wait_until(lambda: bgp_counts(hp)[:2] == (4, 4), 2.0)
        rep.check("a Peer Down: 4 counted and delivered within 2 s", got,
                  "%r after %.2f s" % (bgp_counts(hp), took))
        conn = events(proc, "bmp_router_connected")
        rep.check("event bmp_router_connected names the router",
                  len(conn) == 1 and conn[0].get("router") == "127.0.0.1",
                  str(conn))
        ups = sorted((e.get("peer"), e.get("peer_as"), e.get("time"))
                     for e in events(proc, "bmp_peer_up"))
        want_up = time.strftime("%Y-%m-%dT%H:%M:%S.500Z", time.gmtime(T_UP))
        rep.equal("event bmp_peer_up per peer: address, AS, the router's "
                  "time in RFC 3339",
                  ups, sorted((a, str(asn), want_up) for a, asn in PEERS))
        down, _ = wait_until(lambda: events(proc, "bmp_peer_down"), 2.0)
        rep.check("event bmp_peer_down with the reason sent (4: the peer "
                  "closed without a NOTIFICATION)",
                  len(down) == 1 and down[0].get("peer") == PEERS[1][0] and
                  down[0].get("reason") == "remote_no_data" and
                  re.fullmatch(RFC3339, down[0].get("time", "")),
                  str(down))
        sock.close()
        sock = None
        gone, _ = wait_until(lambda: events(proc, "bmp_router_disconnected"),
                             3.0)
        rep.check("event bmp_router_disconnected with the reason",
                  len(gone) == 1 and gone[0].get("reason") ==
                  "closed by the router" and gone[0].get("sys_name") ==
                  "edge-test", str(gone))
        opened = events(proc, "sink_opened")
        rep.check("events sink_opened for both sinks, with path and brokers",
                  {e.get("sink") for e in opened} == {"json", "kafka"} and
                  any(e.get("path") == out for e in opened) and
                  any(e.get("brokers") == broker for e in opened),
                  str(opened))
    finally:
        if sock is not None:
            sock.close()
        rc = proc.stop()
    closed = {e.get("sink"): e for e in events(proc, "sink_closed")}
    with open(out) as f:
        lines = sum(1 for x in f if x.strip())
    k = closed.get("kafka", {})
    rep.check("exit 0; event sink_closed for Kafka: delivered = the JSON "
              "lines of the same run (%d), none undelivered" % lines,
              rc == 0 and "json" in closed and
              k.get("delivered") == str(lines) and
              k.get("undelivered") == "0", "rc=%s %s" % (rc, closed))
    rep.check("no epoch-nanosecond times in the log",
              re.search(r"\b\d{10}\.\d{9}\b", proc.stderr()) is None)


# --- 4. a Kafka outage that shows -----------------------------------------

def kafka_state(port):
    m = metrics(port)
    status, body = get(port, "/readyz")
    return total(m, "peerscope_sink_up", sink="kafka"), status, body


def test_kafka_outage(peerscope, tmp):
    from test_kafka import MockKafka
    helper = os.path.join(os.path.dirname(peerscope), "tests",
                          "peerscope-mock-kafka")
    if not os.path.exists(helper):
        rep.skip("outage: %s not built" % helper)
        return
    mock = MockKafka(helper)
    proc = None
    try:
        if not rep.check("outage: mock broker up", mock.broker is not None):
            return
        proc = Proc(base_cmd(peerscope, udp_only(free_port(
            socket.SOCK_DGRAM)) + [
            "-o", "/dev/null", "--set", "output.kafka.enabled=true",
            "--set", "output.kafka.brokers=" + mock.broker,
            "--set", "output.kafka.down_after_ms=2000",
            "--set", "output.kafka.properties=reconnect.backoff.max.ms=200"]),
            tmp, "outage")
        hp = http_port(proc)
        if not rep.check("outage: collector up", hp is not None,
                         proc.stderr()[-400:]):
            return
        st, took = wait_until(lambda: kafka_state(hp)[:2] == (1, 200), 5)
        rep.check("outage: broker up: sink_up{kafka} 1, /readyz 200", st,
                  repr(kafka_state(hp)))
        rep.equal("outage: broker taken down", mock.cmd("down"), "ok")
        t0 = time.time()
        st, took = wait_until(lambda: kafka_state(hp)[:2] == (0, 503), 8)
        s = kafka_state(hp)
        rep.check("outage: within down_after_ms (2 s) + 3 s: sink_up{kafka} "
                  "0 and /readyz 503 saying why",
                  st and "sink kafka down: no broker reachable" in s[2],
                  "%r after %.1f s" % (s, time.time() - t0))
        down = events(proc, "sink_down")
        rep.check("outage: event sink_down sink=kafka with the reason",
                  len(down) == 1 and down[0].get("sink") == "kafka" and
                  "no broker reachable" in down[0].get("reason", ""),
                  str(down))
        rep.equal("outage: broker back up", mock.cmd("up"), "ok")
        st, took = wait_until(lambda: kafka_state(hp)[:2] == (1, 200), 8)
        rep.check("outage over: sink_up{kafka} 1, /readyz 200 again",
                  st, "%r after %.1f s" % (kafka_state(hp), took))
        rep.check("outage over: event sink_up sink=kafka",
                  [e.get("sink") for e in events(proc, "sink_up")] ==
                  ["kafka"], proc.stderr()[-400:])
        rep.check("outage: librdkafka's own lines are events (kafka_log "
                  "with its facility), none raw",
                  any(e.get("facility") for e in events(proc, "kafka_log"))
                  and not re.search(r"^%\d\|", proc.stderr(), re.M),
                  proc.stderr()[-400:])
    finally:
        if proc is not None:
            proc.stop()
        mock.stop()


# --- 7. a reopen that cannot write, files for the run-as user ------------

def test_reopen_as_user(peerscope, tmp):
    if os.geteuid() != 0:
        rep.skip("run_as_user needs root")
        return
    import pwd
    nobody = pwd.getpwnam("nobody")
    d = os.path.join(tmp, "out")
    os.makedirs(d)
    os.chmod(tmp, 0o755)
    os.chmod(d, 0o755)
    out = os.path.join(d, "metrics.jsonl")
    proc = Proc(base_cmd(peerscope, udp_only(free_port(socket.SOCK_DGRAM)) +
                         ["-o", out, "--set", "run_as_user=nobody"]),
                tmp, "reopen")
    try:
        hp = http_port(proc)
        if not rep.check("reopen: collector up as nobody", hp is not None and
                         proc.wait_for("collecting") is not None,
                         proc.stderr()[-400:]):
            return
        st = os.stat(out)
        rep.equal("reopen: the output made at start belongs to run_as_user",
                  (st.st_uid, st.st_gid), (nobody.pw_uid, nobody.pw_gid))
        # The file as a root-made one (an old run, a logrotate "create
        # root"): nobody cannot write it any more.
        os.chown(out, 0, 0)
        os.chmod(out, 0o644)
        proc.p.send_signal(signal.SIGHUP)
        ev, _ = wait_until(lambda: events(proc, "sink_reopen_failed"), 5)
        rep.check("reopen: event sink_reopen_failed names the file and why",
                  len(ev) == 1 and out in ev[0].get("reason", "") and
                  "Permission denied" in ev[0].get("reason", ""), str(ev))
        m = metrics(hp)
        rep.equal("reopen: peerscope_sink_reopen_failures_total 1",
                  total(m, "peerscope_sink_reopen_failures_total"), 1)
        rl = events(proc, "config_reloaded")
        rep.check("reload: config_reloaded gives its boundary in RFC 3339",
                  len(rl) == 1 and re.fullmatch(RFC3339,
                                                rl[0].get("effective", "")),
                  str(rl))
    finally:
        proc.stop()


def main():
    args = cl.parse_args(__doc__)
    tmp = tempfile.mkdtemp(prefix="ps-signals-")
    try:
        test_second_instance(args.peerscope, tmp)
        if shutil.which("kcat") is None:
            rep.skip("kcat not installed (deploy/install-deps.sh)")
        else:
            test_live_counters_and_events(args.peerscope, tmp)
            test_kafka_outage(args.peerscope, tmp)
        test_reopen_as_user(args.peerscope, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
