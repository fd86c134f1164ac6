#!/usr/bin/env python3
"""Hostile TCP clients cannot keep the routers and scrapers that matter
out (issue 14): live load tests on loopback, each with a well-behaved
client beside the flood, its outcome and every refusal compared exactly
with what this test did.

1. IPFIX over TCP: 200 silent connections (127.30.x.y, one per address)
   against 64 slots; a real exporter then connects and streams a template
   and 1,000 records.  It is served at once (the slots' oldest silent
   connections made room: 200 + 1 - 64 = 137 evicted), every record is
   decoded, and the 63 silent connections left are closed after
   flow.tcp_message_timeout_seconds, counted as such; the real one stays.
2. BMP: 256 slowloris sessions (127.40.x.y) fill bmp.max_routers, each
   trickling a message that never completes; a real router connects and
   sends its Initiation and a Peer Up: it is accepted at once (1 evicted)
   and its peer's bgp_session "up" is published; after
   bmp.message_timeout_seconds the 255 slowloris are closed (counted as
   bmp.server.message_timeout, on /metrics within a second), the real
   router is not.
3. HTTP: 1,000 idle connections, 500 from addresses outside http.allow
   (127.51.x.y, refused at once) and 500 from inside it (127.50.x.y,
   filling 16 slots and replacing each other), then 10 from one address
   (a quarter of the slots: 4 taken, 6 refused): a scrape from an allowed
   address is answered, and its /metrics reads exactly those refusals
   and evictions.

Peak RSS (VmHWM) stays within the README's bound for each configuration
(hostile_lib.rss_bound).  Only 127.0.0.0/8; every process is stopped by
its PID; every wait is bounded.
"""
import os
import resource
import select
import shutil
import socket
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
import hostile_lib as hl  # noqa: E402

SMALL = ["limits.connections_per_worker=1024",
         "limits.exporters_per_worker=256"]


