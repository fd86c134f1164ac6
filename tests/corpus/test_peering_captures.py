#!/usr/bin/env python3
"""The peering lab captures (tests/data/peering/, README.capture.md
"Peering captures") replayed with no options: what peerscope publishes per
(router, ifIndex) and per BGP session equals tshark's truth.

Truth (tests/data/peering/*.truth.json, made by peering/truth.py from
tshark's decoding, no peerscope code):
  * wire.truth.json ports.<port>.<dir>.ip: the IP frames edge1's ports
    carried (pmacctd exports IP frames only); at sFlow 1:1 every one is a
    sample (bytes = frame length + 4 FCS), in IPFIX every one is counted
    (octets = IP length);
  * sflow-rate1.truth.json by_window_of_arrival: the same per minute of
    the datagrams' arrival; counter_samples.<ifIndex>.last_minus_first:
    what the interface counters grew by between the first and last record;
  * bmp.truth.json sessions: final state, flaps, pre/post-policy and
    Loc-RIB route counts per AFI from the Route Monitoring replay;
  * wire.truth.json tcp_handshakes: each handshake's external and
    internal half as the wire timed it.  sfprobe sends its samples in
    one-second batches, so the sFlow capture cannot time them: every
    tcp_handshake value peerscope publishes must still lie within 5 % of
    the wire's halves on that port (none is expected), and every paired
    half not published is counted (paired = count + rejected + untimed).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

ROUTER = "198.51.100.5"
VIEWS = {"pre": "pre_policy", "post": "post_policy", "loc_rib": "loc_rib"}


def load(data, name):
    return cl.load_json(os.path.join(data, "peering", name))


def figures(run, source):
    """(window start, ifIndex, direction) -> (packets, bytes) of source."""
    out = {}
    for m in run.of_type("connection_metrics"):
        if m.get("router") != ROUTER:
            continue
        for d in ("in", "out"):
            f = (m.get(d) or {}).get(source)
            if f:
                out[(m["window"]["start"], m["ifindex"], d)] = (
                    f["packets"], f["bytes"])
    return out


def totals(fig):
    t = {}
    for (_w, ifx, d), (p, b) in fig.items():
        q = t.setdefault((ifx, d), [0, 0])
        q[0] += p
        q[1] += b
    return {k: tuple(v) for k, v in t.items()}


def check_replay(rep, run, name):
    rep.check("%s: replay exits 0" % name, run.rc == 0,
              "" if run.rc == 0 else run.describe())
    rep.check("%s: every output line is JSON" % name, not run.bad_lines,
              str(run.bad_lines[:2]))


def check_flows(rep, args, wire):
    """Returns the sFlow 1:1 run (its BMP stream is every capture's)."""
    first = None
    for cap, basis in (("sflow-rate1", "bytes_with_fcs"),
                       ("ipfix", "l3_bytes"), ("ipfix-nomac", "l3_bytes")):
        run = cl.replay(args.peerscope, [os.path.join(
            args.data, "peering", cap + ".pcap.gz")])
        check_replay(rep, run, cap)
        first = first or run
        got = totals(figures(run, "samples"))
        for port in wire["ports"].values():
            for d in ("in", "out"):
                ip = port[d]["ip"]
                want = (ip["frames"], ip[basis])
                have = got.get((port["ifindex"], d))
                rep.check("%s: ifIndex %d %s = wire IP frames, %s"
                          % (cap, port["ifindex"], d, basis),
                          have == want, "have %s want %s" % (have, want))
        if cap != "sflow-rate1":
            continue
        truth = load(args.data, cap + ".truth.json")
        per_window = figures(run, "samples")
        for w, ent in truth["by_window_of_arrival"].items():
            for key, v in ent.items():
                ifx, d = key.split("/")
                have = per_window.get((w, int(ifx), d))
                want = (v["samples"], v["frame_length_sum"])
                rep.check("%s: window %s ifIndex %s %s = samples arriving "
                          "in it" % (cap, w, ifx, d), have == want,
                          "have %s want %s" % (have, want))
        counters = totals(figures(run, "counters"))
        for ifx, c in truth["counter_samples"].items():
            growth = c["last_minus_first"]
            for d in ("in", "out"):
                want = (growth[d + "_ucast_pkts"] + growth[d + "_mcast_pkts"]
                        + growth[d + "_bcast_pkts"], growth[d + "_octets"])
                have = counters.get((int(ifx), d))
                rep.check("%s: ifIndex %s %s counters = growth of the "
                          "counter records" % (cap, ifx, d), have == want,
                          "have %s want %s" % (have, want))
    return first


def check_bmp(rep, run, bmp):
    last = {}
    for m in run.of_type("bgp_session"):
        if m.get("event") == "snapshot":
            key = "loc-rib" if m["peer"]["type"] == "loc_rib" \
                else m["peer"]["address"]
            last[key] = m
    rep.check("BMP: a final snapshot for every session of the truth",
              set(last) == set(bmp["sessions"]),
              "have %s want %s" % (sorted(last), sorted(bmp["sessions"])))
    for addr, s in sorted(bmp["sessions"].items()):
        m = last.get(addr)
        if m is None:
            continue
        if s["final_state"] is not None:
            rep.check("BMP %s: state %s" % (addr, s["final_state"]),
                      m["state"] == s["final_state"], m["state"])
            rep.check("BMP %s: %d flap(s)" % (addr, s["flaps"]),
                      m["flaps"] == s["flaps"], str(m["flaps"]))
        for key, want in sorted(s["prefixes_final"].items()):
            view, afi = key.rsplit("_", 1)
            have = m["views"].get(VIEWS[view], {}).get(
                afi + "_unicast", {}).get("routes", 0)
            rep.check("BMP %s: %s routes %s" % (addr, key, want),
                      have == want, "have %s" % have)


def check_handshakes(rep, run, wire):
    """The sFlow 1:1 run's tcp_handshake figures against the wire."""
    halves = {}
    for h in wire["tcp_handshakes"]:
        if h.get("complete"):
            for part in ("external", "internal"):
                halves.setdefault((h["ifindex"], part), []).append(
                    h[part + "_ms"])
    paired = 0
    for m in run.of_type("connection_metrics"):
        hs = (m.get("latency") or {}).get("tcp_handshake")
        if not hs or m.get("router") != ROUTER:
            continue
        name = "sflow-rate1: window %s ifIndex %d tcp_handshake" % (
            m["window"]["start"], m["ifindex"])
        paired += hs["paired"]
        rep.equal(name + ": paired = count + rejected + untimed",
                  hs["paired"], hs["count"] + sum(hs["rejected"].values())
                  + sum(hs["untimed"].values()))
        for part, f in sorted(hs["parts"].items()):
            if f["count"] == 0:
                continue
            wire_ms = halves.get((m["ifindex"], part), [])
            ok = bool(wire_ms) and (
                min(wire_ms) * 0.95 <= f["min_ms"] and
                f["max_ms"] <= max(wire_ms) * 1.05)
            rep.check("%s.%s within the wire's halves" % (name, part), ok,
                      "published %s..%s ms, wire %s..%s ms" % (
                          f["min_ms"], f["max_ms"],
                          min(wire_ms, default=None),
                          max(wire_ms, default=None)))
    wire_halves = sum(len(v) for v in halves.values())
    rep.check("sflow-rate1: tcp_handshake halves paired, at most the "
              "wire's", 0 < paired <= wire_halves,
              "paired %d, wire %d" % (paired, wire_halves))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    wire = load(args.data, "wire.truth.json")
    run = check_flows(rep, args, wire)
    check_bmp(rep, run, load(args.data, "bmp.truth.json"))
    check_handshakes(rep, run, wire)
    rep.finish()


if __name__ == "__main__":
    main()
