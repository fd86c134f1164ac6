#!/usr/bin/env python3
"""SIGHUP applied live (issue 6): window length, JSON output path, limits.

A live collector on 127.0.0.1 with a configuration file; the test rewrites
the file and sends SIGHUP while it feeds sFlow datagrams from the demo
capture, then reads what came out:

  - window_seconds 1 -> 2: every window before the switch is 1 s long,
    every window after it 2 s, the first 2 s window starts where the last
    1 s one ends, at a multiple of 2 s (the rule in collector/cfgpub.h),
    and every worker switched at the same boundary;
  - output.json.path A -> B: the exporter_health datagram counts of both
    files add up to exactly the datagrams sent (nothing lost, nothing
    written twice), and B holds the messages after the switch;
  - a configuration that does not load keeps the old one: the window
    length and the output file stay.
"""
import calendar
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

rep = cl.Reporter()


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proc:
    def __init__(self, cmd, tmp, name):
        self.err_path = os.path.join(tmp, name + ".err")
        self.errf = open(self.err_path, "w")
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                  stderr=self.errf)

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def wait_for(self, pattern, seconds=20):
        deadline = time.time() + seconds
        while time.time() < deadline:
            m = re.search(pattern, self.stderr())
            if m or self.p.poll() is not None:
                return m
            time.sleep(0.05)
        return None

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.errf.close()
        return self.p.returncode


def sflow_frames(data):
    demo = os.path.join(data, "demo-sflow.pcap.gz")
    return [d[5] for d in cl.read_pcap_udp(demo) if d[4] == 6343]


def start(peerscope, conf, udp, tmp, name):
    cmd = [peerscope, "--config", conf, "--workers", "2",
           "--set", "listen.sflow=127.0.0.1:%d" % udp,
           "--set", "listen.ipfix=", "--set", "listen.netflow=",
           "--set", "http.enabled=false", "--set", "allow_root=true"]
    return Proc(cmd, tmp, name)


def ts(text):
    """RFC 3339 with milliseconds -> integer milliseconds since the epoch."""
    base, frac = text.rstrip("Z").split(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) * 1000 \
        + int(frac)


def messages(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def send_for(tx, frames, udp, seconds, pos):
    """Send frames round-robin for `seconds`, 50 a second; returns count."""
    n = 0
    end = time.time() + seconds
    while time.time() < end:
        tx.sendto(frames[(pos + n) % len(frames)], ("127.0.0.1", udp))
        n += 1
        time.sleep(0.02)
    return n


def test_window_and_path(peerscope, data, tmp):
    frames = sflow_frames(data)
    udp = free_udp_port()
    out_a = os.path.join(tmp, "a.jsonl")
    out_b = os.path.join(tmp, "b.jsonl")
    conf = os.path.join(tmp, "reload.yaml")
    with open(conf, "w") as f:
        f.write("window_seconds: 1\noutput:\n  json:\n    path: %s\n"
                % out_a)
    proc = start(peerscope, conf, udp, tmp, "reload-live")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    try:
        if not rep.check("live collector started",
                         proc.wait_for("collecting") is not None,
                         proc.stderr()[-400:]):
            return
        sent += send_for(tx, frames, udp, 2.5, sent)

        # A configuration that does not load: nothing changes.
        with open(conf, "w") as f:
            f.write("window_seconds: 2\noutput:\n  json:\n    path: %s\n"
                    "bogus_key: 1\n" % out_b)
        proc.p.send_signal(signal.SIGHUP)
        m = proc.wait_for(r"config_reload_rejected")
        rep.check("bad config: rejected, the running one kept",
                  m is not None and proc.p.poll() is None,
                  proc.stderr()[-400:])
        sent += send_for(tx, frames, udp, 2.5, sent)

        with open(conf, "w") as f:
            f.write("window_seconds: 2\noutput:\n  json:\n    path: %s\n"
                    % out_b)
        proc.p.send_signal(signal.SIGHUP)
        m = proc.wait_for(r'config_reloaded msg="([^"]*)"')
        applied = m.group(1) if m else proc.stderr()[-400:]
        rep.check("good config: window_seconds and output.json.path live",
                  m is not None and "window_seconds" in applied
                  and "output.json.path" in applied, applied)
        sent += send_for(tx, frames, udp, 6, sent)
    finally:
        tx.close()
        rc = proc.stop()
    rep.equal("exit status after reloads", rc, 0)
    a, b = messages(out_a), messages(out_b)
    rep.check("messages in the old file and in the new one",
              len(a) > 0 and len(b) > 0, "%d %d" % (len(a), len(b)))

    health = [x for x in a + b if x.get("type") == "exporter_health"]
    got = sum(x["datagrams"] + x.get("datagrams_rejected", 0)
              for x in health)
    rep.equal("datagrams in both files = datagrams sent", got, sent)
    keys = [(x["exporter_id"], x["window"]["start"]) for x in health]
    rep.equal("no exporter window written twice", len(keys), len(set(keys)))
    last_a = max((ts(x["window"]["start"]) for x in a), default=0)
    first_b = min((ts(x["window"]["start"]) for x in b), default=0)
    rep.check("the switch falls between two messages: old file, then new",
              last_a <= first_b, "last start in a %d, first in b %d"
              % (last_a, first_b))

    wins = sorted({(ts(x["window"]["start"]), ts(x["window"]["end"]))
                   for x in a + b})
    lengths = [e - s for s, e in wins]
    rep.check("only 1 s and 2 s windows", set(lengths) <= {1000, 2000},
              str(sorted(set(lengths))))
    switch = next((i for i, n in enumerate(lengths) if n == 2000), None)
    if not rep.check("windows got longer after the reload",
                     switch is not None and switch > 0, str(lengths)):
        return
    rep.check("1 s windows before the switch, 2 s after it",
              all(n == 1000 for n in lengths[:switch])
              and all(n == 2000 for n in lengths[switch:]), str(lengths))
    s2 = wins[switch][0]
    rep.check("first 2 s window starts at a multiple of 2 s",
              s2 % 2000 == 0, str(s2))
    rep.check("no window overlaps another (aligned switch, all workers)",
              all(wins[i][1] <= wins[i + 1][0]
                  for i in range(len(wins) - 1)), str(wins))
    # Equal when traffic was continuous; a second with no datagram (a
    # loaded test host) leaves a gap, never an overlap.
    rep.check("the last 1 s window ends at or before the first 2 s one",
              wins[switch - 1][1] <= s2, "%s %s" % (wins[switch - 1], s2))


def main():
    args = cl.parse_args(__doc__)
    tmp = tempfile.mkdtemp(prefix="ps-reload-")
    try:
        test_window_and_path(args.peerscope, args.data, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
