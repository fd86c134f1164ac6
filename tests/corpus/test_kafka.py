"""Kafka sink end to end, on loopback, read back by an independent client.

For each sFlow capture of the shared corpus (and the bundled demo capture),
`peerscope replay` runs with the Kafka sink on its embedded broker (and the
JSON-lines sink at the same time), keeps the broker up, and kcat (librdkafka's
command-line client, not our code) consumes both topics from the beginning.
Checks:
  * every message arrived exactly once: the Kafka messages of each topic are,
    per key, the same sequence as the JSON lines of the same run (so the order
    per key holds and nothing is duplicated or missing);
  * the key is the connection id / exporter id, headers type and
    schema_version match the payload;
  * per-connection sample totals from Kafka equal the truth file
    (tshark: agents[..].by_interface samples and est_bytes);
  * the exit summary counts every message as delivered.
Bad input: a malformed librdkafka property and an unresolvable broker host
are start-up errors naming the key; an unreachable port ends within the
flush timeout with every message counted undelivered; message.max.bytes
below some messages counts exactly those as too_large (kcat sees the rest).
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

IF_UNKNOWN = 0x3FFFFFFF
TOPICS = {"connection_metrics": "peerscope.connection.metrics",
          "exporter_health": "peerscope.exporter.health"}
KEYS = {"connection_metrics": "connection_id", "exporter_health": "exporter_id"}


class Served:
    """peerscope replay with the embedded broker kept up; stop() ends it."""

    def __init__(self, peerscope, pcap, sets, tmpdir, extra=()):
        self.out = os.path.join(tmpdir, "out.jsonl")
        self.err = os.path.join(tmpdir, "err.txt")
        cmd = [peerscope, "replay", "--window", "60", "-o", self.out,
               "--set", "output.kafka.enabled=true",
               "--set", "output.kafka.serve_seconds=120"]
        for s in list(sets) + list(extra):
            cmd += ["--set", s]
        cmd.append(pcap)
        self.errf = open(self.err, "w")
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                  stderr=self.errf)
        self.broker = None
        deadline = time.time() + 60
        while time.time() < deadline and self.p.poll() is None:
            text = self.stderr()
            if "event=kafka_serving" in text:
                m = re.search(r"event=kafka_embedded_broker .*brokers=(\S+)",
                              text)
                self.broker = m.group(1) if m else None
                break
            time.sleep(0.05)

    def stderr(self):
        with open(self.err) as f:
            return f.read()

    def stop(self):
        """SIGTERM (ends the serve period), then the exit status."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = "hang"
        self.errf.close()
        return rc

    def json_lines(self):
        with open(self.out) as f:
            return [line.rstrip("\n") for line in f if line.strip()]


