"""A connection's BGP sessions (connection_metrics `bgp` and `bgp_state`,
collector/agg/conn_bgp.h): the traffic leaving by a connection is joined to
the BGP peers that announced the routes it took, and each peer's session
state comes from the router's BMP feed.

Replay part: quirks/frr_peerup_tlv.pcap of the shared corpus (FRR router
10.79.0.1, one peer 10.79.0.11 AS 65001) then flows from the same router,
as NetFlow v5 (the records of test_rib_enrich.py) and as sFlow.  Truth,
by hand from the capture's truth file (frr_peerup_tlv.truth.json, itself
checked against tshark): the peer's messages are Peer Up (ts
1795680401.638861), five Peer Downs (the first moves it down: one flap;
the others repeat it), Peer Up (ts 1795680421.638861); at the end it is
up, holding 301 routes pre-policy and 301 post-policy.  The flows go to
23.208.0.1, 96.4.132.9, 99.158.252.1 (routes of that peer) and 192.0.2.1
(no route), so the peer carries every routed byte; the window (60 s,
flows at 1795680500) ends at 1795680540.

Interleaved replay part: ONE capture written here, the common debugging
case of a capture taken on the collector host: router 10.79.0.1's BMP
session (TCP to port 11041) and its NetFlow v5 exports (UDP 2055), and
exports of a router 10.79.0.2 without BMP, over 50 s of capture time in
10 s windows from T0 = 1795680000:
  T0+0.5 SYN; T0+1 Initiation, Peer Up A 10.79.0.11 AS 65001 (BMP time
  T0+1), A announces 203.0.113.0/24 AS_PATH 65001 64500;
  T0+15 A announces 198.51.100.0/24 AS_PATH 65001 64501;
  T0+30.5 Peer Down A (its routes go);
  exports at T0+2, +12, +22, +32, +42, each: 1000 bytes to 203.0.113.5,
  200 to 198.51.100.7, 50 to 192.0.2.1, out of ifIndex 7.
Replay publishes a router's routes before the next flow once they
changed and 5 s of capture time passed since the last publication, and
at once after a Peer Down (bmp_replay.c); the merger shows peer states
as of each window's end (conn_bgp.h).  So, by hand:
  windows T0, T0+10: 64500 carries 1000 B; 250 B unrouted (198.51.100.0/24
    is announced at T0+15); A up, 1000 of 1250 B (share 0.8), 1 prefix,
    up since T0+1;
  window T0+20: 64500 1000 B, 64501 200 B, 50 unrouted; A up with 1200 of
    1250 B (0.96), 2 prefixes (the Peer Down at T0+30.5 came after its end,
    and before the merger could publish it: the tick to T0+30 is sent by
    the export at T0+32);
  windows T0+30, T0+40: no route, 1250 B unrouted; A remembered, down,
    0 bytes, 0 prefixes, 1 flap; bgp_state "down".
Router 10.79.0.2 has no feed: bgp, bgp_state, out_dst_origin_as null.
The output must be byte-identical with --workers 1 and 3, run repeatedly.

Live part: peerscope listening for BMP and sFlow on 127.0.0.1; this test
is the router 127.0.0.1: a BMP session with peers A 10.79.0.11 AS 65001
(203.0.113.0/24) and B 10.79.0.12 AS 65002 (198.51.100.0/24,
198.51.101.0/24), and sFlow samples leaving by ifIndex 7 towards A's
prefix and by ifIndex 8 towards B's.  Then a Peer Down for A: the next
window shows ifIndex 7's peer A down, with no bytes and no prefixes, and
bgp_state "down", while ifIndex 8 stays "up".  Every wait is bounded;
peerscope is started here and stopped by its PID.
"""
import calendar
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib  # noqa: E402
import test_rib_enrich as nf5  # noqa: E402  (NetFlow v5 flows, pcap writer)

try:
    import jsonschema
except ImportError:  # reported as a failure in main
    jsonschema = None

