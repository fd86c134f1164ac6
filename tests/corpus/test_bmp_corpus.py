"""BMP corpus: replay the FRR and GoBGP BMP streams and compare the
bgp_session messages with the truth files (corpus/bmp/*/NAME.truth.json,
from the corpus's own decoder, cross-checked with tshark: `agree: true`).

Compared per peer (type|RD|address), from the last `snapshot` message of
the stream (published before the end of the session turns peers unknown):
ASN, BGP ID, Peer Up and Peer Down counts, Peer Down reasons, state at the
end, per view and family announced / withdrawn / withdraw_of_unknown /
End-of-RIB / final RIB routes, statistics reports and the last value of
every standard statistic (types 0-17), and messages per type.

The same stream is also replayed from its pcap (TCP reassembly) and, for
the split/ deliveries, from 1-byte, prime-sized and re-ordered segments:
the results must be identical to the .bmp replay.

Oracle caveats (corpus README/REPORT): the truth decides ambiguous ADD-PATH
blocks by the majority of the whole stream; peerscope decides online (the
majority so far).  The truth applies announcements even when an attribute
is malformed (it does not implement RFC 7606); the real streams have none.
"""
import collections
import ipaddress
import json
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib  # noqa: E402
import test_schemas  # noqa: E402

STREAMS = [("main", "frr_main", 11019), ("main", "frr_late", 11020),
           ("main", "gobgp_all", 11021), ("main", "gobgp_late", 11022),
           ("scale", "scale_frr", 11031), ("scale", "scale_gobgp", 11032)]
# attribute errors that RFC 7606 turns into withdrawals (see main())
TREAT_AS_WITHDRAW = {"m10_peer_flag_A_on_4byte_aspath",
                     "m12_update_attr_length_overrun"}
QUIRKS = ["frr_peerup_tlv", "frr_peerup_tlv_short",
          "frr_prepolicy_no_softreconfig.head3000"]


def snapshots(run):
    """session_id -> last snapshot message; also the event list."""
    last = {}
    events = []
    for m in run.of_type("bgp_session"):
        if m["event"] == "snapshot":
            last[m["session_id"]] = m
        else:
            events.append(m)
    return last, events


def peer_key(m):
    """The truth's key: type|RD|address, the address in Python's form."""
    _, ptype, rd, addr = m["session_id"].rsplit("|", 3)
    return "%s|%s|%s" % (ptype, rd, ipaddress.ip_address(addr))


def compare(rep, name, truth, run):
    last, _ = snapshots(run)
    got = {peer_key(m): m for m in last.values()}
    rep.equal("%s: peers" % name, sorted(got), sorted(truth["peers"]))
    for key, tp in sorted(truth["peers"].items()):
        m = got.get(key)
        if m is None:
            continue
        pfx = "%s %s" % (name, key)
        rep.equal(pfx + " asn", m["peer"]["asn"], tp["asn"])
        rep.equal(pfx + " bgp_id", m["peer"]["bgp_id"], tp["bgp_id"])
        rep.equal(pfx + " ups", m["ups"], tp["peer_up_count"])
        rep.equal(pfx + " downs", m["downs"], tp["peer_down_count"])
        reasons = collections.Counter(str(d["reason"]) for d in tp["peer_down"])
        rep.equal(pfx + " down reasons", m["downs_by_reason"], dict(reasons))
        if tp["peer_down"]:
            last_down = tp["peer_down"][-1]
            want = None
            if isinstance(last_down.get("notification"), dict) and \
                    "code" in last_down["notification"]:
                want = {"code": last_down["notification"]["code"],
                        "subcode": last_down["notification"]["subcode"]}
            rep.equal(pfx + " last down reason", m["down_reason"]["code"],
                      last_down["reason"])
            rep.equal(pfx + " last notification",
                      m["down_reason"]["notification"], want)
        rep.equal(pfx + " state", m["state"], tp["state_at_end"])
        routes = {}
        for view, afis in tp["routes"].items():
            for afi, c in afis.items():
                routes["%s/%s" % (view, afi)] = (
                    c["announced"], c["withdrawn"], c["withdraw_of_unknown"],
                    c["eor"], c["final_rib_routes"])
        mine = {}
        for view, afis in m["views"].items():
            for afi, c in afis.items():
                mine["%s/%s" % (view, afi)] = (
                    c["announced"], c["withdrawn"], c["withdraw_of_unknown"],
                    c["end_of_rib"], c["routes"])
        # a family the truth lists with all zeroes may be absent here
        for k, v in routes.items():
            if v == (0, 0, 0, 0, 0):
                mine.setdefault(k, v)
        rep.equal(pfx + " routes (announced, withdrawn, unknown, eor, final)",
                  mine, routes)
        rep.equal(pfx + " stats reports", m["stats"]["reports"],
                  tp["stats_reports"])
        want_stats = {}
        for k, v in tp["stats_last"].items():
            t = int(k.split(":")[0])
            if t >= 18 or not isinstance(v, int):
                continue  # private types (FRR 65531) are not published
            if "/" in k:  # per-family gauge: "9:name/ipv4_unicast"
                want_stats["%d/%s" % (t, k.rsplit("/", 1)[1])] = v
            else:
                want_stats[str(t)] = v
        rep.equal(pfx + " stats last", m["stats"]["last"], want_stats)
        msgs = {k: v for k, v in m["messages"].items() if v}
        rep.equal(pfx + " messages", msgs, dict(tp["messages"]))


