"""Shared by the hostile-sender load tests (test_hostile_*.py, issue 14).

Wire builders written from the specifications (IPFIX RFC 7011, sFlow v5,
BMP RFC 7854, BGP RFC 4271): the tests know what they sent, byte for byte,
and compare peerscope's figures with that.  A collector process started
and stopped by its PID.  The peak-RSS bound of the README (Operations,
"Memory under a flood"), as a function of the configuration.

Spoofed sources are 127.x.y.z addresses a socket binds to (loopback only).
"""
import os
import re
import signal
import socket
import struct
import subprocess
import time
import urllib.request

MiB = 1 << 20
KiB = 1 << 10


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def addr(net, i):
    """The i-th address of 127.<net>.0.0/16, skipping .0 and .255 hosts."""
    return "127.%d.%d.%d" % (net, i // 250, i % 250 + 1)


def send_from(src, dst_port, payload):
    """One datagram from `src` (bound, so the collector sees that address)
    and a fresh port: a spoofed one-off."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((src, 0))
        s.sendto(payload, ("127.0.0.1", dst_port))


class SpoofedSource:
    """A spoofed one-off bound ahead of time, so sending is quick."""

    def __init__(self, src, dst_port, src_port=0):
        self.addr = src
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((src, src_port))
        self.dst = ("127.0.0.1", dst_port)

    def send(self, payload):
        self.s.sendto(payload, self.dst)

    def close(self):
        self.s.close()


class Exporter:
    """A well-behaved exporter: one address and one source port, as a
    router's export process has (SO_REUSEPORT then keeps it on one
    worker)."""

    def __init__(self, src, dst_port, src_port=0):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((src, src_port))
        self.dst = ("127.0.0.1", dst_port)

    def send(self, payload):
        self.s.sendto(payload, self.dst)

    def close(self):
        self.s.close()


# --- IPFIX (RFC 7011) ------------------------------------------------------

def ipfix_message(seq, domain, sets, export_time=1700000000):
    """Header (3.1): version 10, length, export time, sequence, domain."""
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), export_time, seq,
                       domain) + body


def ipfix_set(set_id, body):
    """Set header (3.3.2): id, length (header included)."""
    return struct.pack("!HH", set_id, 4 + len(body)) + body


def ipfix_template(tid, fields):
    """Template record (3.4.1): id, field count, (ie, length)..."""
    return struct.pack("!HH", tid, len(fields)) + b"".join(
        struct.pack("!HH", ie, ln) for ie, ln in fields)


# A flow template: octetDeltaCount (1, 8), packetDeltaCount (2, 8),
# ingressInterface (10, 4), egressInterface (14, 4); 24-byte records.
FLOW_FIELDS = [(1, 8), (2, 8), (10, 4), (14, 4)]


def ipfix_record(octets, packets, if_in, if_out):
    return struct.pack("!QQII", octets, packets, if_in, if_out)


# --- sFlow v5 (sflow_version_5.txt) ---------------------------------------

def sflow_datagram(agent, seq, uptime_ms, samples, sub_agent=0):
    """Header: version 5, agent address type 1 (IPv4), agent, sub-agent,
    sequence number, uptime, number of samples."""
    return struct.pack("!II4sIIII", 5, 1, socket.inet_aton(agent), sub_agent,
                       seq, uptime_ms, len(samples)) + b"".join(samples)


def sflow_flow_sample(seq, source_index, rate, pool, if_in, if_out, frame):
    """Flow sample (enterprise 0, format 1) with one raw packet header
    record (format 1, header protocol 1 = Ethernet)."""
    pad = (4 - len(frame) % 4) % 4
    hdr = struct.pack("!IIII", 1, len(frame), 0, len(frame)) + frame + \
        b"\0" * pad
    record = struct.pack("!II", 1, len(hdr)) + hdr
    body = struct.pack("!IIIIIIII", seq, source_index, rate, pool, 0,
                       if_in, if_out, 1) + record
    return struct.pack("!II", 1, len(body)) + body


def ethernet_frame(length):
    """An Ethernet + IPv4 + UDP frame of `length` bytes (as sampled)."""
    ip_len = length - 14
    eth = bytes.fromhex("020000000001020000000002") + b"\x08\x00"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0, 64, 17, 0,
                     socket.inet_aton("192.0.2.1"),
                     socket.inet_aton("198.51.100.1"))
    udp = struct.pack("!HHHH", 1000, 2000, ip_len - 20, 0)
    return (eth + ip + udp).ljust(length, b"\0")


# --- BMP (RFC 7854) and BGP (RFC 4271) -------------------------------------

def bmp(msg_type, body):
    """Common header (4.1): version 3, length, type."""
    return struct.pack("!BIB", 3, 6 + len(body), msg_type) + body


def bmp_initiation(sys_name):
    """Initiation (4.3) with a sysName TLV (type 2)."""
    name = sys_name.encode()
    return bmp(4, struct.pack("!HH", 2, len(name)) + name)


def bmp_per_peer(peer, peer_as, bgp_id, ts=1700000000):
    """Per-peer header (4.2): global instance peer, IPv4 address in the
    last 4 bytes of 16."""
    return struct.pack("!BB8s12s4sI4sII", 0, 0, b"\0" * 8, b"\0" * 12,
                       socket.inet_aton(peer), peer_as,
                       socket.inet_aton(bgp_id), ts, 0)


def bgp_open(my_as, bgp_id):
    body = struct.pack("!BHH4sB", 4, my_as, 90, socket.inet_aton(bgp_id), 0)
    return b"\xff" * 16 + struct.pack("!HB", 19 + len(body), 1) + body


def bmp_peer_up(peer, peer_as, local_as=64500):
    """Peer Up (4.10): local address, ports, both OPENs."""
    body = bmp_per_peer(peer, peer_as, peer) + b"\0" * 12 + \
        socket.inet_aton("127.0.0.1") + struct.pack("!HH", 179, 40000) + \
        bgp_open(peer_as, peer) + bgp_open(local_as, "127.0.0.1")
    return bmp(3, body)


# --- the collector ---------------------------------------------------------

class Collector:
    """One peerscope, started here and stopped by its PID."""

    def __init__(self, peerscope, tmp, name, sets, workers=1):
        self.binary = peerscope
        self.out = os.path.join(tmp, name + ".jsonl")
        self.err = os.path.join(tmp, name + ".err")
        self.http = free_port()
        for p in (self.out,):
            if os.path.exists(p):
                os.remove(p)  # the daemon appends: one run, one file
        cmd = [peerscope, "--workers", str(workers), "--output", self.out,
               "--set", "allow_root=true", "--set", "runtime_dir=-",
               "--set", "http.listen=127.0.0.1:%d" % self.http]
        for s in sets:
            cmd += ["--set", s]
        self.errf = open(self.err, "w")
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                  stderr=self.errf)
        deadline = time.time() + 15
        while time.time() < deadline and self.p.poll() is None:
            if "collecting" in self.stderr():
                break
            time.sleep(0.05)

    def stderr(self):
        with open(self.err) as f:
            return f.read()

    def running(self):
        return self.p.poll() is None

    def metrics(self, timeout=5):
        url = "http://127.0.0.1:%d/metrics" % self.http
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return parse_metrics(r.read().decode())

    def peak_rss(self):
        """VmHWM: the most resident memory the process ever had."""
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return None

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.errf.close()
        return self.p.returncode

    def messages(self, kind=None):
        import json
        out = []
        if os.path.exists(self.out):
            with open(self.out) as f:
                out = [json.loads(x) for x in f if x.strip()]
        return [m for m in out if kind is None or m.get("type") == kind]


def parse_metrics(text):
    """{series: value} of the Prometheus text (series with their labels)."""
    vals = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^(\S+)\s+(\S+)$", line)
        if m:
            v = float(m.group(2))
            vals[m.group(1)] = int(v) if v == int(v) else v
    return vals


def wait_metric(col, series, pred, seconds=5.0):
    """Poll /metrics until pred(value) (bounded); the last value read."""
    deadline = time.time() + seconds
    v = None
    while time.time() < deadline:
        try:
            v = col.metrics().get(series)
        except OSError:
            v = None
        if v is not None and pred(v):
            return v
        time.sleep(0.05)
    return v


def decode_reason(vals, reason):
    """peerscope_decode_errors_total of one reason, whatever its class."""
    for k, v in vals.items():
        if k.startswith("peerscope_decode_errors_total{reason=\"%s\"" %
                        reason):
            return v
    return None


# --- the README's peak-RSS bound ------------------------------------------

def sanitized(binary):
    """A sanitizer build (ASan, TSan): its shadow memory and quarantine
    make its RSS no measure of peerscope's."""
    with open(binary, "rb") as f:
        data = f.read()
    return b"__asan_init" in data or b"__tsan_init" in data


