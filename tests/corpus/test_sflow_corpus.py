#!/usr/bin/env python3
"""sFlow captures of the shared corpus through `peerscope replay`, against
independent truth.

Truth, in order of authority:
  * crafted/X.expect.json (what the generator put in the file; wins where
    the corpus README says tshark is wrong);
  * X.truth.json (tshark 4.0.17, cross-checked by the corpus authors);
  * flows/input/traffic.truth.json (the traffic the exporters were fed);
  * corpus_lib.sflow_walk, a second sFlow decoder written from the spec,
    itself checked here against truth.json before it is relied on.
Nothing expected here is obtained by running peerscope.
"""
import math
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

BIG_WINDOW = 86400
FCS = 4  # pmacct's frame_length counts the Ethernet FCS


def agent_key(k):
    m = re.match(r"agent=(\S+) sub_agent=(\d+)$", k)
    return m.group(1), int(m.group(2))


def oracle(dgs):
    """Expected figures from the walked datagrams (capture order)."""
    conns = {}       # (agent, ifindex) -> {"in": {...}, "out": {...}}
    counters = {}    # (agent, ifindex) -> [(uptime_ms, generic)]
    agents = {}      # (agent, sub) -> {...}
    pool_state = {}  # (agent, sub, kind, source) -> (seq, pool)

    def blk(agent, ifx, d):
        c = conns.setdefault((agent, ifx), {"in": None, "out": None})
        if c[d] is None:
            c[d] = {"samples": 0, "frame_bytes": 0, "rate_packets": 0,
                    "rate_bytes": 0, "pool_packets": 0.0, "pool_bytes": 0.0,
                    "pool_weighted": 0, "rates": set()}
        return c[d]

    for _ts, _src, dg in dgs:
        a = agents.setdefault((dg["agent"], dg["sub_agent"]), {
            "datagrams": 0, "flow": 0, "counters": 0, "expanded": 0,
            "unknown_samples": 0, "flow_records": 0, "counter_records": 0,
            "flow_records_nonzero_ent": 0})
        a["datagrams"] += 1
        for s in dg["samples"]:
            if s["kind"] == "unknown":
                a["unknown_samples"] += 1
                continue
            a["expanded"] += s["expanded"]
            if s["kind"] == "counters":
                a["counters"] += 1
                a["counter_records"] += len(s["records"])
                for g in s["generic"]:
                    if g["ifIndex"] != 0:
                        counters.setdefault((dg["agent"], g["ifIndex"]),
                                            []).append((dg["uptime_ms"], g))
                        conns.setdefault((dg["agent"], g["ifIndex"]),
                                         {"in": None, "out": None})
                continue
            a["flow"] += 1
            a["flow_records"] += len(s["records"])
            a["flow_records_nonzero_ent"] += sum(
                1 for e, _f in s["records"] if e != 0)
            # weight: sample-pool delta over sequence delta of the previous
            # sample of the same source, when it is sound; else the rate
            key = (dg["agent"], dg["sub_agent"], "flow", s["source"])
            weight, pooled = float(s["rate"] or 1), False
            prev = pool_state.get(key)
            if prev is not None:
                dseq = (s["seq"] - prev[0]) & 0xFFFFFFFF
                dpool = (s["pool"] - prev[1]) & 0xFFFFFFFF
                if 0 < dseq < 0x80000000 and s["pool"] != 0 and dpool >= dseq:
                    weight, pooled = dpool / dseq, True
            if prev is None or 0 < ((s["seq"] - prev[0]) & 0xFFFFFFFF) < 0x80000000:
                pool_state[key] = (s["seq"], s["pool"])
            flen = s["frame_length"] or 0
            for d, ifv in (("in", s["input"]), ("out", s["output"])):
                if not cl.is_connection_if(ifv):
                    continue
                b = blk(dg["agent"], ifv[1], d)
                b["samples"] += 1
                b["frame_bytes"] += flen
                b["rate_packets"] += s["rate"]
                b["rate_bytes"] += s["rate"] * flen
                b["pool_packets"] += weight
                b["pool_bytes"] += weight * flen
                b["pool_weighted"] += pooled
                b["rates"].add(s["rate"])
    return conns, counters, agents


