#!/usr/bin/env python3
"""IPFIX, NetFlow v9 and v5 corpus tests: peerscope against independent truth.

Truth, in order of preference:
  * corpus/flows/X.truth.json (tshark 4.0.17): records, bytes, packets per
    exporter and per (in, out) interface, options values (sampling);
  * crafted/X.expect.json where the corpus README says tshark is wrong
    (template re-definition, data before its template);
  * flow_oracle.py, a Python walker written from RFC 7011/3954, checked
    here against every truth file first, for the two captures where tshark
    lost templates that are on the wire (listed in ORACLE_OVER_TSHARK, with
    the byte-level reason checked by this test);
  * malformed/X.expect.json: the defect and what a decoder must do; the
    reason names we expect are derived from each stated defect.
  * external/akvorado (real routers), when present: its truth.json.
"""
import math
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
import flow_oracle as fo  # noqa: E402

try:
    import test_schemas as ts  # noqa: E402
except ImportError:  # jsonschema missing: the schema test reports it
    ts = None

WINDOW = 86400
# tshark 4.0.17 disagrees with the bytes on the wire for these (see checks)
ORACLE_OVER_TSHARK = {
    # datagram 1 holds v9 templates 2048/2049 (checked below); tshark stops
    # at the options template flowset and never learns them
    "softflowd-nf9-live.pcap": "templates 2048/2049 are in datagram 1",
    # the header counts of the 3 datagrams (19+30+24) say 73 data records
    "softflowd-nf9-sampled10.pcap": "v9 header counts sum to 73",
    # tshark's truth sums sectionExportedOctets (410); 33 of the 102 frame
    # sections are cut at their 1390-byte field, and a packet report counts
    # the whole frame, whose IP header in the section tells its length
    "softflowd-psamp-sampled20.pcap": "cut frame sections: IP length",
}
README_EXPECT = ("crafted/ipfix-template-redefine.pcap",
                 "crafted/ipfix-data-before-template.pcap")


def truth_key(k):
    """'127.0.0.1 v9 source_id=0' -> ('127.0.0.1', 9, 0)."""
    ip, ver, ident = k.split(" ")
    val = ident.split("=")[1]
    if ":" in val and ver == "v5":
        a, b = val.split(":")
        dom = int(a) << 8 | int(b)
    else:
        dom = int(val)
    return (ip, int(ver[1:]), dom)


def our_exporters(run):
    acc = {}
    for m in run.of_type("exporter_health"):
        f = m.get("flow")
        if f is None:
            continue
        k = (m["exporter"], f["version"], m["sub_agent"])
        a = acc.setdefault(k, {"records": 0, "bytes": 0, "packets": 0,
                               "options": 0, "held": 0, "held_decoded": 0,
                               "aged_out": 0, "unknown": 0, "rate_max": 0,
                               "templates_known": 0, "rejected": 0,
                               "reasons": {}, "lost": 0})
        a["records"] += f["data_records"]
        a["bytes"] += f["bytes"]
        a["packets"] += f["packets"]
        a["options"] += f["options_records"]
        a["held"] += f["held_data_sets"]["held"]
        a["held_decoded"] += f["held_data_sets"]["decoded"]
        a["aged_out"] += f["held_data_sets"]["aged_out"]
        a["unknown"] += f["sampling"]["unknown_records"]
        a["rate_max"] = max(a["rate_max"], f["sampling"]["rate_max"])
        a["templates_known"] = max(a["templates_known"],
                                   f["templates"]["known"])
        a["rejected"] += m["datagrams_rejected"]
        a["lost"] += m["sequence"]["datagrams"]["lost"]
        for r, v in m["decode"]["reasons"].items():
            a["reasons"][r] = a["reasons"].get(r, 0) + v
    return acc


def per_if_expect(by_if):
    """{(in,out[,dir]): [rec, bytes, pkts]} -> ({if: in sums}, {if: out}).

    A record counts as traffic entering its input interface and leaving
    by its output interface; when it says which way it was metered (IE 61:
    0 ingress, 1 egress), only on that side, so a router exporting both
    ingress and egress records of the same packets is not counted twice.
    """
    ins, outs = {}, {}
    for k, v in by_if.items():
        i, o = k[0], k[1]
        direction = k[2] if len(k) > 2 else None
        for d, x, side in ((ins, i, 0), (outs, o, 1)):
            if x == 0 or direction not in (None, side):
                continue
            s = d.setdefault(x, [0, 0, 0])
            for n in range(3):
                s[n] += v[n]
    return ins, outs


