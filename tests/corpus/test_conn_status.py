#!/usr/bin/env python3
"""Configured connections' BGP sessions and status (issue 11 item 4): the
peering lab captures (tests/data/peering/, BMP from GoBGP beside the flows)
replayed with the lab's connection registry
(peering/peerscope.demo-peering.yaml).

Truth, from tshark's decoding of the BMP stream alone (peering/truth.py's
bmp_messages: `tshark -Y bmp -T pdml`, no peerscope code), per window and
session, in capture time (the clock replay uses):
  * known time: from the router's first BMP message (its Initiation) on;
    the capture's BMP stream never ends (no FIN), so up to the window end;
  * Established time: from each Peer Up to the next Peer Down;
  * availability = Established / known; flaps = Peer Downs after a Peer
    Up (or a Peer Up while up) inside [start, end);
  * state at the end: Established after Peer Up, Idle after Peer Down;
    uptime = end - the last Peer Up;
  * prefixes per family: the routes held from pre-policy (received) and
    post-policy (accepted) Route Monitoring, announcements and withdrawals
    applied in order, a Peer Down clearing them.
A connection's sessions are the BMP peers at one of its peer_addresses.

Checked: every connection_event's sessions (state, flaps, availability)
and status; every configured connection's connection_metrics `sessions` block in
every window (all figures above); the status rules applied to the truth's
states (unknown / down / degraded / up, docs/connections.md); one event
per change.  Schema: every connection_event validates against
schemas/connection_event.v1.schema.json, and events broken on purpose
(an unknown status, a missing member, an extra member, a reason without
its fields) do not.
"""
import copy
import datetime
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus_lib as cl  # noqa: E402

WINDOW = 60
CAPTURES = ["sflow-rate1", "sflow-rate10", "ipfix", "ipfix-nomac"]


def iso(t):
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
        "%03dZ" % int(round((t % 1) * 1000) % 1000)


