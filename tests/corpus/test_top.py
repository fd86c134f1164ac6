#!/usr/bin/env python3
"""connection_metrics "top" (top.n, docs/connections.md "Who the traffic
belongs to"): per connection and direction, bytes by source ASN,
destination ASN and DSCP class, against truth computed here from tshark's
decoding of the same captures (no peerscope code):

  * pmacctd-sflow-rate1-nocounters (shared corpus): pmacct's sfprobe sends
    an extended gateway record (0:1003) with the ASNs of its networks_file
    in every sample, and the traffic has DSCP 0, 4, 10 (AF11) and 46 (EF).
    Truth per sample: the interface it entered (input, "in") or left
    (output, "out") by, frame_length x sampling_rate bytes, the gateway's
    srcAS and last dstAS, the DSCP of the sampled header's outer IP layer.
    Both the full lists (top.n 15: every key) and top.n 2 (the two largest,
    the rest as other_bytes) are checked, and the /metrics gauges
    (peerscope_connection_{asn,dscp,packets}_bytes_per_second) of the same
    replay: the truth's bytes (packets) over the 60 s window.
  * The four peering lab captures (tests/data/peering: sFlow 1:1, 1:10,
    IPFIX, IPFIX without MACs) replayed together: the same router over
    four exporters, each its own UDP source, so the replay spreads them
    over workers; the "top" blocks with --workers 1 and --workers 3 are
    equal (the merge of per-worker figures does not depend on the split).
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

CAPTURE = "pmacctd-sflow-rate1-nocounters.pcap"
IF_UNKNOWN = 0x3FFFFFFF


def if_word(sample, side):
    """(format, value) of an interface word as tshark shows it."""
    tree = sample.get("sflow.flow_sample.%s_interface_tree" % side)
    if tree:
        return (int(tree["sflow.flow_sample.%s_interface_format" % side]),
                int(tree["sflow.flow_sample.%s_interface_value" % side]))
    v = int(sample["sflow.flow_sample.%s_interface" % side], 0)
    return v >> 30, v & 0x3FFFFFFF


def find(obj, key):
    """The first value of `key` anywhere under obj (depth first)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                return v[0] if isinstance(v, list) else v
            got = find(v, key)
            if got is not None:
                return got
    elif isinstance(obj, list):
        for v in obj:
            got = find(v, key)
            if got is not None:
                return got
    return None


def outer_dscp(header_tree):
    """The DSCP of the first IP layer of a sampled header, or None."""
    for k in header_tree:
        if k in ("ip", "ipv6"):
            layer = header_tree[k]
            layer = layer[0] if isinstance(layer, list) else layer
            field = "ip.dsfield.dscp" if k == "ip" else "ipv6.tclass.dscp"
            v = find(layer, field)
            return None if v is None else int(v)
    return None