def truth_by_if(e):
    out = {}
    for k, v in e["by_interface"].items():
        i, o = k.split(" ")
        out[(int(i[3:]), int(o[4:]))] = [v["flows"], v["bytes"], v["packets"]]
    return out


def check_interfaces(rep, tag, run, router, by_if, rate):
    conns = cl.conn_blocks(run.messages)
    ins, outs = per_if_expect(by_if)
    for d, want in (("in", ins), ("out", outs)):
        for ifx, (recs, byts, pkts) in sorted(want.items()):
            blk = conns.get((router, ifx), {}).get(d, {}).get("samples", {})
            rep.equal("%s: if%d %s records, bytes, packets as exported"
                      % (tag, ifx, d),
                      (blk.get("sample_count"), blk.get("sampled_bytes"),
                       blk.get("sampled_packets")), (recs, byts, pkts))
            if rate:
                rep.equal("%s: if%d %s scaled by rate %d" % (tag, ifx, d,
                                                             rate),
                          (round(blk.get("bytes", -1)),
                           round(blk.get("packets", -1)),
                           blk.get("sampling_rate")),
                          (byts * rate, pkts * rate, rate))


def check_flow_blocks(rep, tag, run, rate, router=None):
    """The samples blocks of a flow capture, one message at a time.

    They come from flow records, so `source` is "flows" (the sFlow value
    was wrong for them).  The error bound follows the rate: 1 in `rate` > 1
    (truth's options data): 196 * sqrt(1 / sampled packets) percent, the
    packets the sampling picked (their sum is checked against truth by
    check_interfaces); rate 1 (every packet metered): 0; a record of
    unknown rate in the block: null, and the rate null if none was known.
    `rate` None: truth does not say, only the unknown-rate rule is checked.
    """
    wrong, checked = [], 0
    for m in run.of_type("connection_metrics"):
        if router is not None and m["router"] != router:
            continue
        for d in ("in", "out"):
            s = m[d]["samples"]
            if s is None:
                continue
            where = "%s/%s %s" % (m["connection_id"], m["window"]["start"], d)
            if s["source"] != "flows":
                wrong.append((where, "source", s["source"]))
            err = s["error_pct_95"]
            if s["sampling_unknown_records"] > 0:
                want = None
                if (s["sampling_unknown_records"] == s["sample_count"] and
                        s["sampling_rate"] is not None):
                    wrong.append((where, "sampling_rate", s["sampling_rate"]))
            elif rate is not None and rate > 1:
                want = round(196.0 / math.sqrt(s["sampled_packets"]), 2) \
                    if s["sampled_packets"] > 0 else None
            elif rate == 1:
                want = 0
            else:
                continue
            checked += 1
            if (err is None) != (want is None) or \
                    (want is not None and abs(err - want) > 0.011):
                wrong.append((where, "error_pct_95", err, want))
    rep.equal("%s: samples blocks say flows, error_pct_95 by rate %s "
              "(%d blocks)" % (tag, rate, checked), wrong[:5], [])
    return checked


def v9_header_count_sum(dgs):
    return sum(struct.unpack(">H", p[2:4])[0] for _, p in dgs)


def v9_template_ids(p):
    ids, off = [], 20
    while off + 4 <= len(p):
        sid, ln = struct.unpack(">HH", p[off:off + 4])
        if ln < 4:
            break
        if sid == 0:
            ids.append(struct.unpack(">H", p[off + 4:off + 6])[0])
        off += ln
    return ids


