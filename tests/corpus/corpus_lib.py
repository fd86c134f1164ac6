"""Shared helpers for the corpus tests (python3 standard library only).

Every test script is run by CMake as

    python3 test_X.py --peerscope PATH --corpus DIR --data DIR --schemas DIR

prints one line per check and ends with exactly "N passed, M failed".

What lives here:
  * the command line and the pass/fail reporter;
  * replay(): run `peerscope replay` and parse its JSON lines and --stats;
  * a pcap reader (classic pcap, Ethernet/VLAN, IPv4/IPv6, UDP) giving the
    UDP datagrams of a capture, so the tests count datagrams themselves;
  * a small sFlow v5 walker written from sflow_version_5.txt.  It is an
    oracle independent of peerscope: the tests first check it against the
    corpus truth files (tshark), then use it where tshark is known to be
    wrong or silent (unknown sample types, interface formats, sample pools,
    first counter values).
"""
import argparse
import gzip
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

SFLOW_IFINDEX_UNKNOWN = 0x3FFFFFFF


# --- command line and reporting -------------------------------------------

def parse_args(description):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--peerscope", required=True, help="the peerscope binary")
    ap.add_argument("--corpus", required=True,
                    help="the shared corpus folder (may be absent)")
    ap.add_argument("--data", required=True, help="tests/data")
    ap.add_argument("--schemas", required=True, help="schemas/")
    return ap.parse_args()


class Reporter:
    """One line per check; `finish()` prints the tally and exits."""

    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []

    def check(self, name, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS %s%s" % (name, (": " + detail) if detail else ""))
        else:
            self.failed += 1
            self.failures.append(name)
            print("FAIL %s%s" % (name, (": " + detail) if detail else ""))
        sys.stdout.flush()
        return ok

    def equal(self, name, got, want):
        return self.check(name, got == want,
                          "got %r, want %r" % (got, want))

    def skip(self, text):
        print("SKIP: %s" % text)
        sys.stdout.flush()

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)


def corpus_flows(args):
    """corpus/flows, or None (after saying so) when the corpus is absent."""
    flows = os.path.join(args.corpus, "flows")
    if not os.path.isdir(flows):
        return None
    return flows


def skip_corpus_line(rep, args):
    rep.skip("shared corpus not found at %s (checks that need it were not run)"
             % os.path.abspath(os.path.join(args.corpus, "flows")))


# --- running peerscope -----------------------------------------------------

class Run:
    def __init__(self, rc, stdout, stderr, stats):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.stats = stats
        self.messages = []
        self.bad_lines = []
        for line in stdout.splitlines():
            if not line.strip():
                continue
            try:
                self.messages.append(json.loads(line))
            except ValueError as e:
                self.bad_lines.append((line[:200], str(e)))

    def of_type(self, t):
        return [m for m in self.messages if m.get("type") == t]

    def describe(self):
        return "rc=%s stderr=%r" % (self.rc, self.stderr[-400:])


