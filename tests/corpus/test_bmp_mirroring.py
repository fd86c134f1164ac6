"""Route Mirroring (RFC 7854 §4.7) from real routers, against the corpus
truth: replay each main/ BMP stream and add up, over its peers, the
`route_mirroring` counters of the last bgp_session message of each
session.  The truth (`route_mirroring` in <stream>.truth.json, counted by
the corpus' own parser from the raw bytes) gives the mirrored BGP
messages by type and the Information codes; FRR mirrors 4,537 messages in
frr_late and no Information TLV, GoBGP none.  SKIP without the corpus.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib  # noqa: E402

STREAMS = ["frr_main", "frr_late", "gobgp_all", "gobgp_late"]


def truth_counts(truth):
    """(BGP messages, errored PDUs, messages lost) from the truth file."""
    rm = truth.get("route_mirroring") or {}
    bgp = sum(v for k, v in rm.items() if k.startswith("bgp_message/"))
    errored = sum(v for k, v in rm.items()
                  if k.startswith("information/") and k.endswith("/0"))
    lost = sum(v for k, v in rm.items()
               if k.startswith("information/") and k.endswith("/1"))
    return bgp, errored, lost


def main():
    args = corpus_lib.parse_args(__doc__)
    rep = corpus_lib.Reporter()
    main_dir = os.path.join(args.corpus, "bmp", "main")
    if not os.path.isdir(main_dir):
        rep.skip("%s absent" % main_dir)
        rep.finish()
    for name in STREAMS:
        path = os.path.join(main_dir, name + ".bmp.gz")
        if not os.path.exists(path):
            rep.skip("%s absent" % path)
            continue
        truth = corpus_lib.load_json(os.path.join(main_dir,
                                                  name + ".truth.json"))
        unknown = [k for k in (truth.get("route_mirroring") or {})
                   if not k.startswith(("bgp_message/", "information/"))]
        rep.equal("%s: truth keys understood" % name, unknown, [])
        run = corpus_lib.replay(args.peerscope, [path])
        if not rep.check("%s: replay ran" % name, run.rc == 0,
                         run.describe()):
            continue
        last = {}
        for m in run.of_type("bgp_session"):
            last[m["session_id"]] = m["route_mirroring"]
        got = (sum(v["bgp_messages"] for v in last.values()),
               sum(v["errored_pdus"] for v in last.values()),
               sum(v["messages_lost"] for v in last.values()))
        rep.equal("%s: mirrored BGP messages, errored PDUs, messages lost"
                  % name, got, truth_counts(truth))
        rep.equal("%s: no other Information code" % name,
                  sum(v["other_information"] for v in last.values()), 0)
    rep.finish()


if __name__ == "__main__":
    main()