def real_and_crafted(rep, args, flows, schemas):
    rows = [(f, p) for f, p, d in
            cl.read_manifest(os.path.join(flows, "tools", "manifest.tsv"))
            if d == "cflow"]
    rows += [("crafted/" + f, p) for f, p, d in
             cl.read_manifest(os.path.join(flows, "crafted", "manifest.tsv"))
             if d == "cflow"]
    rep.check("corpus: IPFIX/NetFlow captures found", len(rows) >= 20,
              "%d" % len(rows))
    for fn, port in rows:
        pcap = os.path.join(flows, fn)
        truth = cl.load_json(pcap[:-5] + ".truth.json")
        dgs = [(d[1], d[5]) for d in cl.read_pcap_udp(pcap) if d[4] == port]
        oracle = fo.walk(dgs)
        run = cl.replay(args.peerscope, [pcap], WINDOW,
                        sets=cl.proto_sets("ipfix", [port]))
        if not rep.check("%s: replay exits 0" % fn, run.rc == 0,
                         "" if run.rc == 0 else run.describe()):
            continue
        if schemas is not None:
            schemas.validate_run(fn, run)
        ours = our_exporters(run)
        for tk, e in truth["exporters"].items():
            key = truth_key(tk)
            o = oracle.exporters.get(key)
            got = ours.get(key, {})
            want = (e["flows"], e["bytes"], e["packets"])
            trusted = fn not in ORACLE_OVER_TSHARK and fn not in README_EXPECT
            if trusted:
                # the oracle must agree with tshark before it is used
                rep.equal("%s: oracle agrees with tshark" % fn,
                          (o.records, o.bytes, o.packets) if o else None,
                          want)
                rep.equal("%s %s: records, bytes, packets" % (fn, tk),
                          (got.get("records"), got.get("bytes"),
                           got.get("packets")), want)
                collapsed = {}
                for (i, oo, _d), v in (o.by_if.items() if o else []):
                    s = collapsed.setdefault((i, oo), [0, 0, 0])
                    for n in range(3):
                        s[n] += v[n]
                rep.equal("%s: oracle by interface agrees with tshark" % fn,
                          collapsed, truth_by_if(e))
                check_interfaces(rep, fn, run, key[0], o.by_if if o else {},
                                 0)
            elif fn in ORACLE_OVER_TSHARK:
                rep.check("%s: tshark truth is a subset" % fn,
                          got.get("records", 0) >= e["flows"] and
                          got.get("bytes", 0) >= e["bytes"],
                          "got %r, tshark %r" % (got.get("records"), want))
                rep.equal("%s %s: records, bytes, packets (oracle: %s)"
                          % (fn, tk, ORACLE_OVER_TSHARK[fn]),
                          (got.get("records"), got.get("bytes"),
                           got.get("packets")),
                          (o.records, o.bytes, o.packets))
                check_interfaces(rep, fn + " (oracle)", run, key[0],
                                 o.by_if, 0)
            ov = e.get("options_values", {})
            rate = None
            for name in ("cflow.sampling_interval",
                         "cflow.sampler_random_interval"):
                if name in ov and int(ov[name][0]) > 0:
                    rate = int(ov[name][0])
            check_flow_blocks(rep, fn, run, rate, key[0])
            if rate is not None and rate > 1:
                rep.equal("%s: sampling rate from options data" % fn,
                          (got.get("rate_max"), got.get("unknown")), (rate, 0))
                if trusted and o is not None:
                    check_interfaces(rep, fn, run, key[0], o.by_if, rate)
            if "sampling_packet_interval" in str(ov) and rate is None:
                # softflowd IPFIX: 305=1, 306=0 announces "every packet"
                rep.equal("%s: 305/306 interval 1 space 0 = rate 1" % fn,
                          (got.get("rate_max"), got.get("unknown")), (1, 0))
                check_flow_blocks(rep, fn, run, 1, key[0])
        # sequence gaps: tshark warns "Unexpected flow sequence for domain
        # ID N (expected A, got B)"; the records (IPFIX) or packets (v9)
        # between A and B are lost upstream, nothing else is
        # (only where every warning is a forward jump: with reordering,
        # tshark's "expected" is not a count of anything)
        gaps, forward = 0, True
        for warns in truth.get("tshark_expert_warn_error", {}).values():
            for wtxt in warns:
                if "Unexpected flow sequence" in wtxt:
                    a = int(wtxt.split("(expected ")[1].split(",")[0])
                    b = int(wtxt.split("got ")[1].rstrip(")"))
                    forward = forward and b > a
                    gaps += b - a
        if fn == "softflowd-psamp-sampled20.pcap":
            # one packet report per message: the bytes say the sequence
            # goes 1, 1, 2, ... 102 with no gap; tshark's warnings follow
            # its own dissection errors on the padded frame sections
            seqs = [struct.unpack(">I", p[8:12])[0] for _, p in dgs[1:]]
            rep.equal(fn + ": sequence numbers consecutive (bytes)", seqs,
                      list(range(1, len(seqs) + 1)))
            gaps = 0
        elif truth.get("frames_tshark_malformed", 0) > 0:
            forward = False  # a record in a broken set: no count holds
        if fn not in README_EXPECT and len(ours) == 1 and forward:
            rep.equal("%s: sequence loss as tshark's warnings say" % fn,
                      list(ours.values())[0]["lost"], gaps)
        if fn == "softflowd-nf9-live.pcap":
            rep.check("softflowd-nf9-live: datagram 1 defines 2048/2049",
                      {2048, 2049} <= set(v9_template_ids(dgs[0][1])))
        if fn == "softflowd-nf9-sampled10.pcap":
            rep.equal("softflowd-nf9-sampled10: v9 header counts",
                      v9_header_count_sum(dgs), 73)
        crafted_checks(rep, fn, pcap, ours)


