#!/usr/bin/env python3
"""A connection's status from its probes, behind a lossy delay line.

Two namespaces joined by peerscope-delayline: 10 ms each way and 20 %
loss per packet each way, so a round trip is lost with probability
1 - 0.8^2 = 36 % and takes 20 ms.  In A the collector runs live with
status.degraded.probe_loss_pct 5 and probe_p99_ms 15, ICMP and TCP probes
(port 179: nothing listens in B, so a reply is an RST), and two
configured connections on router 127.0.0.2 (the BMP feed's address),
each with `probe: true`:

- peer-far: peer address 192.0.2.2, in B, behind the line;
- peer-near: peer address 192.0.2.1, A's own, not through the line.

A BMP feed from 127.0.0.2 (Initiation, Peer Up for both addresses) keeps
both sessions up, so the probes alone decide.  iputils ping runs
alongside to both addresses.

Truth: ping's view of the same paths at the same time: the far path loses
more than 5 % of ping's echoes and ping's p99 RTT is above 15 ms; the
near path loses none and stays under.  Checks: peer-far is `degraded` in
every full window's connection_metrics, with reasons probe_loss and
probe_p99, each naming the method whose figure in the same message's
latency block is the worst and carrying that figure; its
connection_event says degraded by probe rules (one event per change of
status: the first degraded window's reasons); peer-near is `up`
with no reason in every full window, and no event of it says degraded; the messages validate against
their schemas.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "corpus"))
import netns  # noqa: E402
import probe_lib as pl  # noqa: E402
import corpus_lib as cl  # noqa: E402
import hostile_lib as hl  # noqa: E402

DELAY_US, LOSS_PPM = 10000, 200000
INTERVAL = 0.2
SECONDS = 23  # 3 full windows of 5 s at least, the flushed one aside
WINDOW = 5
LOSS_PCT, P99_MS = 5, 15
ROUTER = "127.0.0.2"
BMP_PORT = 11019  # inside A's own namespace: nothing else listens there

CONFIG = """
window_seconds: %(window)d
allow_root: true
runtime_dir: "%(tmp)s/run"
http:
  listen: "127.0.0.1:0"
bmp:
  listen: "127.0.0.1:%(bmp_port)d"
probes:
  interval_ms: %(interval_ms)d
  tcp:
    enabled: true
status:
  degraded:
    probe_loss_pct: %(loss)d
    probe_p99_ms: %(p99)d
connections:
  - id: peer-far
    kind: direct
    router: %(router)s
    interface: 7
    peer_asn: 64500
    peer_addresses: ["%(far)s"]
    probe: true
  - id: peer-near
    kind: direct
    router: %(router)s
    interface: 8
    peer_asn: 64501
    peer_addresses: ["%(near)s"]
    probe: true
"""

# The BMP feed, sent from A by a small program so it runs in A's
# namespace: connect from the router's address, send, hold the session
# open until stdin closes.
FEED = r"""
import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
for _ in range(100):
    try:
        s.connect(("127.0.0.1", int(sys.argv[2])))
        break
    except ConnectionRefusedError:
        import time; time.sleep(0.1)
