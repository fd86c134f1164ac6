#!/usr/bin/env python3
"""Real-router fidelity (issue 15 items 1-6, issue 13 items 2 and 9): each
class of input a real router sends, with its expected figures worked out
by hand or by tshark, never by peerscope.

Hand-made byte vectors (RFC 7011 IPFIX, RFC 3954 NetFlow v9), written here
field by field, where no real exporter in the corpus sends the case:
  * direction (IE 61): an ingress-only exporter counts `out` too; one that
    meters both directions on the same interfaces counts nothing twice,
    even when its egress records come in a later datagram; one that meters
    ingress on some interfaces and egress on others (per interface);
    Cisco's 255 ("not stated"): both sides; a metered side with ifIndex 0
    (a contradiction, named); flow.direction both-sides / metered-side;
  * RFC 5103 biflows: the reverse counters with the interfaces swapped;
  * packet reports (PSAMP): 312 dataLinkFrameSize is the packet's length,
    a section cut short counts its IP header's length, a frame size below
    its section is a named contradiction;
  * sampling IEs: 309/310 give the rate where a 305 of 1 without 306 would
    have said "unsampled"; a half pair alone and a conflict are named;
  * exporters told apart: NetFlow v9 and IPFIX from one host, and two
    IPFIX processes with one observation domain and clashing template ids,
    interleaved: two exporters each, no false sequence loss;
  * exporter clocks: a clock 3 h behind is placed by the export time and
    its offset published; records outside every open window counted by
    reason.
Real exporters where the corpus has them: softflowd's biflow capture
against its truth file; pmacct nfprobe's ingress+egress NetFlow v9 against
tshark's fields; softflowd's v9 and IPFIX captures replayed together; the
sFlow demo capture's rates against its capture times.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

T0 = 1717718400  # 2024-06-07T00:00:00Z, a multiple of 60
PEN_REVERSE = 29305


# --- building exports ------------------------------------------------------

def fields_spec(fields):
    """[(ie, length[, pen])] -> field specifiers (RFC 7011 3.2)."""
    out = b""
    for f in fields:
        ie, ln = f[0], f[1]
        if len(f) > 2:
            out += struct.pack(">HHI", ie | 0x8000, ln, f[2])
        else:
            out += struct.pack(">HH", ie, ln)
    return out


def ipfix_set(set_id, body):
    return struct.pack(">HH", set_id, 4 + len(body)) + body


def ipfix_template(tid, fields):
    return ipfix_set(2, struct.pack(">HH", tid, len(fields)) +
                     fields_spec(fields))


def ipfix_options_template(tid, scope, fields):
    return ipfix_set(3, struct.pack(">HHH", tid, len(scope) + len(fields),
                                    len(scope)) + fields_spec(scope + fields))


def ipfix_message(export_time, seq, domain, sets):
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), export_time, seq,
                       domain) + body


def v9_template(tid, fields):
    return ipfix_set(0, struct.pack(">HH", tid, len(fields)) +
                     fields_spec(fields))


def v9_packet(uptime_ms, unix_secs, seq, source_id, flowsets, count):
    return struct.pack(">HHIIII", 9, count, uptime_ms, unix_secs, seq,
                       source_id) + b"".join(flowsets)


def write_pcap(path, datagrams):
    """[(ts, sport, dport, payload)] as IPv4/UDP 127.0.0.1 -> 127.0.0.1,
    classic pcap, LINKTYPE_RAW (checksums 0)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, (ts, sport, dport, payload) in enumerate(datagrams):
            udp = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload),
                             i & 0xFFFF, 0, 64, 17, 0, bytes([127, 0, 0, 1]),
                             bytes([127, 0, 0, 1]))
            frame = ip + udp + payload
            f.write(struct.pack("<IIII", int(ts), int(round((ts % 1) * 1e6)),
                                len(frame), len(frame)))
            f.write(frame)


# Template 256: ingressInterface, egressInterface, octetDeltaCount,
# packetDeltaCount, flowDirection.
DIR_FIELDS = [(10, 4), (14, 4), (1, 8), (2, 8), (61, 1)]