def check_oracle(rep, name, dgs, truth, expect):
    """The walker must agree with tshark where tshark is trustworthy."""
    conns, counters, agents = oracle(dgs)
    tshark_ok = truth.get("frames_tshark_malformed", 0) == 0
    for k, ta in truth["agents"].items():
        ak = agent_key(k)
        a = agents.get(ak)
        if not rep.check("%s oracle: agent %s present" % (name, k), a is not None):
            continue
        rep.equal("%s oracle: %s datagrams" % (name, k), a["datagrams"],
                  ta["datagrams"])
        if not tshark_ok:
            continue
        rep.equal("%s oracle: %s flow samples" % (name, k), a["flow"],
                  ta["flow_samples"])
        rep.equal("%s oracle: %s counter samples" % (name, k), a["counters"],
                  ta["counter_samples"])
        byif = {}
        for _ts, _src, dg in dgs:
            if (dg["agent"], dg["sub_agent"]) != ak:
                continue
            for s in dg["samples"]:
                if s["kind"] != "flow":
                    continue
                kk = "in=%d out=%d" % (s["input"][1], s["output"][1])
                e = byif.setdefault(kk, [0, 0])
                e[0] += 1
                e[1] += s["rate"] * (s["frame_length"] or 0)
        want = {kk: [v["samples"], v["est_bytes"]]
                for kk, v in ta["by_interface"].items()}
        rep.equal("%s oracle: %s by_interface [samples, est_bytes]" % (name, k),
                  byif, want)
        for ifx, tc in ta.get("counters_by_ifindex", {}).items():
            snaps = counters.get((ak[0], int(ifx)), [])
            last = snaps[-1][1] if snaps else {}
            rep.equal("%s oracle: %s ifIndex %s counter records/last values"
                      % (name, k, ifx),
                      [len(snaps), last.get("ifInOctets"),
                       last.get("ifInUcastPkts"), last.get("ifOutOctets"),
                       last.get("ifOutUcastPkts"), last.get("ifSpeed")],
                      [tc["records"], tc["last_ifinoct"], tc["last_ifinpkt"],
                       tc["last_ifoutoct"], tc["last_ifoutpkt"],
                       tc["last_ifspeed"]])
    if expect:
        ex = expect["expected"]
        tot_flow = sum(a["flow"] for a in agents.values())
        tot_ctr = sum(a["counters"] for a in agents.values())
        rep.equal("%s oracle: expect.json flow/counter samples" % name,
                  [tot_flow, tot_ctr], [ex["flow_samples"], ex["counter_samples"]])
        if "unknown_samples_skipped" in ex:
            rep.equal("%s oracle: expect.json unknown samples" % name,
                      sum(a["unknown_samples"] for a in agents.values()),
                      ex["unknown_samples_skipped"])
        rp = sum(b["rate_packets"] for c in conns.values()
                 for b in (c["in"],) if b)
        rb = sum(b["rate_bytes"] for c in conns.values()
                 for b in (c["in"],) if b)
        rep.equal("%s oracle: expect.json est_packets/est_bytes (ingress side)"
                  % name, [rp, rb], [ex["est_packets"], ex["est_bytes"]])
        if "frame_lengths" in ex:
            fl = [s["frame_length"] for _t, _s, dg in dgs
                  for s in dg["samples"] if s["kind"] == "flow"]
            rep.equal("%s oracle: expect.json frame lengths" % name, fl,
                      ex["frame_lengths"])
        if "generic_counters" in ex:
            g = ex["generic_counters"]
            snaps = [sn for (ag, ifx), v in counters.items()
                     if ifx == g["ifIndex"] for sn in v]
            ok = bool(snaps) and all(snaps[-1][1][f] == v for f, v in g.items())
            rep.check("%s oracle: expect.json generic counters %r" % (name, g), ok)
    return conns, counters, agents