def kcat_consume(broker, topic, timeout=60):
    """[(partition, offset, key, headers, payload)] from the beginning."""
    fmt = "%p\t%o\t%k\t%h\t%s\n"
    p = subprocess.run(["kcat", "-C", "-b", broker, "-t", topic,
                        "-o", "beginning", "-e", "-q", "-f", fmt],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    rows = []
    for line in p.stdout.decode().split("\n"):
        if not line:
            continue
        part, off, key, hdrs, payload = line.split("\t", 4)
        h = dict(kv.split("=", 1) for kv in hdrs.split(",") if "=" in kv)
        rows.append((int(part), int(off), key, h, payload))
    return p.returncode, rows


def summary_counts(stderr):
    """{topic: {counter: n}} from the "summary: kafka TOPIC a=1 ..." lines."""
    out = {}
    for m in re.finditer(r"summary: kafka (peerscope\.\S+) (.*)", stderr):
        out[m.group(1)] = {k: int(v) for k, v in
                           re.findall(r"(\w+)=(\d+)", m.group(2))}
    return out


def same(rep, name, got, want):
    """rep.equal for big values: a short detail instead of both values."""
    n = sum(len(v) for v in want.values()) if isinstance(want, dict) \
        else len(want)
    return rep.check(name, got == want, "%d keys, %d messages" % (len(want), n)
                     if got == want else "got %.300r, want %.300r" % (got, want))


def per_key(lines_by_type, key_field):
    seq = {}
    for payload in lines_by_type:
        seq.setdefault(json.loads(payload)[key_field], []).append(payload)
    return seq


def truth_totals(truth):
    """{(agent, ifindex, dir): [samples, est_bytes]} from tshark's truth."""
    want = {}
    for ak, a in truth["agents"].items():
        agent = re.match(r"agent=(\S+) ", ak).group(1)
        for kk, v in a.get("by_interface", {}).items():
            i, o = (int(x) for x in re.match(r"in=(\d+) out=(\d+)$", kk).groups())
            for ifx, d in ((i, "in"), (o, "out")):
                if ifx == IF_UNKNOWN:
                    continue
                e = want.setdefault((agent, ifx, d), [0, 0])
                e[0] += v["samples"]
                e[1] += v["est_bytes"]
    return want


def kafka_totals(rows, rate):
    got = {}
    for _p, _o, _k, _h, payload in rows:
        m = json.loads(payload)
        for d in ("in", "out"):
            s = m[d].get("samples")
            if not s:
                continue
            e = got.setdefault((m["router"], m["ifindex"], d), [0, 0])
            e[0] += s["sample_count"]
            e[1] += s["sampled_bytes"] * rate
    return got


def check_capture(rep, args, name, pcap, sets, truth, tmpdir):
    s = Served(args.peerscope, pcap, sets, tmpdir)
    if not rep.check("%s: embedded broker up, replay done" % name,
                     s.broker is not None, s.stderr()[-500:]):
        s.stop()
        return
    consumed = {}
    for t, topic in TOPICS.items():
        rc, rows = kcat_consume(s.broker, topic)
        rep.equal("%s: kcat reads %s" % (name, topic), rc, 0)
        consumed[t] = rows
    try:
        top = subprocess.run([args.peerscope, "top", "--once", "--brokers",
                              s.broker], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=30)
        top_rc, top_out = top.returncode, top.stdout.decode()
    except subprocess.TimeoutExpired:
        top_rc, top_out = "hang", ""
    rc = s.stop()
    rep.equal("%s: SIGTERM ends the serve period, exit 0" % name, rc, 0)
    lines = s.json_lines()
    counts = summary_counts(s.stderr())
    for t, topic in TOPICS.items():
        rows = consumed[t]
        want = [x for x in lines if json.loads(x)["type"] == t]
        tag = "%s %s" % (name, topic)
        rep.check(tag + ": at least one message", len(want) > 0)
        rep.equal(tag + ": messages consumed = JSON lines of the same run",
                  len(rows), len(want))
        same(rep, tag + ": each message once, in order per key",
                  per_key([r[4] for r in rows], KEYS[t]),
                  per_key(want, KEYS[t]))
        rep.check(tag + ": key = " + KEYS[t],
                  all(json.loads(r[4])[KEYS[t]] == r[2] for r in rows))
        rep.check(tag + ": headers type and schema_version = payload's",
                  all(r[3].get("type") == t and
                      r[3].get("schema_version") ==
                      str(json.loads(r[4])["schema_version"]) for r in rows))
        rep.check(tag + ": one key stays on one partition",
                  all(len({r[0] for r in rows if r[2] == k}) == 1
                      for k in {r[2] for r in rows}))
        c = counts.get(topic, {})
        rep.equal(tag + ": summary accepted/delivered/lost",
                  [c.get("accepted"), c.get("delivered"), c.get("failed"),
                   c.get("dropped"), c.get("undelivered")],
                  [len(want), len(want), 0, 0, 0])
    # peerscope top --once: one row per connection, its latest state
    metrics = [json.loads(x) for x in lines
               if json.loads(x)["type"] == "connection_metrics"]
    last = {m["connection_id"]: m["oper_status"] for m in metrics}
    rep.check("%s: top --once exits 0 and counts %d connections, %d messages"
              % (name, len(last), len(metrics)),
              top_rc == 0 and "%d connections, %d messages"
              % (len(last), len(metrics)) in top_out, top_out[:300])
    rows = {ln.split()[0]: ln.split()[1] for ln in top_out.split("\n")[2:]
            if ln.strip() and not ln.startswith("(")}
    rep.equal("%s: top rows = connections with their latest state" % name,
              rows, last)
    if truth is not None:
        rates = list(truth["agents"].values())[0].get("sampling_rates", {})
        if len(rates) == 1:
            rate = int(list(rates)[0])
            rep.equal("%s: per-connection [samples, bytes x rate] from Kafka "
                      "= truth by_interface" % name,
                      kafka_totals(consumed["connection_metrics"], rate),
                      truth_totals(truth))


def bmp_sessions(rep, args, tmpdir):
    """bgp_session messages from a BMP stream, through the same sink."""
    path = os.path.join(args.corpus, "bmp", "main", "frr_late.bmp.gz")
    if not os.path.exists(path):
        rep.skip("%s absent" % path)
        return
    s = Served(args.peerscope, path, [], tmpdir)
    if not rep.check("bmp: embedded broker up, replay done",
                     s.broker is not None, s.stderr()[-300:]):
        s.stop()
        return
    krc, rows = kcat_consume(s.broker, "peerscope.bgp.sessions")
    try:
        top = subprocess.run([args.peerscope, "top", "--once", "--brokers",
                              s.broker], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=30)
        top_out = top.stdout.decode()
    except subprocess.TimeoutExpired:
        top_out = ""
    rc = s.stop()
    rep.equal("bmp: kcat reads peerscope.bgp.sessions, exit 0", [krc, rc],
              [0, 0])
    want = [x for x in s.json_lines()
            if json.loads(x)["type"] == "bgp_session"]
    rep.check("bmp: bgp_session messages published", len(want) > 0)
    same(rep, "bmp: each bgp_session once, in order per session_id",
         per_key([r[4] for r in rows], "session_id"),
         per_key(want, "session_id"))
    rep.check("bmp: key = session_id, headers type/schema_version",
              all(json.loads(r[4])["session_id"] == r[2] and
                  r[3].get("type") == "bgp_session" and
                  r[3].get("schema_version") == "1" for r in rows))
    peers = {(m["router"], m["peer"]["address"], m["peer"]["asn"])
             for m in map(json.loads, want)}
    rows = set()
    for ln in top_out.split("\n"):
        f = ln.split()
        if len(f) >= 3 and f[2].isdigit():
            rows.add((f[0], f[1], int(f[2])))
    rep.equal("bmp: top --once: one row per session with router, peer "
              "address and AS (not the session key)", rows, peers)
    rep.check("bmp: top counts the sessions apart from connection messages",
              "%d BGP sessions, %d messages" % (len(peers), len(want))
              in top_out and "0 connections, 0 messages" in top_out,
              top_out[:300])


def docs_python_block():
    """The ```python block of docs/kafka.md, as documented."""
    docs = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "docs", "kafka.md")
    with open(docs) as f:
        m = re.search(r"```python\n(.*?)```", f.read(), re.S)
    return m.group(1) if m else None