def crafted_checks(rep, fn, pcap, ours):
    if not fn.startswith("crafted/"):
        return
    ex = cl.load_json(pcap[:-5] + ".expect.json")["expected"]
    got = list(ours.values())[0] if len(ours) == 1 else {}
    name = os.path.basename(fn)
    if name == "ipfix-template-redefine.pcap":
        rep.equal(fn + ": expect.json records, bytes, packets",
                  (got.get("records"), got.get("bytes"), got.get("packets")),
                  (ex["data_records"], ex["bytes_A"] + ex["bytes_B"],
                   ex["packets_A"] + ex["packets_B"]))
    elif name == "ipfix-data-before-template.pcap":
        b = ex["if_decoder_buffers_unknown_sets"]
        rep.equal(fn + ": held set decoded when its template came",
                  (got.get("records"), got.get("bytes"), got.get("packets"),
                   got.get("held"), got.get("held_decoded"),
                   got.get("aged_out")),
                  (b["records"], b["bytes"], b["packets"], 1, 1, 0))
    elif name == "ipfix-options-sampling.pcap":
        rep.equal(fn + ": rate 100 from 305/306 and 34, records, raw counts",
                  (got.get("rate_max"), got.get("unknown"), got.get("records"),
                   got.get("bytes"), got.get("packets"), got.get("options")),
                  (100, 0, ex["data_records"], ex["bytes_raw"],
                   ex["packets_raw"], ex["options_records"]))
    elif name == "ipfix-multi-set.pcap":
        rep.equal(fn + ": 6 sets walked",
                  (got.get("records"), got.get("options"), got.get("bytes"),
                   got.get("packets"), got.get("templates_known")),
                  (ex["data_records"], ex["options_records"], ex["bytes"],
                   ex["packets"], ex["templates"] + ex["options_templates"]))
    elif name == "ipfix-varlen.pcap":
        rep.equal(fn + ": variable-length records",
                  (got.get("records"), got.get("bytes"), got.get("packets"),
                   got.get("reasons")),
                  (ex["data_records"], ex["bytes_total"], ex["packets_total"],
                   {}))
    elif name == "nf9-multi-flowset-options.pcap":
        rep.equal(fn + ": flowsets, sampling 100",
                  (got.get("records"), got.get("bytes"), got.get("packets"),
                   got.get("options"), got.get("rate_max")),
                  (ex["data_records"], ex["bytes"], ex["packets"],
                   ex["options_records"], ex["sampling_interval"]))


# Reason names each defect must produce (from the defect in expect.json).
MALFORMED = {
    "nf5-count-too-large": {"netflow5.records.truncated": 1},
    "nf5-truncated-header": {"netflow5.header.truncated": 1,
                             "netflow5.records.truncated": 1},
    "nf9-zero-length-flowset": {"ipfix.set.length_invalid": 1},
    "nf9-flowset-length-past-end": {"ipfix.set.length_past_end": 1},
    "nf9-template-field-count-overflow": {"ipfix.template.truncated": 1},
    "ipfix-message-length-past-end": {"ipfix.header.length_invalid": 1},
    "ipfix-message-length-too-small": {"ipfix.header.length_invalid": 2},
    "ipfix-set-length-invalid": {"ipfix.set.length_invalid": 3},
    "ipfix-set-length-past-end": {"ipfix.set.length_past_end": 1},
    # two defects: a 4096-byte (3-byte form) and a 64-byte length
    "ipfix-varlen-past-end": {"ipfix.record.truncated": 2},
    "ipfix-template-id-reserved": {"ipfix.template.id_reserved": 1,
                                   "ipfix.set.id_reserved": 1},
    "ipfix-options-scope-count-zero":
        {"ipfix.options_template.scope_count_invalid": 1},
    "ipfix-template-field-count-overflow": {"ipfix.template.truncated": 1},
    "flow-bad-version": {"flow.header.version_unsupported": 3},
    "empty-and-tiny": {"flow.datagram.truncated": 2,
                       "ipfix.header.truncated": 2},
}