def check_health(rep, name, run, truth, expect, agents):
    msgs = run.messages
    for k, ta in truth["agents"].items():
        ak = agent_key(k)
        oa = agents[ak]
        h = cl.health_sums(msgs, ak[0], ak[1])
        tag = "%s health %s" % (name, k)
        if not rep.check(tag + ": messages present", h["messages"] > 0,
                         "no exporter_health for this agent"):
            continue
        rep.equal(tag + ": datagrams (truth)", h.get("datagrams"), ta["datagrams"])
        ex = (expect or {}).get("expected", {})
        rep.equal(tag + ": flow samples (%s)" % ("expect" if ex else "truth"),
                  h.get("samples.flow"), ex.get("flow_samples", ta["flow_samples"]))
        rep.equal(tag + ": counter samples (%s)" % ("expect" if ex else "truth"),
                  h.get("samples.counters"),
                  ex.get("counter_samples", ta["counter_samples"]))
        n_exp = sum(v for t, v in ta["sample_types"].items()
                    if t.startswith("0:3 ") or t.startswith("0:4 "))
        rep.equal(tag + ": expanded samples (truth sample_types)",
                  h.get("samples.expanded"), n_exp)
        if truth.get("frames_tshark_malformed", 0) == 0:
            rep.equal(tag + ": flow records (truth flow_record_types)",
                      h.get("records.flow"),
                      sum(ta["flow_record_types"].values()))
            rep.equal(tag + ": counter records (truth counter_record_types)",
                      h.get("records.counters"),
                      sum(ta["counter_record_types"].values()))
        else:
            rep.equal(tag + ": flow/counter records (walker)",
                      [h.get("records.flow"), h.get("records.counters")],
                      [oa["flow_records"], oa["counter_records"]])
        rep.equal(tag + ": datagrams_rejected", h.get("datagrams_rejected"), 0)
        seq = {kk: h.get(kk) for kk in sorted(h) if kk.startswith("sequence.")}
        rep.check(tag + ": sequence lost/reordered/duplicates/restarts all 0",
                  seq and all(v == 0 for v in seq.values()), repr(seq))
        rep.equal(tag + ": decode truncated+invalid",
                  [h.get("decode.truncated"), h.get("decode.invalid")], [0, 0])
        reasons = h["decode_reasons"]
        if "unknown_records_skipped" in ex:
            rep.equal(tag + ": unknown samples skipped (expect)",
                      reasons.get("sflow.sample.unsupported", 0),
                      ex["unknown_samples_skipped"])
            rep.equal(tag + ": unknown records skipped (expect)",
                      reasons.get("sflow.flow_record.unsupported", 0) +
                      reasons.get("sflow.counter_record.unsupported", 0),
                      ex["unknown_records_skipped"])
        else:
            # tshark shows pmacct's 43874:2 as "10:?(Unknown enterprise ...)"
            unk = sum(v for t, v in ta["flow_record_types"].items()
                      if not t.startswith("0:"))
            want = {"sflow.flow_record.unsupported": unk} if unk else {}
            rep.equal(tag + ": decode reasons (unknown-enterprise records, truth)",
                      reasons, want)


