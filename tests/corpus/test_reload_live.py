#!/usr/bin/env python3
"""SIGHUP applied live (issue 6): window length, JSON output path, limits.

A live collector on 127.0.0.1 with a configuration file; the test rewrites
the file and sends SIGHUP while it feeds sFlow datagrams from the demo
capture, then reads what came out:

  - window_seconds 1 -> 2: every window before the switch is 1 s long,
    every window after it 2 s, the first 2 s window starts where the last
    1 s one ends, at a multiple of 2 s (the rule in collector/xthread/cfgpub.h),
    and every worker switched at the same boundary;
  - output.json.path A -> B: the exporter_health datagram counts of both
    files add up to exactly the datagrams sent (nothing lost, nothing
    written twice), and B holds the messages after the switch;
  - a configuration that does not load keeps the old one: the window
    length and the output file stay.

Sinks turned on, off and re-created by SIGHUP (collector/publish/sinkswap.h), read
back with kcat (librdkafka's command-line client, not our code) from a
broker in its own process (peerscope-mock-kafka) or from the embedded one:

  - JSON only, then Kafka on, then JSON off, then an unusable Kafka
    property: every window went to exactly the sinks on at the time (JSON
    only, then both with identical messages, then Kafka only, never split),
    the datagram counts of JSON and Kafka together are exactly the
    datagrams sent, the JSON file does not grow once JSON is off, the bad
    property is logged with its reason and the running producer keeps
    publishing; /metrics and /readyz follow the sinks;
  - Kafka on live with brokers "embedded" starts the embedded broker, and a
    property change re-creates the producer on the same broker: kcat reads
    from it exactly the JSON lines of the windows published since.
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
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
from test_kafka import TOPICS, MockKafka, kcat_consume  # noqa: E402

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


def start_http(peerscope, conf, udp, tmp, name):
    cmd = [peerscope, "--config", conf, "--workers", "2",
           "--set", "listen.sflow=127.0.0.1:%d" % udp,
           "--set", "listen.ipfix=", "--set", "listen.netflow=",
           "--set", "http.listen=127.0.0.1:0", "--set", "allow_root=true"]
    proc = Proc(cmd, tmp, name)
    m = proc.wait_for(r"event=http_listening .* port (\d+)")
    return proc, int(m.group(1)) if m else None


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


def sink_names(port):
    _, text = http_get(port, "/metrics")
    return sorted(re.findall(r'^peerscope_sink_up\{sink="(\w+)"\}', text,
                             re.M))


def write_conf(conf, json_on, json_path, kafka=None):
    """kafka: None (off) or a dict of output.kafka keys."""
    text = "window_seconds: 1\noutput:\n  json:\n    enabled: %s\n" \
           "    path: %s\n" % ("true" if json_on else "false", json_path)
    if kafka is not None:
        text += "  kafka:\n    enabled: true\n"
        for k, v in kafka.items():
            text += "    %s: %s\n" % (k, v)
    with open(conf, "w") as f:
        f.write(text)


def event_after(proc, event, start, seconds=20):
    """The first `event` log line at or after offset `start` of stderr:
    (its ts in ms, its msg, the end offset), or None."""
    deadline = time.time() + seconds
    pat = re.compile(r'ts=(\S+) level=\w+ event=%s msg="((?:[^"\\]|\\.)*)"'
                     % event)
    while time.time() < deadline and proc.p.poll() is None:
        m = pat.search(proc.stderr(), start)
        if m:
            return ts(m.group(1)), m.group(2), m.end()
        time.sleep(0.05)
    return None


def by_window(payloads):
    """{window start ms: sorted message texts}."""
    out = {}
    for text in payloads:
        out.setdefault(ts(json.loads(text)["window"]["start"]), []).append(
            text)
    return {k: sorted(v) for k, v in out.items()}


def test_sinks(peerscope, data, tmp):
    helper = os.path.join(os.path.dirname(peerscope), "tests",
                          "peerscope-mock-kafka")
    if shutil.which("kcat") is None or not os.path.exists(helper):
        rep.skip("sinks: kcat or %s missing" % helper)
        return
    mock = MockKafka(helper)
    if not rep.check("sinks: mock broker up", mock.broker is not None):
        mock.stop()
        return
    frames = sflow_frames(data)
    udp = free_udp_port()
    out_a = os.path.join(tmp, "sinks.jsonl")
    conf = os.path.join(tmp, "sinks.yaml")
    kafka = {"brokers": '"%s"' % mock.broker, "flush_timeout_ms": 5000}
    write_conf(conf, True, out_a)
    proc, port = start_http(peerscope, conf, udp, tmp, "sinks")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = 0
    try:
        if not rep.check("sinks: live collector started, JSON only",
                         port is not None and proc.wait_for("collecting"),
                         proc.stderr()[-400:]):
            return
        rep.equal("sinks: /metrics lists the JSON sink", sink_names(port),
                  ["json"])
        sent += send_for(tx, frames, udp, 2.5, sent)

        write_conf(conf, True, out_a, kafka)
        mark = len(proc.stderr())  # the start-up's sink_opened is before
        proc.p.send_signal(signal.SIGHUP)
        on = event_after(proc, "sink_opened", mark)
        if not rep.check("sinks: SIGHUP turns Kafka on",
                         on is not None and mock.broker in on[1],
                         proc.stderr()[-400:]):
            return
        sent += send_for(tx, frames, udp, 3, sent)
        rep.equal("sinks: /metrics lists both sinks", sink_names(port),
                  ["json", "kafka"])
        rep.equal("sinks: /readyz with both sinks",
                  http_get(port, "/readyz")[0], 200)

        write_conf(conf, False, out_a, kafka)
        proc.p.send_signal(signal.SIGHUP)
        off = event_after(proc, "sink_closed", on[2])
        if not rep.check("sinks: SIGHUP turns JSON off",
                         off is not None and out_a in off[1],
                         proc.stderr()[-400:]):
            return
        size_off = os.path.getsize(out_a)
        sent += send_for(tx, frames, udp, 3, sent)
        rep.equal("sinks: /metrics lists the Kafka sink only",
                  sink_names(port), ["kafka"])

        bad = dict(kafka, properties="{no.such.property: 1}")
        write_conf(conf, False, out_a, bad)
        proc.p.send_signal(signal.SIGHUP)
        fail = event_after(proc, "sink_reload_failed", off[2])
        rep.check("sinks: unusable Kafka property: reason logged, "
                  "producer kept",
                  fail is not None
                  and "output.kafka.properties: no.such.property" in fail[1]
                  and "keeping the running Kafka producer" in fail[1],
                  fail[1] if fail else proc.stderr()[-400:])
        sent += send_for(tx, frames, udp, 2.5, sent)
        _, text = http_get(port, "/metrics")
        rep.check("sinks: the failed re-creation is counted",
                  re.search(r"^peerscope_sink_reopen_failures_total 1$",
                            text, re.M) is not None)
        rep.equal("sinks: /readyz after the failed re-creation",
                  http_get(port, "/readyz")[0], 200)
    finally:
        tx.close()
        rc = proc.stop()
        consumed = {t: kcat_consume(mock.broker, topic)
                    for t, topic in TOPICS.items()}
        mock.stop()
    rep.equal("sinks: exit status", rc, 0)
    rep.equal("sinks: kcat reads both topics",
              [consumed[t][0] for t in TOPICS], [0] * len(TOPICS))
    rep.equal("sinks: the JSON file stopped growing when JSON went off",
              os.path.getsize(out_a), size_off)
    with open(out_a) as f:
        in_json = [x.rstrip("\n") for x in f if x.strip()]
    in_kafka = [r[4] for t in TOPICS for r in consumed[t][1]]
    jw, kw = by_window(in_json), by_window(in_kafka)
    rep.check("sinks: messages in JSON and in Kafka",
              len(jw) > 0 and len(kw) > 0, "%d %d" % (len(jw), len(kw)))
    # J: JSON only, B: both, K: Kafka only, in window order.
    kinds = "".join("B" if w in jw and w in kw else "J" if w in jw else "K"
                    for w in sorted(set(jw) | set(kw)))
    rep.check("sinks: windows went to JSON, then both, then Kafka only",
              re.fullmatch(r"J+B+K+", kinds) is not None, kinds)
    rep.check("sinks: a window in both sinks has the same messages in each",
              all(jw[w] == kw[w] for w in jw if w in kw))
    rep.check("sinks: no window starting after Kafka went on misses it",
              all(w in kw for w in jw if w >= on[0]))
    rep.check("sinks: no window starting after JSON went off is in it",
              all(w < off[0] for w in jw), "off at %d, last %d"
              % (off[0], max(jw, default=0)))
    rep.check("sinks: Kafka windows after the failed re-creation",
              fail is not None and max(kw, default=0) > fail[0])
    health = {}
    for text in in_json + in_kafka:
        x = json.loads(text)
        if x["type"] == "exporter_health":
            health[(x["exporter_id"], x["window"]["start"])] = \
                x["datagrams"] + x.get("datagrams_rejected", 0)
    rep.equal("sinks: datagrams in JSON and Kafka = datagrams sent",
              sum(health.values()), sent)
    keys = [(json.loads(t).get("exporter_id"), json.loads(t)["window"]["start"])
            for t in in_kafka if json.loads(t)["type"] == "exporter_health"]
    rep.equal("sinks: no exporter window twice in Kafka", len(keys),
              len(set(keys)))


def test_embedded(peerscope, data, tmp):
    if shutil.which("kcat") is None:
        rep.skip("embedded: kcat missing")
        return
    frames = sflow_frames(data)
    udp = free_udp_port()
    out_a = os.path.join(tmp, "embedded.jsonl")
    conf = os.path.join(tmp, "embedded.yaml")
    write_conf(conf, True, out_a)
    proc, port = start_http(peerscope, conf, udp, tmp, "embedded")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    consumed = {}
    try:
        if not rep.check("embedded: live collector started",
                         port is not None and proc.wait_for("collecting"),
                         proc.stderr()[-400:]):
            return
        sent = send_for(tx, frames, udp, 1.5, 0)
        write_conf(conf, True, out_a, {"brokers": "embedded"})
        mark = len(proc.stderr())  # the start-up's sink_opened is before
        proc.p.send_signal(signal.SIGHUP)
        m = proc.wait_for(r"event=kafka_embedded_broker .*brokers=(\S+)")
        on = event_after(proc, "sink_opened", mark)
        if not rep.check("embedded: SIGHUP starts the embedded broker",
                         m is not None and on is not None
                         and m.group(1) in on[1], proc.stderr()[-400:]):
            return
        broker = m.group(1)
        sent += send_for(tx, frames, udp, 2.5, sent)
        write_conf(conf, True, out_a, {"brokers": "embedded",
                                       "properties": "{linger.ms: 1}"})
        proc.p.send_signal(signal.SIGHUP)
        again = event_after(proc, "sink_opened", on[2])
        rep.check("embedded: a property change re-creates the producer on "
                  "the same broker",
                  again is not None and broker in again[1]
                  and len(re.findall("event=kafka_embedded_broker",
                                     proc.stderr()))
                  == 1, proc.stderr()[-400:])
        sent += send_for(tx, frames, udp, 2.5, sent)
        time.sleep(2.5)  # the last windows go out
        for t, topic in TOPICS.items():
            consumed[t] = kcat_consume(broker, topic)
    finally:
        tx.close()
        rc = proc.stop()
    rep.equal("embedded: exit status", rc, 0)
    if not consumed:
        return
    rep.equal("embedded: kcat reads both topics",
              [consumed[t][0] for t in TOPICS], [0] * len(TOPICS))
    with open(out_a) as f:
        in_json = [x.rstrip("\n") for x in f if x.strip()]
    in_kafka = [r[4] for t in TOPICS for r in consumed[t][1]]
    jw, kw = by_window(in_json), by_window(in_kafka)
    rep.check("embedded: Kafka has windows from both producers",
              len(kw) > 0 and max(kw) > again[0] and min(kw) < again[0],
              "%s, re-created at %d" % (sorted(kw), again[0]))
    first = min(kw, default=0)
    rep.check("embedded: Kafka = the JSON lines of every window since it "
              "went on",
              {w: v for w, v in jw.items() if w >= first} == kw,
              "json %s kafka %s" % (sorted(jw), sorted(kw)))


def main():
    args = cl.parse_args(__doc__)
    tmp = tempfile.mkdtemp(prefix="ps-reload-")
    try:
        test_window_and_path(args.peerscope, args.data, tmp)
        test_sinks(args.peerscope, args.data, tmp)
        test_embedded(args.peerscope, args.data, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