def malformed(rep, args, flows):
    mdir = os.path.join(flows, "malformed")
    rows = [(f, p) for f, p, d in
            cl.read_manifest(os.path.join(mdir, "manifest.tsv"))
            if not f.startswith("sflow-")]
    rep.equal("malformed: every flow case has expected reasons",
              sorted(f[:-5] for f, _ in rows), sorted(MALFORMED))
    for fn, port in rows:
        base = fn[:-5]
        run = cl.replay(args.peerscope, [os.path.join(mdir, fn)], WINDOW,
                        sets=cl.proto_sets("netflow", [port]))
        if not rep.check("malformed %s: exits 0, stats written" % base,
                         run.rc == 0 and run.stats is not None,
                         "" if run.rc == 0 else run.describe()):
            continue
        got = run.stats.get("decode_errors", {})
        want = MALFORMED.get(base, {})
        rep.equal("malformed %s: named reasons" % base,
                  {k: got.get(k) for k in want}, want)
        recs = sum(v["records"] for v in our_exporters(run).values())
        # the one file whose decoder_must allows records: set-length-past-end
        # keeps its template but the broken data set yields none
        rep.equal("malformed %s: no data records" % base, recs, 0)


def external(rep, args):
    ext = os.path.join(args.corpus, "external", "akvorado")
    if not os.path.isdir(ext):
        rep.skip("external/akvorado not found at %s (real-router NetFlow "
                 "checks not run)" % os.path.abspath(ext))
        return
    for line in open(os.path.join(ext, "manifest.tsv")):
        cols = line.rstrip("\n").split("\t")
        if line.startswith("stream") or len(cols) < 3 or \
                not cols[0].startswith("netflow_"):
            continue
        caps = [os.path.join(ext, c) for c in cols[2].split(" ")]
        truth = cl.load_json(os.path.join(ext, cols[0] + ".truth.json"))
        n = truth["netflow_ipfix"]
        ports = sorted({d[4] for c in caps for d in cl.read_pcap_udp(c)})
        sets = cl.proto_sets("ipfix", ports)
        run = cl.replay(args.peerscope, caps, WINDOW, sets=sets)
        oracle = fo.walk([(d[1], d[5]) for c in caps
                          for d in cl.read_pcap_udp(c)])
        if not rep.check("external %s: replay exits 0" % cols[0],
                         run.rc == 0,
                         "" if run.rc == 0 else run.describe()):
            continue
        ours = our_exporters(run)
        held = bool(n.get("undecodable_data_sets"))
        for ex in n["exporters"]:
            t = n["totals_by_exporter"][ex["exporter"]]
            dom = ex.get("source_id", ex.get("observation_domain_id"))
            if ex["version"] == 5:
                a, b = ex["engine_type/engine_id"].split("/")
                dom = int(a) << 8 | int(b)
            got = ours.get((ex["source_ip"], ex["version"], dom), {})
            tag = "external %s %s" % (cols[0], ex["exporter"])
            if held:
                # truth is one pass without holding; we hold and decode
                rep.check(tag + ": at least truth's records, held set "
                          "decoded", got.get("records", 0) >= t["records"]
                          and got.get("held_decoded", 0) >= 1,
                          "got %r, truth %r" % (got, t))
                continue
            rep.equal(tag + ": records, bytes, packets",
                      (got.get("records"), got.get("bytes"),
                       got.get("packets")),
                      (t["records"], t["bytes"], t["packets"]))
            rep.equal(tag + ": records with unknown rate",
                      got.get("unknown"), t["records_with_unknown_rate"])
            if any(fl["records_with_unknown_rate"] and
                   (fl["in_if"] or fl["out_if"]) for fl in n["flows"]
                   if fl["exporter"] == ex["exporter"]):
                # published at rate 1 and flagged on the connections too
                flagged = sum(
                    m[d]["samples"]["sampling_unknown_records"]
                    for m in run.of_type("connection_metrics")
                    for d in ("in", "out") if m[d]["samples"] is not None)
                rep.check(tag + ": connections flag the unknown rate",
                          flagged >= t["records_with_unknown_rate"],
                          "%d" % flagged)
                check_flow_blocks(rep, tag, run, None, ex["source_ip"])
            # per interface: which side a record counts on depends on IE
            # 61, which truth.json does not keep; the oracle does, and its
            # sums per (in, out) must match truth's before they are used
            o = oracle.exporters.get((ex["source_ip"], ex["version"], dom))
            rates, tflows = {}, {}
            for fl in n["flows"]:
                if fl["exporter"] != ex["exporter"]:
                    continue
                k = (fl["in_if"] or 0, fl["out_if"] or 0)  # None: absent
                tflows[k] = [fl["records"], fl["bytes"], fl["packets"]]
                r = fl["sampling_rates"]
                rates[k] = r[0] if len(r) == 1 and r[0] else 1
            coll = {}
            for (i, oo, _d), v in (o.by_if.items() if o else []):
                c = coll.setdefault((i, oo), [0, 0, 0])
                for x in range(3):
                    c[x] += v[x]
            if not rep.equal(tag + ": oracle per (in, out) agrees with truth",
                             coll, tflows):
                continue
            scaled = {k: [v[0], v[1] * rates[k[:2]], v[2]]
                      for k, v in o.by_if.items()}
            ins, outs = per_if_expect(scaled)
            conns = cl.conn_blocks(run.messages)
            for d, want in (("in", ins), ("out", outs)):
                for x, (recs, byts, _p) in sorted(want.items()):
                    blk = conns.get((ex["source_ip"], x), {}).get(
                        d, {}).get("samples", {})
                    rep.equal("%s: if%d %s records, scaled bytes"
                              % (tag, x, d), (blk.get("sample_count"),
                                              round(blk.get("bytes", -1))),
                              (recs, byts))