def sch_validate(sch, tag, run):
    if sch is not None:
        sch.validate_run(tag, run)


def comparable(run):
    """bgp_session messages without the router name (file vs address)."""
    out = []
    for m in run.of_type("bgp_session"):
        m = dict(m)
        m.pop("router")
        m["session_id"] = m["session_id"].split("|", 1)[1]
        out.append(json.dumps(m, sort_keys=True))
    return out


def write_tcp_pcap(path, segments, sport=40000, dport=11019):
    """A classic pcap (Ethernet) of one router->station TCP stream:
    a SYN, then the given (seq_offset, bytes) segments; checksums are left
    zero (captures taken with offload carry such, and the reader ignores
    them)."""
    isn = 1000
    frames = []

    def frame(seq, flags, payload):
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4,
                          flags, 65535, 0, 0)
        ip_len = 20 + len(tcp) + len(payload)
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ip_len, 0, 0, 64, 6, 0,
                         bytes([10, 99, 0, 1]), bytes([10, 99, 0, 100]))
        eth = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00"
        return eth + ip + tcp + payload

    frames.append(frame(isn, 0x02, b""))
    for off, data in segments:
        frames.append(frame(isn + 1 + off, 0x18, data))
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1795679359 + i, 0, len(fr), len(fr)))
            f.write(fr)


def message_ends(data):
    """(type, end offset) of each BMP message, from the length fields."""
    out, off = [], 0
    while off + 6 <= len(data):
        n = struct.unpack_from("!I", data, off + 1)[0]
        out.append((data[off + 5], off + n))
        off += n
    return out


def tcp_cases(rep, args, split, tmp):
    """Retransmissions and a gap, made from split_source.bmp's bytes."""
    data = open(os.path.join(split, "split_source.bmp"), "rb").read()
    segs = [(o, data[o:o + 100]) for o in range(0, len(data), 100)]
    whole = corpus_lib.replay(args.peerscope,
                              [os.path.join(split, "split_source.bmp")])
    # every 5th segment sent twice, and one partial overlap
    dup = []
    for i, sg in enumerate(segs):
        dup.append(sg)
        if i % 5 == 0:
            dup.append(sg)
    dup.append((150, data[150:260]))
    pc = os.path.join(tmp, "retrans.pcap")
    write_tcp_pcap(pc, dup)
    r = corpus_lib.replay(args.peerscope, [pc], sets=["bmp.port=11019"])
    errs = (r.stats or {}).get("decode_errors", {})
    rep.equal("tcp: retransmissions counted",
              errs.get("tcp.stream.retransmission"),
              len([i for i in range(len(segs)) if i % 5 == 0]) + 1)
    rep.equal("tcp: retransmissions change nothing", comparable(r),
              comparable(whole))
    # segment 11 (bytes 1100..1199) never arrives: a gap; the message it
    # cuts is lost, and the session resumes at the next message start
    gap = [sg for i, sg in enumerate(segs) if i != 11]
    pc = os.path.join(tmp, "gap.pcap")
    write_tcp_pcap(pc, gap)
    r = corpus_lib.replay(args.peerscope, [pc], sets=["bmp.port=11019"])
    errs = (r.stats or {}).get("decode_errors", {})
    rep.equal("tcp: the gap is counted", errs.get("tcp.stream.gap"), 1)
    ends = message_ends(data)
    starts = [0] + [end for _, end in ends[:-1]]
    ups = len([t for (t, end), start in zip(ends, starts)
               if t == 3 and (end <= 1100 or start >= 1200)])
    got = len([m for m in r.of_type("bgp_session") if m["event"] == "up"])
    rep.equal("tcp: the Peer Ups wholly before and after the gap count",
              got, ups)
    after = [s for s in starts if s >= 1200]
    ports = [(e["resynchronised"], e["skipped_bytes"])
             for e in (r.stats or {}).get("ports", [])
             if e["transport"] == "tcp" and e["port"] == 11019]
    rep.equal("tcp: resynchronised at the next message after the gap",
              (errs.get("capture.tcp.resynchronised"), ports),
              (1, [(1, after[0] - 1200)]))


