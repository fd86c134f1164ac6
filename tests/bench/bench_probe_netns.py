#!/usr/bin/env python3
"""peerscope-bench-probe with targets whose replies are not ours to pay.

On loopback the kernel answers an echo request inside the prober's own
send call, so the prober is charged for both ends.  Here 10,000 targets
(2001:db8:1::1 ...; a local route for 2001:db8:1::/64 in namespace B
makes B's kernel answer for all of them) sit behind peerscope-delayline
(1 ms each way) in another namespace: B's kernel answers in the delay
line's write() call, so peerscope-bench-probe, running in namespace A,
is charged only for sending probes and reading replies, as it would be
against real routers.  Needs root (tests/latency/netns.py).

Usage: bench_probe_netns.py --tools BUILD/tests [--targets N]
       [--seconds S] [--repeat R] [extra peerscope-bench-probe args]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "latency"))
import netns  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tools", required=True,
                    help="build folder of the tests (tests/ under build)")
    ap.add_argument("--targets", default="10000")
    ap.add_argument("--seconds", default="20")
    ap.add_argument("--repeat", default="3")
    args, extra = ap.parse_known_args()
    netns.skip_unless_possible(need=("ip",))
    bench = os.path.join(args.tools, "bench", "peerscope-bench-probe")
    line = os.path.join(args.tools, "tools", "peerscope-delayline")
    with netns.DelayedPair(line, delay_us=1000) as pair:
        for r in (pair.run_b(["ip", "-6", "route", "add", "local",
                              "2001:db8:1::/64", "dev", "lo"]),
                  pair.run_a(["ip", "-6", "route", "add", "2001:db8:1::/64",
                              "dev", pair.TUN])):
            if r.returncode != 0:
                raise SystemExit(r.stderr)
        run = pair.run_a([bench, "--base", "2001:db8:1::", "--targets",
                          args.targets, "--seconds", args.seconds,
                          "--repeat", args.repeat] + extra,
                         timeout=int(args.repeat) * (int(args.seconds) + 20))
        sys.stdout.write(run.stdout)
        sys.stderr.write(run.stderr)
    print("delay line:", pair.line_stats)
    return run.returncode


if __name__ == "__main__":
    sys.exit(main())
