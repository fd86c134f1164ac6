#!/usr/bin/env python3
"""The probe engine behind a delay line with jitter and loss, against the
packets on the wire and against ping.

peerscope-delayline: 10 ms each way, + uniform jitter in [-3, +3] ms per
packet, and 5 % loss per packet in each direction, so a round trip is
lost with probability p = 1 - 0.95^2 = 0.0975.  peerscope-probe (ICMP,
100 ms interval) sends N = 400 probes to the peer's TUN address, and ping
(the same interval and count) to its loopback address over the same
line, while dumpcap captures ICMP on the prober's TUN device.

Truth is what the capture shows (tshark reads it: each echo request and
its reply, paired by identifier and sequence number, timestamps taken by
the kernel at the device), independent of the engine's own clocks and
matching:

- sent: the engine's count equals the echo requests it put on the wire;
  lost: equals the requests with no reply within the 2 s timeout.
- RTT: the engine's p50 equals the capture's median RTT of its probes
  within 1 % (the sketch's relative error) + 0.2 ms (the device-to-socket
  time of two packets on a loaded machine).
- jitter_ms (mean |difference| of consecutive answered RTTs, in send
  order) equals the same statistic over the capture's RTTs within 5 % +
  0.1 ms.  The engine takes kernel timestamps at both ends; the delay line
  runs in user space, so on a loaded machine its real jitter exceeds its
  setting (seen: 3.3 ms for 2.8 ms expected): the wire, not the setting,
  is the truth.
- the path is the one configured: the capture's loss lies within 4 sigma
  of p (sigma = sqrt(p(1-p)/N), a false alarm once in 16,000 runs), and
  its jitter is at least 85 % of the line's expectation E|U1+U2-U3-U4|, U
  uniform in [-3, 3] ms (Monte Carlo, 200,000 draws).
- a real client on the same path: ping's loss within 4 sigma of p, and
  its median within 4 sqrt(2) standard errors (1.2533 s / sqrt(n)) + 1 %
  of the engine's p50.
- no probe is late, every RTT is timed by the kernel.
"""
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
import probe_lib as pl  # noqa: E402
import corpus_lib as cl  # noqa: E402

DELAY_US, JITTER_US, LOSS_PPM = 10000, 3000, 50000
N = 400
INTERVAL = 0.1
TIMEOUT_S = 2.0  # probes.icmp.timeout_ms default


def expected_jitter_ms():
    r = random.Random(5)
    j = JITTER_US / 1000
    draws = 200000
    return sum(abs(r.uniform(-j, j) + r.uniform(-j, j) -
                   r.uniform(-j, j) - r.uniform(-j, j))
               for _ in range(draws)) / draws


