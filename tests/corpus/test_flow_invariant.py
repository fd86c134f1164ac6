#!/usr/bin/env python3
"""Nothing decoded goes missing: over the whole corpus, for every exporter
and window, decoded = attributed + unattributed (records, bytes, packets).

Replays every capture of the shared corpus (flows/: real exporters,
crafted/, malformed/; external/akvorado: real routers' NetFlow, IPFIX and
sFlow) and the project's own tests/data captures, each on the port its
manifest names, with 10-second windows so that most captures span several,
and checks each exporter_health message:
  * traffic: decoded = attributed + unattributed, and unattributed = the
    sum of its reasons (records, bytes, packets);
  * the traffic figures are the decoder's own counts: sFlow records = flow
    + discard samples; IPFIX/NetFlow records = data records and bytes =
    octets + RFC 5103 reverse octets.
Then, over the whole replay, against truth computed without peerscope
(flow_oracle.py, the sFlow walker of corpus_lib.py, both checked against
tshark by the corpus tests): records and bytes decoded per exporter, and
unattributed records and bytes: those whose input and output interfaces
both name no connection (0, absent, or sFlow's 0x3FFFFFFF "internal").
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
import flow_oracle as fo  # noqa: E402

WINDOW = 10
KEYS = ("records", "bytes", "packets")


def captures(args, flows):
    """[(label, [paths], proto, [ports], truth_kind)]: every flow capture."""
    out = []
    for sub, kind in (("tools", "real"), ("crafted", "crafted"),
                      ("malformed", "malformed")):
        folder = flows if sub == "tools" else os.path.join(flows, sub)
        for fn, port, diss in cl.read_manifest(
                os.path.join(flows, sub, "manifest.tsv")):
            proto = "sflow" if diss == "sflow" else "ipfix"
            out.append(("%s/%s" % (sub, fn), [os.path.join(folder, fn)],
                        proto, [port], kind))
    ext = os.path.join(args.corpus, "external", "akvorado")
    if os.path.isdir(ext):
        for line in open(os.path.join(ext, "manifest.tsv")):
            cols = line.rstrip("\n").split("\t")
            if line.startswith("stream") or len(cols) < 3 or \
                    cols[1] == "bmp":
                continue
            caps = [os.path.join(ext, c) for c in cols[2].split(" ")]
            ports = sorted({d[4] for c in caps for d in cl.read_pcap_udp(c)})
            proto = "sflow" if cols[1].startswith("sflow") else "ipfix"
            out.append(("external/" + cols[0], caps, proto, ports, "real"))
    for fn, proto, port in (("demo-sflow.pcap.gz", "sflow", 6343),
                            ("ipfix-ipv6transport.pcap.gz", "ipfix", 4739),
                            ("ipfix-ipv6transport-nsec.pcap", "ipfix", 4739)):
        path = os.path.join(args.data, fn)
        if os.path.exists(path):
            out.append(("data/" + fn, [path], proto, [port], "real"))
    return out


def sum_counts(obj):
    return tuple(obj[k] for k in KEYS)


def check_messages(rep, label, run):
    """The per-exporter, per-window invariant; returns run totals."""
    bad, checked = [], 0
    tot = {}
    for m in run.of_type("exporter_health"):
        t = m["traffic"]
        where = "%s %s" % (m["exporter_id"], m["window"]["start"])
        dec, att, un = (sum_counts(t["decoded"]), sum_counts(t["attributed"]),
                        sum_counts(t["unattributed"]))
        checked += 1
        if tuple(a + u for a, u in zip(att, un)) != dec:
            bad.append((where, "decoded", dec, "attributed", att,
                        "unattributed", un))
        by_reason = [0, 0, 0]
        for r in t["unattributed"]["reasons"].values():
            by_reason = [x + y for x, y in zip(by_reason, sum_counts(r))]
        if tuple(by_reason) != un:
            bad.append((where, "reasons", by_reason, "unattributed", un))
        f = m["flow"]
        if f is None:
            own = m["samples"]["flow"] + m["samples"]["discard"]
            if own != dec[0]:
                bad.append((where, "samples", own, "decoded", dec[0]))
        elif (f["data_records"], f["bytes"] + f["reverse_bytes"],
              f["packets"] + f["reverse_packets"]) != dec:
            bad.append((where, "flow block", f["data_records"], f["bytes"],
                        "decoded", dec))
        k = (m["exporter"], m["agent"], m["sub_agent"], m["protocol"])
        a = tot.setdefault(k, {"decoded": [0, 0, 0], "unattributed": [0, 0, 0]})
        for name, v in (("decoded", dec), ("unattributed", un)):
            a[name] = [x + y for x, y in zip(a[name], v)]
    rep.equal("%s: decoded = attributed + unattributed, every exporter "
              "and window (%d messages)" % (label, checked), bad[:3], [])
    return tot


def flow_truth(paths, ports):
    dgs = [(d[1], d[5]) for p in paths for d in cl.read_pcap_udp(p)
           if d[4] in ports]
    o = fo.walk(dgs)
    want = {}
    for (src, ver, dom), e in o.exporters.items():
        proto = {5: "netflow5", 9: "netflow9", 10: "ipfix"}[ver]
        want[(src, src, dom, proto)] = {
            "decoded": [e.records, e.bytes + e.rev_bytes,
                        e.packets + e.rev_packets],
            "unattributed": list(e.no_interface)}
    return want


def sflow_truth(paths, ports):
    want = {}
    for p in paths:
        for _ts, src, _sp, _dst, dport, payload in cl.read_pcap_udp(p):
            if dport not in ports:
                continue
            dg = cl.sflow_walk(payload)
            k = (src, dg["agent"], dg["sub_agent"], "sflow")
            a = want.setdefault(k, {"decoded": [0, 0, 0],
                                    "unattributed": [0, 0, 0]})
            for s in dg["samples"]:
                if s["kind"] != "flow":
                    continue
                flen = s["frame_length"]
                if flen is None:
                    return None  # bytes from other records: not walked
                a["decoded"] = [a["decoded"][0] + 1, a["decoded"][1] + flen,
                                a["decoded"][2] + 1]
                if not cl.is_connection_if(s["input"]) and \
                        not cl.is_connection_if(s["output"]):
                    u = a["unattributed"]
                    a["unattributed"] = [u[0] + 1, u[1] + flen, u[2] + 1]
    return want


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    flows = cl.corpus_flows(args)
    if flows is None:
        cl.skip_corpus_line(rep, args)
        rep.finish()
    caps = captures(args, flows)
    rep.check("corpus: flow captures found", len(caps) >= 60,
              "%d" % len(caps))
    for label, paths, proto, ports, kind in caps:
        run = cl.replay(args.peerscope, paths, WINDOW,
                        sets=cl.proto_sets(proto, ports))
        if not rep.check(label + ": replay exits 0", run.rc == 0,
                         "" if run.rc == 0 else run.describe()):
            continue
        got = check_messages(rep, label, run)
        if kind != "real":
            continue
        want = (sflow_truth if proto == "sflow" else flow_truth)(paths, ports)
        if want is None:
            continue
        rep.equal(label + ": decoded and unattributed per exporter = truth "
                  "(records, bytes, packets)", got, want)
    rep.finish()


if __name__ == "__main__":
    main()
