#!/usr/bin/env python3
"""Operations (issue 6): /metrics, /healthz, /readyz, SIGHUP, privileges.

Truth used:
  - datagram and byte totals on /metrics: counted here, independently, from
    the capture's UDP frames (corpus_lib.read_pcap_udp), and equal to the
    replay's own --stats counters (the issue asks for both to agree);
  - the exposition format: promtool (Prometheus's own parser and linter);
  - readiness: a JSON sink on /dev/full, whose writes the kernel refuses;
  - reload: a configuration file with a known error on a known line.
Everything runs on 127.0.0.1 with ports picked free; every process started
here is stopped by its PID.
"""
import gzip
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

rep = cl.Reporter()


def free_port(kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(port, path, method="GET", timeout=5):
    """(status, body) of one request; status None when nothing answered."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


class Proc:
    """A peerscope child whose stderr goes to a file we can poll."""

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
            if m:
                return m
            if self.p.poll() is not None:
                return re.search(pattern, self.stderr())
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


def http_port(proc):
    m = proc.wait_for(r"event=http_listening .*port (\d+)|"
                      r'"event":"http_listening".*port (\d+)')
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def parse_metrics(text):
    """{(name, frozenset(labels)): value} from the exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        if not m:
            out[("__unparsed__", line)] = 0
            continue
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                      m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def total(metrics, name, **want):
    return sum(v for (n, labels), v in metrics.items()
               if n == name and all((k, w) in labels for k, w in want.items()))


def test_metrics_after_replay(peerscope, data, tmp):
    demo = os.path.join(data, "demo-sflow.pcap.gz")
    stats_path = os.path.join(tmp, "stats.json")
    proc = Proc([peerscope, "replay", "--workers", "2", "--stats", stats_path,
                 "-o", os.path.join(tmp, "replay.jsonl"),
                 "--serve-metrics", "60", "--set", "http.listen=127.0.0.1:0",
                 demo], tmp, "replay")
    try:
        port = http_port(proc)
        if not rep.check("replay --serve-metrics: endpoint up", port is not None,
                         proc.stderr()[-300:]):
            return
        status, text = get(port, "/metrics")
        rep.equal("/metrics status", status, 200)
        with open(stats_path) as f:
            stats = json.load(f)
        promtool = shutil.which("promtool")
        if promtool is None:
            rep.check("promtool installed (deploy/install-deps.sh)", False)
        else:
            p = subprocess.run([promtool, "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)
            rep.check("promtool check metrics accepts /metrics",
                      p.returncode == 0, (p.stdout + p.stderr)[-500:])
        m = parse_metrics(text)
        rep.check("every sample line parses",
                  not any(k[0] == "__unparsed__" for k in m))
        frames = [d for d in cl.read_pcap_udp(demo) if d[4] == 6343]
        rep.equal("datagrams = UDP frames to 6343 in the capture",
                  total(m, "peerscope_datagrams_total"), len(frames))
        rep.equal("bytes = UDP payload bytes in the capture",
                  total(m, "peerscope_received_bytes_total"),
                  sum(len(d[5]) for d in frames))
        rep.equal("protocol_datagrams_total{protocol=sflow} = frames",
                  total(m, "peerscope_protocol_datagrams_total",
                        protocol="sflow"), len(frames))
        rep.equal("protocol_bytes_total{protocol=sflow} = payload bytes",
                  total(m, "peerscope_protocol_bytes_total",
                        protocol="sflow"), sum(len(d[5]) for d in frames))
        # Per-exporter counters cover every window, not only the last.
        rep.equal("sum of exporter_datagrams(_rejected)_total = frames",
                  total(m, "peerscope_exporter_datagrams_total")
                  + total(m, "peerscope_exporter_datagrams_rejected_total"),
                  len(frames))
        rep.check("exporter counters have one series per exporter",
                  len([k for k in m
                       if k[0] == "peerscope_exporter_datagrams_total"]) >= 1)
        rep.equal("no exporter past the series cap",
                  total(m, "peerscope_exporter_totals_omitted_datagrams_total"),
                  0)
        for name, key in (("peerscope_datagrams_total", "datagrams"),
                          ("peerscope_received_bytes_total", "bytes"),
                          ("peerscope_samples_total", "samples"),
                          ("peerscope_windows_published_total",
                           "windows_published"),
                          ("peerscope_windows_forced_total", "windows_forced"),
                          ("peerscope_kernel_drops_total", "kernel_drops"),
                          ("peerscope_connections_refused_total",
                           "connections_refused")):
            rep.equal("%s = --stats %s" % (name, key), total(m, name),
                      stats[key])
        for t, n in stats["messages"].items():
            rep.equal("messages_total{type=%s} = --stats" % t,
                      total(m, "peerscope_messages_total", type=t), n)
        for reason, n in stats["decode_errors"].items():
            rep.equal("decode_errors_total{reason=%s} = --stats" % reason,
                      total(m, "peerscope_decode_errors_total",
                            reason=reason), n)
        rep.equal("decode errors: nothing beyond --stats",
                  total(m, "peerscope_decode_errors_total"),
                  sum(stats["decode_errors"].values()))
        status, body = get(port, "/healthz")
        rep.check("/healthz 200 ok", status == 200 and body == "ok\n",
                  "%s %r" % (status, body))
        status, body = get(port, "/readyz")
        rep.check("/readyz after a finished replay", status == 200,
                  "%s %r" % (status, body))

        # Bad input: refused with an error, endpoint unaffected.
        rep.equal("POST refused", get(port, "/metrics", "POST")[0], 405)
        rep.equal("unknown path", get(port, "/nope")[0], 404)
        status, _ = get(port, "/" + "a" * 20000)
        rep.check("20 kB URL refused (414/431/400)",
                  status in (400, 414, 431), str(status))
        for raw, want in ((b"GET /metrics HTTP/1.1\r\nBad Header\r\n\r\n",
                           b"HTTP/1.1 400"),
                          (b"GET / HTTP/9.9\r\n\r\n", b"HTTP/1.1 505"),
                          (b"GET /metrics HTTP/1.1\r\nHost: x\r\n"
                           b"Content-Length: 5\r\n\r\nhello", b"HTTP/1.1 413")):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(raw)
            try:
                reply = s.recv(200)
            except OSError as e:
                reply = repr(e).encode()
            s.close()
            rep.check("malformed request %r answered %s" % (raw[:24], want[9:]),
                      reply.startswith(want), repr(reply[:40]))
        # A flood of bad requests: all answered, few logged (rate limit).
        for _ in range(60):
            get(port, "/flood")
        logged = proc.stderr().count("http_request_rejected")
        rep.check("60+ rejected requests: at most a burst logged per key",
                  logged <= 10, "%d lines" % logged)
        status, after = get(port, "/metrics")
        m2 = parse_metrics(after)
        rep.check("rejections counted",
                  total(m2, "peerscope_http_requests_rejected_total") >= 62)
        rep.check("suppressed log lines counted",
                  total(m2, "peerscope_log_lines_suppressed_total") >= 50)
        rep.equal("data unaffected by bad requests",
                  total(m2, "peerscope_datagrams_total"), len(frames))
    finally:
        rc = proc.stop()
        rep.equal("replay with --serve-metrics exits 0 on SIGTERM", rc, 0)


def test_kafka_metrics(peerscope, data, tmp):
    """Kafka sink counters on /metrics: delivered = messages written."""
    demo = os.path.join(data, "demo-sflow.pcap.gz")
    out = os.path.join(tmp, "kafka.jsonl")
    proc = Proc([peerscope, "replay", "-o", out, "--set",
                 "output.kafka.enabled=true", "--serve-metrics", "60",
                 "--set", "http.listen=127.0.0.1:0", demo], tmp, "kafka")
    try:
        port = http_port(proc)
        if port is None:
            rep.skip("kafka sink did not start: %s" % proc.stderr()[-200:])
            return
        m = parse_metrics(get(port, "/metrics")[1])
        by_type = {}
        with open(out) as f:
            for line in f:
                t = json.loads(line)["type"]
                by_type[t] = by_type.get(t, 0) + 1
        for t, n in sorted(by_type.items()):
            rep.equal("kafka delivered{type=%s} = JSON lines of that type" % t,
                      total(m, "peerscope_kafka_messages_total", type=t,
                            outcome="delivered"), n)
        rep.equal("kafka queue empty after the drain",
                  total(m, "peerscope_kafka_queue_messages"), 0)
    finally:
        proc.stop()


def ipfix_templates(frames):
    """Distinct (exporter, domain, template id) defined in IPFIX messages:
    template (2) and options template (3) sets, RFC 7011 section 3.4."""
    import struct
    seen = set()
    for src, p in frames:
        if len(p) < 16:
            continue
        ver, length, _, _, domain = struct.unpack(">HHIII", p[:16])
        if ver != 10:
            continue
        off, end = 16, min(length, len(p))
        while off + 4 <= end:
            sid, slen = struct.unpack(">HH", p[off:off + 4])
            if slen < 4:
                break
            o = off + 4
            while sid in (2, 3) and o + 4 <= off + slen:
                tid, count = struct.unpack(">HH", p[o:o + 4])
                o += 6 if sid == 3 else 4
                for _ in range(count):
                    fid = struct.unpack(">H", p[o:o + 2])[0]
                    o += 8 if fid & 0x8000 else 4
                if count:
                    seen.add((src, domain, tid))
            off += slen
    return seen


def test_ipfix_metrics(peerscope, data, tmp):
    """Protocol and template gauges against the capture, parsed here."""
    cap = os.path.join(data, "ipfix-ipv6transport.pcap.gz")
    frames = [(d[1], d[5]) for d in cl.read_pcap_udp(cap) if d[4] == 4739]
    proc = Proc([peerscope, "replay", "-o", "/dev/null", "--set",
                 "listen.ipfix=:4739", "--serve-metrics", "60", "--set",
                 "http.listen=127.0.0.1:0", cap], tmp, "ipfix")
    try:
        port = http_port(proc)
        if not rep.check("ipfix: endpoint up", port is not None,
                         proc.stderr()[-300:]):
            return
        m = parse_metrics(get(port, "/metrics")[1])
        rep.equal("protocol_datagrams_total{protocol=ipfix} = frames",
                  total(m, "peerscope_protocol_datagrams_total",
                        protocol="ipfix"), len(frames))
        rep.equal("templates = distinct templates defined in the capture",
                  total(m, "peerscope_templates"),
                  len(ipfix_templates(frames)))
    finally:
        proc.stop()


def test_cardinality_cap(peerscope, data, tmp):
    """metrics.max_connections=1: one connection's series, the rest counted."""
    demo = os.path.join(data, "demo-sflow.pcap.gz")
    out = os.path.join(tmp, "cap.jsonl")
    proc = Proc([peerscope, "replay", "-o", out, "--serve-metrics", "60",
                 "--set", "metrics.max_connections=1",
                 "--set", "http.listen=127.0.0.1:0", demo], tmp, "cap")
    try:
        port = http_port(proc)
        if not rep.check("cap: endpoint up", port is not None):
            return
        m = parse_metrics(get(port, "/metrics")[1])
        msgs = [json.loads(l) for l in open(out) if l.strip()]
        last = max(x["window"]["start"] for x in msgs)
        conns = {x["connection_id"] for x in msgs
                 if x["type"] == "connection_metrics"
                 and x["window"]["start"] == last}
        exps = [x for x in msgs if x["type"] == "exporter_health"
                and x["window"]["start"] == last]
        rep.equal("cap: connections exported", total(
            m, "peerscope_connections_exported"), min(1, len(conns)))
        rep.equal("cap: connections omitted = last window's others",
                  total(m, "peerscope_connections_omitted"),
                  max(0, len(conns) - 1))
        series = {dict(k[1])["connection"] for k in m
                  if k[0] == "peerscope_connection_bytes_per_second"}
        rep.check("cap: series for one connection of the last window",
                  len(series) == 1 and series <= conns, str(series))
        rep.equal("cap: exporters omitted", total(
            m, "peerscope_exporters_omitted"), max(0, len(exps) - 1))
    finally:
        proc.stop()


def test_idle_connections(peerscope, data, tmp):
    """More idle connections than allowed: bounded, then timed out."""
    demo = os.path.join(data, "demo-sflow.pcap.gz")
    proc = Proc([peerscope, "replay", "-o", "/dev/null", "--serve-metrics",
                 "60", "--set", "http.listen=127.0.0.1:0",
                 "--set", "http.max_clients=8", "--set",
                 "http.timeout_seconds=1", demo], tmp, "idle")
    socks = []
    try:
        port = http_port(proc)
        if not rep.check("idle test: endpoint up", port is not None):
            return
        junk = socket.create_connection(("127.0.0.1", port), timeout=5)
        junk.sendall(b"\x00\x01\xff not http")
        t0 = time.time()
        try:
            junk_reply = junk.recv(100)
        except ConnectionResetError:
            junk_reply = b""  # closed hard: also fine
        except OSError:
            junk_reply = b"timeout"
        rep.check("binary junk: connection closed within the timeout",
                  junk_reply == b"" and time.time() - t0 < 4,
                  "%r after %.1fs" % (junk_reply[:20], time.time() - t0))
        junk.close()
        for _ in range(40):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port),
                                                      timeout=2))
            except OSError:
                break
        time.sleep(2.5)  # > http.timeout_seconds: MHD closes them
        status, body = get(port, "/healthz")
        rep.check("40 idle connections: endpoint answers once they time out",
                  status == 200, str(status))
        rep.check("process still running", proc.p.poll() is None)
    finally:
        for s in socks:
            s.close()
        proc.stop()


