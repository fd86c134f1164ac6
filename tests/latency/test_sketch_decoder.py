#!/usr/bin/env python3
"""docs/latency.md's reference decoder against peerscope's sketch encoder.

The Python block under "### Reference decoder" is taken from the document
as it stands and run on the base64 encodings that peerscope-sketch-encode
(collector/agg/sketch.c) prints for known value sets.  Truth is independent of
peerscope: the exact quantiles are elements of Python's own sorted list at
rank floor(q (n - 1)), count/min/max/sum are Python arithmetic.  Checks:
every quantile within alpha (1 %) of the exact one; exact scalars; four
sketches of a round-robin split, merged by the reference merge, equal the
sketch of all values bucket for bucket; a collapsed sketch says so.
"""
import argparse
import math
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "corpus"))
import corpus_lib as cl  # noqa: E402

ALPHA = 0.01
QS = (0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)


def reference_decoder(doc_path):
    text = open(doc_path, encoding="utf-8").read()
    m = re.search(r"### Reference decoder.*?```python\n(.*?)```", text, re.S)
    if m is None:
        raise SystemExit("no reference decoder block in %s" % doc_path)
    code = m.group(1)
    ns = {}
    exec(compile(code, doc_path, "exec"), ns)  # the documented code, as is
    return ns, len(code.strip().splitlines())


def encode(tool, values, max_buckets=None, split=None):
    cmd = [tool]
    if max_buckets:
        cmd += ["--max-buckets", str(max_buckets)]
    if split:
        cmd += ["--split", str(split)]
    out = subprocess.run(cmd, input="".join("%d\n" % v for v in values),
                         capture_output=True, text=True, check=True,
                         timeout=120).stdout
    return out.split()


def distributions():
    r = random.Random(20261126)
    n = 50000
    yield "uniform 1..100 ms", [r.randint(1_000_000, 100_000_000)
                                for _ in range(n)]
    yield "lognormal median 20 ms", [int(r.lognormvariate(math.log(20e6), 1))
                                     for _ in range(n)]
    yield "bimodal 5 ms / 80 ms", [
        max(1, int(r.gauss(5e6 if r.random() < 0.7 else 80e6, 2e6)))
        for _ in range(n)]
    yield "constant", [12_345_678] * 1000
    yield "single value", [987_654_321]
    yield "with zeros (queue depth)", [0] * 300 + [r.randint(1, 10**6)
                                                   for _ in range(700)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sketch-encode", required=True)
    ap.add_argument("--docs", required=True)
    args, _ = ap.parse_known_args()
    rep = cl.Reporter()
    ref, lines = reference_decoder(os.path.join(args.docs, "latency.md"))
    rep.check("reference decoder is short", lines <= 45, "%d lines" % lines)

    for name, values in distributions():
        s = ref["decode"](encode(args.sketch_encode, values)[0])
        ordered = sorted(values)
        n = len(values)
        rep.equal("%s: count" % name, s["count"], n)
        rep.equal("%s: zero count" % name, s["zero"], values.count(0))
        rep.equal("%s: min" % name, s["min"], ordered[0])
        rep.equal("%s: max" % name, s["max"], ordered[-1])
        rep.equal("%s: sum" % name, s["sum"], sum(values))
        worst = 0.0
        for q in QS:
            exact = ordered[int(q * (n - 1))]
            got = ref["quantile"](s, q)
            err = abs(got - exact) / exact if exact else abs(got)
            worst = max(worst, err)
        rep.check("%s: quantiles within alpha" % name,
                  worst <= ALPHA * (1 + 1e-9),
                  "worst relative error %.5f" % worst)

        parts = [ref["decode"](t)
                 for t in encode(args.sketch_encode, values, split=4)]
        merged = parts[0]
        for p in parts[1:]:
            merged = ref["merge"](merged, p) if p["count"] else merged
        same = all(merged[k] == s[k] for k in
                   ("count", "zero", "min", "max", "sum", "buckets"))
        rep.check("%s: merge of 4 splits == sketch of all" % name, same)

    # a range wider than 16 buckets collapses, and says so
    r = random.Random(7)
    wide = [int(10 ** r.uniform(3, 10)) for _ in range(20000)]
    s = ref["decode"](encode(args.sketch_encode, wide, max_buckets=16)[0])
    rep.check("collapsed sketch reports folded values", s["folded"] > 0,
              "folded %d of %d" % (s["folded"], s["count"]))
    rep.equal("collapsed sketch keeps 16 buckets", len(s["buckets"]), 16)
    ordered = sorted(wide)
    exact = ordered[int(0.999 * (len(wide) - 1))]
    got = ref["quantile"](s, 0.999)
    rep.check("collapsed sketch: p99.9 within alpha",
              abs(got - exact) <= ALPHA * exact, "%g vs %d" % (got, exact))
    rep.finish()


if __name__ == "__main__":
    main()