def overrides(rep, args, flows):
    """flow.sampling_default fills an unknown rate; _force beats the wire.

    A record's rate is its sampler's, the interface it was metered on (the
    input one unless IE 61 says egress); it then counts at that rate on
    both of its interfaces.
    """
    nf5 = os.path.join(flows, "fprobe-nf5-live.pcap")
    t5 = list(cl.load_json(nf5[:-5] + ".truth.json")["exporters"].values())[0]
    # fprobe -x 7:8: every record has input 7, output 8; v5 has no IE 61
    v = truth_by_if(t5)[(7, 8)]
    for sets, rate in ((["flow.sampling_default=127.0.0.1=100"], 100),
                       (["flow.sampling_default=127.0.0.1=100",
                         "flow.sampling_force=127.0.0.1/if7=7",
                         "flow.sampling_force=127.0.0.1/if8=3"], 7)):
        run = cl.replay(args.peerscope, [nf5], WINDOW,
                        sets=["listen.netflow=:2058"] + sets)
        tag = "overrides %s" % " ".join(sets)
        got = list(our_exporters(run).values())
        rep.equal(tag + ": no unknown rate left",
                  [(g["unknown"], g["rate_max"], g["records"]) for g in got],
                  [(0, rate, t5["flows"])])
        conns = cl.conn_blocks(run.messages)
        for ifx, d in ((7, "in"), (8, "out")):
            blk = conns.get(("127.0.0.1", ifx), {}).get(d, {}).get(
                "samples", {})
            rep.equal("%s: if%d %s scaled" % (tag, ifx, d),
                      (blk.get("sampled_bytes"), round(blk.get("bytes", -1)),
                       blk.get("sampling_rate")), (v[1], v[1] * rate, rate))
    nf9 = os.path.join(flows, "pmacctd-nf9-sampled10-live.pcap")
    for sets, want in ((["flow.sampling_default=127.0.0.1=100"], 10),
                       (["flow.sampling_force=127.0.0.1=50"], 50)):
        run = cl.replay(args.peerscope, [nf9], WINDOW,
                        sets=["listen.netflow=:2057"] + sets)
        got = [g["rate_max"] for g in our_exporters(run).values()]
        rep.equal("overrides: options rate 10 with %s" % sets[0], got,
                  [want])


