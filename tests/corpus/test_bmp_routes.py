"""BMP route messages: replay GoBGP and FRR BMP streams of the shared corpus
with bmp.route_messages on and compare every `route` message with what the
tshark oracle (corpus/bmp/main/NAME.tshark.json.gz, tshark 4.0.17, not our
decoder) says the stream contains.

From tshark's decoding of each BMP message, in stream order, the test
keeps a table per peer of (view, family, prefix, path id) -> attributes,
applying the rules the route messages promise (schemas/route.v1):

  an announcement that is new, or whose attributes differ -> announce
  a withdrawal of a route held                            -> withdraw
  a Peer Down, or the end of the stream, while routes are held
                        -> one peer_routes_withdrawn with their count

and the expected message sequence of every peer must equal the published
one, in order: action, cause, view, family, prefix, path id, and for an
announce the AS path (segments), next hop, origin, MED, LOCAL_PREF,
communities, large communities, aggregator and ATOMIC_AGGREGATE; for the
bulk withdrawals, the count per view and family.  Independently of tshark,
the per-peer totals are checked against the corpus truth files (number of
distinct routes announced, explicit withdrawals of held routes, final RIB
size) and every message against schemas/route.v1.schema.json.

With route messages off (the default), no route message may appear.
RFC 7606 treat-as-withdraw is checked on malformed/m10 and m12, and the
live server (bmp.listen) must publish exactly the replay's route messages
for gobgp_late sent over TCP on loopback.

Oracle caveats: tshark lists well-known communities (65535:x) apart from
the others, so communities are compared as sorted lists; a withdrawal of a
route not held is not a change (FRR withdraws after Peer Down).
"""
import collections
import gzip
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib  # noqa: E402
import test_schemas  # noqa: E402

# (folder, stream): one GoBGP and one FRR session, both with churn and
# Peer Downs; gobgp_all also has Loc-RIB and ADD-PATH, frr_main both views.
STREAMS = [("main", "gobgp_all"), ("main", "frr_main")]

ORIGINS = {0: "igp", 1: "egp", 2: "incomplete"}
SEGMENTS = {1: "set", 2: "sequence", 3: "confed_sequence", 4: "confed_set"}
FAMILY = {(1, 1): "ipv4_unicast", (2, 1): "ipv6_unicast"}

A = "bgp.update.path_attribute."


def as_list(v):
    """tshark's --no-duplicate-keys turns repeats into lists."""
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def norm_prefix(text):
    return str(ipaddress.ip_network(text.strip(), strict=False))


def prefixes(block):
    """[(prefix, path_id)] of a tshark NLRI dictionary."""
    out = []
    if not isinstance(block, dict):
        return out
    for key, vals in block.items():
        if "/" not in key:
            continue
        for v in as_list(vals):
            pid = int(v.get("bgp.nlri_path_id", 0)) if isinstance(v, dict) \
                else 0
            out.append((norm_prefix(key.split(" PathId ")[0]), pid))
    return out


def communities(attr):
    out = []
    c = attr.get(A + "communities", {})
    for item in as_list(c.get(A + "community")):
        out.append("%s:%s" % (item[A + "community_as"],
                              item[A + "community_value"]))
    for wk in as_list(c.get(A + "community_wellknown")):
        v = int(wk, 16)
        out.append("%d:%d" % (v >> 16, v & 0xffff))
    return sorted(out)


def large_communities(attr):
    out = []
    for t in as_list(attr.get("bgp.large_communities_tree")):
        out.append("%s:%s:%s" % (t["bgp.large_communities.ga"],
                                 t["bgp.large_communities.ldp1"],
                                 t["bgp.large_communities.ldp2"]))
    return sorted(out)


def mp_next_hop(attr):
    tree = attr.get(A + "mp_reach_nlri.next_hop_tree", {})
    for k, v in tree.items():
        if k.endswith(".ipv6") or k.endswith(".ipv4"):
            return str(ipaddress.ip_address(as_list(v)[0]))
    return None


