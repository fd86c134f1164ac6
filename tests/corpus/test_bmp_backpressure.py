"""Live BMP backpressure is per router, and drops nothing.

(bmp.route_messages is on, so route messages share the router queues.)

Two BMP sessions from 127.0.0.2 (router A) and 127.0.0.3 (router B) to a
peerscope on 127.0.0.1 whose JSON output is a FIFO that this test does
not read at first: the merger blocks on it, the BMP ring (4096 messages)
fills, and router A, which sends N_A Peer Ups (one bgp_session "up" each),
must be paused (bmp.max_queue_bytes at its 64 KiB minimum).  Then router B
sends three Peer Ups and a Route Monitoring with N_B_ROUTES prefixes.
While A stays paused and the output is still blocked, B must be read and
decoded: /metrics shows B's routes, and B was never paused.  (When the BMP
thread waited for the ring, as it did before, nothing of B was read.)
Then the test drains the FIFO and stops peerscope: every one of A's N_A
"up" and N_A "unknown" (end of session) messages, and B's, arrive exactly
once, and B's ups come out before A's backlog ends (one message per router
per turn).  The truth is what this test sent.

A second daemon checks the slowloris guard: a session that trickles a
message one byte at a time, never completing it, is closed after
bmp.message_timeout_seconds (the idle timeout staying at its hour) and
counted as bmp.server.message_timeout.

Only 127.0.0.0/8; every process started here is stopped by its PID; every
wait is bounded.
"""
import fcntl
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib  # noqa: E402

N_A = 8000        # well past the ring (4096) and A's 64 KiB queue
N_B_ROUTES = 5
DEADLINE = 30     # seconds for each wait
F_SETPIPE_SZ = 1031
ROUTER_A, ROUTER_B, ROUTER_C = "127.0.0.2", "127.0.0.3", "127.0.0.4"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- BMP v3 (RFC 7854) and BGP (RFC 4271) bytes ---------------------------

def bmp(msg_type, body):
    """Common header (RFC 7854 §4.1): version 3, length, type."""
    return struct.pack("!BIB", 3, 6 + len(body), msg_type) + body


def initiation(name):
    """Type 4 with a sysName TLV (type 2, §4.3)."""
    v = name.encode()
    return bmp(4, struct.pack("!HH", 2, len(v)) + v)


def peer_header(addr, asn, bgp_id):
    """Per-peer header (§4.2): global peer, IPv4 in the last 4 bytes."""
    return (struct.pack("!BBQ", 0, 0, 0) + b"\0" * 12 +
            socket.inet_aton(addr) + struct.pack("!II", asn, bgp_id) +
            struct.pack("!II", 1700000000, 0))


def bgp(msg_type, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), msg_type) + body


def bgp_open(asn, bgp_id):
    """OPEN (RFC 4271 §4.2), version 4, hold 90, no parameters."""
    return bgp(1, struct.pack("!BHHIB", 4, asn, 90, bgp_id, 0))


def peer_up(addr, asn, bgp_id):
    """Type 3 (§4.10): local address, ports, sent and received OPEN."""
    body = (peer_header(addr, asn, bgp_id) + b"\0" * 12 +
            socket.inet_aton("127.0.0.1") + struct.pack("!HH", 179, 40000) +
            bgp_open(64512, 0x0a000001) + bgp_open(asn, bgp_id))
    return bmp(3, body)


def route_monitoring(addr, asn, bgp_id, prefixes):
    """Type 0 (§4.6): one UPDATE with ORIGIN, AS_PATH (4-octet), NEXT_HOP."""
    attrs = (bytes([0x40, 1, 1, 0]) +
             bytes([0x40, 2, 6, 2, 1]) + struct.pack("!I", asn) +
             bytes([0x40, 3, 4]) + socket.inet_aton(addr))
    nlri = b"".join(bytes([24]) + socket.inet_aton(p)[:3] for p in prefixes)
    update = struct.pack("!H", 0) + struct.pack("!H", len(attrs)) + attrs + nlri
    return bmp(0, peer_header(addr, asn, bgp_id) + bgp(2, update))


def peer_addr(i):
    return "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255)


# --- the daemon -------------------------------------------------------------