def dir_record(inp, out, octets, packets, direction):
    return struct.pack(">IIQQB", inp, out, octets, packets, direction)


def dir_datagrams(batches, sport=40000):
    """One IPFIX message per batch of records, 1 s apart, template in
    each (a router re-sends it)."""
    out = []
    for i, recs in enumerate(batches):
        t = T0 + 5 + i
        out.append((t, sport, 4739, ipfix_message(
            t, 100 * i, 0, [ipfix_template(256, DIR_FIELDS),
                            ipfix_set(256, b"".join(
                                dir_record(*r) for r in recs))])))
    return out


# --- reading results -------------------------------------------------------

def side(run, ifx, d, key="sampled_bytes"):
    """Sum over windows of connection 127.0.0.1/if<ifx>'s samples.<key>;
    None when the side has no samples block at all."""
    blk = cl.conn_blocks(run.messages).get(("127.0.0.1", ifx), {}).get(
        d, {}).get("samples")
    return None if blk is None else blk.get(key)


def sides(run, want):
    return {k: side(run, k[0], k[1]) for k in want}


def health(run, protocol=None):
    return [m for m in run.of_type("exporter_health")
            if protocol is None or m["protocol"] == protocol]


def one_health(run):
    h = health(run)
    return h[0] if len(h) == 1 else {}


class Case:
    def __init__(self, rep, args, tmp):
        self.rep, self.args, self.tmp = rep, args, tmp

    def replay(self, name, datagrams, sets=(), window=60):
        path = os.path.join(self.tmp, name + ".pcap")
        write_pcap(path, datagrams)
        ports = sorted({d[2] for d in datagrams})
        run = cl.replay(self.args.peerscope, [path], window,
                        sets=cl.proto_sets("ipfix", ports) + list(sets))
        self.rep.check(name + ": replay exits 0", run.rc == 0,
                       "" if run.rc == 0 else run.describe())
        return run


# --- direction -------------------------------------------------------------

def direction(c):
    rep = c.rep
    # ingress-only: each record also leaves by its output interface
    run = c.replay("ingress-only", dir_datagrams(
        [[(1, 2, 1000, 10, 0), (3, 2, 500, 5, 0)]]))
    want = {(1, "in"): 1000, (3, "in"): 500, (2, "out"): 1500,
            (1, "out"): None, (2, "in"): None}
    rep.equal("ingress-only exporter: in on the input, out on the output "
              "interface", sides(run, want), want)
    d = one_health(run).get("direction", {})
    rep.equal("ingress-only exporter: direction rule and counts",
              (d.get("rule"), d.get("records", {}).get("ingress"),
               d.get("other_side")),
              ("both-sides", 2, {"counted": 2, "not_counted": 0}))
    # both directions on the same interfaces: the egress records of the
    # same packets come a second later; nothing counts twice
    both = [[(1, 2, 1000, 10, 0), (2, 1, 300, 3, 0)],
            [(1, 2, 1000, 10, 1), (2, 1, 300, 3, 1)]]
    run = c.replay("both-directions", dir_datagrams(both))
    want = {(1, "in"): 1000, (2, "out"): 1000, (2, "in"): 300,
            (1, "out"): 300}
    rep.equal("ingress+egress exporter: each packet once per side",
              sides(run, want), want)
    d = one_health(run).get("direction", {})
    rep.equal("ingress+egress exporter: rule metered-side, 2 interfaces "
              "metered both ways",
              (d.get("rule"), d.get("interfaces"), d.get("other_side")),
              ("metered-side", {"metered_in_only": 0, "metered_out_only": 0,
                                "metered_both": 2},
               {"counted": 0, "not_counted": 4}))
    # ingress metered on if1, egress on if2: the two records of 1->2 count
    # once per side; 1->3 and 4->2 take their unmetered other side
    run = c.replay("per-interface", dir_datagrams(
        [[(1, 2, 800, 8, 0), (1, 3, 200, 2, 0)],
         [(1, 2, 800, 8, 1), (4, 2, 50, 1, 1)]]))
    want = {(1, "in"): 1000, (2, "out"): 850, (3, "out"): 200,
            (4, "in"): 50, (1, "out"): None, (2, "in"): None}
    rep.equal("ingress on if1, egress on if2: per interface",
              sides(run, want), want)
    d = one_health(run).get("direction", {})
    rep.equal("per-interface: rule and other sides",
              (d.get("rule"), d.get("other_side")),
              ("per-interface", {"counted": 2, "not_counted": 2}))
    # configured modes
    run = c.replay("metered-side", dir_datagrams(
        [[(1, 2, 1000, 10, 0), (3, 2, 500, 5, 0)]]),
        sets=["flow.direction=metered-side"])
    want = {(1, "in"): 1000, (3, "in"): 500, (2, "out"): None}
    rep.equal("flow.direction=metered-side: only the metered side",
              sides(run, want), want)
    rep.equal("flow.direction=metered-side: said so",
              (one_health(run).get("direction", {}).get("mode"),
               one_health(run).get("direction", {}).get("rule")),
              ("metered-side", "metered-side"))
    run = c.replay("both-sides", dir_datagrams(both),
                   sets=["flow.direction=both-sides"])
    want = {(1, "in"): 2000, (2, "out"): 2000}
    rep.equal("flow.direction=both-sides: both records on both sides",
              sides(run, want), want)
    # a metered side with ifIndex 0: counted on the other side, named
    run = c.replay("contradiction", dir_datagrams(
        [[(0, 7, 900, 9, 0)]]))
    h = one_health(run)
    rep.equal("ingress record with ifIndex 0 in: counted out on if7, "
              "named", (side(run, 7, "out"),
                        h.get("direction", {}).get("records", {}).get(
                            "metered_interface_missing"),
                        h.get("traffic", {}).get("attributed")),
              (900, 1, {"records": 1, "bytes": 900, "packets": 9}))


