#!/usr/bin/env python3
"""Hostile and careless flow senders cannot starve the exporters that
matter (issue 14): live load tests on loopback, each with a well-behaved
exporter sending a known stream beside the flood, its figures compared
exactly with what this test sent.

1. Template flood: 200 spoofed IPFIX sources (127.1.x.y) define 32
   templates each, again and again, and never send data; a new exporter
   then defines its template and sends 1,000 records between flood
   rounds.  Every record must be decoded (none refused, held or unknown),
   its bytes and packets per interface exact, and /metrics must show the
   flood evicting itself (cache_full) with every worker's cache at its cap.
2. 10,000 spoofed sFlow sources (127.20.x.y), one datagram each, spread
   over three 2-second windows, beside one real exporter sending 30
   datagrams per window and skipping two sequence numbers in the second:
   its exporter_health (datagrams, bytes, samples, records, sequence
   loss) and its connections' figures are exact in every window, the
   merged window keeps 1,000 exporters and 1,000 connections (the real
   exporter's among them, chosen by traffic) and folds the rest into a
   window_other message whose counts are the test's arithmetic; all of it
   identical with 1 and 2 workers.  The sequence table (4,096 per worker)
   overflows: with one worker exactly 10,001 - 4,096 least recently used
   entries are evicted, the real exporter's never.
3. State saved early: an IPFIX exporter's template, then SIGKILL 10 s
   later: the state file exists (written within 5 s of the template);
   after a restart, data without templates decodes at once, every record.

Peak RSS (VmHWM) of each run stays within the README's bound for its
configuration (hostile_lib.rss_bound).  Only 127.0.0.0/8; every process
is stopped by its PID; every wait is bounded.
"""
import os
import resource
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
import hostile_lib as hl  # noqa: E402

REAL = "127.0.0.1"


def check_rss(rep, name, col, bound):
    if hl.sanitized(col.binary):
        rep.skip("%s: sanitizer build, peak RSS not checked" % name)
        return
    peak = col.peak_rss()
    rep.check("%s: peak RSS within the README bound" % name,
              peak is not None and peak <= bound,
              "peak %.1f MiB, bound %.1f MiB" %
              ((peak or 0) / hl.MiB, bound / hl.MiB))


def by_exporter(msgs, source):
    return [m for m in msgs if m["exporter"] == source]


# --- 1. template flood ------------------------------------------------------

def template_flood(rep, args, tmp):
    port = hl.free_port(hl.socket.SOCK_DGRAM)
    sets = ["listen.ipfix=127.0.0.1:%d" % port, "listen.sflow=",
            "listen.netflow=", "flow.max_templates=512",
            "flow.max_templates_per_exporter=64",
            "limits.connections_per_worker=1024",
            "limits.exporters_per_worker=1024",
            "flow.window_grace_seconds=0", "window_seconds=3600"]
    col = hl.Collector(args.peerscope, tmp, "tflood", sets, workers=2)
    flood = [hl.ipfix_set(2, b"".join(hl.ipfix_template(t, hl.FLOW_FIELDS)
                                      for t in range(256, 288)))]
    sent = {"octets": {}, "packets": {}, "records": 0}
    seq = 0

    def flood_round(first, n):
        for i in range(first, first + n):
            hl.send_from(hl.addr(1, i), port, hl.ipfix_message(0, 1, flood))

    real = hl.Exporter(REAL, port)
    try:
        flood_round(0, 200)
        time.sleep(0.3)
        real.send(hl.ipfix_message(
            0, 1, [hl.ipfix_set(2, hl.ipfix_template(300, hl.FLOW_FIELDS))]))
        for msg in range(20):
            recs = []
            for r in range(50):
                n = msg * 50 + r
                if_in, if_out = 1 + n % 3, 10
                # at least 20 bytes a packet (an IPv4 header), or the
                # record contradicts itself (ipfix.length.bytes_below_packets)
                packets = 1 + n % 7
                octets = 64 * packets + n
                recs.append(hl.ipfix_record(octets, packets, if_in, if_out))
                for k, d in ((if_in, "in"), (if_out, "out")):
                    sent["octets"][(k, d)] = \
                        sent["octets"].get((k, d), 0) + octets
                    sent["packets"][(k, d)] = \
                        sent["packets"].get((k, d), 0) + packets
            sent["records"] += len(recs)
            real.send(hl.ipfix_message(
                seq, 1, [hl.ipfix_set(300, b"".join(recs))]))
            seq += len(recs)
            flood_round((msg * 10) % 200, 10)  # the flood goes on
        time.sleep(0.5)
        vals = col.metrics()
        check_rss(rep, "template flood", col,
                  hl.rss_bound(2, conns=1024, exporters=1024, flows=True,
                               grace=False, templates=512))
    finally:
        real.close()
        rc = col.stop()
    rep.equal("template flood: clean exit", rc, 0)
    live = [vals.get('peerscope_templates{worker="%d"}' % w) for w in (0, 1)]
    rep.equal("template flood: every worker's cache at its cap (512)",
              live, [512, 512])
    evicted = sum(vals.get('peerscope_templates_evicted_total{worker="%d",'
                           'reason="cache_full"}' % w, 0) for w in (0, 1))
    rep.check("template flood: the flood evicts itself, counted live",
              evicted > 1000, "%d evicted" % evicted)
    health = by_exporter(col.messages("exporter_health"), REAL)
    rep.equal("template flood: one exporter_health for the new exporter",
              len(health), 1)
    f = health[0]["flow"] if health else {}
    rep.equal("template flood: every record of the new exporter decoded, "
              "nothing refused, held or unknown",
              (f.get("data_records"), f.get("templates", {}).get("refused"),
               f.get("held_data_sets", {}).get("held"),
               health[0]["decode"]["reasons"] if health else None),
              (sent["records"], 0, 0, {}))
    got_o, got_p = {}, {}
    for m in col.messages("connection_metrics"):
        if m["router"] != REAL:
            continue
        for d in ("in", "out"):
            s = m[d]["samples"]
            if s:
                got_o[(m["ifindex"], d)] = s["bytes"]
                got_p[(m["ifindex"], d)] = s["packets"]
    rep.equal("template flood: bytes per interface and direction as sent",
              got_o, sent["octets"])
    rep.equal("template flood: packets per interface and direction as sent",
              got_p, sent["packets"])