def replay(peerscope, captures, window=None, workers=None, sets=(),
           timeout=300, config=None):
    """Run `peerscope replay` on the captures; always with --stats."""
    tmp = tempfile.mkdtemp(prefix="ps-corpus-")
    stats_path = os.path.join(tmp, "stats.json")
    cmd = [peerscope, "replay"]
    if config is not None:
        cmd += ["-c", config]
    if window is not None:
        cmd += ["--window", str(window)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    for s in sets:
        cmd += ["--set", s]
    cmd += ["--stats", stats_path]
    cmd += list(captures)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        rc, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
    stats = None
    try:
        with open(stats_path) as f:
            stats = json.load(f)
    except (OSError, ValueError):
        stats = None
    shutil.rmtree(tmp, ignore_errors=True)
    return Run(rc, out.decode("utf-8", "replace"),
               err.decode("utf-8", "replace"), stats)


def _wait_in_log(path, pattern, deadline):
    """The first match of `pattern` in the file at `path` by `deadline`
    (polled every 0.1 s), or None."""
    while time.time() < deadline:
        with open(path) as f:
            m = re.search(pattern, f.read())
        if m:
            return m
        time.sleep(0.1)
    return None


def _stop(p):
    """SIGTERM until it exits (each ends one serve period), then kill."""
    for _ in range(3):
        p.terminate()
        try:
            p.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue
    if p.poll() is None:
        p.kill()
        p.wait(timeout=10)


class ServedReplay:
    """`peerscope replay` with /metrics and (kafka=True) the embedded Kafka
    broker served after it (--serve-metrics, output.kafka.serve_seconds):

        with ServedReplay(peerscope, args, err_path, marker) as s:
            s.metrics   # /metrics once it holds `marker` ("" if never)
            s.port      # the endpoint's port, None if it never came up
            s.broker    # the broker's address once /metrics ended, or None

    SIGTERM ends the /metrics period, so the broker serves next; leaving
    the block stops the process."""

    def __init__(self, peerscope, args, err_path, marker, timeout=60,
                 kafka=True):
        self.metrics, self.port, self.broker = "", None, None
        cmd = [peerscope, "replay", "--serve-metrics", "60",
               "--set", "http.listen=127.0.0.1:0"]
        if kafka:
            cmd += ["--set", "output.kafka.enabled=true",
                    "--set", "output.kafka.serve_seconds=60"]
        with open(err_path, "w") as errf:
            self.p = subprocess.Popen(cmd + list(args),
                                      stdout=subprocess.DEVNULL, stderr=errf)
        try:
            self._serve(err_path, marker, timeout, kafka)
        except BaseException:
            _stop(self.p)
            raise

    def _serve(self, err_path, marker, timeout, kafka):
        deadline = time.time() + timeout
        m = _wait_in_log(err_path, r"http_listening.*?port (\d+)", deadline)
        if m is None:
            return
        self.port = int(m.group(1))
        while time.time() < deadline:  # published once the replay ends
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/metrics" % self.port,
                    timeout=5) as r:
                self.metrics = r.read().decode()
            if marker in self.metrics:
                break
            time.sleep(0.2)
        if not kafka:
            return
        self.p.terminate()  # ends the /metrics period
        m = _wait_in_log(err_path, r"event=kafka_serving", time.time() + 30)
        if m is not None:
            with open(err_path) as f:
                b = re.search(r"event=kafka_embedded_broker .*brokers=(\S+)",
                              f.read())
            self.broker = b.group(1) if b else ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _stop(self.p)
        return False


def listen_set(port):
    return "listen.sflow=:%d" % port


# Default listener ports (collector/base/config_types.h PS_PROTOCOLS).  A port cannot
# serve two protocols, so putting one protocol on another's default port
# must turn that default off.
DEFAULT_PORTS = {6343: "sflow", 4739: "ipfix", 2055: "netflow"}


def proto_sets(proto, ports):
    """--set values that make every port in ports a `proto` port (that
    listen.<proto> value first), turning off defaults in the way."""
    sets = ["listen.%s=%s" % (proto, ",".join(":%d" % p for p in ports))]
    for p in sorted(set(ports)):
        other = DEFAULT_PORTS.get(p)
        if other is not None and other != proto:
            sets.append("listen.%s=" % other)
    return sets


def listen_sets(port):
    """--set values that make port an sFlow port (the sFlow one first)."""
    return proto_sets("sflow", [port])


# --- corpus files ----------------------------------------------------------

def read_manifest(path):
    """[(file, udp_port, dissector)] from a manifest.tsv."""
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            rows.append((cols[0], int(cols[1]), cols[2]))
    return rows


def load_json(path):
    with open(path) as f:
        return json.load(f)


def load_tshark_json(path):
    """tshark -T json, gzipped, keeping duplicate keys as lists of pairs."""
    with gzip.open(path, "rt") as f:
        return json.load(f, object_pairs_hook=lambda pairs: pairs)


def gzip_copy(src, dst_dir):
    dst = os.path.join(dst_dir, os.path.basename(src) + ".gz")
    with open(src, "rb") as fi, gzip.open(dst, "wb", compresslevel=6) as fo:
        shutil.copyfileobj(fi, fo)
    return dst


# --- pcap ------------------------------------------------------------------

def read_pcap_udp(path):
    """UDP datagrams of a classic pcap (plain or gzip), in capture order.

    Returns [(ts_seconds, src_ip, sport, dst_ip, dport, payload)].  Only the
    link types the corpus uses: Ethernet (with 802.1Q tags), raw IP, Linux
    SLL.  IPv4 fragments and non-UDP frames are left out.
    """
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError("%s: not a classic pcap" % path)
    nsec = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    out = []
    while off + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        frame = data[off:off + incl]
        off += incl
        ts = sec + frac / (1e9 if nsec else 1e6)
        if linktype == 1:  # Ethernet
            if len(frame) < 14:
                continue
            etype = struct.unpack(">H", frame[12:14])[0]
            p = 14
            while etype in (0x8100, 0x88A8) and len(frame) >= p + 4:
                etype = struct.unpack(">H", frame[p + 2:p + 4])[0]
                p += 4
            l3 = frame[p:]
        elif linktype in (101, 12, 14):  # raw IP
            l3 = frame
            etype = 0x0800 if frame and frame[0] >> 4 == 4 else 0x86DD
        elif linktype == 113:  # Linux SLL
            etype = struct.unpack(">H", frame[14:16])[0]
            l3 = frame[16:]
        else:
            raise ValueError("%s: link type %d not handled" % (path, linktype))
        d = _ip_udp(etype, l3)
        if d is not None:
            out.append((ts,) + d)
    return out