def cisco_255(c):
    """NetFlow v9 with DIRECTION (61) = 255, as Cisco sends it."""
    rep = c.rep
    fields = [(10, 2), (14, 2), (1, 4), (2, 4), (61, 1)]
    recs = struct.pack(">HHIIB", 5, 6, 700, 7, 255) + \
        struct.pack(">HHIIB", 6, 5, 100, 1, 255)
    pkt = v9_packet(3600000, T0 + 5, 1, 0,
                    [v9_template(300, fields), ipfix_set(300, recs)], 3)
    run = c.replay("cisco-255", [(T0 + 5, 40000, 2055, pkt)])
    want = {(5, "in"): 700, (6, "out"): 700, (6, "in"): 100,
            (5, "out"): 100}
    rep.equal("v9 direction 255: not stated, counted on both sides",
              sides(run, want), want)
    d = one_health(run).get("direction", {}).get("records", {})
    rep.equal("v9 direction 255: counted as not stated, named",
              (d.get("not_stated"), d.get("value_not_0_or_1")), (2, 2))


# --- biflows ---------------------------------------------------------------

def biflows(c):
    rep = c.rep
    fields = [(10, 4), (14, 4), (1, 8), (2, 8), (1, 8, PEN_REVERSE),
              (2, 8, PEN_REVERSE)]
    rec = struct.pack(">IIQQQQ", 3, 7, 1000, 10, 5000, 20)
    run = c.replay("biflow", [(T0 + 5, 40000, 4739, ipfix_message(
        T0 + 5, 0, 0, [ipfix_template(256, fields),
                       ipfix_set(256, rec)]))])
    want = {(3, "in"): 1000, (7, "out"): 1000, (7, "in"): 5000,
            (3, "out"): 5000}
    rep.equal("biflow: reverse counters with the interfaces swapped",
              sides(run, want), want)
    h = one_health(run)
    rep.equal("biflow: reverse counted in flow and traffic",
              (h.get("flow", {}).get("reverse_bytes"),
               h.get("traffic", {}).get("decoded")),
              (5000, {"records": 1, "bytes": 6000, "packets": 30}))


