"""A small IPFIX / NetFlow v9 / v5 walker: an oracle independent of peerscope.

Written from RFC 7011 (IPFIX), RFC 3954 (NetFlow v9) and Cisco's NetFlow v5
record layout, in Python, sharing no code with the C decoder.  It keeps
templates per (exporter, version, domain, template id), replaces a template
on re-definition, holds data sets that arrive before their template and
decodes them when it arrives (the behaviour the issue asks for), and sums
records, bytes and packets per exporter and per (input, output) interface.

The corpus tests first check this walker against the tshark truth files,
then use it where tshark is known to be wrong (template re-definition, data
before template, templates tshark did not parse).
"""
import struct


def _uint(b):
    v = 0
    for x in b:
        v = v << 8 | x
    return v


def frame_length(section):
    """Length of the Ethernet frame whose first bytes are `section`, as its
    IP header tells it (bytes before the IP header + IPv4 total length or
    IPv6 payload length + 40), or None (IEEE 802.3, RFC 791, RFC 8200)."""
    off = 12
    while len(section) >= off + 2:
        etype = struct.unpack(">H", section[off:off + 2])[0]
        off += 2
        if etype in (0x8100, 0x88A8):
            off += 2  # the tag's TCI; its EtherType follows
            continue
        if etype == 0x0800 and len(section) >= off + 4 and \
                section[off] >> 4 == 4:
            return off + struct.unpack(">H", section[off + 2:off + 4])[0]
        if etype == 0x86DD and len(section) >= off + 6 and \
                section[off] >> 4 == 6:
            return off + 40 + struct.unpack(">H",
                                            section[off + 4:off + 6])[0]
        return None
    return None


class Exporter:
    def __init__(self):
        self.records = 0
        self.bytes = 0
        self.packets = 0
        self.options_records = 0
        self.by_if = {}          # (in, out, dir) -> [records, bytes, pkts]
        self.rates = {}          # ("domain"|"sampler"|"selector", id) -> rate
        self.held = 0
        self.held_decoded = 0
        self.sampling_unknown = 0
        self.rev_bytes = 0       # RFC 5103 reverse counters (PEN 29305)
        self.rev_packets = 0
        self.no_interface = [0, 0, 0]  # records with neither interface

    def add(self, rec):
        b = rec.get("bytes", 0)
        p = rec.get("packets", 0)
        self.records += 1
        self.bytes += b
        self.packets += p
        self.rev_bytes += rec.get("rev_bytes", 0)
        self.rev_packets += rec.get("rev_packets", 0)
        if not rec.get("in") and not rec.get("out"):
            for i, v in enumerate((1, b + rec.get("rev_bytes", 0),
                                   p + rec.get("rev_packets", 0))):
                self.no_interface[i] += v
        # IE 61: 0 ingress, 1 egress, None when the record does not say
        k = (rec.get("in", 0), rec.get("out", 0), rec.get("dir"))
        e = self.by_if.setdefault(k, [0, 0, 0])
        e[0] += 1
        e[1] += b
        e[2] += p