def _ip_udp(etype, l3):
    import ipaddress
    if etype == 0x0800 and len(l3) >= 20:
        ihl = (l3[0] & 0x0F) * 4
        total = struct.unpack(">H", l3[2:4])[0]
        frag = struct.unpack(">H", l3[6:8])[0]
        if l3[9] != 17 or frag & 0x3FFF:
            return None
        src = str(ipaddress.IPv4Address(l3[12:16]))
        dst = str(ipaddress.IPv4Address(l3[16:20]))
        udp = l3[ihl:total]
    elif etype == 0x86DD and len(l3) >= 40:
        if l3[6] != 17:
            return None
        plen = struct.unpack(">H", l3[4:6])[0]
        src = str(ipaddress.IPv6Address(l3[8:24]))
        dst = str(ipaddress.IPv6Address(l3[24:40]))
        udp = l3[40:40 + plen]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack(">HHH", udp[:6])
    return (src, sport, dst, dport, udp[8:ulen])


# --- pcap records, TCP segments, and a pcap writer --------------------------

def read_pcap_records(path):
    """(file header, link type, [(record header, frame)]) of a classic pcap
    (plain or gzip), for tests that cut or merge captures record by record."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif data[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        raise ValueError("%s: not a classic pcap" % path)
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    off, recs = 24, []
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        recs.append((data[off:off + 16], data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return data[:24], linktype, recs


def write_pcap_records(path, header, records):
    with open(path, "wb") as f:
        f.write(header)
        for h, fr in records:
            f.write(h)
            f.write(fr)


def tcp_of(linktype, frame):
    """(src, sport, dst, dport, seq, flags, payload) of an Ethernet or raw
    IPv4/IPv6 TCP frame, else None."""
    import ipaddress
    if linktype == 1:
        if len(frame) < 14:
            return None
        etype, l3 = struct.unpack(">H", frame[12:14])[0], frame[14:]
    elif linktype in (101, 12, 14):
        etype = 0x0800 if frame and frame[0] >> 4 == 4 else 0x86DD
        l3 = frame
    else:
        return None
    if etype == 0x0800 and len(l3) >= 20 and l3[9] == 6:
        ihl = (l3[0] & 0x0F) * 4
        l4 = l3[ihl:struct.unpack(">H", l3[2:4])[0]]
        src = str(ipaddress.IPv4Address(l3[12:16]))
        dst = str(ipaddress.IPv4Address(l3[16:20]))
    elif etype == 0x86DD and len(l3) >= 40 and l3[6] == 6:
        l4 = l3[40:40 + struct.unpack(">H", l3[4:6])[0]]
        src = str(ipaddress.IPv6Address(l3[8:24]))
        dst = str(ipaddress.IPv6Address(l3[24:40]))
    else:
        return None
    if len(l4) < 20:
        return None
    sport, dport, seq = struct.unpack(">HHI", l4[:8])
    return (src, sport, dst, dport, seq, l4[13], l4[(l4[12] >> 4) * 4:])


class PcapWriter:
    """A classic Ethernet pcap of hand-made UDP datagrams and TCP segments
    over IPv4 or IPv6, microsecond timestamps, checksums left zero."""

    def __init__(self):
        self.frames = []

    @staticmethod
    def _ip(src, dst, proto, l4):
        import ipaddress
        a, b = ipaddress.ip_address(src), ipaddress.ip_address(dst)
        if a.version == 4:
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0,
                             64, proto, 0, a.packed, b.packed)
            return b"\x08\x00" + ip + l4
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64,
                         a.packed, b.packed)
        return b"\x86\xdd" + ip + l4

    def _add(self, ts, src, dst, proto, l4):
        eth = b"\x02" * 6 + b"\x04" * 6
        self.frames.append((ts, eth + self._ip(src, dst, proto, l4)))

    def tcp(self, ts, src, sport, dst, dport, seq, flags, payload=b""):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, 0,
                          5 << 4, flags, 65535, 0, 0)
        self._add(ts, src, dst, 6, tcp + payload)

    def udp(self, ts, src, sport, dst, dport, payload):
        udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0)
        self._add(ts, src, dst, 17, udp + payload)

    def write(self, path):
        with open(path, "wb") as f:
            f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535,
                                1))
            last = 0.0
            for ts, fr in self.frames:
                last = max(last, ts)  # capture order stays time order
                us = int(round(last * 1e6))
                f.write(struct.pack("<IIII", us // 1000000, us % 1000000,
                                    len(fr), len(fr)))
                f.write(fr)


# --- sFlow v5 walker (the independent second decoder) -----------------------

class Short(Exception):
    pass


class _Rd:
    def __init__(self, b):
        self.b = b
        self.o = 0

    def left(self):
        return len(self.b) - self.o

    def u32(self):
        if self.left() < 4:
            raise Short()
        v = struct.unpack(">I", self.b[self.o:self.o + 4])[0]
        self.o += 4
        return v

    def u64(self):
        if self.left() < 8:
            raise Short()
        v = struct.unpack(">Q", self.b[self.o:self.o + 8])[0]
        self.o += 8
        return v

    def take(self, n):
        if self.left() < n:
            raise Short()
        v = self.b[self.o:self.o + n]
        self.o += n
        return v


def sflow_header_verdict(payload):
    """What is wrong with a datagram's sFlow header, if anything.

    'truncated' (header cut short), 'version' (not 5), 'agent_af' (agent
    address type neither 1 nor 2), or None when the header reads whole.
    """
    r = _Rd(payload)
    try:
        if r.u32() != 5:
            return "version"
        af = r.u32()
        if af not in (1, 2):
            return "agent_af"
        r.take(4 if af == 1 else 16)
        for _ in range(4):
            r.u32()
    except Short:
        return "truncated"
    return None


def sflow_walk(payload):
    """Decode one well-formed sFlow v5 datagram.

    Returns a dict: agent, sub_agent, sequence, uptime_ms and samples, a
    list of dicts with kind 'flow' | 'counters' | 'unknown'.  Flow samples
    carry seq, source (type, index), rate, pool, input/output (format,
    value), frame_length (from the raw header record, else None) and
    records (list of (enterprise, format)); counter samples carry seq,
    source, records and `generic`, the list of generic interface counter
    records (dicts).  Raises Short on a malformed datagram.
    """
    import ipaddress
    r = _Rd(payload)
    if r.u32() != 5:
        raise Short()
    af = r.u32()
    if af == 1:
        agent = str(ipaddress.IPv4Address(r.take(4)))
    elif af == 2:
        agent = str(ipaddress.IPv6Address(r.take(16)))
    else:
        raise Short()
    dg = {"agent": agent, "sub_agent": r.u32(), "sequence": r.u32(),
          "uptime_ms": r.u32(), "samples": []}
    n = r.u32()
    for _ in range(n):
        fmt = r.u32()
        body = _Rd(r.take(r.u32()))
        ent, form = fmt >> 12, fmt & 0xFFF
        if ent == 0 and form in (1, 3):
            dg["samples"].append(_flow_sample(body, form == 3))
        elif ent == 0 and form in (2, 4):
            dg["samples"].append(_counter_sample(body, form == 4))
        else:
            dg["samples"].append({"kind": "unknown", "format": (ent, form)})
    return dg


def _flow_sample(r, expanded):
    s = {"kind": "flow", "expanded": expanded, "seq": r.u32()}
    if expanded:
        s["source"] = (r.u32(), r.u32())
    else:
        sid = r.u32()
        s["source"] = (sid >> 24, sid & 0xFFFFFF)
    s["rate"] = r.u32()
    s["pool"] = r.u32()
    s["drops"] = r.u32()
    if expanded:
        s["input"] = (r.u32(), r.u32())
        s["output"] = (r.u32(), r.u32())
    else:
        i, o = r.u32(), r.u32()
        s["input"] = (i >> 30, i & 0x3FFFFFFF)
        s["output"] = (o >> 30, o & 0x3FFFFFFF)
    s["frame_length"] = None
    s["records"] = []
    for _ in range(r.u32()):
        fmt = r.u32()
        rec = _Rd(r.take(r.u32()))
        s["records"].append((fmt >> 12, fmt & 0xFFF))
        if fmt == 1:  # 0:1 sampled_header
            rec.u32()
            s["frame_length"] = rec.u32()
    return s


GENERIC_FIELDS = ("ifIndex", "ifType", "ifSpeed", "ifDirection", "ifStatus",
                  "ifInOctets", "ifInUcastPkts", "ifInMulticastPkts",
                  "ifInBroadcastPkts", "ifInDiscards", "ifInErrors",
                  "ifInUnknownProtos", "ifOutOctets", "ifOutUcastPkts",
                  "ifOutMulticastPkts", "ifOutBroadcastPkts",
                  "ifOutDiscards", "ifOutErrors", "ifPromiscuousMode")
_GENERIC_64 = ("ifSpeed", "ifInOctets", "ifOutOctets")


def _counter_sample(r, expanded):
    s = {"kind": "counters", "expanded": expanded, "seq": r.u32()}
    if expanded:
        s["source"] = (r.u32(), r.u32())
    else:
        sid = r.u32()
        s["source"] = (sid >> 24, sid & 0xFFFFFF)
    s["records"] = []
    s["generic"] = []
    for _ in range(r.u32()):
        fmt = r.u32()
        rec = _Rd(r.take(r.u32()))
        s["records"].append((fmt >> 12, fmt & 0xFFF))
        if fmt == 1:  # 0:1 generic interface counters
            g = {}
            for name in GENERIC_FIELDS:
                g[name] = rec.u64() if name in _GENERIC_64 else rec.u32()
            s["generic"].append(g)
    return s


def sflow_datagrams(pcap_path, port):
    """[(ts, src_ip, walked datagram)] of the sFlow datagrams on `port`."""
    out = []
    for ts, src, _sp, _dst, dport, payload in read_pcap_udp(pcap_path):
        if dport != port:
            continue
        out.append((ts, src, sflow_walk(payload)))
    return out


def is_connection_if(fmt_value):
    fmt, value = fmt_value
    return fmt == 0 and value not in (0, SFLOW_IFINDEX_UNKNOWN)


# --- summing published messages -------------------------------------------

def conn_blocks(messages):
    """{(router, ifindex): {"in": {...sums}, "out": {...}, ...}} over windows."""
    acc = {}
    for m in messages:
        if m.get("type") != "connection_metrics":
            continue
        key = (m["router"], m["ifindex"])
        a = acc.setdefault(key, {"in": {}, "out": {}, "messages": 0,
                                 "counter_samples": 0, "last": None})
        a["messages"] += 1
        a["counter_samples"] += m.get("counter_samples", 0)
        a["last"] = m
        for d in ("in", "out"):
            blk = m[d]
            for part in ("samples", "counters"):
                b = blk.get(part)
                if b is None:
                    continue
                t = a[d].setdefault(part, {})
                for k, v in b.items():
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        if k in ("sampling_rate",):
                            t[k] = max(t.get(k, 0), v)
                        elif k in ("sampling_rate_min",):
                            t[k] = min(t.get(k, v), v)
                        else:
                            t[k] = t.get(k, 0) + v
    return acc


def junk_sums(run):
    """Datagrams whose header named no exporter, from --stats
    `unrecognised_sources`: {"datagrams", "bytes", "sources", "reasons"}."""
    tot = {"datagrams": 0, "bytes": 0, "sources": 0, "reasons": {}}
    for s in (run.stats or {}).get("unrecognised_sources", []):
        tot["datagrams"] += s["datagrams"]
        tot["bytes"] += s["bytes"]
        tot["sources"] += 1
        for k, v in s["reasons"].items():
            tot["reasons"][k] = tot["reasons"].get(k, 0) + v
    return tot


def health_sums(messages, agent=None, sub_agent=None):
    """Sum the numeric exporter_health figures (of one agent, or of all)."""
    tot = {"messages": 0, "decode_reasons": {}}

    def add(prefix, obj):
        for k, v in obj.items():
            key = prefix + k
            if isinstance(v, dict):
                add(key + ".", v)
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                if key in ("sub_agent", "window.seconds", "schema_version"):
                    continue
                tot[key] = tot.get(key, 0) + v

    for m in messages:
        if m.get("type") != "exporter_health":
            continue
        if agent is not None and (m.get("agent") != agent or
                                  m.get("sub_agent") != sub_agent):
            continue
        tot["messages"] += 1
        add("", {k: v for k, v in m.items() if k != "decode"})
        dec = m.get("decode", {})
        for k in ("truncated", "invalid", "unsupported"):
            tot["decode." + k] = tot.get("decode." + k, 0) + dec.get(k, 0)
        for k, v in dec.get("reasons", {}).items():
            tot["decode_reasons"][k] = tot["decode_reasons"].get(k, 0) + v
    return tot