def biflow_capture(c, flows):
    """softflowd -b: its truth file keeps forward and reverse apart."""
    pcap = os.path.join(flows, "softflowd-ipfix-biflow-milli.pcap")
    truth = cl.load_json(pcap[:-5] + ".truth.json")
    e = list(truth["exporters"].values())[0]
    run = cl.replay(c.args.peerscope, [pcap], 86400,
                    sets=cl.proto_sets("ipfix", [4739]))
    h = health(run)
    dec = [sum(m.get("traffic", {}).get("decoded", {}).get(k, 0) for m in h)
           for k in ("bytes", "packets")]
    rev = sum(m["flow"].get("reverse_bytes", 0) for m in h)
    c.rep.equal("softflowd biflow: forward + reverse bytes and packets = "
                "truth", (dec, rev),
                ([e["bytes"] + e["reverse_bytes"],
                  e["packets"] + e["reverse_packets"]], e["reverse_bytes"]))
    # every record says in=0 out=0 (truth by_interface): unattributed
    un = [sum(m.get("traffic", {}).get("unattributed", {}).get(
        "reasons", {}).get("no_interface", {}).get(k, 0) for m in h)
          for k in ("records", "bytes")]
    c.rep.equal("softflowd biflow: ifIndex 0 on both sides: unattributed, "
                "by reason", un,
                [e["by_interface"]["in=0 out=0"]["flows"],
                 e["bytes"] + e["reverse_bytes"]])


# --- frame export ----------------------------------------------------------

def eth_ipv4(total_length, section_len):
    """The first section_len bytes of an Ethernet/IPv4 frame whose IP
    total length is total_length (IEEE 802.3, RFC 791)."""
    eth = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00"
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, total_length, 1, 0, 64, 6, 0,
                     bytes([192, 0, 2, 1]), bytes([198, 51, 100, 1]))
    frame = eth + ip + bytes(max(0, section_len - len(eth) - len(ip)))
    return frame[:section_len]


def frames(c):
    rep = c.rep
    # 315 dataLinkFrameSection (variable), 312 dataLinkFrameSize,
    # ingressInterface, egressInterface: no octet or packet count
    t312 = [(315, 0xFFFF), (312, 2), (10, 4), (14, 4)]
    t315 = [(315, 0xFFFF), (10, 4), (14, 4)]

    def rec(section, *tail):
        return bytes([len(section)]) + section + b"".join(tail)

    recs312 = (rec(eth_ipv4(1500, 64), struct.pack(">HII", 1514, 1, 2)) +
               rec(eth_ipv4(46, 64), struct.pack(">HII", 40, 1, 2)))
    recs315 = rec(eth_ipv4(1000, 64), struct.pack(">II", 1, 2))
    run = c.replay("frames", [(T0 + 5, 40000, 4739, ipfix_message(
        T0 + 5, 0, 0, [ipfix_template(256, t312), ipfix_template(257, t315),
                       ipfix_set(256, recs312), ipfix_set(257, recs315)]))])
    # 1514 (312), 64 (312 = 40 is below its own 64-byte section: the
    # section counts), 1014 (no 312: 14 bytes before the IP header + 1000)
    rep.equal("packet reports: 312 is the length; a cut section counts its "
              "IP length",
              (side(run, 1, "in"), side(run, 1, "in", "sampled_packets"),
               side(run, 2, "out")), (1514 + 64 + 1014, 3, 2592))
    h = one_health(run)
    rep.equal("packet reports: frame basis, contradiction named",
              (h.get("traffic", {}).get("byte_basis"),
               h.get("decode", {}).get("reasons")),
              ("frame", {"ipfix.length.frame_below_section": 1}))
    last = cl.conn_blocks(run.messages).get(("127.0.0.1", 1), {}).get(
        "last") or {}
    rep.equal("packet reports: the samples block names its byte basis",
              ((last.get("in") or {}).get("samples") or {}).get(
                  "byte_basis"), "frame")


# --- sampling IEs ------------------------------------------------------------