def check_connections(rep, name, run, conns, rate_exact, what=""):
    got = cl.conn_blocks(run.messages)
    tag0 = "%s%s" % (name, what)
    rep.equal(tag0 + ": connection set (walker: real ifIndex in samples/counters)",
              sorted(got), sorted(conns))
    for key, exp in sorted(conns.items()):
        g = got.get(key)
        if g is None:
            continue
        for d in ("in", "out"):
            e = exp[d]
            s = g[d].get("samples")
            tag = "%s %s/if%d %s samples" % (tag0, key[0], key[1], d)
            if e is None:
                rep.check(tag + ": none", s is None, repr(s))
                continue
            if not rep.check(tag + ": present", s is not None):
                continue
            rep.equal(tag + ": sample_count", s.get("sample_count"), e["samples"])
            rep.equal(tag + ": sampled_bytes (sum of frame_length)",
                      s.get("sampled_bytes"), e["frame_bytes"])
            rep.equal(tag + ": sampling_rate max/min",
                      [s.get("sampling_rate"), s.get("sampling_rate_min")],
                      [max(e["rates"]), min(e["rates"])])
            if what:
                continue  # estimates are checked on the one-window run
            if rate_exact:
                rep.equal(tag + ": est packets/bytes = sum(rate) / sum(rate*frame)",
                          [s.get("packets"), s.get("bytes")],
                          [e["rate_packets"], e["rate_bytes"]])
            pp, pb = e["pool_packets"], e["pool_bytes"]
            rep.check(tag + ": est packets/bytes = pool-weighted oracle",
                      abs(s.get("packets", -9) - pp) <= 1 and
                      abs(s.get("bytes", -9) - pb) <= 1,
                      "got %s/%s, want %.2f/%.2f" % (s.get("packets"),
                                                     s.get("bytes"), pp, pb))
            rep.equal(tag + ": pool_weighted_samples (oracle)",
                      s.get("pool_weighted_samples"), e["pool_weighted"])
            if g["messages"] == 1:
                want = round(196.0 / math.sqrt(e["samples"]), 2)
                rep.check(tag + ": error_pct_95 = 196/sqrt(samples)",
                          abs(s.get("error_pct_95", -1) - want) <= 0.011,
                          "got %s, want %s" % (s.get("error_pct_95"), want))
    return got


def check_counters(rep, name, run, counters, what=""):
    got = cl.conn_blocks(run.messages)
    for key, snaps in sorted(counters.items()):
        g = got.get(key, {"in": {}, "out": {}, "counter_samples": 0, "last": None})
        tag = "%s%s %s/if%d counters" % (name, what, key[0], key[1])
        rep.equal(tag + ": counter_samples (generic records for the ifIndex)",
                  g["counter_samples"], len(snaps))
        first, last = snaps[0][1], snaps[-1][1]
        if len(snaps) < 2:
            rep.check(tag + ": no delta from a single snapshot",
                      "counters" not in g["in"] and "counters" not in g["out"])
            continue
        span = (snaps[-1][0] - snaps[0][0]) / 1000.0

        def d(f):
            return last[f] - first[f]
        want = {
            "in": [d("ifInOctets"), d("ifInUcastPkts") + d("ifInMulticastPkts") +
                   d("ifInBroadcastPkts"), d("ifInErrors"), d("ifInDiscards"), span],
            "out": [d("ifOutOctets"), d("ifOutUcastPkts") +
                    d("ifOutMulticastPkts") + d("ifOutBroadcastPkts"),
                    d("ifOutErrors"), d("ifOutDiscards"), span],
        }
        for dr in ("in", "out"):
            c = g[dr].get("counters")
            have = None if c is None else [c.get("bytes"), c.get("packets"),
                                           c.get("errors"), c.get("discards"),
                                           round(c.get("interval_seconds", 0), 3)]
            rep.equal(tag + " %s: sum of deltas [bytes, packets, errors, discards,"
                      " interval_s] = last - first snapshot" % dr, have, want[dr])
        if not what and g["last"] is not None:
            m = g["last"]
            st = last["ifStatus"]
            rep.equal(tag + ": capacity_bps = ifSpeed (truth last_ifspeed)",
                      m.get("capacity_bps"), last["ifSpeed"])
            rep.equal(tag + ": admin/oper status from ifStatus",
                      [m.get("admin_status"), m.get("oper_status")],
                      ["up" if st & 1 else "down", "up" if st & 2 else "down"])