# --- 2. 10,000 spoofed sFlow sources ---------------------------------------

WINDOW = 2
N_SPOOFED = 10000
N_REAL = 30
KEEP = 1000


def spoofed_in(w):
    """The spoofed sources of window w: a third of them each."""
    return range(w * N_SPOOFED // 3, (w + 1) * N_SPOOFED // 3)


def sflow_run(rep, args, tmp, workers, src_port):
    port = hl.free_port(hl.socket.SOCK_DGRAM)
    sets = ["listen.sflow=127.0.0.1:%d" % port, "listen.ipfix=",
            "listen.netflow=", "window_seconds=%d" % WINDOW,
            "limits.exporters_per_window=%d" % KEEP,
            "limits.connections_per_window=%d" % KEEP,
            "limits.connections_per_worker=16384"]
    col = hl.Collector(args.peerscope, tmp, "sflow%d" % workers, sets,
                       workers=workers)
    frame = hl.ethernet_frame(200)
    spoof_frame = hl.ethernet_frame(100)
    seq, sample_seq, real_len = 1, 1, None
    real = hl.Exporter(REAL, port, src_port)
    try:
        for w in range(3):
            # the window's spoofed sources, bound before it starts (so
            # that its traffic takes a fraction of it, however busy the
            # machine), then sent just after its boundary
            spoofed = [hl.SpoofedSource(hl.addr(20, i), port, src_port)
                       for i in spoofed_in(w)]
            now = time.time()
            time.sleep(WINDOW - now % WINDOW + 0.15)
            began = time.time()
            every = len(spoofed) // N_REAL
            for k in range(N_REAL):
                if w == 1 and k == N_REAL // 2:
                    seq += 2  # two datagrams lost upstream
                dg = hl.sflow_datagram(REAL, seq, 1000 * seq, [
                    hl.sflow_flow_sample(sample_seq, 1, 100,
                                         100 * sample_seq, 1, 2, frame)])
                real_len = len(dg)
                real.send(dg)
                seq += 1
                sample_seq += 1
                for src in spoofed[k * every:(k + 1) * every]:
                    src.send(hl.sflow_datagram(src.addr, 1, 1000, [
                        hl.sflow_flow_sample(1, 1, 1000, 1000, 1, 2,
                                             spoof_frame)]))
            for src in spoofed[N_REAL * every:]:
                src.send(hl.sflow_datagram(src.addr, 1, 1000, [
                    hl.sflow_flow_sample(1, 1, 1000, 1000, 1, 2,
                                         spoof_frame)]))
            took = time.time() - began
            for src in spoofed:
                src.close()
            rep.check("sflow x%d: window %d sent within it" % (workers, w),
                      took < WINDOW - 0.4, "%.2f s" % took)
        # past the third window's end: it is closed and published
        time.sleep(WINDOW - time.time() % WINDOW + 0.8)
        vals = col.metrics()
        check_rss(rep, "sflow x%d" % workers, col,
                  hl.rss_bound(workers, conns=16384))
    finally:
        real.close()
        rc = col.stop()
    rep.equal("sflow x%d: clean exit" % workers, rc, 0)
    return col, vals, real_len


def strip_times(m):
    m = dict(m)
    for k in ("window", "first_seen", "last_seen", "socket_kernel_drops"):
        m.pop(k, None)
    # sampled rates are over the arrival times the samples cover, which
    # follow the sender's timing, not the worker count
    for d in ("in", "out"):
        s = (m.get(d) or {}).get("samples")
        if isinstance(s, dict):
            s = dict(s)
            for k in ("interval_seconds", "bits_per_second",
                      "packets_per_second"):
                s.pop(k, None)
            m[d] = dict(m[d], samples=s)
        r = (m.get(d) or {}).get("rate")
        if isinstance(r, dict):  # the same: rates over arrival times
            r = {k: v for k, v in r.items()
                 if k in ("source", "interval", "slot_seconds")}
            m[d] = dict(m[d], rate=r)
    return m


def sflow_windows(col):
    """Per window, in order: the real exporter's health, its connections,
    the published exporter and connection ids, window_other."""
    out = {}
    for m in col.messages():
        if m["type"] not in ("exporter_health", "connection_metrics",
                             "window_other"):
            continue
        w = out.setdefault(m["window"]["start"], {
            "real": None, "conns": {}, "exporters": [], "connections": [],
            "other": None, "drops": 0})
        if m["type"] == "exporter_health":
            w["exporters"].append(m["exporter_id"])
            w["drops"] += m["socket_kernel_drops"]
            if m["exporter"] == REAL:
                w["real"] = strip_times(m)
        elif m["type"] == "connection_metrics":
            w["connections"].append(m["connection_id"])
            if m["router"] == REAL:
                w["conns"][m["connection_id"]] = strip_times(m)
        else:
            w["other"] = strip_times(m)
    return [dict(out[k], exporters=sorted(out[k]["exporters"]),
                 connections=sorted(out[k]["connections"]))
            for k in sorted(out)]


def deep_diff(a, b, path=""):
    """The first few paths where two decoded messages differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += deep_diff(a.get(k), b.get(k), path + "/" + str(k))
        return out[:6]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += deep_diff(x, y, "%s/%d" % (path, i))
        return out[:6]
    return [] if a == b else ["%s: %r != %r" % (path, a, b)]


def sflow_flood(rep, args, tmp):
    runs = {}
    # Exporters are told apart by source port too: both runs send from
    # the same ports, so that only the worker count differs.
    src_port = hl.free_port(hl.socket.SOCK_DGRAM)
    for workers in (1, 2):
        col, vals, real_len = sflow_run(rep, args, tmp, workers, src_port)
        runs[workers] = sflow_windows(col)
        if workers == 1:
            rep.equal("sflow x1: sequence state overflowed, least recently "
                      "used evicted (10,001 exporters, 4,096 slots), counted "
                      "live",
                      vals.get('peerscope_state_evicted_total{worker="0",'
                               'table="sequence",reason="lru"}'),
                      N_SPOOFED + 1 - 4096)
    one = runs[1]
    rep.equal("sflow: three windows published", len(one), 3)
    for w, win in enumerate(one):
        n = len(spoofed_in(w))
        h = win["real"] or {}
        rep.check("sflow window %d: no kernel drops" % w, win["drops"] == 0,
                  "%d" % win["drops"])
        rep.equal("sflow window %d: the real exporter's health as sent" % w,
                  (h.get("datagrams"), h.get("bytes"),
                   h.get("samples", {}).get("flow"),
                   h.get("records", {}).get("flow"),
                   h.get("sequence", {}).get("datagrams"),
                   h.get("sequence", {}).get("samples", {}).get("lost")),
                  (N_REAL, N_REAL * real_len, N_REAL, N_REAL,
                   {"lost": 2 if w == 1 else 0, "reordered": 0,
                    "duplicates": 0, "restarts": 0}, 0))
        c = win["conns"].get("%s/if1" % REAL, {}).get("in", {}) or {}
        s = c.get("samples") or {}
        rep.equal("sflow window %d: the real exporter's connection as sent "
                  "(samples, sampled bytes, x100)" % w,
                  (s.get("sample_count"), s.get("sampled_bytes"),
                   s.get("bytes")),
                  (N_REAL, N_REAL * 200, N_REAL * 200 * 100))
        # Kept: the real exporter and its two connections (the most
        # traffic), then, traffic being equal, the smallest keys: the
        # first 999 spoofed exporters, and both connections (in on if1,
        # out on if2) of the first 499 spoofed agents.  The rest folded.
        o = win["other"] or {}
        rep.equal("sflow window %d: %d exporters and connections published, "
                  "the rest folded into window_other" % (w, KEEP),
                  (len(win["exporters"]), len(win["connections"]),
                   o.get("exporters", {}).get("folded"),
                   o.get("exporters", {}).get("datagrams"),
                   o.get("connections", {}).get("folded"),
                   o.get("connections", {}).get("in", {}).get(
                       "sample_count")),
                  (KEEP, KEEP, n + 1 - KEEP, n + 1 - KEEP,
                   2 * (n + 1) - KEEP, n - (KEEP - 2) // 2))
    for w in range(min(len(one), len(runs[2]))):
        diff = [k for k in one[w] if one[w][k] != runs[2][w].get(k)]
        detail = {k: deep_diff(one[w][k], runs[2][w].get(k)) for k in diff}
        rep.check("sflow window %d: identical for 1 and 2 workers" % w,
                  not diff, "differ: %r" % detail)


# --- 3. state saved early ----------------------------------------------------

def state_kill(rep, args, tmp):
    port = hl.free_port(hl.socket.SOCK_DGRAM)
    state = os.path.join(tmp, "state")
    sets = ["listen.ipfix=127.0.0.1:%d" % port, "listen.sflow=",
            "listen.netflow=", "flow.state_file=" + state,
            "flow.window_grace_seconds=0", "window_seconds=3600"]
    col = hl.Collector(args.peerscope, tmp, "kill1", sets)
    tmpl = hl.ipfix_message(0, 7, [hl.ipfix_set(
        2, hl.ipfix_template(300, hl.FLOW_FIELDS))])

    def data(seq, n):
        return hl.ipfix_message(seq, 7, [hl.ipfix_set(300, b"".join(
            hl.ipfix_record(1000 + i, 1, 1, 2) for i in range(n)))])
    real = hl.Exporter(REAL, port)
    try:
        t0 = time.time()
        real.send(tmpl)
        real.send(data(0, 50))
        time.sleep(max(0, t0 + 10 - time.time()))
        written = os.path.exists(state + ".0")
        age = time.time() - os.path.getmtime(state + ".0") if written else 0
        col.p.send_signal(signal.SIGKILL)  # this test's own collector
        col.stop()
    finally:
        col.stop()
    rep.check("state: the file exists 10 s after the first template, "
              "written within 5 s of it (before SIGKILL)",
              written and 10 - age <= 5.5,
              "exists %r, written %.1f s after the template" %
              (written, 10 - age))
    col = hl.Collector(args.peerscope, tmp, "kill2", sets)
    try:
        real.send(data(50, 40))
        real.send(data(90, 60))
        time.sleep(0.5)
    finally:
        real.close()
        rc = col.stop()
    h = by_exporter(col.messages("exporter_health"), REAL)
    f = h[0]["flow"] if h else {}
    rep.equal("state: after SIGKILL and a restart, data without templates "
              "decodes at once: every record, nothing held or unknown",
              (rc, f.get("data_records"),
               f.get("held_data_sets", {}).get("held"),
               h[0]["decode"]["reasons"] if h else None),
              (0, 100, 0, {}))


def main():
    args = cl.parse_args(__doc__)
    # a window's spoofed sources are bound at once (3,334 sockets)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 8192:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(8192, hard), hard))
    rep = cl.Reporter()
    tmp = tempfile.mkdtemp(prefix="ps-hostile-flows-")
    try:
        template_flood(rep, args, tmp)
        state_kill(rep, args, tmp)
        sflow_flood(rep, args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