def sflow_frames(data):
    demo = os.path.join(data, "demo-sflow.pcap.gz")
    return [d[5] for d in cl.read_pcap_udp(demo) if d[4] == 6343]


def live_cmd(peerscope, udp_port, extra):
    return [peerscope, "--workers", "1", "--window", "1",
            "--set", "listen.sflow=127.0.0.1:%d" % udp_port,
            "--set", "listen.ipfix=", "--set", "listen.netflow=",
            "--set", "http.listen=127.0.0.1:0",
            "--set", "allow_root=true"] + extra


def poll_ready(port, want, seconds=10):
    deadline = time.time() + seconds
    status, body = None, ""
    while time.time() < deadline:
        status, body = get(port, "/readyz")
        if status == want:
            break
        time.sleep(0.1)
    return status, body


def test_readiness_sink_down(peerscope, data, tmp):
    udp = free_port(socket.SOCK_DGRAM)
    frames = sflow_frames(data)
    for path, name in (("/dev/full", "sink down"),
                       (os.path.join(tmp, "ok.jsonl"), "sink fine")):
        proc = Proc(live_cmd(peerscope, udp, ["-o", path]), tmp, "ready")
        try:
            port = http_port(proc)
            if not rep.check("live (%s): endpoint up" % name,
                             port is not None, proc.stderr()[-300:]):
                continue
            proc.wait_for("collecting")
            status, body = poll_ready(port, 200, 5)
            rep.check("live (%s): ready before any window" % name,
                      status == 200, "%s %r" % (status, body))
            tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for f in frames[:50]:
                tx.sendto(f, ("127.0.0.1", udp))
            tx.close()
            if path == "/dev/full":
                status, body = poll_ready(port, 503)
                rep.check("/readyz flips to 503 when the sink fails",
                          status == 503 and "sink json failing" in body,
                          "%s %r" % (status, body))
                m = parse_metrics(get(port, "/metrics")[1])
                rep.equal("peerscope_sink_up{sink=json} = 0",
                          total(m, "peerscope_sink_up", sink="json"), 0)
            else:
                time.sleep(2.5)  # two windows go out
                status, body = get(port, "/readyz")
                rep.check("/readyz stays 200 with a working sink",
                          status == 200, "%s %r" % (status, body))
        finally:
            proc.stop()