s.sendall(bytes.fromhex(sys.argv[3]))
print("sent", flush=True)
sys.stdin.read()
s.close()
"""


def ping_p99(rtts):
    v = sorted(rtts)
    return v[int(0.99 * (len(v) - 1))] if v else float("nan")


def worst(latency, key):
    """(method, value) of the probe method with the largest `key`."""
    best = (None, -1.0)
    for name in ("probe_icmp", "probe_tcp", "probe_stamp"):
        b = latency.get(name)
        if b is not None and b.get(key) is not None and b[key] > best[1]:
            best = (name, b[key])
    return best


def reasons_of(reasons):
    return {r["reason"]: r for r in reasons}


def check_far(rep, m, where):
    lat = m.get("latency") or {}
    got = reasons_of(m.get("status_reasons") or [])
    rep.equal("%s: peer-far degraded" % where, m.get("status"), "degraded")
    for reason, key, threshold in (("probe_loss", "loss_pct", LOSS_PCT),
                                   ("probe_p99", "p99_ms", P99_MS)):
        method, value = worst(lat, key)
        r = got.get(reason, {})
        rep.check("%s: %s names the worst method and its figure"
                  % (where, reason),
                  r.get("method") == method and r.get("threshold") ==
                  threshold and value is not None and
                  abs(r.get("value", -1) - value) <= 1e-3 * max(1, value),
                  "reason %s, latency block %s %s" % (r, method, value))


def main():
    args = pl.daemon_args()
    rep = cl.Reporter()
    peerscope = args.peerscope
    schemas = os.path.join(args.docs, "..", "schemas")
    tmp = tempfile.mkdtemp(prefix="ps-probe-status-")
    os.makedirs(os.path.join(tmp, "run"))
    cfg = os.path.join(tmp, "peerscope.yaml")
    out = os.path.join(tmp, "out.jsonl")
    feed = hl.bmp_initiation("rtr-test") + b"".join(
        hl.bmp_peer_up(a, 64500) for a in (netns.DelayedPair.PEER4,
                                           netns.DelayedPair.NEAR4))
    with netns.DelayedPair(args.delayline, DELAY_US, 0, LOSS_PPM,
                           seed=20261208) as pair:
        with open(cfg, "w") as f:
            f.write(CONFIG % {"window": WINDOW, "tmp": tmp,
                              "interval_ms": int(INTERVAL * 1000),
                              "bmp_port": BMP_PORT, "loss": LOSS_PCT,
                              "p99": P99_MS, "router": ROUTER,
                              "far": pair.PEER4, "near": pair.NEAR4})
        col = pair.start_a([peerscope, "-c", cfg, "-o", out],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        bmp = pair.start_a([sys.executable, "-c", FEED, ROUTER,
                            str(BMP_PORT), feed.hex()],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           text=True)
        sent = bmp.stdout.readline().strip()  # bounded: 100 tries of 0.1 s
        rep.equal("BMP feed sent", sent, "sent")
        count = int((SECONDS - 3) / INTERVAL)
        pings = [(a, pair.start_a(["ping", "-n", "-i", str(INTERVAL), "-c",
                                   str(count), "-W", "2", a],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True))
                 for a in (pair.PEER4, pair.NEAR4)]
        ping_out = {a: p.communicate(timeout=SECONDS + 30)[0]
                    for a, p in pings}
        time.sleep(max(0.0, SECONDS - 1.0 - count * INTERVAL))
        pl.stop_collector(rep, col)
        bmp.stdin.close()
        netns.stop_pid(bmp)
    msgs = pl.read_messages(out)

    far = pl.ping_view(ping_out[netns.DelayedPair.PEER4], count)
    near = pl.ping_view(ping_out[netns.DelayedPair.NEAR4], count)
    rep.check("ping: the far path loses more than the threshold",
              far["loss"] * 100 > LOSS_PCT, "%.1f %%" % (far["loss"] * 100))
    rep.check("ping: the far path's p99 is above the threshold",
              ping_p99(far["rtts"].values()) > P99_MS,
              "%.3f ms" % ping_p99(far["rtts"].values()))
    rep.check("ping: the near path loses nothing, p99 under the threshold",
              near["loss"] == 0 and
              ping_p99(near["rtts"].values()) < P99_MS,
              "%.1f %%, %.3f ms" % (near["loss"] * 100,
                                    ping_p99(near["rtts"].values())))

    metrics = [m for m in msgs if m.get("type") == "connection_metrics" and
               m.get("router") == ROUTER]
    # a window with a full set of probes: the first one may be cut, and
    # the window SIGTERM flushes is (whatever its probe count: the prober
    # stops before it closes) checked apart below
    last = max((m["window"]["start"] for m in metrics), default=None)
    by_id = {"peer-far": [], "peer-near": []}
    for m in metrics:
        if m["window"]["start"] == last:
            continue
        icmp = (m.get("latency") or {}).get("probe_icmp") or {}
        cid = {7: "peer-far", 8: "peer-near"}.get(m.get("ifindex"))
        if cid and icmp.get("sent", 0) >= WINDOW / INTERVAL - 2:
            by_id[cid].append(m)
    rep.check("full windows of both connections",
              len(by_id["peer-far"]) >= 2 and len(by_id["peer-near"]) >= 2,
              "%d far, %d near" % (len(by_id["peer-far"]),
                                   len(by_id["peer-near"])))
    for i, m in enumerate(by_id["peer-far"]):
        check_far(rep, m, "window %d" % i)
    for i, m in enumerate(by_id["peer-near"]):
        rep.check("window %d: peer-near up, no reason" % i,
                  m.get("status") == "up" and not m.get("status_reasons"),
                  "%s %s" % (m.get("status"), m.get("status_reasons")))

    events = [m for m in msgs if m.get("type") == "connection_event"]
    far_ev = [e for e in events if e["connection_id"] == "peer-far"]
    near_ev = [e for e in events if e["connection_id"] == "peer-near"]
    # an event is published per change of status, not of reasons: the
    # first degraded window may be a partial one that lost nothing (or
    # whose p99 stayed under), so the event names one or both probe rules
    rep.check("peer-far: an event says degraded by the probes",
              any(e["status"] == "degraded" and e["reasons"] and
                  set(reasons_of(e["reasons"])) <=
                  {"probe_loss", "probe_p99"} for e in far_ev),
              json.dumps(far_ev)[:600])
    # up once the feed is in (before it: unknown, no_bmp), and still up
    # in the window SIGTERM flushes: peerscope stopping is no loss of the
    # router's feed (bmp_feed_lost)
    near_st = [e["status"] for e in near_ev]
    rep.check("peer-near: up, and no change after it",
              "up" in near_st and near_st[near_st.index("up"):] == ["up"],
              json.dumps([(e["status"], e["reasons"]) for e in near_ev]))
    final = [m for m in metrics if m["window"]["start"] == last and
             m.get("ifindex") == 8]
    rep.check("peer-near: up in the window SIGTERM flushes",
              len(final) == 1 and final[0].get("status") == "up" and
              not final[0].get("status_reasons"),
              json.dumps([(m.get("status"), m.get("status_reasons"))
                          for m in final]))
    bad = pl.schema_errors(schemas, msgs)
    rep.check("messages valid against their v1 schemas", not bad,
              "; ".join(bad[:3]))
    rep.finish()


if __name__ == "__main__":
    main()