def sampling(c):
    rep = c.rep
    data_t = ipfix_template(256, [(302, 4), (10, 4), (14, 4), (1, 8),
                                  (2, 8)])
    data = ipfix_set(256, struct.pack(">IIIQQ", 7, 1, 2, 100, 1))

    def options(fields, values):
        return [ipfix_options_template(258, [(302, 4)], fields),
                ipfix_set(258, struct.pack(">I", 7) + values)]

    # 305 = 1 without 306, beside 309/310 = 1 in 256: the rate is 256
    run = c.replay("sampling-309-310", [(T0 + 5, 40000, 4739, ipfix_message(
        T0 + 5, 0, 0, options([(305, 4), (309, 4), (310, 4)],
                              struct.pack(">III", 1, 1, 256)) +
        [data_t, data]))])
    h = one_health(run)
    rep.equal("309/310 = 1 of 256 with a lone 305 of 1: rate 256, "
              "nothing named",
              (side(run, 1, "in", "bytes"), side(run, 1, "in",
                                                 "sampling_rate"),
               h.get("decode", {}).get("reasons")), (25600, 256, {}))
    # 305 = 1 alone: no rate (not "unsampled"), counted at 1 and named
    run = c.replay("sampling-305-alone", [(T0 + 5, 40000, 4739,
                                           ipfix_message(
        T0 + 5, 0, 0, options([(305, 4)], struct.pack(">I", 1)) +
        [data_t, data]))])
    h = one_health(run)
    rep.equal("a lone 305: rate unknown, named",
              (h.get("flow", {}).get("sampling", {}).get("unknown_records"),
               h.get("decode", {}).get("reasons")),
              (1, {"ipfix.sampling.incomplete": 1}))
    # the record's own 34 = 100 against its 309/310 = 1 of 256: conflict
    rec_t = ipfix_template(259, [(10, 4), (14, 4), (1, 8), (2, 8), (34, 4),
                                 (309, 4), (310, 4)])
    rec = ipfix_set(259, struct.pack(">IIQQIII", 1, 2, 100, 1, 100, 1, 256))
    run = c.replay("sampling-conflict", [(T0 + 5, 40000, 4739,
                                          ipfix_message(
        T0 + 5, 0, 0, [rec_t, rec]))])
    h = one_health(run)
    rep.equal("34 = 100 against 309/310 = 1 of 256: 256 wins, named",
              (side(run, 1, "in", "bytes"), h.get("decode", {}).get(
                  "reasons")), (25600, {"ipfix.sampling.conflict": 1}))


# --- exporters told apart ------------------------------------------------------

