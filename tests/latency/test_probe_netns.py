#!/usr/bin/env python3
"""The probe engine against ping, through a delay line of known delay.

Two namespaces joined by peerscope-delayline (10 ms each way, so a 20 ms
round trip).  In namespace A peerscope-probe and iputils ping run side by
side; B answers ICMP itself, runs a TCP listener on 179 and the STAMP
reflector of stamp_reflector.py (written from RFC 8762, not from our
sender), which holds each packet 5 ms between receiving and answering.

Truth is ping's view of the same path at the same time: the engine's RTT
median (its sketch, merged over windows with docs/latency.md's reference
decoder) must equal ping's median reply time within max(1 %, 1 ms), the
issue's bound, for ICMP (IPv4 and IPv6), for TCP connect to a listener
(the SYN -> SYN/ACK time), for TCP to a closed port (SYN -> RST) and for
STAMP (whose 5 ms reflector hold must not show: (T4-T1) - (T3-T2)); no
probe may be lost.  The listener checks that each probe connection ends
in an RST, never a FIN and never data (no session opened).  The ICMP
datagram socket is checked with ping_group_range opened inside A, and
the refusals (neither socket usable, a multicast target) by the exit
status and the reason printed.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
import probe_lib as pl  # noqa: E402
import corpus_lib as cl  # noqa: E402

DELAY_US = 10000
INTERVAL = 0.2
SECONDS = 14
COUNT = int(SECONDS / INTERVAL) - 5  # ping ends before the engine

LISTENER = r"""
import select, socket, sys, time
socks = []
for fam, addr in ((socket.AF_INET, sys.argv[1]), (socket.AF_INET6, sys.argv[2])):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 179)); s.listen(128); socks.append(s)
print("ready", flush=True)
resets = fins = data = 0
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    for s in select.select(socks, [], [], 0.2)[0]:
        c, _ = s.accept()
        c.settimeout(3)
        try:
            got = c.recv(1)
            if got: data += 1
            else: fins += 1
        except ConnectionResetError:
            resets += 1
        except socket.timeout:
            pass
        c.close()