def write_raw_pcap(path, datagrams, dport):
    """Classic pcap, LINKTYPE_RAW, IPv4/UDP from 127.0.0.1 (checksums 0)."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for i, (ts, payload) in enumerate(datagrams):
            udp = struct.pack(">HHHH", 40000, dport, 8 + len(payload), 0)
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), i,
                             0, 64, 17, 0, bytes([127, 0, 0, 1]),
                             bytes([127, 0, 0, 1]))
            frame = ip + udp + payload
            f.write(struct.pack("<IIII", int(ts), int((ts % 1) * 1e6),
                                len(frame), len(frame)))
            f.write(frame)


def held_aging(rep, args, flows):
    """A held data set whose template never comes is aged out, counted."""
    pcap = os.path.join(flows, "crafted", "ipfix-data-before-template.pcap")
    dgs = [(d[0], d[5]) for d in cl.read_pcap_udp(pcap) if d[4] == 4739]
    tmp = tempfile.mkdtemp(prefix="ps-ipfix-held-")
    try:
        path = os.path.join(tmp, "aging.pcap")
        # message 1 (data for 257, no template) twice, 61 s apart (> 60 s)
        t0 = dgs[0][0]
        write_raw_pcap(path, [(t0, dgs[0][1]), (t0 + 61, dgs[0][1])], 4739)
        run = cl.replay(args.peerscope, [path], WINDOW,
                        sets=["listen.ipfix=:4739"])
        got = list(our_exporters(run).values())
        rep.equal("held set never decodable: aged out and counted",
                  [(g["held"], g["held_decoded"], g["aged_out"],
                    g["records"]) for g in got], [(2, 0, 1, 0)])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def persistence(rep, args, flows):
    """Templates survive a restart through flow.state_file."""
    pcap = os.path.join(flows, "softflowd-nf9.pcap")
    dgs = [(d[0], d[5]) for d in cl.read_pcap_udp(pcap) if d[4] == 2055]
    tmp = tempfile.mkdtemp(prefix="ps-ipfix-state-")
    try:
        first = os.path.join(tmp, "first.pcap")
        rest = os.path.join(tmp, "rest.pcap")
        write_raw_pcap(first, dgs[:1], 2055)
        write_raw_pcap(rest, dgs[1:], 2055)
        whole = fo.walk([("127.0.0.1", p) for _, p in dgs])
        part1 = fo.walk([("127.0.0.1", p) for _, p in dgs[:1]])
        key = ("127.0.0.1", 9, 0)
        want = whole.exporters[key].records - part1.exporters[key].records
        state = ["listen.netflow=:2055",
                 "flow.state_file=" + os.path.join(tmp, "state")]
        cold = cl.replay(args.peerscope, [rest], WINDOW,
                         sets=state[:1], workers=1)
        rep.equal("state: without a state file, data after a restart has "
                  "no template", sum(v["records"] for v in
                                     our_exporters(cold).values()), 0)
        r1 = cl.replay(args.peerscope, [first], WINDOW, sets=state,
                       workers=1)
        rep.check("state: file written at shutdown", r1.rc == 0 and
                  os.path.exists(os.path.join(tmp, "state.0")),
                  "" if r1.rc == 0 else r1.describe())
        r2 = cl.replay(args.peerscope, [rest], WINDOW, sets=state,
                       workers=1)
        got = our_exporters(r2).get(key, {})
        rep.equal("state: after a restart the first data sets decode",
                  (got.get("records"), got.get("rate_max"),
                   got.get("reasons")), (want, 1, {}))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    flows = cl.corpus_flows(args)
    if flows is None:
        cl.skip_corpus_line(rep, args)
        rep.finish()
    schemas = None
    if ts is not None and ts.jsonschema is not None:
        schemas = ts.Schemas(rep, args.schemas)
        schemas.load_all()
    real_and_crafted(rep, args, flows, schemas)
    malformed(rep, args, flows)
    persistence(rep, args, flows)
    held_aging(rep, args, flows)
    overrides(rep, args, flows)
    external(rep, args)
    rep.finish()


if __name__ == "__main__":
    main()