def check_vs_input(rep, name, run, flows_dir):
    """Rate-10 estimates against the traffic the exporter was fed."""
    it = cl.load_json(os.path.join(flows_dir, "input", "traffic.truth.json"))
    dirs = it["totals_by"]["direction"]
    # pmacct's pre_tag_map: ifIndex 10 = uplink (to/from the gateway MAC),
    # 100 = VLAN 100 (the internal traffic); README and the rate-1 truth agree
    plan = [((10, "in"), "inbound(from gateway mac)"),
            ((10, "out"), "outbound(to gateway mac)"),
            ((100, "in"), "internal")]
    got = cl.conn_blocks(run.messages)
    tot = {"p": 0, "b": 0, "n": 0}
    for (ifx, d), tk in plan:
        tp = dirs[tk]["packets"]
        tb = dirs[tk]["l2_bytes"] + FCS * tp
        g = [v for (r, i), v in got.items() if i == ifx]
        s = g[0][d].get("samples") if g else None
        tag = "%s if%d %s vs input truth (%s: %d pkts, %d bytes incl. FCS)" % (
            name, ifx, d, tk, tp, tb)
        if not rep.check(tag + ": block present", s is not None):
            continue
        err = s["error_pct_95"]
        for what, est, true in (("packets", s["packets"], tp),
                                ("bytes", s["bytes"], tb)):
            dev = 100.0 * abs(est - true) / true
            rep.check(tag + ": %s within error_pct_95" % what, dev <= err,
                      "est %d, true %d, deviation %.2f%% vs error_pct_95 %.2f%%"
                      % (est, true, dev, err))
        tot["p"] += s["packets"]
        tot["b"] += s["bytes"]
        tot["n"] += s["sample_count"]
    if tot["n"]:
        tp = it["totals"]["packets"]
        tb = it["totals"]["l2_bytes"] + FCS * tp
        err = 196.0 / math.sqrt(tot["n"])
        for what, est, true in (("packets", tot["p"], tp), ("bytes", tot["b"], tb)):
            dev = 100.0 * abs(est - true) / true
            rep.check("%s total %s vs input truth (2038 pkts, 1,476,139 B + FCS)"
                      % (name, what), dev <= err,
                      "est %d, true %d, deviation %.2f%% vs error %.2f%% (%d samples)"
                      % (est, true, dev, err, tot["n"]))


def check_same_output(rep, name, peerscope, pcap, sets, tmpdir):
    base = cl.replay(peerscope, [pcap], BIG_WINDOW, workers=2, sets=sets)
    one = cl.replay(peerscope, [pcap], BIG_WINDOW, workers=1, sets=sets)
    gz = cl.replay(peerscope, [cl.gzip_copy(pcap, tmpdir)], BIG_WINDOW,
                   workers=2, sets=sets)
    rep.check("%s: --workers 1 and --workers 2 give identical output" % name,
              one.rc == 0 and base.stdout == one.stdout and base.stdout != "",
              "%d vs %d bytes" % (len(one.stdout), len(base.stdout)))
    rep.check("%s: gzip copy gives identical output" % name,
              gz.rc == 0 and base.stdout == gz.stdout,
              "%d vs %d bytes" % (len(gz.stdout), len(base.stdout)))