def start_capture(pair, path):
    """dumpcap on A's TUN device; returns once it is capturing."""
    proc = pair.start_a(["dumpcap", "-q", "-i", pair.TUN, "-f", "icmp",
                         "-w", path], stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("dumpcap exited: %s" % proc.stderr.read())
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return proc
        time.sleep(0.05)
    raise RuntimeError("dumpcap did not start capturing")


def stop_capture(proc):
    """SIGINT (dumpcap writes out and exits), then netns.stop_pid."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            netns.stop_pid(proc)


def wire_view(path, dst):
    """The capture's echo requests to dst and their replies, paired by
    (identifier, sequence): sent, lost (no reply within TIMEOUT_S), the
    RTTs in send order (ms), their median and jitter."""
    out = subprocess.run(
        ["tshark", "-n", "-r", path, "-Y", "icmp.type == 8 || "
         "icmp.type == 0", "-T", "fields", "-E", "separator=,",
         "-E", "occurrence=f",
         "-e", "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst",
         "-e", "icmp.type", "-e", "icmp.ident", "-e", "icmp.seq"],
        capture_output=True, text=True, timeout=120, check=True).stdout
    sent, replies = [], {}
    for line in out.splitlines():
        t, src, dstx, typ, ident, seq = line.split(",")[:6]
        if typ == "8" and dstx == dst:
            sent.append((float(t), ident, seq))
        elif typ == "0" and src == dst:
            replies.setdefault((ident, seq), float(t))
    rtts = []
    for t, ident, seq in sorted(sent):
        r = replies.get((ident, seq))
        if r is not None and 0 <= r - t <= TIMEOUT_S:
            rtts.append((r - t) * 1000)
    diffs = [abs(b - a) for a, b in zip(rtts, rtts[1:])]
    return {"sent": len(sent), "lost": len(sent) - len(rtts),
            "median": netns.median(rtts),
            "jitter": sum(diffs) / len(diffs) if diffs else float("nan")}


def main():
    netns.skip_unless_possible(need=("ip", "ping", "dumpcap", "tshark"))
    args = pl.parse_args()
    rep = cl.Reporter()
    p_rt = 1 - (1 - LOSS_PPM / 1e6) ** 2
    sigma = math.sqrt(p_rt * (1 - p_rt) / N)
    with tempfile.TemporaryDirectory() as tmp, \
            netns.DelayedPair(args.delayline, DELAY_US, JITTER_US, LOSS_PPM,
                              seed=20261207) as pair:
        cap = os.path.join(tmp, "prober.pcapng")
        dumpcap = start_capture(pair, cap)
        windows, pings, _ = pl.run_with_ping(
            pair, args.probe, ["peer=" + pair.PEER4], N * INTERVAL + 1,
            sets=["probes.interval_ms=%d" % (INTERVAL * 1000),
                  "probes.jitter_percent=0",
                  "probes.icmp.timeout_ms=%d" % (TIMEOUT_S * 1000)],
            pings=[(pair.PEER4_LO, INTERVAL, N)], window_seconds=10)
        time.sleep(0.5)  # the last replies reach the capture
        stop_capture(dumpcap)
        wire = wire_view(cap, pair.PEER4)
    ping = pl.ping_view(pings[pair.PEER4_LO], N)
    got = pl.fold(args.ref, windows, "peer", "icmp")

    rep.check("engine sent about N probes", abs(got["sent"] - N) <= 15,
              "sent %d" % got["sent"])
    rep.equal("sent = echo requests on the wire", got["sent"], wire["sent"])
    rep.equal("lost = requests unanswered on the wire", got["lost"],
              wire["lost"])
    rep.check("p50 = the wire's median RTT (1 % + 0.2 ms)",
              abs(got["p50_ms"] - wire["median"]) <=
              0.01 * wire["median"] + 0.2,
              "engine %.3f ms, wire %.3f ms" % (got["p50_ms"],
                                                wire["median"]))
    rep.check("jitter_ms = the wire's (5 % + 0.1 ms)",
              abs(got["jitter_ms"] - wire["jitter"]) <=
              0.05 * wire["jitter"] + 0.1,
              "engine %.3f ms, wire %.3f ms" % (got["jitter_ms"],
                                                wire["jitter"]))

    wire_loss = wire["lost"] / wire["sent"] if wire["sent"] else 1.0
    rep.check("the wire's loss within 4 sigma of 1-(1-p)^2",
              abs(wire_loss - p_rt) <= 4 * sigma,
              "%.4f vs %.4f (sigma %.4f)" % (wire_loss, p_rt, sigma))
    want = expected_jitter_ms()
    rep.check("the wire's jitter at least 85 % of the line's setting",
              wire["jitter"] >= 0.85 * want,
              "wire %.3f ms, expected %.3f ms" % (wire["jitter"], want))

    rep.check("ping loss within 4 sigma of 1-(1-p)^2",
              abs(ping["loss"] - p_rt) <= 4 * sigma,
              "%.4f vs %.4f" % (ping["loss"], p_rt))
    rtts = list(ping["rtts"].values())
    mean = sum(rtts) / len(rtts)
    spread = math.sqrt(sum((x - mean) ** 2 for x in rtts) / (len(rtts) - 1))
    se = 1.2533 * spread / math.sqrt(len(rtts))
    bound = 4 * math.sqrt(2) * se + 0.01 * ping["median"]
    rep.check("p50 agrees with ping's median within the statistical bound",
              abs(got["p50_ms"] - ping["median"]) <= bound,
              "engine %.3f ms, ping %.3f ms, bound %.3f ms"
              % (got["p50_ms"], ping["median"], bound))

    rep.equal("no late replies", got["late"], 0)
    rep.equal("every RTT kernel-timed", got["kernel_timed"], got["answered"])
    rep.equal("answered + lost = sent", got["answered"] + got["lost"],
              got["sent"])
    rep.finish()


if __name__ == "__main__":
    main()