def start(args, tmp, name, out, extra):
    bmp_port, http_port = free_port(), free_port()
    cmd = [args.peerscope, "--set", "bmp.listen=127.0.0.1:%d" % bmp_port,
           "--set", "bmp.allow=any", "--set", "bmp.snapshot_seconds=0",
           "--set", "http.listen=127.0.0.1:%d" % http_port,
           "--set", "allow_root=true",
           "--set", "listen.sflow=127.0.0.1:%d" % free_port(),
           "--set", "listen.ipfix=", "--set", "listen.netflow=",
           "--set", "workers=1", "--set", "output.json.path=" + out]
    for kv in extra:
        cmd += ["--set", kv]
    err = open(os.path.join(tmp, name + ".err"), "w")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    end = time.time() + 10
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", bmp_port), 0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return proc, bmp_port, http_port


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def metrics(http_port):
    """{(name, label value or None): value} from /metrics."""
    try:
        text = urllib.request.urlopen(
            "http://127.0.0.1:%d/metrics" % http_port, timeout=2).read()
    except OSError:
        return {}
    out = {}
    for line in text.decode().splitlines():
        m = re.match(r'^(\w+)(?:\{\w+="([^"]*)"\})? (\S+)$', line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def wait_metrics(http_port, pred, deadline=DEADLINE):
    end = time.time() + deadline
    m = {}
    while time.time() < end:
        m = metrics(http_port)
        if pred(m):
            return m, True
        time.sleep(0.1)
    return m, False


def connect_from(src, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(DEADLINE)
    s.connect(("127.0.0.1", port))
    return s


class FifoReader(threading.Thread):
    """Drains the output FIFO once started, until EOF or the deadline."""

    def __init__(self, fd, deadline):
        super().__init__(daemon=True)
        self.fd, self.deadline, self.data = fd, deadline, []

    def run(self):
        end = time.time() + self.deadline
        while time.time() < end:
            r, _, _ = select.select([self.fd], [], [], 0.5)
            if not r:
                continue
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                return  # every writer closed: peerscope exited
            self.data.append(chunk)


def bmp_messages(raw):
    """bgp_session and route messages, in output order."""
    out = []
    for line in raw.split(b"\n"):
        if line.strip():
            m = json.loads(line)
            if m.get("type") in ("bgp_session", "route"):
                out.append(m)
    return out


def backpressure(args, rep, tmp):
    fifo = os.path.join(tmp, "out.fifo")
    os.mkfifo(fifo)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fcntl.fcntl(rfd, F_SETPIPE_SZ, 4096)  # block the merger sooner
    except OSError:
        pass
    ps, bmp_port, http_port = start(
        args, tmp, "bp", fifo,
        ["bmp.max_queue_bytes=65536", "bmp.max_peers_per_router=%d" % (N_A + 10),
         "bmp.idle_timeout_seconds=0", "bmp.route_messages=true"])
    a = b = None
    reader = FifoReader(rfd, 120)
    try:
        _, ok = wait_metrics(http_port, lambda m: ("peerscope_bmp_routers",
                                                   None) in m, 10)
        if not rep.check("daemon serves /metrics", ok):
            return
        a = connect_from(ROUTER_A, bmp_port)
        stream_a = initiation("router-a") + b"".join(
            peer_up(peer_addr(i), 64000 + i % 1000, 0x0b000000 + i)
            for i in range(N_A))
        sender = threading.Thread(target=a.sendall, args=(stream_a,),
                                  daemon=True)
        sender.start()
        m, ok = wait_metrics(http_port, lambda m: m.get(
            ("peerscope_bmp_router_pauses_total", ROUTER_A), 0) >= 1 and
            m.get(("peerscope_bmp_routers_paused", None), 0) == 1)
        if not rep.check("router A paused while the output is blocked", ok,
                         "metrics: %r" % {k: v for k, v in m.items()
                                          if "paus" in k[0]}):
            return
        b = connect_from(ROUTER_B, bmp_port)
        b_peers = [("192.0.2.%d" % i, 64600 + i, 0x0c000000 + i)
                   for i in (1, 2, 3)]
        prefixes = ["198.51.%d.0" % i for i in range(N_B_ROUTES)]
        b.sendall(initiation("router-b") +
                  b"".join(peer_up(*p) for p in b_peers) +
                  route_monitoring(*b_peers[0], prefixes))
        m, ok = wait_metrics(http_port, lambda m: m.get(
            ("peerscope_bmp_router_rib_routes", ROUTER_B)) == N_B_ROUTES)
        rep.check("router B read and decoded while A is paused "
                  "(its %d routes are held)" % N_B_ROUTES, ok,
                  "B routes: %r" % m.get(("peerscope_bmp_router_rib_routes",
                                          ROUTER_B)))
        rep.equal("A still paused then",
                  m.get(("peerscope_bmp_routers_paused", None)), 1.0)
        rep.equal("B never paused",
                  m.get(("peerscope_bmp_router_pauses_total", ROUTER_B)),
                  0.0)
        rep.check("messages wait in router queues, not dropped",
                  m.get(("peerscope_bmp_queued_events", None), 0) > 0,
                  "queued: %r" % m.get(("peerscope_bmp_queued_events",
                                        None)))
        # open the output: everything must come out, A resumes
        reader.start()
        sender.join(DEADLINE)
        rep.check("router A's whole stream was taken (it resumed)",
                  not sender.is_alive())
        m, ok = wait_metrics(http_port, lambda m: m.get(
            ("peerscope_bmp_peer_sessions", "up")) == N_A + 3 and m.get(
            ("peerscope_bmp_routers_paused", None)) == 0 and m.get(
            ("peerscope_bmp_queued_events", None)) == 0)
        rep.check("all %d peers up, no router paused, no message waiting"
                  % (N_A + 3), ok,
                  "%r" % {k: v for k, v in m.items()
                          if "paus" in k[0] or "queued" in k[0]})
        rep.check("paused time counted",
                  m.get(("peerscope_bmp_router_paused_seconds_total",
                         ROUTER_A), 0) > 0)
    finally:
        for s in (a, b):
            if s is not None:
                s.close()
        if not reader.is_alive() and not reader.data:
            reader.start()
        stop(ps)
        reader.join(60)
        os.close(rfd)
    everything = bmp_messages(b"".join(reader.data))
    msgs = [m for m in everything if m["type"] == "bgp_session"]

    def count(router, event):
        return [m["peer"]["address"] for m in msgs
                if m["router"] == router and m["event"] == event]
    ups_a = count(ROUTER_A, "up")
    rep.equal("every A up arrived once", (len(ups_a), len(set(ups_a))),
              (N_A, N_A))
    missing = {peer_addr(i) for i in range(N_A)} - set(ups_a)
    rep.check("A ups are the peers sent", not missing,
              "%d missing, e.g. %r" % (len(missing), sorted(missing)[:3]))
    unknown_a = count(ROUTER_A, "unknown")
    rep.equal("every A end-of-session arrived once",
              (len(unknown_a), len(set(unknown_a))), (N_A, N_A))
    rep.equal("B's ups", sorted(count(ROUTER_B, "up")),
              ["192.0.2.1", "192.0.2.2", "192.0.2.3"])
    order = [(m["router"], m["event"]) for m in msgs]
    last_a_up = max(i for i, k in enumerate(order) if k == (ROUTER_A, "up"))
    last_b_up = max((i for i, k in enumerate(order) if k == (ROUTER_B, "up")),
                    default=len(order))
    rep.check("B's ups did not wait for A's backlog",
              last_b_up < last_a_up,
              "last B up at %d, last A up at %d" % (last_b_up, last_a_up))
    # B's route messages: all there, after B's up for that peer (one
    # router's messages keep their order through its queue)
    order = [(m["router"], m["type"], m.get("event") or m.get("action"))
             for m in everything]
    b_routes = [i for i, k in enumerate(order)
                if k == (ROUTER_B, "route", "announce")]
    b_up = min(i for i, k in enumerate(order)
               if k == (ROUTER_B, "bgp_session", "up"))
    rep.equal("B's route announcements", len(b_routes), N_B_ROUTES)
    rep.check("B's routes come after B's first up",
              all(i > b_up for i in b_routes),
              "up at %d, routes at %r" % (b_up, b_routes))
    rep.equal("A announced no route",
              [k for k in order if k[0] == ROUTER_A and k[1] == "route"
               and k[2] == "announce"], [])
    err = open(os.path.join(tmp, "bp.err")).read()
    rep.check("pause logged", "event=bmp_router_paused" in err)
    rep.check("clean exit", ps.returncode == 0 and "Sanitizer" not in err,
              "status %r: %s" % (ps.returncode, err[-600:]))


def slowloris(args, rep, tmp):
    out = os.path.join(tmp, "slow.jsonl")
    ps, bmp_port, _ = start(args, tmp, "slow", out,
                            ["bmp.message_timeout_seconds=2",
                             "http.enabled=false"])
    closed_after = None
    try:
        c = connect_from(ROUTER_C, bmp_port)
        # a header announcing 1000 bytes, then the body a byte at a time
        trickle = struct.pack("!BIB", 3, 1000, 0) + b"\0" * 994
        t0 = time.time()
        for i in range(len(trickle)):
            if time.time() - t0 > 10:
                break
            try:
                c.send(trickle[i:i + 1])
                r, _, _ = select.select([c], [], [], 0.4)
                if r and c.recv(1) == b"":
                    closed_after = time.time() - t0
                    break
            except OSError:
                closed_after = time.time() - t0
                break
        c.close()
    finally:
        stop(ps)
    rep.check("slowloris closed after about bmp.message_timeout_seconds",
              closed_after is not None and 1.5 <= closed_after <= 6,
              "closed after %r s" % closed_after)
    err = open(os.path.join(tmp, "slow.err")).read()
    rep.check("counted as bmp.server.message_timeout",
              "bmp.server.message_timeout=1" in err, err[-400:])
    rep.check("clean exit", ps.returncode == 0 and "Sanitizer" not in err,
              "status %r: %s" % (ps.returncode, err[-600:]))


def main():
    args = corpus_lib.parse_args(__doc__)
    rep = corpus_lib.Reporter()
    tmp = tempfile.mkdtemp(prefix="ps-bmp-bp-")
    try:
        backpressure(args, rep, tmp)
        slowloris(args, rep, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