def run_capture(rep, args, flows, pcap, port, tmpdir):
    name = os.path.relpath(pcap, flows)
    stem = pcap[:-len(".pcap")]
    truth = cl.load_json(stem + ".truth.json")
    expect = cl.load_json(stem + ".expect.json") \
        if os.path.exists(stem + ".expect.json") else None
    try:
        dgs = cl.sflow_datagrams(pcap, port)
    except cl.Short:
        rep.check("%s oracle: walker decodes every datagram" % name, False)
        return
    conns, counters, agents = check_oracle(rep, name, dgs, truth, expect)
    sets = cl.listen_sets(port)
    run = cl.replay(args.peerscope, [pcap], BIG_WINDOW, sets=sets)
    rep.check("%s: replay exits 0 with stats" % name,
              run.rc == 0 and run.stats is not None and not run.bad_lines,
              "" if run.rc == 0 else run.describe())
    if run.stats is None:
        return
    rep.equal("%s: stats datagrams = UDP datagrams on port %d" % (name, port),
              run.stats.get("datagrams"), len(dgs))
    check_health(rep, name, run, truth, expect, agents)
    rates = {r for c in conns.values() for b in (c["in"], c["out"]) if b
             for r in b["rates"]}
    check_connections(rep, name, run, conns, rate_exact=(rates == {1}))
    check_counters(rep, name, run, counters)
    if rates == {10}:
        check_vs_input(rep, name, run, flows)
    # the same through 60 s windows: exact figures sum up across windows
    run60 = cl.replay(args.peerscope, [pcap], 60, sets=sets)
    if rep.check("%s --window 60: replay exits 0" % name, run60.rc == 0,
                 "" if run60.rc == 0 else run60.describe()):
        check_connections(rep, name, run60, conns, False, what=" --window 60")
        check_counters(rep, name, run60, counters, what=" --window 60")
        h = cl.health_sums(run60.messages)
        rep.equal("%s --window 60: health datagrams summed over windows" % name,
                  h.get("datagrams"), len(dgs))
    check_same_output(rep, name, args.peerscope, pcap, sets, tmpdir)


def data_checks(rep, args, tmpdir):
    """tests/data: one capture in four containers must replay identically."""
    names = ["ipfix-ipv6transport.pcap.gz", "ipfix-ipv6transport.pcapng",
             "ipfix-ipv6transport-nsec.pcap", "ipfix-ipv6transport-nsec.pcapng.gz"]
    files = [os.path.join(args.data, n) for n in names]
    files = [f for f in files if os.path.exists(f)]
    if len(files) < 2:
        rep.skip("tests/data copies of ipfix-ipv6transport not found in %s" % args.data)
        return
    # decoded as sFlow on purpose: 8 IPFIX datagrams, each must be rejected
    # as an unsupported version, identically whatever the container
    sets = cl.listen_sets(4739)
    runs = [cl.replay(args.peerscope, [f], BIG_WINDOW, sets=sets) for f in files]
    for f, r in zip(files, runs):
        rep.check("data %s: replay exits 0" % os.path.basename(f), r.rc == 0,
                  "" if r.rc == 0 else r.describe())
        st = r.stats or {}
        rep.equal("data %s: 8 datagrams, all sflow.header.version_unsupported"
                  % os.path.basename(f),
                  [st.get("datagrams"), st.get("decode_errors")],
                  [8, {"sflow.header.version_unsupported": 8}])
    rep.check("data: identical output from all containers",
              all(r.stdout == runs[0].stdout for r in runs),
              "sizes %r" % [len(r.stdout) for r in runs])


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    tmpdir = tempfile.mkdtemp(prefix="ps-sflow-corpus-")
    try:
        data_checks(rep, args, tmpdir)
        flows = cl.corpus_flows(args)
        if flows is None:
            cl.skip_corpus_line(rep, args)
        else:
            caps = []
            for fn, port, dis in cl.read_manifest(
                    os.path.join(flows, "tools", "manifest.tsv")):
                if dis == "sflow" and fn.startswith("pmacctd-sflow-"):
                    caps.append((os.path.join(flows, fn), port))
            for fn, port, dis in cl.read_manifest(
                    os.path.join(flows, "crafted", "manifest.tsv")):
                if dis == "sflow" and fn.startswith("sflow-"):
                    caps.append((os.path.join(flows, "crafted", fn), port))
            rep.check("corpus: sFlow captures listed", len(caps) >= 6,
                      "%d captures" % len(caps))
            for pcap, port in caps:
                run_capture(rep, args, flows, pcap, port, tmpdir)
    finally:
        import shutil
        shutil.rmtree(tmpdir, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
