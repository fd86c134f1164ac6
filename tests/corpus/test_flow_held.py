#!/usr/bin/env python3
"""Data sets before their template are held per exporter, bounded
(collector/ingest/ingest_ipfix.c: FLOW_HELD_MAX 32 per worker,
FLOW_HELD_MAX_PER_EXPORTER 8 per exporter address).

Truth, from the crafted stream (RFC 7011 IPFIX, template 300 = one
ingressInterface, 4 bytes):
  exporter 127.0.0.1 sends 10 data sets for template 300 before defining
  it: 8 are held, 2 refused (its share is 8), counted on that exporter;
  exporter 127.0.0.2 then sends 3: all 3 held (127.0.0.1 did not take its
  room); 127.0.0.1's template then decodes its 8 held sets: 8 records.
"""
import os
import shutil
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
from test_flow_windows import T0, ipfix_message, ipfix_set, write_pcap  # noqa

TEMPLATE_300 = ipfix_set(2, struct.pack(">HHHH", 300, 1, 10, 4))


def data_sets(n):
    return [ipfix_set(300, struct.pack(">I", 5)) for _ in range(n)]


def health(run):
    """{exporter: (held, refused, decoded, aged_out, data_records)}"""
    out = {}
    for m in run.of_type("exporter_health"):
        f = m.get("flow") or {}
        h = f.get("held_data_sets", {})
        acc = out.setdefault(m["exporter"], [0, 0, 0, 0, 0])
        for i, v in enumerate((h.get("held", 0), h.get("refused", 0),
                               h.get("decoded", 0), h.get("aged_out", 0),
                               f.get("data_records", 0))):
            acc[i] += v
    return {k: tuple(v) for k, v in out.items()}


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    tmp = tempfile.mkdtemp(prefix="ps-flow-held-")
    try:
        path = os.path.join(tmp, "held.pcap")
        dgs = [(T0 + 1, ipfix_message(1, T0 + 1, data_sets(10))),
               (T0 + 2, ipfix_message(1, T0 + 2, data_sets(3))),
               (T0 + 3, ipfix_message(11, T0 + 3, [TEMPLATE_300]))]
        write_pcap(path, dgs, sources=[1, 2, 1])
        want = {"127.0.0.1": (8, 2, 8, 0, 8), "127.0.0.2": (3, 0, 0, 0, 0)}
        for workers in (1, 2):
            run = cl.replay(args.peerscope, [path], 3600, workers=workers)
            tag = "--workers %d" % workers
            if not rep.check(tag + ": replay exits 0", run.rc == 0,
                             "" if run.rc == 0 else run.describe()):
                continue
            rep.equal(tag + ": held, refused, decoded, aged out, records",
                      health(run), want)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
