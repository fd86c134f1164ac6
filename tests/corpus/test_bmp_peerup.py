"""Peer Up information TLVs in bgp_session: peer_up_info (the first string
TLV, type 0) and table_name (type 3, RFC 9069), compared with the truth
files of the FRR captures made for it (quirks/frr_peerup_tlv*, whose
Peer Ups carry a type 0 TLV; truth from the corpus's own decoder, checked
against tshark there).  Every "up" event must carry the TLVs of the Peer
Up it reports, in order."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib  # noqa: E402

NAMES = ["frr_peerup_tlv", "frr_peerup_tlv_short"]


def want_of(truth):
    out = {}
    for key, peer in truth["peers"].items():
        rows = []
        for up in peer["peer_up"]:
            tlvs = up.get("information_tlvs") or []
            info = [t["value"] for t in tlvs if t["type"] == 0]
            name = [t["value"] for t in tlvs if t["type"] == 3]
            rows.append((info[0] if info else None,
                         name[0] if name else None))
        out[peer["address"]] = rows
    return out


def main():
    args = corpus_lib.parse_args(__doc__)
    rep = corpus_lib.Reporter()
    quirks = os.path.join(args.corpus, "bmp", "quirks")
    if not os.path.isdir(quirks):
        rep.skip("shared corpus not found at %s" % quirks)
        rep.finish()
    for name in NAMES:
        with open(os.path.join(quirks, name + ".truth.json")) as f:
            want = want_of(json.load(f))
        run = corpus_lib.replay(args.peerscope,
                                [os.path.join(quirks, name + ".bmp")])
        rep.equal("%s: replay exits 0" % name, run.rc, 0)
        got = {}
        for m in run.of_type("bgp_session"):
            if m["event"] == "up":
                got.setdefault(m["peer"]["address"], []).append(
                    (m["peer_up_info"], m["table_name"]))
        rep.equal("%s: Peer Up information TLVs" % name, got, want)
        rep.check("%s: the capture has some" % name,
                  any(i for rows in want.values() for i, _ in rows))
    rep.finish()


if __name__ == "__main__":
    main()