def test_reload(peerscope, data, tmp):
    udp = free_port(socket.SOCK_DGRAM)
    conf = os.path.join(tmp, "peerscope.yaml")
    with open(conf, "w") as f:
        f.write("window_seconds: 60\nlog:\n  level: info\n")
    proc = Proc(live_cmd(peerscope, udp, ["-o", "/dev/null", "--config",
                                          conf]), tmp, "reload")
    # --window 1 on the command line wins over the file, as at start-up.
    try:
        port = http_port(proc)
        if not rep.check("reload: endpoint up", port is not None,
                         proc.stderr()[-300:]):
            return
        proc.wait_for("collecting")
        with open(conf, "w") as f:
            f.write("log:\n  level: info\nwindow_seconds: abc\n")
        proc.p.send_signal(signal.SIGHUP)
        m = proc.wait_for(r'event=config_reload_rejected msg="((?:[^"\\]|\\.)*)"')
        why = m.group(1) if m else ""
        rep.check("bad config on SIGHUP: rejected with file, line and key",
                  conf + ":3: window_seconds" in why
                  and "keeping the running configuration" in why, why)
        rep.check("still running after a bad reload", proc.p.poll() is None)
        status, _ = get(port, "/healthz")
        rep.equal("/healthz after a bad reload", status, 200)
        mt = parse_metrics(get(port, "/metrics")[1])
        rep.equal("reloads_total{result=rejected}",
                  total(mt, "peerscope_config_reloads_total",
                        result="rejected"), 1)
        with open(conf, "w") as f:
            f.write("log:\n  level: info\n  format: json\n"
                    "metrics:\n  max_connections: 0\n"
                    "ring:\n  slots: 64\n")
        proc.p.send_signal(signal.SIGHUP)
        m = proc.wait_for(r'"event":"config_reloaded","msg":"([^"]*)"')
        rep.check("good config: applied live keys named, log now JSON",
                  m is not None and "log.format" in m.group(1)
                  and "metrics.max_connections" in m.group(1),
                  proc.stderr()[-400:])
        m = proc.wait_for(r'"event":"config_needs_restart","msg":"([^"]*)"')
        rep.check("restart-only change reported",
                  m is not None and "ring.slots" in m.group(1)
                  and "log.format" not in m.group(1),
                  m.group(1) if m else proc.stderr()[-400:])
        mt = parse_metrics(get(port, "/metrics")[1])
        rep.equal("reloads_total{result=applied}",
                  total(mt, "peerscope_config_reloads_total",
                        result="applied"), 1)
    finally:
        rc = proc.stop()
        rep.equal("live exits 0 on SIGTERM after reloads", rc, 0)