def parse_iso(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def overlap(a, b, lo, hi):
    return max(0.0, min(b, hi) - max(a, lo))


class Session:
    """One BMP peer's timeline and routes, from tshark's messages."""

    def __init__(self):
        self.events = []  # (t, "up"|"down", was)
        self.rib_at = []  # (t, {(view, afi): count})
        self.rib = {(v, a): set() for v in ("pre", "post")
                    for a in ("ipv4", "ipv6")}
        self.state = None

    def apply(self, m):
        t = m["t"]
        if m["type"] == "peer_up":
            self.events.append((t, "up", self.state))
            self.state = "up"
        elif m["type"] == "peer_down":
            if self.state != "down":
                self.events.append((t, "down", self.state))
            self.state = "down"
            for r in self.rib.values():
                r.clear()
            self.rib_at.append((t, self.counts()))
        elif m["type"] == "route_monitoring":
            for afi, op, pfx in m["prefixes"]:
                r = self.rib[(m["view"], afi)]
                if op == "announce":
                    r.add(pfx)
                else:
                    r.discard(pfx)
            self.rib_at.append((t, self.counts()))

    def counts(self):
        return {k: len(v) for k, v in self.rib.items()}

    def window(self, feed_from, lo, hi):
        """The figures of [lo, hi) (module docstring)."""
        known = overlap(feed_from, hi, lo, hi)
        est, flaps, state, since = 0.0, 0, "down", None
        t_prev = feed_from
        for t, ev, was in self.events:
            if t >= hi:
                break
            if state == "up":
                est += overlap(t_prev, t, lo, hi)
            if was == "up" and lo <= t:
                flaps += 1
            if ev == "up":
                since = t
            state, t_prev = ev, t
        if state == "up":
            est += overlap(t_prev, hi, lo, hi)
        counts = {k: 0 for k in self.rib}
        for t, c in self.rib_at:
            if t < hi:
                counts = c
        return {"known": known, "est": est, "flaps": flaps,
                "state": "Established" if state == "up" else "Idle",
                "since": since if state == "up" else None,
                "counts": counts}


def bmp_truth(path):
    sys.path.insert(0, os.path.join(os.path.dirname(path)))
    import truth  # peering/truth.py: tshark only
    msgs = truth.bmp_messages(path)
    sessions = {}
    for m in msgs:
        if m.get("peer") in (None, "loc-rib"):
            continue
        sessions.setdefault(m["peer"], Session()).apply(m)
    return msgs[0]["t"], sessions


def load_registry(data):
    import yaml
    with open(os.path.join(data, "peering",
                           "peerscope.demo-peering.yaml")) as f:
        return yaml.safe_load(f)["connections"]


def expected_status(figs):
    """The status rules of docs/connections.md over the truth's sessions
    (no thresholds: the lab's traffic is far below them)."""
    if not figs:
        return "down", [("no_session", None)]
    up = [a for a, f in figs.items() if f["state"] == "Established"]
    down = [a for a, f in figs.items() if f["state"] == "Idle"]
    if not up:
        return "down", [("sessions_down", a) for a in down]
    reasons = [("session_down", a) for a in down]
    reasons += [("session_flapped", a) for a, f in figs.items()
                if f["flaps"] > 0]
    return ("degraded" if reasons else "up"), reasons


def near(a, b, tol):
    return a is not None and b is not None and abs(a - b) <= tol


def check_brief(rep, tag, got, want):
    """An event's session against the truth."""
    avail = want["est"] / want["known"] if want["known"] > 0 else None
    ok = (got["state"] == want["state"] and got["flaps"] == want["flaps"]
          and near(got["availability"], avail, 2e-6))
    rep.check("%s: state, flaps, availability" % tag, ok,
              "got %s, want state %s flaps %d availability %r" %
              (json.dumps(got), want["state"], want["flaps"], avail))


def check_full(rep, tag, got, want, end):
    avail = want["est"] / want["known"] if want["known"] > 0 else None
    problems = []
    if got["state"] != want["state"]:
        problems.append("state %s != %s" % (got["state"], want["state"]))
    if got["flaps"] != want["flaps"]:
        problems.append("flaps %d != %d" % (got["flaps"], want["flaps"]))
    if not near(got["availability"], avail, 2e-6):
        problems.append("availability %r != %r" % (got["availability"],
                                                   avail))
    if not near(got["established_seconds"], want["est"], 1.5e-3):
        problems.append("established %r != %r" % (got["established_seconds"],
                                                  want["est"]))
    if not near(got["known_seconds"], want["known"], 1.5e-3):
        problems.append("known %r != %r" % (got["known_seconds"],
                                            want["known"]))
    if want["since"] is None:
        if got["uptime_seconds"] is not None:
            problems.append("uptime %r, want null" % got["uptime_seconds"])
    elif not near(got["uptime_seconds"], end - want["since"], 1.5e-3):
        problems.append("uptime %r != %r" % (got["uptime_seconds"],
                                             end - want["since"]))
    for afi in ("ipv4", "ipv6"):
        fam = got["prefixes"].get(afi + "_unicast")
        rec = fam["received"] if fam else 0
        acc = fam["accepted"] if fam else 0
        if (rec, acc) != (want["counts"][("pre", afi)],
                          want["counts"][("post", afi)]):
            problems.append("%s received/accepted %r != %r" % (
                afi, (rec, acc), (want["counts"][("pre", afi)],
                                  want["counts"][("post", afi)])))
    rep.check("%s: sessions block equals tshark" % tag, not problems,
              "; ".join(problems))


def check_capture(rep, args, name, conns, validator):
    cap = os.path.join(args.data, "peering", name + ".pcap.gz")
    feed_from, sessions = bmp_truth(cap)
    cfg = os.path.join(args.data, "peering", "peerscope.demo-peering.yaml")
    run = cl.replay(args.peerscope, ["-c", cfg, cap])
    if not rep.check("%s: replay exits 0" % name, run.rc == 0,
                     run.describe()):
        return
    events = run.of_type("connection_event")
    # v2: every message has the members, null unless configured
    metrics = [m for m in run.of_type("connection_metrics")
               if m.get("status") is not None]
    windows = sorted({parse_iso(m["window"]["start"])
                      for m in run.of_type("connection_metrics")})
    rep.check("%s: windows published" % name, len(windows) >= 3,
              str(len(windows)))
    # every event is valid
    errors = []
    for e in events:
        errors += [x.message for x in validator.iter_errors(e)]
    rep.equal("%s: %d connection_event(s) valid against the schema"
              % (name, len(events)), errors[:3], [])

    last = {}
    seen_events = 0
    for lo in windows:
        hi = lo + WINDOW
        for c in conns:
            figs = {a: sessions[a].window(feed_from, lo, hi)
                    for a in c["peer_addresses"] if a in sessions}
            status, reasons = expected_status(figs)
            ev = [e for e in events if e["connection_id"] == c["id"] and
                  parse_iso(e["window"]["start"]) == lo]
            tag = "%s %s %s" % (name, iso(lo)[11:16], c["id"])
            if status != last.get(c["id"]):
                seen_events += 1
                if rep.check("%s: one event (%s -> %s)" % (
                        tag, last.get(c["id"]), status), len(ev) == 1,
                        json.dumps(ev)[:300]):
                    e = ev[0]
                    rep.equal(tag + ": event status, previous",
                              (e["status"], e["previous_status"]),
                              (status, last.get(c["id"])))
                    rep.equal(tag + ": event reasons",
                              [(r["reason"], r["session"])
                               for r in e["reasons"]], reasons)
                    got = {s["address"]: s for s in e["sessions"]}
                    rep.equal(tag + ": event sessions",
                              sorted(got), sorted(figs))
                    for a in sorted(set(got) & set(figs)):
                        check_brief(rep, "%s %s" % (tag, a), got[a],
                                    figs[a])
            else:
                rep.equal(tag + ": no event (status unchanged)", ev, [])
            last[c["id"]] = status
            # direct and exchange connections alike (connection_metrics v2)
            mm = [m for m in metrics if m["connection_id"] == c["id"] and
                  parse_iso(m["window"]["start"]) == lo]
            if not rep.check(tag + ": connection_metrics with sessions",
                             len(mm) == 1, str(len(mm))):
                continue
            m = mm[0]
            rep.equal(tag + ": metrics status", m["status"], status)
            rep.equal(tag + ": bgp_state from the sessions", m["bgp_state"],
                      "up" if any(f["state"] == "Established"
                                  for f in figs.values()) else "down")
            got = {s["address"]: s for s in m["sessions"]}
            rep.equal(tag + ": metrics sessions", sorted(got), sorted(figs))
            for a in sorted(set(got) & set(figs)):
                check_full(rep, "%s %s" % (tag, a), got[a], figs[a], hi)
    rep.equal("%s: events published" % name, len(events), seen_events)
    return events


def schema_rejects(rep, validator, event):
    """The schema is a contract: broken events fail it."""
    bad = []
    e = copy.deepcopy(event)
    e["status"] = "sideways"
    bad.append(("unknown status", e))
    e = copy.deepcopy(event)
    del e["previous_status"]
    bad.append(("missing previous_status", e))
    e = copy.deepcopy(event)
    e["extra"] = 1
    bad.append(("extra member", e))
    e = copy.deepcopy(event)
    e["reasons"] = [{"reason": "session_down"}]
    bad.append(("reason without its fields", e))
    e = copy.deepcopy(event)
    e["sessions"] = [{"address": "192.0.2.1", "state": "Up", "flaps": 0,
                      "availability": 1}]
    bad.append(("state not an FSM name", e))
    e = copy.deepcopy(event)
    e["availability"] = 1.5
    bad.append(("availability above 1", e))
    for what, e in bad:
        rep.check("schema rejects an event with %s" % what,
                  not validator.is_valid(e))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    try:
        import jsonschema
        import yaml  # noqa: F401
    except ImportError as e:
        rep.check("python3-jsonschema and python3-yaml installed", False,
                  str(e))
        rep.finish()
    with open(os.path.join(args.schemas,
                           "connection_event.v1.schema.json")) as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.FormatChecker())
    conns = load_registry(args.data)
    sample = None
    for name in CAPTURES:
        events = check_capture(rep, args, name, conns, validator)
        if events and sample is None:
            sample = events[0]
    if sample is not None:
        schema_rejects(rep, validator, sample)
    rep.finish()


if __name__ == "__main__":
    main()