PEER = "10.79.0.11"
UP_SINCE = 1795680421.638861
WINDOW_END = 1795680540
DEADLINE = 30  # seconds for each live wait


def iso_ms(ts):
    """RFC 3339 with milliseconds, truncated as peerscope writes it."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(ts))) + \
        ".%03dZ" % int(round(ts * 1e9) % 10**9 // 10**6)


def parse_iso(text):
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")) + \
        float(text[19:-1] or 0)


# --- sFlow v5 (sflow.org sFlow version 5) -----------------------------------

def ipv4_frame(src, dst, frame_len):
    """Ethernet + IPv4 + TCP header, as a sampled header (0:1) carries."""
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, frame_len - 14, 1, 0, 64, 6,
                     0, bytes(src), bytes(dst))
    tcp = struct.pack("!HHIIBBHHH", 40000, 443, 0, 0, 0x50, 0x10, 1000, 0, 0)
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + tcp


def flow_sample(seq, out_if, rate, pool, dst, frame_len):
    """Flow sample (0:1) from ifIndex 3 to out_if, one sampled header."""
    hdr = ipv4_frame((198, 18, 0, 1), dst, frame_len)
    pad = (4 - len(hdr) % 4) % 4
    rec = struct.pack("!IIII", 1, frame_len, 0, len(hdr)) + hdr + b"\0" * pad
    body = struct.pack("!IIIIIIII", seq, out_if, rate, pool, 0, 3, out_if, 1)
    body += struct.pack("!II", 1, len(rec)) + rec
    return struct.pack("!II", 1, len(body)) + body


def sflow_datagram(agent, seq, uptime_ms, samples):
    d = struct.pack("!II4sIIII", 5, 1, bytes(agent), 0, seq, uptime_ms,
                    len(samples))
    return d + b"".join(samples)


class SflowSource:
    """Samples of one source (ifIndex out_if): the pool moves by the rate,
    so each sample stands for exactly `rate` packets."""

    def __init__(self, out_if, rate):
        self.out_if, self.rate, self.seq = out_if, rate, 0

    def sample(self, dst, frame_len):
        self.seq += 1
        return flow_sample(self.seq, self.out_if, self.rate,
                           self.seq * self.rate, dst, frame_len)


# --- BMP v3 (RFC 7854) and BGP (RFC 4271) ------------------------------------

def bmp(msg_type, body):
    return struct.pack("!BIB", 3, 6 + len(body), msg_type) + body


def initiation(name):
    v = name.encode()
    return bmp(4, struct.pack("!HH", 2, len(v)) + v)


def peer_header(addr, asn, ts):
    """Global instance peer, pre-policy, IPv4; BMP time ts."""
    return (struct.pack("!BBQ", 0, 0, 0) + b"\0" * 12 +
            socket.inet_aton(addr) + struct.pack("!I", asn) +
            socket.inet_aton(addr) + struct.pack("!II", int(ts),
                                                 int(ts % 1 * 1e6)))


def bgp(msg_type, body):
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), msg_type) + body


def bgp_open(asn, bgp_id):
    return bgp(1, struct.pack("!BHHIB", 4, asn, 90, bgp_id, 0))


def peer_up(addr, asn, ts):
    body = (peer_header(addr, asn, ts) + b"\0" * 12 +
            socket.inet_aton("127.0.0.1") + struct.pack("!HH", 179, 40000) +
            bgp_open(64512, 0x7f000001) + bgp_open(asn, 0x0a4f0000 | asn & 0xff))
    return bmp(3, body)


def peer_down(addr, asn, ts):
    """Reason 4: the remote closed without a NOTIFICATION (no data)."""
    return bmp(2, peer_header(addr, asn, ts) + b"\x04")


def route_monitoring(addr, asn, ts, origin, prefixes):
    attrs = (bytes([0x40, 1, 1, 0]) +
             bytes([0x40, 2, 10, 2, 2]) + struct.pack("!II", asn, origin) +
             bytes([0x40, 3, 4]) + socket.inet_aton(addr))
    nlri = b"".join(bytes([24]) + socket.inet_aton(p)[:3] for p in prefixes)
    update = struct.pack("!HH", 0, len(attrs)) + attrs + nlri
    return bmp(0, peer_header(addr, asn, ts) + bgp(2, update))


# --- replay -------------------------------------------------------------------

def conn(run, ifindex, router="10.79.0.1"):
    return [m for m in run.of_type("connection_metrics")
            if m.get("router") == router and m.get("ifindex") == ifindex]


def check_peer(rep, what, peer, bytes_, share):
    rep.equal(what + ": peer and AS", (peer["address"], peer["asn"]),
              (PEER, 65001))
    rep.equal(what + ": bytes and share",
              (peer["bytes"], peer["share"]), (bytes_, share))
    rep.equal(what + ": state, flaps, prefixes pre/post",
              (peer["state"], peer["flaps"], peer["prefixes_pre_policy"],
               peer["prefixes_post_policy"]), ("up", 1, 301, 301))
    rep.equal(what + ": up since the second Peer Up", peer["up_since"],
              iso_ms(UP_SINCE))
    rep.check(what + ": uptime = window end - up_since",
              abs(peer["uptime_seconds"] - (WINDOW_END - UP_SINCE)) < 0.002,
              repr(peer["uptime_seconds"]))


class SchemaCheck:
    """Every connection_metrics message seen here, a `bgp` block or not,
    against schemas/connection_metrics.v2 (test_schemas.py sees no flows
    from a router with BMP)."""

    def __init__(self, rep, folder):
        self.rep, self.validator, self.checked = rep, None, 0
        if jsonschema is None:
            rep.check("python3-jsonschema is installed", False)
            return
        with open(os.path.join(folder,
                               "connection_metrics.v2.schema.json")) as f:
            self.validator = jsonschema.Draft202012Validator(
                json.load(f), format_checker=jsonschema.FormatChecker())

    def check(self, what, messages):
        if self.validator is None:
            return
        errors = []
        for m in messages:
            errors += [e.message for e in self.validator.iter_errors(m)]
            self.checked += 1
        self.rep.equal(what + ": connection_metrics valid against the schema",
                       errors[:3], [])


def replay_cases(rep, args, tmp, schema):
    bmp_pcap = os.path.join(args.corpus, "bmp", "quirks",
                            "frr_peerup_tlv.pcap")
    sets = ["bmp.port=11041"]
    flows = os.path.join(tmp, "nf5.pcap")
    nf5.write_udp_pcap(flows, nf5.nf5_datagram())
    run = corpus_lib.replay(args.peerscope, [bmp_pcap, flows], workers=2,
                            sets=sets)
    rep.equal("NetFlow: replay exits 0", run.rc, 0)
    schema.check("NetFlow", run.of_type("connection_metrics"))
    out = conn(run, 7)
    if rep.check("NetFlow: one window of ifIndex 7 with a bgp block",
                 len(out) == 1 and out[0].get("bgp") is not None,
                 run.describe()):
        b = out[0]["bgp"]
        # 1000 + 300 + 200 routed, 50 to 192.0.2.1 without a route
        rep.equal("NetFlow: bytes looked up, not joined",
                  (b["looked_up_bytes"], b["unjoined_bytes"]), (1550, 50))
        rep.equal("NetFlow: one peer", len(b["peers"]), 1)
        if b["peers"]:
            check_peer(rep, "NetFlow", b["peers"][0], 1500,
                       round(1500 / 1550, 6))
        rep.equal("NetFlow: bgp_state", out[0]["bgp_state"], "up")
    inbound = conn(run, 3)
    rep.equal("NetFlow: inbound side joins no peer",
              [(m["bgp"]["peers"], m["bgp_state"]) for m in inbound],
              [([], "unknown")])

    # sFlow: agent 10.79.0.1, rate 100, frames of 1000 and 500 bytes
    src = SflowSource(7, 100)
    dg = sflow_datagram((10, 79, 0, 1), 1, 100000, [
        src.sample((23, 208, 0, 1), 1000),
        src.sample((192, 0, 2, 1), 500)])
    sfl = os.path.join(tmp, "sflow.pcap")
    nf5.write_udp_pcap(sfl, dg, dport=6343)
    run = corpus_lib.replay(args.peerscope, [bmp_pcap, sfl], workers=2,
                            sets=sets)
    rep.equal("sFlow: replay exits 0", run.rc, 0)
    schema.check("sFlow", run.of_type("connection_metrics"))
    out = conn(run, 7)
    if rep.check("sFlow: one window of ifIndex 7", len(out) == 1,
                 run.describe()):
        o = out[0]["out_dst_origin_as"]
        rep.equal("sFlow: origin AS of 23.208.0.1 (170005), bytes x rate",
                  o and [(a["asn"], a["bytes"], a["records"])
                         for a in o["asns"]], [(170005, 100000, 1)])
        rep.equal("sFlow: unrouted 192.0.2.1, 500 x 100",
                  o and (o["unrouted_bytes"], o["lookups"]), (50000, 2))
        b = out[0]["bgp"]
        rep.check("sFlow: a bgp block", b is not None)
        if b is not None and len(b["peers"]) == 1:
            check_peer(rep, "sFlow", b["peers"][0], 100000,
                       round(100000 / 150000, 6))
        rep.equal("sFlow: bgp_state", out[0]["bgp_state"], "up")

    # Without BMP: the router has no feed, bgp and bgp_state are null.
    run = corpus_lib.replay(args.peerscope, [sfl], workers=2, sets=sets)
    schema.check("no BMP feed", run.of_type("connection_metrics"))
    out = conn(run, 7)
    rep.equal("no BMP feed: bgp and bgp_state null",
              [(m["bgp"], m["bgp_state"]) for m in out], [(None, None)])


# --- interleaved replay: one capture, BMP and flows ---------------------------

T0 = 1795680000
ROUTER2 = (10, 79, 0, 2)
EXPORT_TIMES = [T0 + 2, T0 + 12, T0 + 22, T0 + 32, T0 + 42]
RECORDS = [((203, 0, 113, 5), 1000), ((198, 51, 100, 7), 200),
           ((192, 0, 2, 1), 50)]


def nf5_export(ts, seq):
    """NetFlow v5, sampling 0 (rate 1): RECORDS out of ifIndex 7, ending
    10 ms before the export."""
    uptime = 100000 + (ts - T0) * 1000
    d = struct.pack("!HHIIIIBBH", 5, len(RECORDS), uptime, ts, 0, seq,
                    0, 0, 0)
    for dst, nbytes in RECORDS:
        d += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH",
                         bytes([198, 18, 0, 1]), bytes(dst),
                         bytes([10, 79, 0, 11]), 3, 7, 1, nbytes,
                         uptime - 10, uptime - 10, 40000, 443, 0, 0x10,
                         6, 0, 0, 0, 24, 24, 0)
    return d


def ipv4(src, dst, proto, l4):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64,
                     proto, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", nf5.csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + l4


def tcp_frame(seq, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", 40001, 11041, seq, 0, 0x50, flags,
                      65535, 0, 0)
    return ipv4(nf5.ROUTER, nf5.COLLECTOR, 6, tcp + payload)


def udp_frame(src, sport, payload):
    udp = struct.pack("!HHHH", sport, 2055, 8 + len(payload), 0) + payload
    return ipv4(src, nf5.COLLECTOR, 17, udp)


def write_interleaved_pcap(path):
    a = "10.79.0.11"
    isn = 1000
    bmp_msgs = [
        (T0 + 1.0, initiation("interleaved") + peer_up(a, 65001, T0 + 1) +
         route_monitoring(a, 65001, T0 + 1, 64500, ["203.0.113.0"])),
        (T0 + 15.0, route_monitoring(a, 65001, T0 + 15, 64501,
                                     ["198.51.100.0"])),
        (T0 + 30.5, peer_down(a, 65001, T0 + 30.5)),
    ]
    frames = [(T0 + 0.5, tcp_frame(isn, 0x02, b""))]
    seq = isn + 1
    for ts, data in bmp_msgs:
        frames.append((ts, tcp_frame(seq, 0x18, data)))
        seq += len(data)
    for n, ts in enumerate(EXPORT_TIMES):
        frames.append((ts, udp_frame(nf5.ROUTER, 50000, nf5_export(ts, n))))
        frames.append((ts + 0.1, udp_frame(ROUTER2, 50001,
                                           nf5_export(ts, n))))
    frames.sort(key=lambda f: f[0])
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, frame in frames:
            f.write(struct.pack("<IIII", int(ts), int(round(ts % 1 * 1e6)),
                                len(frame), len(frame)))
            f.write(frame)


def window_of(run, router, start):
    got = [m for m in conn(run, 7, router)
           if parse_iso(m["window"]["start"]) == start]
    return got[0] if len(got) == 1 else None


def origin_view(m):
    o = m["out_dst_origin_as"]
    return o and ({a["asn"]: (a["bytes"], a["records"]) for a in o["asns"]},
                  o["unrouted_bytes"], o["lookups"])


def peer_view(m):
    b = m["bgp"]
    return b and ([(p["address"], p["asn"], p["bytes"], p["share"],
                    p["state"], p["prefixes_pre_policy"], p["flaps"],
                    p["up_since"], p["uptime_seconds"]) for p in b["peers"]],
                  b["looked_up_bytes"], b["unjoined_bytes"], m["bgp_state"])


def interleaved_case(rep, args, tmp, schema):
    path = os.path.join(tmp, "interleaved.pcap")
    write_interleaved_pcap(path)
    sets = ["bmp.port=11041"]
    runs = []
    for workers in (1, 3, 1, 3, 3):
        runs.append(corpus_lib.replay(args.peerscope, [path], window=10,
                                      workers=workers, sets=sets))
    run = runs[0]
    rep.equal("interleaved: replays exit 0", [r.rc for r in runs], [0] * 5)
    schema.check("interleaved", run.of_type("connection_metrics"))
    up = iso_ms(T0 + 1)
    for start, prefixes in ((T0, 1), (T0 + 10, 1)):
        m = window_of(run, "10.79.0.1", start)
        if not rep.check("interleaved: window T0+%d of ifIndex 7" %
                         (start - T0), m is not None, run.describe()):
            continue
        rep.equal("interleaved T0+%d: origin ASes" % (start - T0),
                  origin_view(m), ({64500: (1000, 1)}, 250, 3))
        rep.equal("interleaved T0+%d: A up, joined" % (start - T0),
                  peer_view(m),
                  ([(PEER, 65001, 1000, 0.8, "up", prefixes, 0, up,
                     start + 10 - (T0 + 1))], 1250, 250, "up"))
    m = window_of(run, "10.79.0.1", T0 + 20)
    if rep.check("interleaved: window T0+20", m is not None):
        rep.equal("interleaved T0+20: routes published on the 5 s cadence",
                  origin_view(m), ({64500: (1000, 1), 64501: (200, 1)}, 50,
                                   3))
        rep.equal("interleaved T0+20: A up as of the window end (Peer Down "
                  "applied later)", peer_view(m),
                  ([(PEER, 65001, 1200, 0.96, "up", 2, 0, up, 29)], 1250, 50,
                   "up"))
    for start in (T0 + 30, T0 + 40):
        m = window_of(run, "10.79.0.1", start)
        if not rep.check("interleaved: window T0+%d" % (start - T0),
                         m is not None):
            continue
        rep.equal("interleaved T0+%d: no route after the Peer Down" %
                  (start - T0), origin_view(m), ({}, 1250, 3))
        rep.equal("interleaved T0+%d: A down, bytes unjoined" % (start - T0),
                  peer_view(m),
                  ([(PEER, 65001, 0, 0, "down", 0, 1, None, None)], 1250,
                   1250, "down"))
    other = conn(run, 7, "10.79.0.2")
    rep.equal("interleaved: router without BMP: five windows, all null",
              [(m["bgp"], m["bgp_state"], m["out_dst_origin_as"])
               for m in other], [(None, None, None)] * 5)
    rep.equal("interleaved: stdout identical, workers 1 and 3, repeated",
              [r.stdout == run.stdout for r in runs], [True] * 5)


# --- live -----------------------------------------------------------------------

def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Output:
    """connection_metrics lines of peerscope's JSON file, as they come."""

    def __init__(self, path):
        self.path, self.pos, self.buf, self.all = path, 0, "", []

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.pos)
                data = f.read()
                self.pos = f.tell()
        except OSError:
            return
        self.buf += data
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            if line.strip():
                m = json.loads(line)
                if m.get("type") == "connection_metrics":
                    self.all.append(m)