def wait_file(path, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return True
        time.sleep(0.1)
    return False


def test_log_rotation(peerscope, data, tmp):
    """SIGHUP after logrotate moved the output: a fresh file at the path."""
    udp = free_port(socket.SOCK_DGRAM)
    out = os.path.join(tmp, "rotate.jsonl")
    frames = sflow_frames(data)
    proc = Proc(live_cmd(peerscope, udp, ["-o", out]), tmp, "rotate")
    try:
        port = http_port(proc)
        if not rep.check("rotation: endpoint up", port is not None,
                         proc.stderr()[-300:]):
            return
        proc.wait_for("collecting")
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for f in frames[:20]:
            tx.sendto(f, ("127.0.0.1", udp))
        rep.check("rotation: messages in the first file", wait_file(out))
        os.rename(out, out + ".1")
        proc.p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        reopens = 0
        while time.time() < deadline and reopens < 1:
            m = parse_metrics(get(port, "/metrics")[1])
            reopens = total(m, "peerscope_sink_reopens_total")
            time.sleep(0.1)
        rep.equal("rotation: sinks reopened once", reopens, 1)
        for f in frames[20:40]:
            tx.sendto(f, ("127.0.0.1", udp))
        tx.close()
        rep.check("rotation: new messages in a new file at the path",
                  wait_file(out))
        lines = [json.loads(l) for l in open(out) if l.strip()]
        rep.check("rotation: the new file holds whole JSON messages",
                  lines and all("type" in x for x in lines))
    finally:
        proc.stop()


def test_shutdown_deadline(peerscope, data, tmp):
    """A sink stuck on a full pipe: SIGTERM still ends within the deadline."""
    import fcntl
    udp = free_port(socket.SOCK_DGRAM)
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ: one page, nobody reads
    except OSError:
        pass
    err_path = os.path.join(tmp, "deadline.err")
    with open(err_path, "w") as ef:
        p = subprocess.Popen(live_cmd(peerscope, udp, [
            "-o", "-", "--set", "shutdown_timeout_seconds=1"]),
            stdout=w, stderr=ef)
    os.close(w)
    try:
        deadline = time.time() + 10
        while time.time() < deadline and "collecting" not in open(
                err_path).read():
            time.sleep(0.05)
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        frames = sflow_frames(data)
        for i in range(4):  # four 1 s windows of messages: > one page
            for f in frames[i * 50:(i + 1) * 50]:
                tx.sendto(f, ("127.0.0.1", udp))
            time.sleep(1.1)
        tx.close()
        time.sleep(1.5)
        t0 = time.time()
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        took = time.time() - t0
        text = open(err_path).read()
        rep.check("stuck sink: exits 1 within the deadline",
                  rc == 1 and took < 5 and "shutdown_timeout" in text,
                  "rc=%s after %.1fs %r" % (rc, took, text[-200:]))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(r)


def test_check_config(peerscope, tmp):
    conf = os.path.join(tmp, "bad.yaml")
    with open(conf, "w") as f:
        f.write("workers: 1\nhttp:\n  max_clients: 0\n")
    p = subprocess.run([peerscope, "--check-config", "--config", conf],
                       capture_output=True, text=True, timeout=30)
    rep.check("--check-config: bad file exits non-zero naming file:line:key",
              p.returncode != 0 and conf + ":3: http.max_clients" in p.stderr,
              "rc=%s %r" % (p.returncode, p.stderr[-200:]))
    p = subprocess.run([peerscope, "--check-config", "--set",
                        "http.listen=localhost"], capture_output=True,
                       text=True, timeout=30)
    rep.check("--check-config: bad http.listen exits non-zero",
              p.returncode != 0 and "http.listen" in p.stderr, p.stderr)
    # Everything start-up would refuse, each in a file of its own: exit 2,
    # naming the file, the line and the key (issue 13).
    cases = [
        ("a bare port", "window_seconds: 60\nbmp:\n  listen: 11019\n",
         ":3: bmp.listen: expected \":port\""),
        ("an unknown librdkafka property",
         "output:\n  kafka:\n    enabled: true\n    properties:\n"
         "      no.such.property: 1\n",
         ":4: output.kafka.properties: no.such.property"),
        ("a bad librdkafka value",
         "output:\n  kafka:\n    enabled: true\n    properties:\n"
         "      linger.ms: banana\n",
         ":4: output.kafka.properties: linger.ms"),
        ("an output in a missing directory",
         "output:\n  json:\n    path: %s/no/such/dir/out.jsonl\n" % tmp,
         ":3: output.json.path: %s/no/such/dir/out.jsonl: directory" % tmp),
        ("a state file in a missing directory",
         "flow:\n  state_file: %s/gone/state\n" % tmp,
         ":2: flow.state_file: %s/gone/state: directory" % tmp),
        ("an address not on this host",
         "listen:\n  sflow: [\"192.0.2.77:6343\"]\n",
         ":2: listen.sflow: 192.0.2.77:6343: no such address on this host"),
        ("an unknown run_as_user",
         "run_as_user: no-such-user-ps\n",
         ":1: run_as_user: no user \"no-such-user-ps\""),
        ("every listener off", "listen:\n  sflow: []\n  ipfix: []\n"
         "  netflow: []\n", "listen: nothing to listen on"),
    ]
    for i, (what, text, want) in enumerate(cases):
        conf = os.path.join(tmp, "pre%d.yaml" % i)
        with open(conf, "w") as f:
            f.write(text)
        p = subprocess.run([peerscope, "--check-config", "--config", conf],
                           capture_output=True, text=True, timeout=30)
        rep.check("--check-config refuses %s: exit 2, file:line: key" % what,
                  p.returncode == 2 and want in p.stderr and
                  (conf in p.stderr or "configuration:" in p.stderr),
                  "rc=%s %r" % (p.returncode, p.stderr[-300:]))
    # A start refuses the same way, before it binds anything.
    conf = os.path.join(tmp, "pre0.yaml")
    p = subprocess.run([peerscope, "--config", conf, "--set",
                        "allow_root=true", "--set", "http.listen=127.0.0.1:0"],
                       capture_output=True, text=True, timeout=30)
    rep.check("a start with a bare bmp.listen port exits 2 with the same line",
              p.returncode == 2 and conf + ":3: bmp.listen" in p.stderr,
              "rc=%s %r" % (p.returncode, p.stderr[-300:]))
    # [] turns listeners off, also on the command line: BMP alone is fine.
    p = subprocess.run([peerscope, "--check-config", "--set", "listen.sflow=[]",
                        "--set", "listen.ipfix=[]", "--set", "listen.netflow=-",
                        "--set", "bmp.listen=:11019"],
                       capture_output=True, text=True, timeout=30)
    rep.check("--check-config: [] turns every UDP listener off, BMP stays",
              p.returncode == 0 and "sflow: []" in p.stdout and
              'listen: ":11019"' in p.stdout,
              "rc=%s %r" % (p.returncode, p.stderr[-300:]))


def test_privileges(peerscope, tmp):
    if os.geteuid() != 0:
        rep.skip("privilege tests need root")
        return
    udp = free_port(socket.SOCK_DGRAM)
    cmd = [peerscope, "--workers", "1", "-o", "/dev/null",
           "--set", "listen.sflow=127.0.0.1:%d" % udp,
           "--set", "listen.ipfix=", "--set", "listen.netflow=",
           "--set", "http.enabled=false"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    rep.check("root without allow_root or run_as_user: refused",
              p.returncode != 0 and "refusing to run as root" in p.stderr,
              "rc=%s %r" % (p.returncode, p.stderr[-200:]))
    # With the HTTP server, so its thread is checked too.
    proc = Proc(cmd + ["--set", "run_as_user=nobody",
                       "--set", "http.enabled=true",
                       "--set", "http.listen=127.0.0.1:0"], tmp, "nobody")
    try:
        ok = proc.wait_for("collecting")
        rep.check("run_as_user=nobody: collecting", ok is not None,
                  proc.stderr()[-300:])
        status = open("/proc/%d/status" % proc.p.pid).read()
        uids = re.search(r"Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status).groups()
        import pwd
        nobody = str(pwd.getpwnam("nobody").pw_uid)
        rep.equal("real, effective, saved uid are nobody's", list(uids),
                  [nobody] * 3)
        for cap in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
            v = re.search(cap + r":\s+([0-9a-f]+)", status).group(1)
            rep.equal("%s empty" % cap, int(v, 16), 0)
        nnp = re.search(r"NoNewPrivs:\s+(\d)", status).group(1)
        rep.equal("no_new_privs set", nnp, "1")
        # Every thread: capability sets and no_new_privs are per thread,
        # so a thread started before the drop would keep them.
        rep.check("privdrop: endpoint up", http_port(proc) is not None,
                  proc.stderr()[-300:])
        tasks = os.listdir("/proc/%d/task" % proc.p.pid)
        bad = []
        for tid in tasks:
            st = open("/proc/%d/task/%s/status" % (proc.p.pid, tid)).read()
            u = re.search(r"Uid:\s+(\d+)\s+(\d+)\s+(\d+)", st).groups()
            caps = [int(re.search(c + r":\s+([0-9a-f]+)", st).group(1), 16)
                    for c in ("CapEff", "CapPrm", "CapBnd", "CapInh",
                              "CapAmb")]
            nnp = re.search(r"NoNewPrivs:\s+(\d)", st).group(1)
            if list(u) != [nobody] * 3 or any(caps) or nnp != "1":
                bad.append((tid, u, caps, nnp))
        rep.check("all %d threads (workers, merger, HTTP): nobody's uid, "
                  "CapEff/CapPrm/CapBnd/CapInh/CapAmb empty, NoNewPrivs 1"
                  % len(tasks), len(tasks) > 2 and not bad, str(bad))
    finally:
        proc.stop()


def bmp_gauges(m):
    return (total(m, "peerscope_bmp_routers"),
            {st: total(m, "peerscope_bmp_peer_sessions", state=st)
             for st in ("up", "down", "unknown")},
            total(m, "peerscope_bmp_rib_routes"))


def test_bmp_metrics(peerscope, data, corpus, tmp):
    """BMP sessions and RIB sizes on /metrics, live: the FRR corpus stream
    (corpus/bmp/main/frr_main) sent over one TCP connection to the BMP
    listener, which stays open.  Truth: frr_main.truth.json, per peer its
    state at the end and its final routes per view and family (the
    corpus's own decoder, cross-checked with tshark).  After the
    connection closes, no session and no route is left.  A replay of the
    same stream ends its session too: the gauges say so."""
    base = os.path.join(corpus, "bmp", "main", "frr_main")
    if not os.path.exists(base + ".bmp.gz"):
        rep.skip("BMP corpus stream not found")
        return
    with gzip.open(base + ".bmp.gz", "rb") as f:
        stream = f.read()
    truth = cl.load_json(base + ".truth.json")
    want_states = {"up": 0, "down": 0, "unknown": 0}
    want_routes = 0
    for tp in truth["peers"].values():
        want_states[tp["state_at_end"]] += 1
        for afis in tp["routes"].values():
            for c in afis.values():
                want_routes += c["final_rib_routes"]
    bmp_port = free_port()
    proc = Proc(live_cmd(peerscope, free_port(socket.SOCK_DGRAM),
                         ["--set", "bmp.listen=127.0.0.1:%d" % bmp_port,
                          "--set", "bmp.allow=127.0.0.1",
                          "--set", "output.json.path=/dev/null"]),
                tmp, "bmp-metrics")
    sock = None
    try:
        port = http_port(proc)
        if not rep.check("bmp: endpoint up", port is not None,
                         proc.stderr()[-2000:]):
            return
        m = parse_metrics(get(port, "/metrics")[1])
        rep.equal("bmp: no router before the connection", bmp_gauges(m),
                  (0, {"up": 0, "down": 0, "unknown": 0}, 0))
        deadline = time.time() + 10
        while sock is None and time.time() < deadline:
            try:
                sock = socket.create_connection(("127.0.0.1", bmp_port), 2)
            except OSError:
                time.sleep(0.1)
        if not rep.check("bmp: listener accepts", sock is not None):
            return
        sock.sendall(stream)
        want = (1, want_states, want_routes)
        got = None
        deadline = time.time() + 20
        while time.time() < deadline:
            m = parse_metrics(get(port, "/metrics")[1])
            got = bmp_gauges(m)
            if got == want:
                break
            time.sleep(0.2)
        rep.equal("bmp: routers, sessions by state, routes (truth)", got,
                  want)
        rep.equal("bmp: routes of router 127.0.0.1 (truth)",
                  total(m, "peerscope_bmp_router_rib_routes",
                        router="127.0.0.1"), want_routes)
        rep.equal("bmp: no router omitted",
                  total(m, "peerscope_bmp_routers_omitted"), 0)
        promtool = shutil.which("promtool")
        if promtool is not None:
            p = subprocess.run([promtool, "check", "metrics"],
                               input=get(port, "/metrics")[1],
                               capture_output=True, text=True, timeout=60)
            rep.check("bmp: promtool accepts /metrics with BMP series",
                      p.returncode == 0, p.stdout + p.stderr)
        sock.close()
        sock = None
        want = (0, {"up": 0, "down": 0, "unknown": 0}, 0)
        deadline = time.time() + 10
        while time.time() < deadline:
            m = parse_metrics(get(port, "/metrics")[1])
            got = bmp_gauges(m)
            if got == want:
                break
            time.sleep(0.2)
        rep.equal("bmp: session closed, nothing held", got, want)
        rep.equal("bmp: no per-router series once closed",
                  total(m, "peerscope_bmp_router_rib_routes"), 0)
    finally:
        if sock is not None:
            sock.close()
        rep.equal("bmp live exits 0 on SIGTERM", proc.stop(), 0)
    proc = Proc([peerscope, "replay", "-o", "/dev/null", "--serve-metrics",
                 "60", "--set", "http.listen=127.0.0.1:0",
                 base + ".bmp.gz"], tmp, "bmp-replay-metrics")
    try:
        port = http_port(proc)
        if rep.check("bmp replay: endpoint up", port is not None,
                     proc.stderr()[-2000:]):
            m = parse_metrics(get(port, "/metrics")[1])
            rep.equal("bmp replay: the ended session holds nothing",
                      bmp_gauges(m), (0, {"up": 0, "down": 0, "unknown": 0},
                                      0))
    finally:
        rep.equal("bmp replay exits 0 on SIGTERM", proc.stop(), 0)


def wait_metric(port, name, want, seconds=10):
    """Poll /metrics until total(name) == want (bounded); the last value."""
    deadline = time.time() + seconds
    got = None
    while time.time() < deadline:
        got = total(parse_metrics(get(port, "/metrics")[1]), name)
        if got == want:
            break
        time.sleep(0.1)
    return got


def test_udp_allow(peerscope, data, tmp):
    """udp.allow, live, reloaded by SIGHUP.  Truth: the number of
    datagrams this test sends from 127.0.0.1 in each phase (counted here):
    allowed by 127.0.0.0/8, all are decoded and none refused; after a
    SIGHUP to 192.0.2.0/24 (which 127.0.0.1 is not in), every further one
    is refused and the decoded count stays where it was."""
    udp = free_port(socket.SOCK_DGRAM)
    frames = sflow_frames(data)[:40]
    conf = os.path.join(tmp, "allow.yaml")
    with open(conf, "w") as f:
        f.write("udp:\n  allow: \"10.9.0.0/16, 127.0.0.0/8\"\n")
    proc = Proc(live_cmd(peerscope, udp, ["-o", "/dev/null", "--config",
                                          conf]), tmp, "allow")
    try:
        port = http_port(proc)
        if not rep.check("udp.allow: endpoint up", port is not None,
                         proc.stderr()[-300:]):
            return
        proc.wait_for("collecting")
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for f in frames[:25]:
            tx.sendto(f, ("127.0.0.1", udp))
            time.sleep(0.002)  # within the socket buffer, no kernel drops
        rep.equal("udp.allow 127.0.0.0/8: 25 datagrams decoded",
                  wait_metric(port, "peerscope_datagrams_total", 25), 25)
        rep.equal("udp.allow 127.0.0.0/8: none refused",
                  total(parse_metrics(get(port, "/metrics")[1]),
                        "peerscope_udp_refused_total"), 0)
        with open(conf, "w") as f:
            f.write("udp:\n  allow: 192.0.2.0/24\n")
        proc.p.send_signal(signal.SIGHUP)
        m = proc.wait_for(r"event=config_reloaded msg=\"([^\"]*)\"")
        rep.check("udp.allow applied live on SIGHUP",
                  m is not None and "udp.allow" in m.group(1),
                  proc.stderr()[-400:])
        time.sleep(0.5)  # workers pick it up at their next batch (<= 0.1 s)
        for f in frames[25:40]:
            tx.sendto(f, ("127.0.0.1", udp))
            time.sleep(0.002)
        tx.close()
        rep.equal("after SIGHUP: 15 datagrams refused",
                  wait_metric(port, "peerscope_udp_refused_total", 15), 15)
        time.sleep(0.3)
        m2 = parse_metrics(get(port, "/metrics")[1])
        rep.equal("after SIGHUP: decoded count unchanged",
                  total(m2, "peerscope_datagrams_total"), 25)
        rep.equal("kernel drops (would make the counts meaningless)",
                  total(m2, "peerscope_kernel_drops_total"), 0)
        with open(conf, "w") as f:
            f.write("udp:\n  allow: 127.0.0.1/33\n")
        proc.p.send_signal(signal.SIGHUP)
        m = proc.wait_for(r"event=config_reload_rejected msg=\"([^\"]*)\"")
        rep.check("bad udp.allow on SIGHUP: rejected, naming the key",
                  m is not None and "udp.allow" in m.group(1),
                  proc.stderr()[-400:])
    finally:
        rep.equal("udp.allow: exits 0 on SIGTERM", proc.stop(), 0)


def main():
    args = cl.parse_args(__doc__)
    tmp = tempfile.mkdtemp(prefix="ps-ops-")
    try:
        test_check_config(args.peerscope, tmp)
        test_metrics_after_replay(args.peerscope, args.data, tmp)
        test_idle_connections(args.peerscope, args.data, tmp)
        test_kafka_metrics(args.peerscope, args.data, tmp)
        test_cardinality_cap(args.peerscope, args.data, tmp)
        test_ipfix_metrics(args.peerscope, args.data, tmp)
        test_readiness_sink_down(args.peerscope, args.data, tmp)
        test_reload(args.peerscope, args.data, tmp)
        test_log_rotation(args.peerscope, args.data, tmp)
        test_shutdown_deadline(args.peerscope, args.data, tmp)
        test_privileges(args.peerscope, tmp)
        test_bmp_metrics(args.peerscope, args.data, args.corpus, tmp)
        test_udp_allow(args.peerscope, args.data, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