def connect_from(src, port, timeout=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    return s


def is_closed(s):
    """The collector closed s (EOF or reset), without waiting."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BlockingIOError):
        return True
    except OSError:
        return True


def check_rss(rep, name, col, bound):
    if hl.sanitized(col.binary):
        rep.skip("%s: sanitizer build, peak RSS not checked" % name)
        return
    peak = col.peak_rss()
    rep.check("%s: peak RSS within the README bound" % name,
              peak is not None and peak <= bound,
              "peak %.1f MiB, bound %.1f MiB" %
              ((peak or 0) / hl.MiB, bound / hl.MiB))


# --- 1. IPFIX over TCP -------------------------------------------------------

def ipfix_tcp(rep, args, tmp):
    port = hl.free_port()
    sets = ["flow.tcp_listen=127.0.0.1:%d" % port, "listen.sflow=",
            "listen.ipfix=", "listen.netflow=",
            "flow.tcp_message_timeout_seconds=4",
            "flow.window_grace_seconds=0", "window_seconds=3600"] + SMALL
    col = hl.Collector(args.peerscope, tmp, "tcp", sets)
    silent, real = [], None
    try:
        for i in range(200):
            silent.append(connect_from(hl.addr(30, i), port))
        accepted = hl.wait_metric(
            col, "peerscope_ipfix_tcp_connections_accepted_total",
            lambda v: v >= 200)
        rep.equal("ipfix/tcp: 200 silent connections accepted", accepted,
                  200)
        t0 = time.time()
        real = connect_from("127.0.0.1", port)
        stream = hl.ipfix_message(0, 1, [hl.ipfix_set(
            2, hl.ipfix_template(300, hl.FLOW_FIELDS))])
        for m in range(20):
            stream += hl.ipfix_message(m * 50, 1, [hl.ipfix_set(
                300, b"".join(hl.ipfix_record(500 + m, 2, 5, 6)
                              for _ in range(50)))])
        real.sendall(stream)
        msgs = hl.wait_metric(col, "peerscope_ipfix_tcp_messages_total",
                              lambda v: v >= 21)
        took = time.time() - t0
        rep.check("ipfix/tcp: the real exporter is served at once, beside "
                  "the flood", msgs == 21 and took < 2 and not is_closed(real),
                  "%r messages after %.2f s" % (msgs, took))
        vals = col.metrics()
        rep.equal("ipfix/tcp: the oldest silent connections made room "
                  "(200 + 1 - 64), nothing refused",
                  (vals.get("peerscope_ipfix_tcp_connections_evicted_total"),
                   vals.get('peerscope_ipfix_tcp_connections_refused_total'
                            '{reason="cap"}'),
                   vals.get("peerscope_ipfix_tcp_connections")),
                  (137, 0, 64))
        # the 63 silent ones left: closed by the message timeout (4 s)
        timed = hl.wait_metric(
            col, 'peerscope_ipfix_tcp_connections_timed_out_total'
            '{reason="message"}', lambda v: v >= 63, seconds=8)
        rep.equal("ipfix/tcp: the silent connections left time out "
                  "(flow.tcp_message_timeout_seconds), counted", timed, 63)
        time.sleep(0.3)
        closed = sum(is_closed(s) for s in silent)
        rep.equal("ipfix/tcp: every silent connection was closed, the real "
                  "one was not", (closed, is_closed(real)), (200, False))
        rep.equal("ipfix/tcp: one connection open",
                  col.metrics().get("peerscope_ipfix_tcp_connections"), 1)
        check_rss(rep, "ipfix/tcp", col,
                  hl.rss_bound(1, conns=1024, exporters=256, flows=True,
                               grace=False, listeners=0, tcp_conns=64))
    finally:
        for s in silent:
            s.close()
        if real is not None:
            real.close()
        rc = col.stop()
    rep.equal("ipfix/tcp: clean exit", rc, 0)
    recs = [m["flow"]["data_records"] for m in col.messages("exporter_health")
            if m["exporter"] == "127.0.0.1"]
    rep.equal("ipfix/tcp: every record of the real exporter decoded",
              sum(recs), 1000)


# --- 2. BMP slowloris ---------------------------------------------------------

def bmp_slowloris(rep, args, tmp):
    port = hl.free_port()
    sets = ["bmp.listen=127.0.0.1:%d" % port, "listen.sflow=",
            "listen.ipfix=", "listen.netflow=",
            "bmp.message_timeout_seconds=5",
            "bmp.max_buffer_bytes=65536", "bmp.max_queue_bytes=65536"] + \
        SMALL
    col = hl.Collector(args.peerscope, tmp, "bmp", sets)
    slow, real = [], None
    # a header announcing 1000 bytes, then a byte at a time
    trickle = hl.struct.pack("!BIB", 3, 1000, 0) + b"\0" * 994
    sent = [0] * 256

    def drip():
        for i, s in enumerate(slow):
            if sent[i] < len(trickle):
                try:
                    s.send(trickle[sent[i]:sent[i] + 1])
                    sent[i] += 1
                except OSError:
                    pass
    try:
        for i in range(256):
            slow.append(connect_from(hl.addr(40, i), port))
        drip()
        accepted = hl.wait_metric(
            col, "peerscope_bmp_connections_accepted_total",
            lambda v: v >= 256)
        rep.equal("bmp: 256 slowloris sessions accepted", accepted, 256)
        drip()
        t0 = time.time()
        real = connect_from("127.0.0.1", port)
        real.sendall(hl.bmp_initiation("real-router") +
                     hl.bmp_peer_up("198.51.100.7", 65001))
        up = None
        while time.time() - t0 < 3 and up is None:
            for m in col.messages("bgp_session"):
                if m.get("peer", {}).get("address") == "198.51.100.7" and \
                        m.get("state") == "up":
                    up = time.time() - t0
            time.sleep(0.05)
        rep.check("bmp: the real router is accepted at once and its peer's "
                  "bgp_session up published", up is not None and up < 2,
                  "after %r s" % up)
        vals = col.metrics()
        rep.equal("bmp: one slowloris made room (bmp.server.evicted), "
                  "nothing refused",
                  (hl.decode_reason(vals, "bmp.server.evicted"),
                   hl.decode_reason(vals, "bmp.server.routers_capped"),
                   vals.get("peerscope_bmp_routers")), (1, 0, 256))
        # the slowloris keep trickling: the message timeout (5 s) closes
        # them anyway, the real router (quiet since) stays
        deadline = time.time() + 9
        timed = None
        while time.time() < deadline:
            drip()
            timed = hl.decode_reason(col.metrics(),
                                     "bmp.server.message_timeout")
            if timed == 255:
                break
            time.sleep(0.25)
        seen = time.time()
        rep.equal("bmp: the 255 slowloris closed by bmp.message_timeout_"
                  "seconds, counted on /metrics", timed, 255)
        rep.check("bmp: the slowloris gone within the message timeout (5 s) "
                  "and a second or two", seen - t0 < 5 + 2,
                  "%.1f s after the real router" % (seen - t0))
        vals = col.metrics()
        rep.equal("bmp: the real router's session stays",
                  (vals.get("peerscope_bmp_routers"), is_closed(real)),
                  (1, False))
        check_rss(rep, "bmp", col,
                  hl.rss_bound(1, conns=1024, exporters=256, listeners=0,
                               bmp_routers=256, bmp_buffer=65536,
                               bmp_queue=65536))
    finally:
        for s in slow:
            s.close()
        if real is not None:
            real.close()
        rc = col.stop()
    rep.equal("bmp: clean exit", rc, 0)


# --- 3. HTTP ---------------------------------------------------------------------

def http_flood(rep, args, tmp):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    sets = ["listen.sflow=127.0.0.1:%d" % hl.free_port(socket.SOCK_DGRAM),
            "listen.ipfix=", "listen.netflow=",
            "http.allow=127.0.0.1, 127.50.0.0/16", "http.max_clients=16",
            "http.timeout_seconds=60"] + SMALL
    col = hl.Collector(args.peerscope, tmp, "http", sets)
    socks = []
    try:
        for i in range(500):
            socks.append(connect_from(hl.addr(50, i), col.http))
            socks.append(connect_from(hl.addr(51, i), col.http))
        for _ in range(10):
            socks.append(connect_from("127.50.200.200", col.http))
        time.sleep(0.5)
        t0 = time.time()
        body = None
        try:
            with urllib.request.urlopen(
                    "http://127.0.0.1:%d/metrics" % col.http,
                    timeout=5) as r:
                body = r.read().decode()
        except OSError as e:
            body = None
            err = str(e)
        took = time.time() - t0
        rep.check("http: a scrape from an allowed address is answered "
                  "through 1,010 connections", body is not None and took < 2,
                  "%.2f s %s" % (took, "" if body else err))
        vals = hl.parse_metrics(body or "")
        ref = 'peerscope_http_connections_refused_total{reason="%s"}'
        rep.equal("http: refusals and evictions on /metrics, exactly: 500 "
                  "outside http.allow, 6 past a quarter of the slots from "
                  "one address; 500 + 4 + 1 accepted, all but 16 evicted",
                  [vals.get(k) for k in (
                      ref % "not_allowed", ref % "per_address", ref % "cap",
                      "peerscope_http_connections_accepted_total",
                      'peerscope_http_connections_closed_total'
                      '{reason="evicted"}',
                      'peerscope_http_connections_closed_total'
                      '{reason="timeout"}')],
                  [500, 6, 0, 505, 505 - 16, 0])
        time.sleep(0.2)
        closed = sum(is_closed(s) for s in socks)
        rep.equal("http: every refused or evicted client saw its connection "
                  "closed (all but the 15 the scrape left a slot)",
                  closed, 1010 - 15)
        check_rss(rep, "http", col,
                  hl.rss_bound(1, conns=1024, exporters=256,
                               http_clients=16))
    finally:
        for s in socks:
            s.close()
        rc = col.stop()
    rep.equal("http: clean exit", rc, 0)


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    tmp = tempfile.mkdtemp(prefix="ps-hostile-tcp-")
    try:
        ipfix_tcp(rep, args, tmp)
        bmp_slowloris(rep, args, tmp)
        http_flood(rep, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
