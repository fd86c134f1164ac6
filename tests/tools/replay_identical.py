#!/usr/bin/env python3
"""Replay every capture twice, with two peerscope binaries, and say whether
they agree byte for byte.

Written for changes that must not change behaviour (issue 10: the folder
tree): build the tree before the change and the tree after it, then

    tests/tools/replay_identical.py --before-rev main --after build-test/peerscope

or give two binaries (--before BIN --after BIN).  Every pcap, pcapng and
BMP stream file under the corpus (../shared/corpus, external/ and the
scale captures included) and under tests/data is replayed by both with the
same options, for each worker count asked for (--workers, default 1 and
3), and four things are compared: the exit status, the JSON lines
(-o), the run's counters (--stats) and the log on stderr with its
timestamps and temporary paths taken out.  Any difference is printed and
the exit status is 1.

Captures whose path contains an --unordered string (default:
tests/data/peering/) have their JSON lines compared as sorted lists: in
those the merger publishes BMP's bgp_session snapshots and the flow
windows' connection_metrics as each arrives, and the two threads' order
varies from run to run of one binary.  The lines themselves must still
be identical.

Standard library only; runs the binaries in parallel (--jobs).
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
INPUT_SUFFIXES = (".pcap", ".pcapng", ".pcap.gz", ".pcapng.gz", ".bmp",
                  ".bmp.gz")
TIMEOUT = 900  # seconds per replay: the scale captures take a few


def inputs(dirs):
    """Every capture under dirs, sorted, each once."""
    found = set()
    for d in dirs:
        for dp, _, fn in os.walk(d):
            for f in fn:
                if f.endswith(INPUT_SUFFIXES):
                    found.add(os.path.realpath(os.path.join(dp, f)))
    return sorted(found)


def build_rev(rev, work):
    """peerscope built from git revision `rev` of this repository."""
    src = os.path.join(work, "src")
    os.makedirs(src)
    archive = subprocess.run(["git", "-C", ROOT, "archive", rev],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
    build = os.path.join(work, "build")
    subprocess.run(["cmake", "-S", src, "-B", build,
                    "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                    "-DPEERSCOPE_TESTS=OFF"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "-j2", "--target",
                    "peerscope"], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(build, "peerscope")


LOG_TS = re.compile(r"^ts=\S+ ", re.M)


def replay(binary, capture, workers, work):
    """(status, JSON lines, stats, normalised log) of one replay."""
    out = os.path.join(work, "out.json")
    stats = os.path.join(work, "stats.json")
    p = subprocess.run([binary, "replay", "--workers", str(workers), "-o",
                        out, "--stats", stats, capture],
                       capture_output=True, timeout=TIMEOUT)
    log = p.stderr.decode("utf-8", "replace")
    log = LOG_TS.sub("", log).replace(work, "WORK")

    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    return p.returncode, read(out), read(stats), log


def first_difference(a, b):
    """Where two byte strings (or texts) part, with some context."""
    if a is None or b is None:
        return "one side has no file"
    n = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]),
             min(len(a), len(b)))
    lo = max(0, n - 80)
    return "at byte %d: before %r / after %r" % (n, a[lo:n + 80],
                                                 b[lo:n + 80])


def sorted_lines(text):
    """The JSON lines in byte order (order-free comparison)."""
    return None if text is None else b"\n".join(sorted(text.split(b"\n")))


def compare(before, after, capture, workers, tmp, unordered):
    work_a = tempfile.mkdtemp(dir=tmp)
    work_b = tempfile.mkdtemp(dir=tmp)
    try:
        a = replay(before, capture, workers, work_a)
        b = replay(after, capture, workers, work_b)
    except subprocess.TimeoutExpired:
        return ["timed out after %d s" % TIMEOUT]
    if any(u in capture for u in unordered):
        a = (a[0], sorted_lines(a[1])) + a[2:]
        b = (b[0], sorted_lines(b[1])) + b[2:]
    problems = []
    for name, x, y in zip(("exit status", "JSON lines", "stats", "log"), a,
                          b):
        if x != y:
            detail = (first_difference(x, y) if name != "exit status" else
                      "%s / %s" % (x, y))
            problems.append("%s differ: %s" % (name, detail))
    shutil.rmtree(work_a, ignore_errors=True)
    shutil.rmtree(work_b, ignore_errors=True)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", help="peerscope binary before the change")
    ap.add_argument("--before-rev",
                    help="or: build it from this git revision")
    ap.add_argument("--after", default=os.path.join(ROOT, "build-test",
                                                    "peerscope"),
                    help="peerscope binary after the change")
    ap.add_argument("--corpus", default=os.path.join(ROOT, "..", "shared",
                                                     "corpus"))
    ap.add_argument("--data", default=os.path.join(ROOT, "tests", "data"))
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--jobs", type=int, default=1,
                    help="replays compared at once (each runs two)")
    ap.add_argument("--only", help="captures whose path contains this")
    ap.add_argument("--unordered", nargs="*",
                    default=[os.path.join("tests", "data", "peering") + "/"],
                    help="captures whose path contains one of these: JSON "
                    "lines compared sorted (BMP and flow output interleave)")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="ps-identical-")
    try:
        before = args.before
        if before is None:
            if args.before_rev is None:
                ap.error("give --before BIN or --before-rev REV")
            print("building %s ..." % args.before_rev, flush=True)
            before = build_rev(args.before_rev, os.path.join(tmp, "rev"))
        dirs = [d for d in (args.corpus, args.data) if os.path.isdir(d)]
        if not os.path.isdir(args.corpus):
            print("note: no corpus at %s: tests/data only" % args.corpus)
        caps = [c for c in inputs(dirs)
                if args.only is None or args.only in c]
        jobs = [(c, w) for c in caps for w in args.workers]
        print("%d captures x workers %s = %d replays, each by both binaries"
              % (len(caps), args.workers, len(jobs)), flush=True)
        failed = 0
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as ex:
            futs = {ex.submit(compare, before, args.after, c, w, tmp,
                              args.unordered): (c, w)
                    for c, w in jobs}
            for f in concurrent.futures.as_completed(futs):
                c, w = futs[f]
                problems = f.result()
                if problems:
                    failed += 1
                    print("DIFFER %s (workers %d)" % (c, w))
                    for p in problems:
                        print("    " + p)
        print("%d of %d replays identical" % (len(jobs) - failed, len(jobs)))
        return 1 if failed else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