def exporters_apart(c, flows):
    rep = c.rep
    # v9 (seq per packet) and IPFIX (seq per record) from one host, one
    # domain, interleaved; and two IPFIX processes of one domain whose
    # template 256 differs
    v9_fields = [(10, 4), (14, 4), (1, 4), (2, 4)]
    a_fields = [(10, 4), (14, 4), (1, 8), (2, 8)]
    b_fields = [(1, 4), (2, 4), (10, 4), (14, 4)]
    dgs = []
    for i in range(6):
        t = T0 + 5 + i
        dgs.append((t, 40001, 2055, v9_packet(
            1000 * i, t, i, 0, [v9_template(256, v9_fields),
                                ipfix_set(256, struct.pack(">IIII", 1, 2,
                                                           10, 1))], 2)))
        dgs.append((t + 0.1, 40002, 4739, ipfix_message(
            t, 2 * i, 0, [ipfix_template(256, a_fields),
                          ipfix_set(256, struct.pack(">IIQQ", 1, 2, 100, 1) *
                                    2)])))
        dgs.append((t + 0.2, 40003, 4739, ipfix_message(
            t, 3 * i, 0, [ipfix_template(256, b_fields),
                          ipfix_set(256, struct.pack(">IIII", 1000, 1, 3, 4) *
                                    3)])))
    run = c.replay("one-host", dgs)
    got = sorted((m["protocol"], m.get("source_port"),
                  m["flow"]["data_records"],
                  m["flow"]["bytes"], m["sequence"]["datagrams"]["lost"],
                  m["sequence"]["datagrams"]["restarts"])
                 for m in health(run))
    rep.equal("v9 + IPFIX + IPFIX of one host and domain: three exporters, "
              "each its own records and templates, no false loss", got,
              [("ipfix", 40002, 12, 1200, 0, 0),
               ("ipfix", 40003, 18, 18000, 0, 0),
               ("netflow9", 40001, 6, 60, 0, 0)])
    rep.equal("three exporter ids, protocol and port in each",
              sorted(m["exporter_id"] for m in health(run)),
              ["127.0.0.1/127.0.0.1/0/ipfix/40002",
               "127.0.0.1/127.0.0.1/0/ipfix/40003",
               "127.0.0.1/127.0.0.1/0/netflow9/40001"])
    # the same with real exporters: softflowd's v9 and IPFIX captures of
    # one host (domain 0 both) replayed together count exactly what each
    # counts alone (softflowd's own IPFIX numbering has gaps tshark warns
    # about too), where one shared sequence would mix them
    caps = [os.path.join(flows, f) for f in ("softflowd-nf9.pcap",
                                             "softflowd-ipfix.pcap")]
    sets = ["listen.ipfix=:4739,:2055", "listen.netflow="]

    def seqs(run):
        return sorted((m["protocol"], m["flow"]["data_records"],
                       m["sequence"]["datagrams"]["lost"],
                       m["sequence"]["datagrams"]["restarts"],
                       m["sequence"]["datagrams"]["reordered"])
                      for m in health(run))
    alone = sorted(sum((seqs(cl.replay(c.args.peerscope, [p], 86400,
                                       sets=sets)) for p in caps), []))
    run = cl.replay(c.args.peerscope, caps, 86400, sets=sets)
    rep.equal("softflowd v9 + IPFIX of one host: two exporters, each "
              "counting as it does alone", seqs(run), alone)
    rep.equal("softflowd v9 + IPFIX: v9 (no gap in tshark) loses nothing",
              [s[2:4] for s in seqs(run) if s[0] == "netflow9"], [(0, 0)])


# --- exporter clocks -------------------------------------------------------------

def clocks(c):
    rep = c.rep
    fields = [(10, 4), (14, 4), (1, 8), (2, 8), (150, 4), (151, 4)]
    behind = 3 * 3600

    def msg(arrival, export, seq, start, end, octets):
        return (arrival, 40000, 4739, ipfix_message(
            export, seq, 0, [ipfix_template(256, fields), ipfix_set(
                256, struct.pack(">IIQQII", 1, 2, octets, 1, start, end))]))

    dgs = [
        # arrives T0+100 from a clock 3 h behind; the record ended 5 s
        # before its export: in [T0+60, T0+120) once mapped
        msg(T0 + 100, T0 + 100 - behind, 0, T0 + 80 - behind,
            T0 + 95 - behind, 1000),
        # on time, T0+130 ([T0+60..] held, [T0+120..] current): started
        # at T0+10, before the oldest open window
        msg(T0 + 130, T0 + 130, 1, T0 + 10, T0 + 20, 200),
        # on time at T0+140, ends at T0+300: after the current window
        msg(T0 + 140, T0 + 140, 2, T0 + 139, T0 + 300, 30),
    ]
    run = c.replay("clocks", dgs)
    per = {}
    for m in run.of_type("connection_metrics"):
        if m["ifindex"] == 1 and m["in"]["samples"]:
            per[m["window"]["start"]] = m["in"]["samples"]["sampled_bytes"]
    # 1000 by its mapped times; 200 into the oldest open window; the 30
    # from T0+139 to T0+300 all into the current window, which takes
    # what lies after its end
    rep.equal("a clock 3 h behind placed by its export time; the rest into "
              "the nearest open window",
              per, {iso(60): 1200, iso(120): 30})
    f = [m["flow"] for m in health(run)]
    place = {}
    for x in f:
        for k, v in x.get("placement", {}).items():
            place[k] = place.get(k, 0) + v
    rep.equal("placement counted by reason", place,
              {"by_time": 1, "before_open_windows": 1,
               "after_current_window": 1, "at_arrival": 0})
    offs = sorted((x["clock"]["offset_ms_min"], x["clock"]["offset_ms_max"])
                  for x in f if x.get("clock"))
    rep.equal("the exporter's clock offset, per window (ms)", offs,
              [(0, 0), (behind * 1000, behind * 1000)])