def truth_sflow(path):
    """(agent, ifIndex, dir) -> {"src_as": {asn: bytes}, "dst_as": ...,
    "dscp": {class: bytes}, "bytes": n} from tshark's decoding."""
    out = subprocess.run(
        ["tshark", "-r", path, "-d", "udp.port==6343,sflow", "-T", "json",
         "-V", "--no-duplicate-keys"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout
    truth = {}
    for frame in json.loads(out):
        dg = frame["_source"]["layers"].get("sflow")
        if dg is None:
            continue
        for dgi in dg if isinstance(dg, list) else [dg]:
            agent = dgi["sflow_245.agent"]
            for key, s in dgi.items():
                if not key.startswith("Flow sample"):
                    continue
                for smp in s if isinstance(s, list) else [s]:
                    add_sample(truth, agent, smp)
    return truth


def add_sample(truth, agent, smp):
    rate = int(smp["sflow.flow_sample.sampling_rate"])
    raw = smp["Raw packet header"]
    nbytes = int(raw["sflow_245.header.frame_length"]) * rate
    gw = smp.get("Extended gateway data") or {}
    src_as = int(gw.get("sflow_245.srcAS", 0))
    dst = find(gw, "sflow_245.dstAS")
    dst_as = int(dst) if dst is not None else 0
    dscp = outer_dscp(raw["sflow_245.header_tree"])
    for side, d in (("input", "in"), ("output", "out")):
        fmt, ifx = if_word(smp, side)
        if fmt != 0 or ifx in (0, IF_UNKNOWN):
            continue
        t = truth.setdefault((agent, ifx, d), {
            "bytes": 0, "src_as": {}, "dst_as": {}, "dscp": {}})
        t["bytes"] += nbytes
        for dim, k in (("src_as", src_as), ("dst_as", dst_as),
                       ("dscp", dscp)):
            k = "unknown" if k in (0, None) and dim != "dscp" or \
                k is None else k
            t[dim][k] = t[dim].get(k, 0) + nbytes


def want_list(counts, n):
    """(entries, other, unknown) as the block must publish them."""
    unknown = counts.get("unknown", 0)
    known = sorted(((b, k) for k, b in counts.items() if k != "unknown"),
                   key=lambda e: (-e[0], e[1]))
    top = [(k, b) for b, k in known[:n]]
    other = sum(b for b, _k in known[n:])
    return top, other, unknown


def have_list(block, keyname):
    return ([(e[keyname], e["bytes"]) for e in block["entries"]],
            block["other_bytes"], block["unknown_bytes"])


def tops(run):
    """(router, ifIndex, window start) -> top block."""
    return {(m["router"], m["ifindex"], m["window"]["start"]): m["top"]
            for m in run.of_type("connection_metrics")}


def check_sflow_gateway(rep, args, flows):
    path = os.path.join(flows, CAPTURE)
    truth = truth_sflow(path)
    rep.check("truth: samples on both directions", len(truth) >= 2,
              str(sorted(truth)))
    for n in (15, 2):
        run = cl.replay(args.peerscope, [path], sets=["top.n=%d" % n])
        rep.check("top.n %d: replay exits 0" % n, run.rc == 0,
                  run.describe() if run.rc != 0 else "")
        blocks = {}
        for (router, ifx, _w), top in tops(run).items():
            rep.check("top.n %d: %s/if%d has a top block" % (n, router, ifx),
                      top is not None and top["n"] == n, str(top)[:200])
            if top is not None:
                rep.check("top.n %d: one window per connection" % n,
                          (router, ifx) not in blocks, "")
                blocks[(router, ifx)] = top
        for (agent, ifx, d), t in sorted(truth.items()):
            top = blocks.get((agent, ifx))
            if top is None:
                rep.check("top.n %d: %s/if%d published" % (n, agent, ifx),
                          False, "")
                continue
            x = top[d]
            name = "top.n %d: %s/if%d %s" % (n, agent, ifx, d)
            rep.equal(name + " bytes = sum of frame_length x rate",
                      x["bytes"], t["bytes"])
            for dim, keyname in (("src_as", "asn"), ("dst_as", "asn"),
                                 ("dscp", "dscp")):
                have = have_list(x[dim], keyname)
                want = want_list(t[dim], n)
                rep.equal("%s %s = tshark's (entries, other, unknown)"
                          % (name, dim), have, want)
                if dim != "dscp":
                    rep.check("%s %s: exact (no error)" % (name, dim),
                              all(e["error_bytes"] == 0
                                  for e in x[dim]["entries"]), "")
        if n == 15:
            ef = sum(t["dscp"].get(46, 0) for t in truth.values())
            rep.check("truth has EF (46) traffic", ef > 0, "")


def check_workers(rep, args):
    caps = [os.path.join(args.data, "peering", c + ".pcap.gz")
            for c in ("sflow-rate1", "sflow-rate10", "ipfix", "ipfix-nomac")]
    runs = {}
    for workers in (1, 3):
        run = cl.replay(args.peerscope, caps, workers=workers)
        rep.check("peering x4, %d worker(s): replay exits 0" % workers,
                  run.rc == 0, run.describe() if run.rc != 0 else "")
        runs[workers] = tops(run)
    one, three = runs[1], runs[3]
    rep.check("peering x4: some connections have a top block",
              any(v is not None for v in one.values()), "")
    rep.check("peering x4: ASNs known from the BMP routes",
              any(v is not None and v[d][dim]["entries"]
                  for v in one.values() for d in ("in", "out")
                  for dim in ("src_as", "dst_as")), "")
    rep.equal("peering x4: the same connections and windows with 1 and 3 "
              "workers", sorted(three), sorted(one))
    for key in sorted(one):
        if key in three:
            rep.check("peering x4: %s/if%d %s: top with 3 workers = top "
                      "with 1" % key, three[key] == one[key],
                      "1: %s\n3: %s" % (json.dumps(one[key])[:400],
                                        json.dumps(three[key])[:400]))


def scrape_replay(peerscope, path):
    """/metrics of a replay that serves it after the capture ends."""
    tmp = tempfile.mkdtemp(prefix="ps-top-")
    marker = "peerscope_connection_asn_bytes_per_second{"
    with cl.ServedReplay(peerscope, ["-o", os.path.join(tmp, "out.json"),
                                     path],
                         os.path.join(tmp, "err.log"), marker, timeout=20,
                         kafka=False) as s:
        text = s.metrics if marker in s.metrics else None
    series = {}
    for line in (text or "").splitlines():
        if line.startswith("#") or "{" not in line:
            continue
        name, rest = line.split("{", 1)
        labels, value = rest.rsplit("} ", 1)
        lab = dict(kv.split("=", 1) for kv in labels.split('",')
                   if "=" in kv)
        lab = {k: v.strip('"') for k, v in lab.items()}
        series[(name, tuple(sorted(lab.items())))] = float(value)
    return series


def check_metrics(rep, args, flows):
    path = os.path.join(flows, CAPTURE)
    truth = truth_sflow(path)
    series = scrape_replay(args.peerscope, path)
    if not rep.check("/metrics served after the replay", bool(series), ""):
        return
    side = {"src_as": "source", "dst_as": "destination"}
    for (agent, ifx, d), t in sorted(truth.items()):
        conn = "%s/if%d" % (agent, ifx)
        for dim in ("src_as", "dst_as", "dscp"):
            top, other, unknown = want_list(t[dim], 5)
            want = {str(k): b / 60.0 for k, b in top}
            want["other"] = other / 60.0
            want["unknown"] = unknown / 60.0
            have = {}
            for (name, lab), v in series.items():
                lab = dict(lab)
                if lab.get("connection") != conn or \
                        lab.get("direction") != d:
                    continue
                if dim == "dscp" and \
                        name == "peerscope_connection_dscp_bytes_per_second":
                    have[lab["dscp"]] = v
                elif dim != "dscp" and lab.get("side") == side[dim] and \
                        name == "peerscope_connection_asn_bytes_per_second":
                    have[lab["asn"]] = v
            rep.check("/metrics %s %s %s: the 5 heaviest, other, unknown "
                      "= tshark's bytes / 60 s" % (conn, d, dim),
                      set(have) == set(want) and all(
                          abs(have[k] - want[k]) < 0.001 for k in want),
                      "have %s want %s" % (have, want))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    flows = cl.corpus_flows(args)
    if flows is None:
        cl.skip_corpus_line(rep, args)
    else:
        check_sflow_gateway(rep, args, flows)
        check_metrics(rep, args, flows)
    check_workers(rep, args)
    rep.finish()


if __name__ == "__main__":
    main()