def bgp_up_gauges(http_port):
    """{connection id: value} of peerscope_connection_bgp_up on /metrics."""
    url = "http://127.0.0.1:%d/metrics" % http_port
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return {}
    got = {}
    for line in text.splitlines():
        if line.startswith('peerscope_connection_bgp_up{connection="'):
            conn = line.split('"')[1]
            got[conn] = float(line.rsplit(" ", 1)[1])
    return got


def live_case(rep, args, tmp, schema):
    bmp_port, udp_port = free_port(), free_port(socket.SOCK_DGRAM)
    http_port = free_port()
    out_path = os.path.join(tmp, "live.jsonl")
    cmd = [args.peerscope, "--set", "bmp.listen=127.0.0.1:%d" % bmp_port,
           "--set", "bmp.allow=127.0.0.1", "--set", "bmp.snapshot_seconds=0",
           "--set", "http.listen=127.0.0.1:%d" % http_port,
           "--set", "allow_root=true",
           "--set", "listen.sflow=127.0.0.1:%d" % udp_port,
           "--set", "listen.ipfix=", "--set", "listen.netflow=",
           "--set", "workers=1", "--set", "window_seconds=1",
           "--set", "output.json.path=" + out_path]
    err_path = os.path.join(tmp, "live.err")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                            stderr=open(err_path, "w"))
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sess = None
    try:
        end = time.time() + 10
        while time.time() < end and sess is None:
            try:
                sess = socket.create_connection(("127.0.0.1", bmp_port), 0.5)
            except OSError:
                time.sleep(0.1)
        if not rep.check("live: BMP listener accepts", sess is not None,
                         open(err_path).read()[-300:]):
            return
        now = time.time()
        sess.sendall(initiation("conn-bgp-test") +
                     peer_up("10.79.0.11", 65001, now) +
                     peer_up("10.79.0.12", 65002, now) +
                     route_monitoring("10.79.0.11", 65001, now, 64496,
                                      ["203.0.113.0"]) +
                     route_monitoring("10.79.0.12", 65002, now, 64497,
                                      ["198.51.100.0", "198.51.101.0"]))
        src7, src8 = SflowSource(7, 10), SflowSource(8, 10)
        seq = [0]
        output = Output(out_path)

        def send_flows():
            seq[0] += 1
            dg = sflow_datagram((127, 0, 0, 1), seq[0], seq[0] * 100, [
                src7.sample((203, 0, 113, 9), 1000),
                src8.sample((198, 51, 101, 9), 500)])
            tx.sendto(dg, ("127.0.0.1", udp_port))

        def wait(pred):
            end = time.time() + DEADLINE
            while time.time() < end:
                send_flows()
                time.sleep(0.1)
                output.poll()
                got = pred()
                if got:
                    return got
            return None

        def window(ifindex, after):
            """The first window of ifindex starting at or after `after`."""
            for m in output.all:
                if m["ifindex"] == ifindex and m["router"] == "127.0.0.1" \
                        and parse_iso(m["window"]["start"]) >= after:
                    return m
            return None

        def joined(m, ifindex):
            """Every byte of the window joined (the routes were there)."""
            return m["ifindex"] == ifindex and m["bgp"] is not None and \
                len(m["bgp"]["peers"]) > 0 and \
                m["bgp"]["unjoined_bytes"] == 0

        # the routes reach the workers on the BMP thread's timer (5 s)
        def first_joined():
            m = next((m for m in output.all if joined(m, 7)), None)
            # the same window's ifIndex 8 line may come in a later read
            start = m and parse_iso(m["window"]["start"])
            return m if m and window(8, start) else None
        up7 = wait(first_joined)
        if not rep.check("live: ifIndex 7 joined to a peer", up7 is not None,
                         open(err_path).read()[-300:]):
            return
        p = up7["bgp"]["peers"]
        rep.equal("live: ifIndex 7 peer A, all its bytes",
                  [(x["address"], x["asn"], x["share"]) for x in p],
                  [("10.79.0.11", 65001, 1)])
        rep.equal("live: A up, 1 prefix, no flap",
                  (p[0]["state"], p[0]["prefixes_pre_policy"], p[0]["flaps"],
                   up7["bgp_state"]), ("up", 1, 0, "up"))
        up8 = window(8, parse_iso(up7["window"]["start"]))
        gauges = wait(lambda: (lambda g: g if len(g) == 2 else None)(
            bgp_up_gauges(http_port)))
        rep.equal("live: /metrics bgp_up 1 for both connections", gauges,
                  {"127.0.0.1/if7": 1.0, "127.0.0.1/if8": 1.0})
        rep.equal("live: ifIndex 8 peer B up with 2 prefixes",
                  up8 and [(x["address"], x["asn"], x["state"],
                            x["prefixes_pre_policy"])
                           for x in up8["bgp"]["peers"]],
                  [("10.79.0.12", 65002, "up", 2)])

        # Peer Down for A; flows sent from here on have no route via A
        sess.sendall(peer_down("10.79.0.11", 65001, time.time()))
        time.sleep(0.5)
        after = time.time()
        down7 = wait(lambda: window(8, after) and window(7, after))
        if not rep.check("live: a window of ifIndex 7 after the Peer Down",
                         down7 is not None):
            return
        p = down7["bgp"]["peers"]
        rep.equal("live: A remembered, down, no bytes, no prefixes, 1 flap",
                  [(x["address"], x["state"], x["bytes"],
                    x["prefixes_pre_policy"], x["flaps"], x["uptime_seconds"])
                   for x in p], [("10.79.0.11", "down", 0, 0, 1, None)])
        rep.equal("live: bgp_state down", down7["bgp_state"], "down")
        gauges = wait(lambda: (lambda g: g if g.get("127.0.0.1/if7") == 0
                               else None)(bgp_up_gauges(http_port)))
        rep.equal("live: /metrics bgp_up 0 for ifIndex 7, 1 for 8", gauges,
                  {"127.0.0.1/if7": 0.0, "127.0.0.1/if8": 1.0})
        rep.equal("live: the bytes are unjoined now",
                  down7["bgp"]["unjoined_bytes"] ==
                  down7["bgp"]["looked_up_bytes"] > 0, True)
        down8 = window(8, after)
        rep.equal("live: ifIndex 8 still up",
                  down8 and (down8["bgp_state"],
                             [x["state"] for x in down8["bgp"]["peers"]]),
                  ("up", ["up"]))
        schema.check("live", output.all)
    finally:
        if sess is not None:
            sess.close()
        tx.close()
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main():
    args = corpus_lib.parse_args(__doc__)
    rep = corpus_lib.Reporter()
    tmp = tempfile.mkdtemp(prefix="ps-connbgp-")
    bmp_pcap = os.path.join(args.corpus, "bmp", "quirks",
                            "frr_peerup_tlv.pcap")
    schema = SchemaCheck(rep, args.schemas)
    if os.path.isfile(bmp_pcap):
        replay_cases(rep, args, tmp, schema)
    else:
        print("SKIP replay part: %s not found" % bmp_pcap)
    interleaved_case(rep, args, tmp, schema)
    live_case(rep, args, tmp, schema)
    rep.finish()


if __name__ == "__main__":
    main()