def iso(offset):
    import datetime
    t = datetime.datetime.fromtimestamp(T0 + offset, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --- real exporters ----------------------------------------------------------------

def pmacct_directions(c, flows):
    """pmacct nfprobe meters ingress and egress on if10 (IE 61 0/1 with
    the other interface 0): each record counts on its metered side;
    truth from tshark's own fields."""
    pcap = os.path.join(flows, "pmacctd-nf9-live.pcap")
    port = 2056
    try:
        p = subprocess.run(
            ["tshark", "-r", pcap, "-d", "udp.port==%d,cflow" % port, "-T",
             "fields", "-e", "cflow.direction", "-e", "cflow.inputint", "-e",
             "cflow.outputint", "-e", "cflow.octets"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        c.rep.skip("tshark not available: pmacct direction check not run")
        return
    want, dirs = {}, {"0": 0, "1": 0}
    for line in p.stdout.decode().splitlines():
        cols = line.split("\t")
        if len(cols) < 4 or not cols[0]:
            continue
        for d, i, o, b in zip(*(x.split(",") for x in cols)):
            dirs[d] += 1
            k = (int(i), "in") if d == "0" else (int(o), "out")
            want[k] = want.get(k, 0) + int(b)
    run = cl.replay(c.args.peerscope, [pcap], 86400,
                    sets=cl.proto_sets("ipfix", [port]))
    c.rep.equal("pmacct nfprobe ingress+egress: per interface and side = "
                "tshark", sides(run, want), want)
    d = one_health(run).get("direction", {})
    c.rep.equal("pmacct nfprobe: records by direction = tshark's",
                (d.get("records", {}).get("ingress"),
                 d.get("records", {}).get("egress")),
                (dirs["0"], dirs["1"]))


def demo_rates(c):
    """Sampled rates over the time the data covers: the first window from
    the agent's first datagram, the last to its last (capture times)."""
    pcap = os.path.join(c.args.data, "demo-sflow.pcap.gz")
    ts = [d[0] for d in cl.read_pcap_udp(pcap) if d[4] == 6343]
    run = cl.replay(c.args.peerscope, [pcap], 60)
    wrong, n = [], 0
    for m in run.of_type("connection_metrics"):
        for d in ("in", "out"):
            s = m[d]["samples"]
            if s is None:
                continue
            start = parse_iso(m["window"]["start"])
            end = parse_iso(m["window"]["end"])
            lo, hi = max(start, ts[0]), min(end, ts[-1])
            want = round(max(1.0, min(hi - lo, end - start)), 3)
            n += 1
            if abs(s.get("interval_seconds", 0) - want) > 0.002 or \
                    abs(s["bits_per_second"] - s["bytes"] * 8 /
                        s.get("interval_seconds", 1)) > 0.01 * max(
                            1, s["bits_per_second"]):
                wrong.append((m["connection_id"], d, s.get("interval_seconds"),
                              want))
    c.rep.check("demo capture: samples rates over the time covered (%d "
                "blocks)" % n, n > 0 and not wrong, repr(wrong[:3]))


def parse_iso(text):
    import datetime
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    tmp = tempfile.mkdtemp(prefix="ps-flow-fidelity-")
    try:
        c = Case(rep, args, tmp)
        direction(c)
        cisco_255(c)
        biflows(c)
        frames(c)
        sampling(c)
        clocks(c)
        demo_rates(c)
        flows = cl.corpus_flows(args)
        if flows is None:
            cl.skip_corpus_line(rep, args)
        else:
            biflow_capture(c, flows)
            exporters_apart(c, flows)
            pmacct_directions(c, flows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