def rss_bound(workers, conns=65536, exporters=4096, listeners=1, batch=64,
              flows=False, grace=True, templates=2048, bmp_routers=0,
              bmp_buffer=4 * MiB, bmp_queue=MiB, http_clients=16,
              tcp_conns=0):
    """README, Operations, "Memory under a flood": the most resident
    memory peerscope may use, from its caps (routes aside)."""
    def table(n, entry):  # a hash table at its cap: <= 4n slots
        return 4 * n * entry

    window = table(conns + conns // 4 + 16, 632 + 8) + \
        table(exporters + exporters // 4 + 16, 1568 + 8)
    state = table(exporters, 52 + 24) + table(4 * conns, 40 + 24) + \
        table(conns, 120 + 24)
    flow = 0
    if flows:
        flow = table(templates, 804 + 20 + 8) + 2 * table(4096, 40 + 24) + \
            32 * 9100
    held = 4 if flows and grace else 0
    per_worker = listeners * batch * 64 * KiB + state + flow + \
        (2 + held) * window
    merger = 2 * workers * window
    bmp_bytes = bmp_routers * (72 * KiB + bmp_buffer + bmp_queue)
    http = (http_clients + 32) * 16 * KiB
    tcp = tcp_conns * 128 * KiB
    return 24 * MiB + workers * per_worker + merger + bmp_bytes + http + tcp
