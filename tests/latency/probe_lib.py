"""Helpers for the probe tests: run peerscope-probe and ping side by side
in namespace A of a DelayedPair, and fold the engine's windows into one
figure per target and method (sketches merged with docs/latency.md's
reference decoder, so the merge is the documented one)."""
import argparse
import json
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "corpus"))
import netns  # noqa: E402
from test_sketch_decoder import reference_decoder  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True,
                    help="folder of peerscope-probe, peerscope-delayline")
    ap.add_argument("--docs", required=True)
    ap.add_argument("--peerscope", default=None,
                    help="the peerscope binary (tests of the daemon)")
    args, _ = ap.parse_known_args()
    args.probe = os.path.join(args.tools, "peerscope-probe")
    args.delayline = os.path.join(args.tools, "peerscope-delayline")
    args.ref, _ = reference_decoder(os.path.join(args.docs, "latency.md"))
    return args


def daemon_args():
    """parse_args() for a test of the daemon in namespaces: skips (exit
    77) without --peerscope, or where namespaces cannot be made."""
    args = parse_args()
    if args.peerscope is None:
        print("SKIP: --peerscope not given")
        sys.exit(77)
    netns.skip_unless_possible()
    return args


def stop_collector(rep, col):
    """SIGTERM the collector `col` (a Popen with pipes), which flushes its
    open windows; it must exit 0 within 30 s (else it is killed)."""
    col.send_signal(signal.SIGTERM)
    try:
        _, err = col.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        netns.stop_pid(col)
        err = "(killed)"
    rep.equal("collector exit status", col.returncode, 0)
    if col.returncode != 0:
        print(err[-3000:])


def read_messages(path):
    """The JSON lines the collector wrote to `path` ([] when none)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def run_with_ping(pair, probe, targets, seconds, sets=(), pings=(),
                  window_seconds=5):
    """Engine for `seconds` with these --set values, and one ping per
    (address, interval, count) in `pings`, all started together.
    Returns (windows, {address: ping stdout}, engine stderr)."""
    procs = []
    for addr, interval, count in pings:
        procs.append((addr, pair.start_a(
            ["ping", "-n", "-i", str(interval), "-c", str(count), "-W", "2",
             addr], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)))
    cmd = [probe, "--window-seconds", str(window_seconds), "--seconds",
           str(seconds)]
    for s in sets:
        cmd += ["--set", s]
    run = pair.run_a(cmd + list(targets), timeout=seconds + 30)
    out = {}
    for addr, p in procs:
        stdout, _ = p.communicate(timeout=seconds + 30)
        out[addr] = stdout
    if run.returncode != 0:
        raise RuntimeError("peerscope-probe exited %d: %s"
                           % (run.returncode, run.stderr))
    windows = [json.loads(line) for line in run.stdout.splitlines()]
    return windows, out, run.stderr


SUMS = ("sent", "answered", "lost", "late", "refused", "unreachable",
        "send_errors", "skipped", "kernel_timed", "jitter_pairs")


def fold(ref, windows, target_id, method):
    """All windows' results of one target and method as one."""
    total = {k: 0 for k in SUMS}
    total["jitter_sum_ms"] = 0.0
    sketch = None
    for w in windows:
        for r in w["results"]:
            if r["target_id"] != target_id or r["method"] != method:
                continue
            total["socket"] = r["socket"]
            for k in SUMS:
                total[k] += r[k]
            if r["jitter_pairs"]:
                total["jitter_sum_ms"] += r["jitter_ms"] * r["jitter_pairs"]
            s = ref["decode"](r["sketch"])
            if s["count"]:
                sketch = s if sketch is None else ref["merge"](sketch, s)
    total["sketch"] = sketch
    total["p50_ms"] = (ref["quantile"](sketch, 0.5) / 1e6
                       if sketch else float("nan"))
    total["jitter_ms"] = (total["jitter_sum_ms"] / total["jitter_pairs"]
                          if total["jitter_pairs"] else float("nan"))
    return total


def ping_view(stdout, count):
    """RTTs by sequence, loss fraction and jitter as the engine defines it
    (mean |difference| of consecutive answered RTTs, in send order)."""
    rtts = netns.ping_rtts(stdout)
    ordered = [rtts[s] for s in sorted(rtts)]
    diffs = [abs(b - a) for a, b in zip(ordered, ordered[1:])]
    return {
        "rtts": rtts,
        "median": netns.median(list(rtts.values())),
        "loss": 1 - len(rtts) / count if count else float("nan"),
        "jitter": sum(diffs) / len(diffs) if diffs else float("nan"),
    }


def within(a, b, tol):
    return abs(a - b) <= tol


def schema_errors(schemas, messages,
                  types=("connection_metrics", "connection_event")):
    """Schema errors (first 200 characters each) of the messages of these
    types, each against the schema of its type and schema_version."""
    import jsonschema

    errors, validators = [], {}
    for m in messages:
        t = m.get("type")
        if t not in types:
            continue
        key = (t, m.get("schema_version", 1))
        if key not in validators:
            with open(os.path.join(schemas, "%s.v%d.schema.json" % key)) as f:
                validators[key] = jsonschema.Draft202012Validator(
                    json.load(f))
        errors += [e.message[:200] for e in validators[key].iter_errors(m)]
    return errors
