#!/usr/bin/env python3
"""Probes wired into connection_metrics, against ping.

Two namespaces joined by peerscope-delayline (10 ms each way).  In A the
collector runs live with a configuration whose one connection has
`probe: true` and the peer's two session addresses (IPv4 and IPv6); no
router exports anything, so the connection's messages carry the probes
alone.  iputils ping runs alongside to the same IPv4 address.

Truth is ping's view of the same path at the same time: the probe_icmp
median of the connection (its window sketches merged with docs/latency.md's
reference decoder) equals ping's median within max(1 %, 1 ms); no probe is
lost; every window's figure names both addresses; the messages validate
against schemas/connection_metrics.v2.
"""
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "corpus"))
import netns  # noqa: E402
import probe_lib as pl  # noqa: E402
import corpus_lib as cl  # noqa: E402

DELAY_US = 10000
INTERVAL = 0.2
SECONDS = 17
WINDOW = 5

CONFIG = """
window_seconds: %(window)d
allow_root: true
runtime_dir: "%(tmp)s/run"
http:
  listen: "127.0.0.1:0"
probes:
  interval_ms: %(interval_ms)d
connections:
  - id: peer-a
    kind: direct
    router: 192.0.2.1
    interface: 7
    peer_asn: 64500
    peer_addresses: ["%(peer4)s", "%(peer6)s"]
    probe: true
"""


def main():
    args = pl.daemon_args()
    rep = cl.Reporter()
    peerscope = args.peerscope
    schemas = os.path.join(args.docs, "..", "schemas")
    tmp = tempfile.mkdtemp(prefix="ps-probe-conn-")
    os.makedirs(os.path.join(tmp, "run"))
    cfg = os.path.join(tmp, "peerscope.yaml")
    out = os.path.join(tmp, "out.jsonl")
    with netns.DelayedPair(args.delayline, DELAY_US) as pair:
        with open(cfg, "w") as f:
            f.write(CONFIG % {"window": WINDOW, "tmp": tmp,
                              "interval_ms": int(INTERVAL * 1000),
                              "peer4": pair.PEER4, "peer6": pair.PEER6})
        col = pair.start_a([peerscope, "-c", cfg, "-o", out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        time.sleep(1.0)
        count = int((SECONDS - 3) / INTERVAL)
        ping = pair.start_a(["ping", "-n", "-i", str(INTERVAL), "-c",
                             str(count), "-W", "2", pair.PEER4],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
        ping_out, _ = ping.communicate(timeout=SECONDS + 30)
        time.sleep(max(0.0, SECONDS - 1.0 - count * INTERVAL))
        pl.stop_collector(rep, col)
    msgs = pl.read_messages(out)
    mine = [m for m in msgs if m.get("type") == "connection_metrics" and
            m["router"] == "192.0.2.1" and m["ifindex"] == 7]
    rep.check("connection published with probes", len(mine) >= 2,
              "%d messages" % len(mine))
    bad = pl.schema_errors(schemas, msgs)
    rep.check("messages valid against their schemas", not bad,
              "; ".join(bad[:3]))
    sketch, sent, lost, targets = None, 0, 0, set()
    for m in mine:
        icmp = (m.get("latency") or {}).get("probe_icmp")
        if icmp is None:
            continue
        sent += icmp["sent"]
        lost += icmp["lost"]
        targets |= set(icmp["targets"])
        s = args.ref["decode"](icmp["sketch"])
        if s["count"]:
            sketch = s if sketch is None else args.ref["merge"](sketch, s)
    rep.check("probes sent", sent > 0, "sent %d" % sent)
    rep.equal("no probe lost", lost, 0)
    rep.equal("both addresses probed", sorted(targets),
              sorted([pair.PEER4, pair.PEER6]))
    pv = pl.ping_view(ping_out, count)
    if sketch is not None and pv["rtts"]:
        p50 = args.ref["quantile"](sketch, 0.5) / 1e6
        tol = max(0.01 * pv["median"], 1.0)
        rep.check("probe_icmp p50 = ping median within max(1%, 1 ms)",
                  pl.within(p50, pv["median"], tol),
                  "p50 %.3f ms, ping %.3f ms (%d replies)"
                  % (p50, pv["median"], len(pv["rtts"])))
    else:
        rep.check("RTTs on both sides", False, "no RTTs")
    rep.finish()


if __name__ == "__main__":
    main()