def main():
    args = corpus_lib.parse_args(__doc__)
    rep = corpus_lib.Reporter()
    bmp = os.path.join(args.corpus, "bmp")
    if not os.path.isdir(bmp):
        rep.skip("shared corpus not found at %s" % os.path.abspath(bmp))
        rep.finish()
    sch = None
    if test_schemas.jsonschema is not None:
        sch = test_schemas.Schemas(rep, args.schemas)
        sch.load_all()
    else:
        rep.skip("python3-jsonschema absent: messages not validated")
    tmp = tempfile.mkdtemp(prefix="ps-bmp-")
    try:
        # split/: the first 12 messages of frr_main, whole and segmented
        split = os.path.join(bmp, "split")
        truth = corpus_lib.load_json(os.path.join(split,
                                                  "split_source.truth.json"))
        base = corpus_lib.replay(args.peerscope,
                                 [os.path.join(split, "split_source.bmp")])
        rep.check("split: replay ran", base.rc == 0, base.describe())
        compare(rep, "split_source", truth, base)
        want = comparable(base)
        tcp_cases(rep, args, split, tmp)
        for pcap in ("every_byte", "prime_sizes", "reordered_100"):
            r = corpus_lib.replay(args.peerscope,
                                  [os.path.join(split, pcap + ".pcap")],
                                  sets=["bmp.port=11019"])
            rep.equal("split: %s.pcap same messages as the .bmp" % pcap,
                      comparable(r), want)
        # main/: four real sessions, from the stream and from the pcap
        for folder, name, port in STREAMS:
            path = os.path.join(bmp, folder, name + ".bmp.gz")
            if not os.path.exists(path):
                rep.skip("%s absent" % path)
                continue
            truth = corpus_lib.load_json(os.path.join(bmp, folder,
                                                      name + ".truth.json"))
            run = corpus_lib.replay(args.peerscope, [path])
            rep.check("%s: replay ran" % name, run.rc == 0, run.describe())
            sch_validate(sch, name, run)
            compare(rep, name, truth, run)
            pcap = os.path.join(bmp, folder, name + ".pcap.gz")
            if os.path.exists(pcap):
                r = corpus_lib.replay(args.peerscope, [pcap],
                                      sets=["bmp.port=%d" % port])
                rep.equal("%s: pcap gives the same messages as the .bmp"
                          % name, comparable(r), comparable(run))
        # malformed/: every case against its truth and its expectation
        cases = corpus_lib.load_json(os.path.join(bmp, "malformed",
                                                  "cases.json"))
        for case in cases:
            name = case["file"][:-4]
            path = os.path.join(bmp, "malformed", case["file"])
            truth = corpus_lib.load_json(os.path.join(
                bmp, "malformed", name + ".truth.json"))
            run = corpus_lib.replay(args.peerscope, [path])
            rep.check("%s: replay ran" % name, run.rc == 0, run.describe())
            sch_validate(sch, name, run)
            errs = (run.stats or {}).get("decode_errors", {})
            cls = case["expected"]["class"]
            if cls == "framing":
                # the stream stops: framing lost, or cut at the end
                rep.check("%s: framing error counted" % name,
                          errs.get("bmp.stream.framing_lost", 0) == 1 or
                          errs.get("bmp.stream.truncated_at_end", 0) == 1,
                          repr(errs))
            if name in TREAT_AS_WITHDRAW:
                # RFC 7606: the truth rejects the UPDATE; we withdraw its
                # prefixes instead, so only the counters are compared
                rep.equal("%s: treat-as-withdraw counted" % name,
                          errs.get("bgp.update.treat_as_withdraw", 0), 1)
                continue
            compare(rep, name, truth, run)
        # quirks/: real exporter defects, tolerated
        for name in QUIRKS:
            path = os.path.join(bmp, "quirks", name + ".bmp")
            truth = corpus_lib.load_json(os.path.join(bmp, "quirks",
                                                      name + ".truth.json"))
            run = corpus_lib.replay(args.peerscope, [path])
            rep.check("%s: replay ran" % name, run.rc == 0, run.describe())
            compare(rep, name, truth, run)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