def update_of(bgp):
    """(withdrawn, announced, attributes) of one tshark UPDATE:
    withdrawn/announced are [(family, prefix, path_id)]."""
    withdrawn, announced = [], []
    at = {"origin": None, "as_path": None, "next_hop": None, "med": None,
          "local_pref": None, "communities": None,
          "large_communities": None, "aggregator": None,
          "atomic_aggregate": False, "codes": []}
    for p in prefixes(bgp.get("bgp.update.withdrawn_routes")):
        withdrawn.append(("ipv4_unicast",) + p)
    for p in prefixes(bgp.get("bgp.update.nlri")):
        announced.append(("ipv4_unicast",) + p)
    attrs = bgp.get("bgp.update.path_attributes", {})
    for attr in as_list(attrs.get("bgp.update.path_attribute")):
        code = int(attr[A + "type_code"])
        at["codes"].append(code)
        if code == 1:
            at["origin"] = ORIGINS[int(attr[A + "origin"])]
        elif code == 2:
            segs = []
            for s in as_list(attr.get(A + "as_path_segment")):
                asns = as_list(s.get(A + "as_path_segment.as4",
                                     s.get(A + "as_path_segment.as2")))
                kind = int(s[A + "as_path_segment.type"])
                segs.append({"type": SEGMENTS[kind],
                             "asns": [int(x) for x in asns]})
            at["as_path"] = segs
        elif code == 3:
            at["next_hop"] = attr[A + "next_hop"]
        elif code == 4:
            at["med"] = int(attr[A + "multi_exit_disc"])
        elif code == 5:
            at["local_pref"] = int(attr[A + "local_pref"])
        elif code == 6:
            at["atomic_aggregate"] = True
        elif code == 7:
            at["aggregator"] = {"asn": int(attr[A + "aggregator_as"]),
                                "address": attr[A + "aggregator_origin"]}
        elif code == 8:
            at["communities"] = communities(attr)
        elif code == 32:
            at["large_communities"] = large_communities(attr)
        elif code == 14:
            fam = FAMILY[(int(attr[A + "mp_reach_nlri.afi"]),
                          int(attr[A + "mp_reach_nlri.safi"]))]
            at["next_hop"] = mp_next_hop(attr)
            for p in prefixes(attr.get(A + "mp_reach_nlri")):
                announced.append((fam,) + p)
        elif code == 15:
            fam = FAMILY[(int(attr[A + "mp_unreach_nlri.afi"]),
                          int(attr[A + "mp_unreach_nlri.safi"]))]
            for p in prefixes(attr.get(A + "mp_unreach_nlri")):
                withdrawn.append((fam,) + p)
    at["codes"] = sorted(at["codes"])
    return withdrawn, announced, at


def peer_of(hdr):
    """The truth's peer key: type|RD hex|address."""
    addr = hdr.get("bmp.peer.ip.addr", hdr.get("bmp.peer.ipv6.addr"))
    rd = hdr["bmp.peer.distinguisher"].replace(":", "")
    return "%s|%s|%s" % (hdr["bmp.peer.type"], rd, ipaddress.ip_address(addr))


def view_of(hdr):
    if hdr["bmp.peer.type"] == "3":
        return "loc_rib"
    flags = int(hdr["bmp.peer.flags"], 16)
    if flags & 0x10:
        return "adj_rib_out_post" if flags & 0x40 else "adj_rib_out_pre"
    return "post_policy" if flags & 0x40 else "pre_policy"


def bmp_messages(path):
    """Every BMP message tshark decoded, in stream order."""
    with gzip.open(path, "rt") as f:
        frames = json.load(f)
    for fr in frames:
        for b in as_list(fr["_source"]["layers"].get("bmp")):
            yield b


def held_counts(rib):
    out = collections.defaultdict(dict)
    for (view, fam, _, _), _ in rib.items():
        out[view][fam] = out[view].get(fam, 0) + 1
    return {v: dict(f) for v, f in out.items()}


def compare_attrs(at):
    """The fields compared for an announce, in the oracle's form."""
    return {k: v for k, v in at.items() if k != "codes"}


def expected_messages(path):
    """peer -> [expected route change], from the tshark oracle."""
    ribs = collections.defaultdict(dict)
    want = collections.defaultdict(list)
    for b in bmp_messages(path):
        t = int(b["bmp.type"])
        hdr = b.get("bmp.peer.header")
        if t == 0 and isinstance(b.get("bgp"), dict):
            peer, view = peer_of(hdr), view_of(hdr)
            rib = ribs[peer]
            withdrawn, announced, at = update_of(b["bgp"])
            for fam, pfx, pid in withdrawn:
                if rib.pop((view, fam, pfx, pid), None) is not None:
                    want[peer].append(("withdraw", "update", view, fam,
                                       pfx, pid, None))
            for fam, pfx, pid in announced:
                key = (view, fam, pfx, pid)
                if rib.get(key) != at:
                    want[peer].append(("announce", "update", view, fam, pfx,
                                       pid, compare_attrs(at)))
                rib[key] = at
        elif t == 2:
            peer = peer_of(hdr)
            if ribs[peer]:
                want[peer].append(("peer_routes_withdrawn", "peer_down",
                                   held_counts(ribs[peer])))
            ribs[peer] = {}
    for peer, rib in ribs.items():
        if rib:
            want[peer].append(("peer_routes_withdrawn", "bmp_session_end",
                               held_counts(rib)))
    return want