print("resets=%d fins=%d data=%d" % (resets, fins, data), flush=True)
"""


def tol(median):
    return max(0.01 * median, 1.0)


def check_rtt(rep, name, got, ping, count_min):
    rep.check("%s: no probe lost" % name,
              got["lost"] == 0 and got["sent"] == got["answered"]
              and got["sent"] >= count_min,
              "sent %d answered %d lost %d" % (got["sent"], got["answered"],
                                              got["lost"]))
    rep.check("%s: p50 = ping median within max(1%%, 1 ms)" % name,
              pl.within(got["p50_ms"], ping["median"], tol(ping["median"])),
              "engine %.3f ms, ping %.3f ms" % (got["p50_ms"],
                                               ping["median"]))


def main_run(args, rep):
    with netns.DelayedPair(args.delayline, DELAY_US) as pair:
        refl = [pair.start_b([sys.executable, os.path.join(pl.HERE,
                                                           "stamp_reflector.py"),
                              a, "--hold-ms", "5", "--duration", "60"],
                             stdout=subprocess.PIPE, text=True)
                for a in (pair.PEER4, pair.PEER6)]
        lst = pair.start_b([sys.executable, "-c", LISTENER, pair.PEER4,
                            pair.PEER6, str(SECONDS + 5)],
                           stdout=subprocess.PIPE, text=True)
        for p in refl + [lst]:
            rep.equal("helper in B ready", p.stdout.readline().strip(),
                      "ready")
        targets = ["v4=" + pair.PEER4, "v6=" + pair.PEER6]
        windows, pings, _ = pl.run_with_ping(
            pair, args.probe, targets, SECONDS,
            sets=["probes.interval_ms=%d" % (INTERVAL * 1000),
                  "probes.icmp.socket=raw", "probes.tcp.enabled=true",
                  "probes.stamp.enabled=true"],
            pings=[(pair.PEER4, INTERVAL, COUNT),
                   (pair.PEER6, INTERVAL, COUNT)])
        ping4 = pl.ping_view(pings[pair.PEER4], COUNT)
        ping6 = pl.ping_view(pings[pair.PEER6], COUNT)
        rep.check("ping sees the delay line's round trip (20 ms + forwarding)",
                  20.0 <= ping4["median"] <= 21.5 and ping4["loss"] == 0,
                  "median %.3f ms, loss %.3f" % (ping4["median"],
                                                 ping4["loss"]))
        need = int(SECONDS / INTERVAL * 0.8)
        for tid, ping in (("v4", ping4), ("v6", ping6)):
            icmp = pl.fold(args.ref, windows, tid, "icmp")
            check_rtt(rep, "icmp %s (raw socket)" % tid, icmp, ping, need)
            rep.equal("icmp %s: every RTT from kernel timestamps" % tid,
                      icmp["kernel_timed"], icmp["answered"])
            tcp = pl.fold(args.ref, windows, tid, "tcp")
            check_rtt(rep, "tcp %s to a listener on 179" % tid, tcp, ping,
                      need)
            rep.equal("tcp %s: no refusal" % tid, tcp["refused"], 0)
            stamp = pl.fold(args.ref, windows, tid, "stamp")
            check_rtt(rep, "stamp %s (reflector holding 5 ms)" % tid, stamp,
                      ping, need)
        out, _ = lst.communicate(timeout=SECONDS + 10)
        fields = dict(kv.split("=") for kv in out.split()) if out else {}
        tcp_sent = sum(pl.fold(args.ref, windows, t, "tcp")["sent"]
                       for t in ("v4", "v6"))
        rep.check("listener: every probe connection ended in an RST",
                  int(fields.get("resets", -1)) >= tcp_sent - 2 and
                  fields.get("fins") == "0" and fields.get("data") == "0",
                  "%s (probes sent %d)" % (out.strip(), tcp_sent))

        # TCP to a closed port: the RST's time, user-space timed
        windows, pings, _ = pl.run_with_ping(
            pair, args.probe, ["v4=" + pair.PEER4], 6,
            sets=["probes.interval_ms=200", "probes.icmp.enabled=false",
                  "probes.tcp.enabled=true", "probes.tcp.port=180"],
            pings=[(pair.PEER4, INTERVAL, 25)])
        ping = pl.ping_view(pings[pair.PEER4], 25)
        tcp = pl.fold(args.ref, windows, "v4", "tcp")
        check_rtt(rep, "tcp v4 to a closed port (RST)", tcp, ping, 20)
        rep.equal("tcp v4 closed port: every answer a refusal",
                  tcp["refused"], tcp["answered"])

        # ICMP datagram socket, allowed inside A only
        pair.sysctl_a("net.ipv4.ping_group_range", "0 2147483647")
        windows, pings, err = pl.run_with_ping(
            pair, args.probe, targets, 6,
            sets=["probes.interval_ms=200", "probes.icmp.socket=dgram"],
            pings=[(pair.PEER4, INTERVAL, 25), (pair.PEER6, INTERVAL, 25)])
        for tid, addr in (("v4", pair.PEER4), ("v6", pair.PEER6)):
            icmp = pl.fold(args.ref, windows, tid, "icmp")
            rep.equal("icmp %s: datagram socket in use" % tid,
                      icmp.get("socket"), "dgram")
            check_rtt(rep, "icmp %s (datagram socket)" % tid, icmp,
                      pl.ping_view(pings[addr], 25), 20)

        # refusals at load, with the reason
        pair.sysctl_a("net.ipv4.ping_group_range", "1 0")
        r = pair.run_a([args.probe, "--seconds", "1", "--set",
                        "probes.icmp.socket=dgram", pair.PEER4])
        rep.check("dgram refused outside ping_group_range, with the reason",
                  r.returncode == 2 and "ping_group_range" in r.stderr,
                  r.stderr.strip())
        r = pair.run_a(["setpriv", "--inh-caps=-net_raw",
                        "--bounding-set=-net_raw", args.probe, "--seconds",
                        "1", pair.PEER4])
        rep.check("no datagram socket and no CAP_NET_RAW: refused",
                  r.returncode == 2 and "CAP_NET_RAW" in r.stderr and
                  "ping_group_range" in r.stderr, r.stderr.strip())
        r = pair.run_a([args.probe, "--seconds", "1", "224.0.0.1"])
        rep.check("multicast target refused with the reason",
                  r.returncode == 2 and "multicast" in r.stderr,
                  r.stderr.strip())


def main():
    netns.skip_unless_possible(need=("ip", "ping", "setpriv"))
    args = pl.parse_args()
    rep = cl.Reporter()
    main_run(args, rep)
    rep.finish()


if __name__ == "__main__":
    main()
