#!/usr/bin/env python3
"""Malformed sFlow datagrams of the shared corpus through `peerscope replay`.

Truth: corpus/flows/malformed/X.expect.json ("defect", "decoder_must",
"datagrams", "udp_payload_lengths"), read with the reason names of
include/peerscope/reasons_sflow.def.  Where a defect sits in the datagram
header, the expected reason is derived from the payload bytes themselves
(corpus_lib.sflow_header_verdict), never from peerscope's output.

Every replay must exit 0, finish (no loop), and honour decoder_must.
A datagram whose header is not valid whole names no exporter: it is
counted under its source (--stats `unrecognised_sources`), never as an
exporter, so exporter_health and that list together account for every
datagram and every decode reason.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REASONS_DEF = os.path.join(HERE, "..", "..", "include", "peerscope",
                           "reasons_sflow.def")
TIMEOUT = 60

HDR_REASON = {
    "truncated": "sflow.header.truncated",
    "version": "sflow.header.version_unsupported",
    "agent_af": "sflow.header.agent_address_type_invalid",
}

# Per file, from its expect.json "defect" / "decoder_must":
#   reasons     {name: count} that must be counted exactly
#   one_of      [(names, count)]: the counts of these names must add up to
#               count (where the defect can honestly be named either way)
#   rejected    datagrams_rejected (summed over exporter_health) plus the
#               datagrams of no exporter, when decoder_must says the whole
#               datagram(s) must be rejected
#   max_flow    flow samples that may be decoded at most
#   either      for "may reject the datagram": [(rejected, flow samples)]
SFLOW_CASES = {
    "sflow-bad-address-type": {
        # "agent address type 7 ...; version 4 datagram" -> "reject both"
        "reasons": {"sflow.header.agent_address_type_invalid": 1,
                    "sflow.header.version_unsupported": 1},
        "rejected": 2, "max_flow": 0},
    "sflow-header-length-gt-record": {
        # raw header record with header_length 1000 -> "reject the record"
        "reasons": {"sflow.raw_header.length_invalid": 1}},
    "sflow-numsamples-too-large": {
        # "decode at most the 1 present sample or reject the datagram"
        "one_of": [(("sflow.header.num_samples_invalid",
                     "sflow.datagram.samples_missing"), 1)],
        "max_flow": 1},
    "sflow-record-length-past-end": {
        # flow record length 5000 in a 60-byte sample -> "reject the sample"
        "reasons": {"sflow.record.length_invalid": 1}, "max_flow": 0},
    "sflow-sample-length-past-end": {
        # flow sample length 0x7ffffff0 -> "reject"
        "reasons": {"sflow.sample.length_invalid": 1},
        "rejected": 1, "max_flow": 0},
    "sflow-sample-length-zero": {
        # zero-length sample then a good one: "must not loop forever; may
        # reject the datagram".  An empty flow sample is too short for its
        # fixed fields: truncated or invalid length, either name is honest.
        "one_of": [(("sflow.sample.truncated",
                     "sflow.sample.length_invalid"), 1)],
        "either": [(1, 0), (0, 1)]},
    "sflow-truncated": {
        # cut at 12 bytes (inside the header) and 40 bytes (inside the first
        # sample, whose length word says 184) -> "reject both"
        "reasons": {"sflow.header.truncated": 1},
        "one_of": [(("sflow.sample.length_invalid", "sflow.sample.truncated",
                     "sflow.datagram.samples_missing"), 1)],
        "rejected": 2, "max_flow": 0},
}


def defined_reasons():
    try:
        with open(REASONS_DEF) as f:
            return set(re.findall(r'"(sflow\.[a-z0-9_.]+)"', f.read()))
    except OSError:
        return None


def flow_header_verdict(payload):
    """Reason the IPFIX/NetFlow decoder must give a datagram whose header
    is bad: the version (2 bytes) picks the header length, RFC 7011 §3.1
    (v10, 16 bytes), RFC 3954 §5.1 (v9, 20 bytes), Cisco's v5 (24 bytes);
    reason names from include/peerscope/reasons_ipfix.def and
    reasons_netflow5.def."""
    if len(payload) < 2:
        return "flow.datagram.truncated"
    version = (payload[0] << 8) | payload[1]
    need = {10: (16, "ipfix.header.truncated"),
            9: (20, "ipfix.header.truncated"),
            5: (24, "netflow5.header.truncated")}.get(version)
    if need is None:
        return "flow.header.version_unsupported"
    assert len(payload) < need[0], "header is complete: not a header defect"
    return need[1]


def check_run(rep, tag, run, expect, case, n_datagrams):
    ok = rep.check(tag + ": exits 0 in time, stats written, JSON lines parse",
                   run.rc == 0 and run.stats is not None and not run.bad_lines,
                   "" if run.rc == 0 else run.describe())
    if not ok or run.stats is None:
        return
    st = run.stats
    errs = st.get("decode_errors", {})
    rep.equal(tag + ": stats datagrams = expect.json datagrams",
              st.get("datagrams"), n_datagrams)
    for name, n in case.get("reasons", {}).items():
        rep.equal(tag + ": decode_errors[%s]" % name, errs.get(name, 0), n)
    for names, n in case.get("one_of", []):
        got = {k: errs[k] for k in names if k in errs}
        rep.check(tag + ": one of %s counted %d time(s)" % ("/".join(names), n),
                  sum(got.values()) == n, "got %r" % got)
    h = cl.health_sums(run.messages)
    junk = cl.junk_sums(run)
    rep.equal(tag + ": exporter_health + unrecognised datagrams",
              h.get("datagrams", 0) + junk["datagrams"], n_datagrams)
    # their decode reasons must add up to the run's decode_errors
    reasons = dict(h["decode_reasons"])
    for k, v in junk["reasons"].items():
        reasons[k] = reasons.get(k, 0) + v
    rep.equal(tag + ": exporter_health + unrecognised reasons = stats "
              "decode_errors", reasons, errs)
    # a header defect (the byte-level oracle) never makes an exporter
    rep.check(tag + ": header defects counted per source, not as exporters",
              junk["datagrams"] >= case.get("header_defects", 0),
              "got %d, %d header defects" % (junk["datagrams"],
                                             case.get("header_defects", 0)))
    flow = h.get("samples.flow", 0)
    if "rejected" in case:
        rep.equal(tag + ": datagrams_rejected (decoder_must: %s)"
                  % expect["decoder_must"],
                  h.get("datagrams_rejected", 0) + junk["datagrams"],
                  case["rejected"])
    if "max_flow" in case:
        rep.check(tag + ": at most %d flow sample(s) decoded" % case["max_flow"],
                  flow <= case["max_flow"], "got %d" % flow)
        if case["max_flow"] == 0:
            rep.equal(tag + ": no connection_metrics", len(run.of_type(
                "connection_metrics")), 0)
    if "either" in case:
        got = (h.get("datagrams_rejected", 0) + junk["datagrams"], flow)
        rep.check(tag + ": (datagrams_rejected, flow samples) in %r"
                  % case["either"], got in case["either"], "got %r" % (got,))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    flows = cl.corpus_flows(args)
    if flows is None:
        cl.skip_corpus_line(rep, args)
        rep.finish()
    mdir = os.path.join(flows, "malformed")
    names = defined_reasons()
    if names is None:
        rep.skip("%s not found: reason vocabulary not checked" % REASONS_DEF)
    else:
        used = set(HDR_REASON.values())
        for c in SFLOW_CASES.values():
            used |= set(c.get("reasons", {}))
            for ns, _n in c.get("one_of", []):
                used |= set(ns)
        rep.check("every reason name this test expects is in reasons_sflow.def",
                  used <= names, "missing: %r" % sorted(used - names))

    manifest = cl.read_manifest(os.path.join(mdir, "manifest.tsv"))
    sflow_files = [(f, p) for f, p, d in manifest if f.startswith("sflow-")]
    rep.check("malformed: sflow-*.pcap all have a case in this test",
              sorted(f[:-5] for f, _p in sflow_files) == sorted(SFLOW_CASES),
              "%r" % sorted(f for f, _p in sflow_files))

    for fn, port in sflow_files:
        stem = os.path.join(mdir, fn[:-len(".pcap")])
        expect = cl.load_json(stem + ".expect.json")
        case = SFLOW_CASES.get(os.path.basename(stem))
        if case is None:
            continue
        udp = [d for d in cl.read_pcap_udp(stem + ".pcap") if d[4] == port]
        rep.equal("%s: capture holds expect.json's payload lengths" % fn,
                  [len(d[5]) for d in udp], expect["udp_payload_lengths"])
        run = cl.replay(args.peerscope, [stem + ".pcap"], 86400,
                        sets=cl.listen_sets(port), timeout=TIMEOUT)
        case = dict(case, header_defects=sum(
            1 for d in udp if cl.sflow_header_verdict(d[5]) is not None))
        check_run(rep, fn, run, expect, case, expect["datagrams"])

    # Not on the sFlow port: with the default configuration 4739 and 2055
    # are the IPFIX and NetFlow listeners, so the flow decoder rejects them
    # by their header; then as sFlow on their own port.  Expected reasons
    # come from the bytes (flow_header_verdict), never from our output.
    for base, port in (("empty-and-tiny", 4739), ("flow-bad-version", 2055)):
        stem = os.path.join(mdir, base)
        expect = cl.load_json(stem + ".expect.json")
        udp = [d for d in cl.read_pcap_udp(stem + ".pcap") if d[4] == port]
        rep.equal("%s: capture holds expect.json's payload lengths" % base,
                  [len(d[5]) for d in udp], expect["udp_payload_lengths"])
        run = cl.replay(args.peerscope, [stem + ".pcap"], 86400, timeout=TIMEOUT)
        tag = "%s (default config)" % base
        if rep.check(tag + ": exits 0, stats written",
                     run.rc == 0 and run.stats is not None,
                     "" if run.rc == 0 else run.describe()):
            want = {}
            for d in udp:
                v = flow_header_verdict(d[5])
                want[v] = want.get(v, 0) + 1
            rep.equal(tag + ": decode_errors (flow header oracle)",
                      run.stats.get("decode_errors"), want)
            # every payload has a bad flow header: no exporter at all,
            # every datagram counted under its source
            rep.equal(tag + ": no message (no exporter from a bad header)",
                      len(run.messages), 0)
            rep.equal(tag + ": every datagram unrecognised, per source",
                      (cl.junk_sums(run)["datagrams"],
                       cl.junk_sums(run)["sources"]),
                      (expect["datagrams"], 1))
        reasons = {}
        for d in udp:
            v = cl.sflow_header_verdict(d[5])
            if v is not None:
                reasons[HDR_REASON[v]] = reasons.get(HDR_REASON[v], 0) + 1
        case = {"reasons": reasons, "rejected": expect["datagrams"],
                "max_flow": 0, "header_defects": sum(reasons.values())}
        rep.check("%s: every payload has a header defect (oracle)" % base,
                  sum(reasons.values()) == expect["datagrams"], repr(reasons))
        sets = cl.listen_sets(port)
        run = cl.replay(args.peerscope, [stem + ".pcap"], 86400, sets=sets,
                        timeout=TIMEOUT)
        check_run(rep, "%s (--set %s)" % (base, sets[0]), run, expect, case,
                  expect["datagrams"])

    # Robustness: the NetFlow/IPFIX malformed files fed to the sFlow decoder
    # on their own port: no crash, every datagram rejected by its header.
    for fn, port in [(f, p) for f, p, d in manifest
                     if not f.startswith("sflow-") and
                     f[:-5] not in ("empty-and-tiny", "flow-bad-version")]:
        stem = os.path.join(mdir, fn[:-len(".pcap")])
        expect = cl.load_json(stem + ".expect.json")
        udp = [d for d in cl.read_pcap_udp(stem + ".pcap") if d[4] == port]
        reasons = {}
        for d in udp:
            v = cl.sflow_header_verdict(d[5])
            if v is not None:
                reasons[HDR_REASON[v]] = reasons.get(HDR_REASON[v], 0) + 1
        case = {"reasons": reasons, "rejected": sum(reasons.values()),
                "max_flow": 0, "header_defects": sum(reasons.values())}
        sets = cl.listen_sets(port)
        run = cl.replay(args.peerscope, [stem + ".pcap"], 86400, sets=sets,
                        timeout=TIMEOUT)
        check_run(rep, "%s as sFlow (--set %s)" % (fn, sets[0]), run, expect,
                  case, len(udp))
    rep.finish()


if __name__ == "__main__":
    main()