def published(run):
    """peer -> [route change] as published, in the same form."""
    got = collections.defaultdict(list)
    for m in run.of_type("route"):
        _, ptype, rd, addr = m["session_id"].rsplit("|", 3)
        peer = "%s|%s|%s" % (ptype, rd, ipaddress.ip_address(addr))
        if m["action"] == "peer_routes_withdrawn":
            got[peer].append((m["action"], m["cause"], m["views"]))
            continue
        at = None
        if m["attributes"] is not None:
            a = m["attributes"]
            at = {k: a[k] for k in ("origin", "as_path", "next_hop", "med",
                                    "local_pref", "aggregator",
                                    "atomic_aggregate")}
            at["communities"] = sorted(a["communities"]) \
                if a["communities"] is not None else None
            at["large_communities"] = sorted(a["large_communities"]) \
                if a["large_communities"] is not None else None
        got[peer].append((m["action"], m["cause"], m["view"], m["family"],
                          norm_prefix(m["prefix"]), m["path_id"], at))
    return got


def first_difference(got, want):
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            return "message %d: got %r, want %r" % (i, g, w)
    return "lengths %d vs %d" % (len(got), len(want))


def check_against_truth(rep, name, truth, got):
    """Totals per peer from the corpus's own truth, not from tshark."""
    for peer, tp in sorted(truth["peers"].items()):
        msgs = got.get(peer, [])
        distinct = collections.defaultdict(set)
        withdraws = collections.Counter()
        for m in msgs:
            if m[0] == "announce":
                distinct[(m[2], m[3])].add((m[4], m[5]))
            elif m[0] == "withdraw":
                withdraws[(m[2], m[3])] += 1
        for view, fams in tp["routes"].items():
            for fam, c in fams.items():
                if not fam.endswith("_unicast"):
                    continue
                pre = "%s %s %s/%s" % (name, peer, view, fam)
                rep.equal(pre + ": distinct routes announced",
                          len(distinct[(view, fam)]),
                          c["unique_routes_announced"])
                rep.equal(pre + ": withdraw messages (held routes)",
                          withdraws[(view, fam)],
                          c["withdrawn"] - c["withdraw_of_unknown"])
        ends = [m for m in msgs if m[0] == "peer_routes_withdrawn" and
                m[1] == "bmp_session_end"]
        final = sum(n for m in ends for f in m[2].values()
                    for n in f.values())
        rep.equal("%s %s: routes withdrawn at the session end = final RIB"
                  % (name, peer), final, tp["final_rib_total"])


def treat_as_withdraw_cases(rep, args, bmp):
    """malformed/m10 and m12: the 4th message re-announces the route of
    the 3rd with a bad attribute (A flag on a 4-byte AS_PATH, COMMUNITIES
    overrunning the attributes): RFC 7606 withdraws the held route.  The
    prefix is the one tshark shows in the 3rd message (and for m10, in the
    4th too; tshark cannot find m12's NLRI)."""
    for name in ("m10_peer_flag_A_on_4byte_aspath",
                 "m12_update_attr_length_overrun"):
        base = os.path.join(bmp, "malformed", name)
        frames = corpus_lib.load_json(base + ".tshark.json")
        msgs = [b for fr in frames
                for b in as_list(fr["_source"]["layers"].get("bmp"))]
        third = prefixes(msgs[2]["bgp"].get("bgp.update.nlri"))
        fourth = prefixes(msgs[3]["bgp"].get("bgp.update.nlri"))
        if fourth:
            rep.equal(name + ": tshark sees the same prefix twice",
                      fourth, third)
        run = corpus_lib.replay(args.peerscope, [base + ".bmp"],
                                sets=["bmp.route_messages=true"])
        taw = [(norm_prefix(m["prefix"]), m["path_id"], m["view"])
               for m in run.of_type("route")
               if m.get("cause") == "treat_as_withdraw"]
        rep.equal(name + ": one treat-as-withdraw of the held route",
                  taw, [third[0] + ("pre_policy",)])


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def without_router(msgs):
    """Route messages with the router name (file vs address) left out."""
    out = []
    for m in msgs:
        m = dict(m)
        m.pop("router")
        m["session_id"] = m["session_id"].split("|", 1)[1]
        out.append(m)
    return out