def read_lines(p, n, seconds):
    """Up to n lines of p's stdout within the time given."""
    import selectors
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    lines, buf, deadline = [], b"", time.time() + seconds
    while len(lines) < n and time.time() < deadline:
        if not sel.select(timeout=0.2):
            if p.poll() is not None:
                break
            continue
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        buf += chunk
        *done, buf = buf.split(b"\n")
        lines += [x.decode() for x in done]
    return lines


def documented_consumers(rep, args, demo, tmpdir):
    """docs/kafka.md's consumers as written: its Python block (kafka-python
    with lz4, peerscope's default compression) and `peerscope top` with no
    --brokers, both finding the embedded broker in runtime_dir."""
    code = docs_python_block()
    if not rep.check("docs: docs/kafka.md has a Python consumer",
                     code is not None):
        return
    run = os.path.join(tmpdir, "run")
    s = Served(args.peerscope, demo, ["runtime_dir=" + run], tmpdir)
    p = None
    try:
        if not rep.check("docs: embedded broker up", s.broker is not None,
                         s.stderr()[-300:]):
            return
        brokers_file = os.path.join(run, "kafka-brokers")
        rep.equal("docs: runtime_dir/kafka-brokers holds the broker's "
                  "address", open(brokers_file).read(), s.broker + "\n")
        want = [json.loads(x) for x in s.json_lines()
                if json.loads(x)["type"] == "connection_metrics"]
        # as documented, the file path pointed at this run's runtime_dir
        # (other collectors on this host may use /run/peerscope)
        script = os.path.join(tmpdir, "consumer.py")
        with open(script, "w") as f:
            f.write(code.replace("/run/peerscope/kafka-brokers",
                                 brokers_file))
        # -u: its lines as it prints them (a pipe would buffer them)
        p = subprocess.Popen([sys.executable, "-u", script],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines = read_lines(p, len(want), 60)
        err = b""
        if len(lines) < len(want):
            p.kill()
            err = p.communicate()[1]
        got = sorted(ln.split(" ", 2)[:2] for ln in lines)
        rep.equal("docs: the Python consumer as written prints one line per "
                  "connection_metrics message (key, type header), lz4 and "
                  "all", got,
                  sorted([m["connection_id"], "connection_metrics"]
                         for m in want))
        if err:
            print(err.decode()[-500:])
        top = subprocess.run([args.peerscope, "top", "--once", "--set",
                              "runtime_dir=" + run],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, timeout=60)
        conns = {m["connection_id"] for m in want}
        rep.check("docs: peerscope top with no --brokers finds the embedded "
                  "broker; its header counts %d connections, %d messages"
                  % (len(conns), len(want)),
                  top.returncode == 0 and s.broker + " (embedded)" in
                  top.stdout and "%d connections, %d messages"
                  % (len(conns), len(want)) in top.stdout,
                  (top.stdout + top.stderr)[:400])
    finally:
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()
        s.stop()
    rep.check("docs: the runtime file is gone with the broker",
              not os.path.exists(os.path.join(run, "kafka-brokers")))


def run_quick(peerscope, pcap, sets, timeout=60):
    cmd = [peerscope, "replay", "-o", "/dev/null",
           "--set", "output.kafka.enabled=true"]
    for x in sets:
        cmd += ["--set", x]
    cmd.append(pcap)
    t0 = time.time()
    try:
        p = subprocess.run(cmd, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout)
        return p.returncode, p.stderr.decode(), time.time() - t0
    except subprocess.TimeoutExpired:
        return "hang", "", time.time() - t0


def bad_input(rep, args, demo, tmpdir):
    rc, err, _ = run_quick(args.peerscope, demo,
                           ["output.kafka.properties=no.such.property=1"])
    rep.check("bad property: start-up error naming the key (exit 2, as --check-config)",
              rc == 2 and "output.kafka.properties: no.such.property" in err,
              "rc %r: %s" % (rc, err.strip()[-200:]))
    rc, err, _ = run_quick(args.peerscope, demo,
                           ["output.kafka.properties=linger.ms=banana"])
    rep.check("bad property value: start-up error naming the key (exit 2, as --check-config)",
              rc == 2 and "output.kafka.properties: linger.ms" in err,
              "rc %r: %s" % (rc, err.strip()[-200:]))
    rc, err, _ = run_quick(args.peerscope, demo,
                           ["output.kafka.brokers=no-such-host.invalid:9092"])
    rep.check("unknown broker host: start-up error naming the key (exit 2, as --check-config)",
              rc == 2 and "output.kafka.brokers: no-such-host.invalid" in err,
              "rc %r: %s" % (rc, err.strip()[-200:]))
    rc, err, _ = run_quick(args.peerscope, demo,
                           ["output.kafka.topics=no_such_type=x"])
    rep.check("unknown message type in topics: start-up error",
              rc == 2 and "output.kafka.topics: no_such_type" in err,
              "rc %r: %s" % (rc, err.strip()[-200:]))
    # wrong port: nothing listens on 127.0.0.1:1; the drain gives up after
    # flush_timeout_ms and counts everything as undelivered, no hang
    ref = cl.replay(args.peerscope, [demo], 60)
    n = {t: sum(1 for m in ref.messages if m.get("type") == t) for t in TOPICS}
    rc, err, took = run_quick(args.peerscope, demo,
                              ["output.kafka.brokers=127.0.0.1:1",
                               "output.kafka.flush_timeout_ms=1500",
                               "window_seconds=60"])
    c = summary_counts(err)
    rep.check("wrong port: exits 3 (messages undelivered) within the flush "
              "timeout (+5 s)",
              rc == 3 and took < 6.5, "rc %r in %.1f s" % (rc, took))
    rep.check("wrong port: librdkafka's lines are events (kafka_log), not "
              "raw %N|... lines",
              "event=kafka_log" in err and "replay_undelivered" in err and
              not re.search(r"^%\d\|", err, re.M), err[-400:])
    rep.equal("wrong port: every message counted undelivered",
              {t: [c.get(TOPICS[t], {}).get("undelivered"),
                   c.get(TOPICS[t], {}).get("delivered")] for t in TOPICS},
              {t: [n[t], 0] for t in TOPICS})
    # oversized: a message.max.bytes between the demo's smallest and
    # largest connection_metrics (their JSON, as a plain replay writes
    # them) refuses the larger messages and lets the smaller through
    plain = subprocess.run([args.peerscope, "replay", demo],
                           capture_output=True, text=True, timeout=60)
    sizes = sorted(len(line) for line in plain.stdout.splitlines()
                   if json.loads(line).get("type") == "connection_metrics")
    limit = (sizes[0] + sizes[-1]) // 2
    s = Served(args.peerscope, demo, [], tmpdir,
               extra=["output.kafka.properties=message.max.bytes=%d" % limit])
    if rep.check("oversized: broker up", s.broker is not None,
                 s.stderr()[-300:]):
        rc1, rows = kcat_consume(s.broker, TOPICS["connection_metrics"])
        rc = s.stop()
        c = summary_counts(s.stderr()).get(TOPICS["connection_metrics"], {})
        want = n["connection_metrics"]
        rep.check("oversized: some refused, some delivered, exit 3 (not all "
                  "delivered)",
                  rc == 3 and rc1 == 0 and c.get("too_large", 0) > 0 and
                  len(rows) > 0, "%r %d rows" % (c, len(rows)))
        rep.equal("oversized: too_large = messages kcat did not get",
                  [c.get("too_large"), c.get("delivered")],
                  [want - len(rows), len(rows)])
        rep.check("oversized: what arrived is under the limit",
                  all(len(r[4]) <= limit for r in rows))
    else:
        s.stop()


def live_sigterm(rep, args, flows, tmpdir):
    """Live mode: SIGTERM publishes the open window and drains the producer."""
    import socket
    from test_live_udp import free_udp_port, udp_payloads
    payloads = udp_payloads(os.path.join(flows, "pmacctd-sflow-rate1-live.pcap"),
                            6343)
    port = free_udp_port()
    out = os.path.join(tmpdir, "live.jsonl")
    p = subprocess.Popen(
        [args.peerscope, "--set", "listen.sflow=127.0.0.1:%d" % port,
                         "--set", "listen.ipfix=", "--set", "listen.netflow=",
         "--workers", "2", "--output", out,
         "--set", "output.kafka.enabled=true",
         "--set", "allow_root=true", "--set", "http.listen=127.0.0.1:0"],
        stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = p.stderr.readline()
        if "collecting" in line or line == "":
            break
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i, d in enumerate(payloads):
            s.sendto(d, ("127.0.0.1", port))
            if i % 64 == 63:
                time.sleep(0.001)
    time.sleep(0.5)
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=30)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        rc = "hang"
    rep.equal("live: exits 0 on SIGTERM", rc, 0)
    with open(out) as f:
        types = [json.loads(x)["type"] for x in f if x.strip()]
    c = summary_counts(err)
    rep.check("live: messages were published", len(types) > 0)
    rep.equal("live: every message delivered before exit (summary)",
              {t: [c.get(TOPICS[t], {}).get("delivered"),
                   c.get(TOPICS[t], {}).get("undelivered")] for t in TOPICS},
              {t: [types.count(t), 0] for t in TOPICS})


class MockKafka:
    """peerscope-mock-kafka: a broker in its own process, down/up on demand."""

    def __init__(self, binary):
        self.p = subprocess.Popen([binary] + list(TOPICS.values()),
                                  stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        self.broker = line.split()[1] if line.startswith("bootstrap ") \
            else None

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def stop(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            self.p.kill()
            self.p.wait()


def live_outage(rep, args, flows, tmpdir, bound):
    """Live peerscope, broker down while windows close, then back up.

    bound None: the default queue holds everything, so every message must
    arrive once, in order per key.  bound 2 (drop oldest): librdkafka keeps
    the first message (half the bound) and the FIFO the last one; every
    other message is dropped, and counted.
    """
    import socket
    from test_live_udp import free_udp_port, udp_payloads
    helper = os.path.join(os.path.dirname(args.peerscope), "tests",
                          "peerscope-mock-kafka")
    tag = "outage%s" % ("" if bound is None else " (bound %d)" % bound)
    if not os.path.exists(helper):
        rep.skip("%s: %s not built" % (tag, helper))
        return
    mock = MockKafka(helper)
    if not rep.check(tag + ": mock broker up", mock.broker is not None):
        mock.stop()
        return
    rep.equal(tag + ": broker taken down", mock.cmd("down"), "ok")
    payloads = udp_payloads(os.path.join(flows, "pmacctd-sflow-rate1-live.pcap"),
                            6343)
    port = free_udp_port()
    # one file per run: the daemon appends to its output
    out = os.path.join(tmpdir, "outage-%s.jsonl" % bound)
    cmd = [args.peerscope, "--set", "listen.sflow=127.0.0.1:%d" % port,
                           "--set", "listen.ipfix=", "--set", "listen.netflow=",
           "--workers", "1", "--window", "1", "--output", out,
           "--set", "output.kafka.enabled=true",
           "--set", "output.kafka.brokers=" + mock.broker,
           "--set", "output.kafka.properties=reconnect.backoff.max.ms=200",
           "--set", "allow_root=true", "--set", "http.listen=127.0.0.1:0"]
    if bound is not None:
        cmd += ["--set", "output.kafka.queue.messages=%d" % bound]
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline:
        line = p.stderr.readline()
        if "collecting" in line or line == "":
            break
    # traffic over ~2 s: several 1 s windows close while the broker is down
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i, d in enumerate(payloads):
            s.sendto(d, ("127.0.0.1", port))
            if i % 16 == 15:
                time.sleep(0.06)
    time.sleep(2.5)  # the last window closes, still during the outage
    rep.equal(tag + ": broker back up", mock.cmd("up"), "ok")
    time.sleep(2.0)
    p.send_signal(signal.SIGTERM)
    try:
        _, err = p.communicate(timeout=30)
        rc = p.returncode
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
        rc = "hang"
    rep.equal(tag + ": peerscope exits 0 on SIGTERM", rc, 0)
    with open(out) as f:
        lines = [x.rstrip("\n") for x in f if x.strip()]
    consumed = {}
    for t, topic in TOPICS.items():
        krc, rows = kcat_consume(mock.broker, topic)
        consumed[t] = rows
        rep.equal("%s: kcat reads %s" % (tag, topic), krc, 0)
    mock.stop()
    c = summary_counts(err)
    windows = len({json.loads(x)["window"]["start"] for x in lines})
    rep.check(tag + ": several windows published during the outage",
              windows >= 2, "%d windows, %d messages" % (windows, len(lines)))
    if bound is None:
        for t, topic in TOPICS.items():
            want = [x for x in lines if json.loads(x)["type"] == t]
            same(rep, "%s %s: every message once, in order per key" % (tag, topic),
                      per_key([r[4] for r in consumed[t]], KEYS[t]),
                      per_key(want, KEYS[t]))
            cc = c.get(topic, {})
            rep.equal("%s %s: summary delivered / dropped / undelivered"
                      % (tag, topic),
                      [cc.get("delivered"), cc.get("dropped"),
                       cc.get("undelivered"), cc.get("failed")],
                      [len(want), 0, 0, 0])
        return
    got = sorted(r[4] for t in TOPICS for r in consumed[t])
    same(rep, tag + ": what arrived = the first and the last message",
              got, sorted([lines[0], lines[-1]]))
    dropped = sum(c.get(topic, {}).get("dropped", 0) for topic in TOPICS.values())
    delivered = sum(c.get(topic, {}).get("delivered", 0)
                    for topic in TOPICS.values())
    rep.equal(tag + ": dropped counted exactly (all but 2), delivered 2",
              [dropped, delivered], [len(lines) - 2, 2])


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    if shutil.which("kcat") is None:
        rep.skip("kcat not installed (deploy/install-deps.sh installs it)")
        rep.finish()
    tmpdir = tempfile.mkdtemp(prefix="ps-kafka-")
    try:
        demo = os.path.join(args.data, "demo-sflow.pcap.gz")
        check_capture(rep, args, "demo", demo, [], None, tmpdir)
        documented_consumers(rep, args, demo, tmpdir)
        bad_input(rep, args, demo, tmpdir)
        flows = cl.corpus_flows(args)
        if flows is None:
            cl.skip_corpus_line(rep, args)
        else:
            live_sigterm(rep, args, flows, tmpdir)
            bmp_sessions(rep, args, tmpdir)
            live_outage(rep, args, flows, tmpdir, None)
            live_outage(rep, args, flows, tmpdir, 2)
            for fn, port, dis in cl.read_manifest(
                    os.path.join(flows, "tools", "manifest.tsv")):
                if dis != "sflow" or not fn.startswith("pmacctd-sflow-"):
                    continue
                pcap = os.path.join(flows, fn)
                truth = cl.load_json(pcap[:-len(".pcap")] + ".truth.json")
                check_capture(rep, args, fn, pcap, [cl.listen_set(port)],
                              truth, tmpdir)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