class FlowOracle:
    def __init__(self):
        self.templates = {}   # (src, ver, domain, tid) -> (fields, scope, opts)
        self.exporters = {}   # (src, ver, domain) -> Exporter
        self.held = []        # (key, body, exp)

    def exporter(self, src, ver, domain):
        return self.exporters.setdefault((src, ver, domain), Exporter())

    # --- NetFlow v5 -------------------------------------------------------
    def _v5(self, src, p):
        if len(p) < 24:
            return
        ver, count = struct.unpack(">HH", p[:4])
        eng_type, eng_id = p[20], p[21]
        if count == 0 or count > 30 or len(p) < 24 + 48 * count:
            return
        exp = self.exporter(src, 5, eng_type << 8 | eng_id)
        for i in range(count):
            r = p[24 + 48 * i:72 + 48 * i]
            inp, out, pk, by = struct.unpack(">HHII", r[12:24])
            exp.add({"in": inp, "out": out, "bytes": by, "packets": pk})

    # --- templates --------------------------------------------------------
    def _fields(self, body, off, count, ipfix):
        fields = []
        for _ in range(count):
            if off + 4 > len(body):
                return None, off
            ie, ln = struct.unpack(">HH", body[off:off + 4])
            off += 4
            pen = 0
            if ipfix and ie & 0x8000:
                if off + 4 > len(body):
                    return None, off
                pen = struct.unpack(">I", body[off:off + 4])[0]
                off += 4
                ie &= 0x7FFF
            fields.append((pen, ie, ln))
        return fields, off

    def _template_set(self, src, ver, domain, body, options):
        ipfix = ver == 10
        off = 0
        while len(body) - off >= 4:
            tid, count = struct.unpack(">HH", body[off:off + 4])
            off += 4
            scope = 0
            if options and not ipfix:
                if off + 2 > len(body):
                    return
                olen = struct.unpack(">H", body[off:off + 2])[0]
                off += 2
                scope = count // 4
                count = scope + olen // 4
            elif ipfix and count == 0:
                for k in [k for k in self.templates
                          if k[:3] == (src, ver, domain) and
                          (k[3] == tid or tid in (2, 3))]:
                    del self.templates[k]
                continue
            elif options:
                if off + 2 > len(body):
                    return
                scope = struct.unpack(">H", body[off:off + 2])[0]
                off += 2
                if scope == 0:
                    return
            fields, off = self._fields(body, off, count, ipfix)
            if fields is None or tid < 256:
                return
            key = (src, ver, domain, tid)
            self.templates[key] = (fields, scope, options)
            for h in [h for h in self.held if h[0] == key]:
                self.held.remove(h)
                h[2].held_decoded += 1
                self._data(h[0], h[1], h[2])

    # --- data -------------------------------------------------------------
    def _data(self, key, body, exp):
        fields, scope, options = self.templates[key]
        minlen = sum(1 if ln == 0xFFFF else ln for _, _, ln in fields)
        off = 0
        while len(body) - off >= minlen and minlen > 0:
            rec = {}
            for pen, ie, ln in fields:
                if ln == 0xFFFF:
                    if off + 1 > len(body):
                        return
                    ln = body[off]
                    off += 1
                    if ln == 255:
                        if off + 2 > len(body):
                            return
                        ln = struct.unpack(">H", body[off:off + 2])[0]
                        off += 2
                if off + ln > len(body):
                    return
                v = body[off:off + ln]
                off += ln
                if pen == 29305 and ie in (1, 2) and ln <= 8:
                    rec["rev_bytes" if ie == 1 else "rev_packets"] = _uint(v)
                    continue
                if pen != 0:
                    continue
                name = {1: "bytes", 2: "packets", 10: "in", 14: "out",
                        34: "interval", 50: "random", 305: "pint",
                        306: "pspace", 48: "sampler", 302: "selector",
                        410: "section", 315: "frame", 85: "tbytes",
                        86: "tpackets", 61: "dir"}.get(ie)
                if name is not None and ln <= 8:
                    rec[name] = _uint(v)
                elif name == "frame":
                    rec[name] = ln
                    rec["frame_bytes"] = v
            if options:
                exp.options_records += 1
                rate = rec.get("interval") or rec.get("random") or 0
                if not rate and rec.get("pint"):
                    rate = (rec["pint"] + rec.get("pspace", 0)) // rec["pint"]
                if rate:
                    if "selector" in rec:
                        exp.rates[("selector", rec["selector"])] = rate
                    elif "sampler" in rec:
                        exp.rates[("sampler", rec["sampler"])] = rate
                    else:
                        exp.rates[("domain", 0)] = rate
                continue
            if "bytes" not in rec and "tbytes" in rec:
                rec["bytes"] = rec["tbytes"]
            if "packets" not in rec and "tpackets" in rec:
                rec["packets"] = rec["tpackets"]
            if "frame" in rec and "packets" not in rec:
                # PSAMP packet report: one packet, as long as its frame:
                # the section, or longer when the section was cut short
                # (its IP header tells the real length)
                rec["packets"] = 1
                exported = rec.get("section", rec["frame"])
                whole = frame_length(rec["frame_bytes"][:exported])
                rec.setdefault("bytes", max(exported, whole or 0))
            exp.add(rec)

    def datagram(self, src, p):
        if len(p) < 2:
            return
        ver = struct.unpack(">H", p[:2])[0]
        if ver == 5:
            return self._v5(src, p)
        if ver == 10:
            if len(p) < 16:
                return
            mlen = struct.unpack(">H", p[2:4])[0]
            if mlen < 16 or mlen > len(p):
                return
            domain = struct.unpack(">I", p[12:16])[0]
            off, end, tset, oset = 16, mlen, 2, 3
        elif ver == 9:
            if len(p) < 20:
                return
            domain = struct.unpack(">I", p[16:20])[0]
            off, end, tset, oset = 20, len(p), 0, 1
        else:
            return
        exp = self.exporter(src, ver, domain)
        while end - off >= 4:
            sid, ln = struct.unpack(">HH", p[off:off + 4])
            if ln < 4 or off + ln > end:
                return
            body = p[off + 4:off + ln]
            off += ln
            if sid == tset:
                self._template_set(src, ver, domain, body, False)
            elif sid == oset:
                self._template_set(src, ver, domain, body, True)
            elif sid >= 256:
                key = (src, ver, domain, sid)
                if key in self.templates:
                    self._data(key, body, exp)
                else:
                    exp.held += 1
                    self.held.append((key, body, exp))


def walk(datagrams):
    """datagrams: [(src_text, payload bytes)] -> FlowOracle."""
    o = FlowOracle()
    for src, p in datagrams:
        o.datagram(src, p)
    return o