def live_case(rep, args, stream, want):
    """The live server (bmp.listen) publishes the same route messages as
    the replay of the same bytes: the stream is sent over TCP on loopback,
    the socket closed, and peerscope stopped with SIGTERM once the end of
    the session has been published (bounded waits)."""
    tmp = tempfile.mkdtemp(prefix="ps-routes-live-")
    out = os.path.join(tmp, "out.jsonl")
    port = free_port()
    ps = subprocess.Popen(
        [args.peerscope, "--set", "bmp.listen=127.0.0.1:%d" % port,
         "--set", "bmp.allow=127.0.0.1", "--set", "bmp.route_messages=true",
         "--set", "bmp.snapshot_seconds=0", "--set", "http.enabled=false",
         "--set", "allow_root=true",
         "--set", "listen.sflow=127.0.0.1:%d" % free_port(),
         "--set", "listen.ipfix=", "--set", "listen.netflow=",
         "--set", "workers=1", "--set", "output.json.path=" + out],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn = None
        end = time.time() + 10
        while conn is None and time.time() < end:
            try:
                conn = socket.create_connection(("127.0.0.1", port), 0.5)
            except OSError:
                time.sleep(0.1)
        if not rep.check("live: BMP listener up", conn is not None):
            return
        with gzip.open(stream, "rb") as f:
            conn.sendall(f.read())
        conn.close()
        got = []
        end = time.time() + 60
        while time.time() < end:
            try:
                with open(out) as f:
                    got = [json.loads(x) for x in f if x.endswith("\n")]
            except OSError:
                got = []
            if len([m for m in got if m.get("event") == "unknown"]) >= \
                    len({m["session_id"] for m in want}):
                break
            time.sleep(0.3)
        ps.send_signal(signal.SIGTERM)
        ps.wait(timeout=30)
        routes = [m for m in got if m.get("type") == "route"]
        same = without_router(routes) == without_router(want)
        rep.check("live: %d route messages, identical to the replay's"
                  % len(want), same,
                  "" if same else "%d live" % len(routes))
        rep.check("live: the router is the BMP source address",
                  routes != [] and routes[0]["router"] == "127.0.0.1")
    finally:
        if ps.poll() is None:
            ps.kill()
            ps.wait()
        shutil.rmtree(tmp, ignore_errors=True)


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
    for folder, name in STREAMS:
        stream = os.path.join(bmp, folder, name + ".bmp.gz")
        oracle = os.path.join(bmp, folder, name + ".tshark.json.gz")
        if not os.path.exists(stream) or not os.path.exists(oracle):
            rep.skip("%s or its tshark oracle absent" % stream)
            continue
        off = corpus_lib.replay(args.peerscope, [stream])
        rep.check("%s: replay ran (route messages off)" % name, off.rc == 0,
                  off.describe())
        rep.equal("%s: off by default: no route message" % name,
                  len(off.of_type("route")), 0)
        run = corpus_lib.replay(args.peerscope, [stream],
                                sets=["bmp.route_messages=true"])
        rep.check("%s: replay ran (route messages on)" % name, run.rc == 0,
                  run.describe())
        if sch is not None:
            sch.validate_run(name + " with route messages", run)
        same = run.of_type("bgp_session") == off.of_type("bgp_session")
        rep.check("%s: the bgp_session messages do not change" % name,
                  same and len(off.of_type("bgp_session")) > 0,
                  "%d on, %d off" % (len(run.of_type("bgp_session")),
                                     len(off.of_type("bgp_session"))))
        errs = (run.stats or {}).get("decode_errors", {})
        rep.equal("%s: no route message failed" % name,
                  errs.get("bmp.route_messages.failed", 0), 0)
        rep.equal("%s: messages counted by type" % name,
                  (run.stats or {}).get("messages", {}).get("route"),
                  len(run.of_type("route")))
        want = expected_messages(oracle)
        got = published(run)
        rep.equal("%s: peers with route changes" % name, sorted(got),
                  sorted(want))
        for peer in sorted(want):
            g, w = got.get(peer, []), want[peer]
            rep.check("%s %s: %d route changes, in order, as tshark says"
                      % (name, peer, len(w)), g == w,
                      "" if g == w else first_difference(g, w))
        truth = corpus_lib.load_json(os.path.join(bmp, folder,
                                                  name + ".truth.json"))
        check_against_truth(rep, name, truth, got)
    treat_as_withdraw_cases(rep, args, bmp)
    late = os.path.join(bmp, "main", "gobgp_late.bmp.gz")
    if os.path.exists(late):
        run = corpus_lib.replay(args.peerscope, [late],
                                sets=["bmp.route_messages=true"])
        live_case(rep, args, late, run.of_type("route"))
    rep.finish()


if __name__ == "__main__":
    main()
