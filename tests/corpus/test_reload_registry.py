#!/usr/bin/env python3
"""SIGHUP reloads the connection registry live (issue 11 item 1).

A live collector on 127.0.0.1 with the peering lab's connections
(peering/peerscope.demo-peering.yaml, 2 s windows) is fed the lab's sFlow
datagrams (sflow-rate1: pmacctd, 1:1, the IX port ifIndex 17 with three
configured peers and two unknown members) over UDP, and the same router's
BMP stream (GoBGP) over one TCP connection, half before the reloads and
half after them.  Then:

  1. a registry that is refused (one MAC in two connections of the port):
     config_reload_rejected names the file and line, counted; the running
     registry stays (ix-peer-c keeps being published);
  2. a good registry without ix-peer-c and with a changed label on
     ix-peer-a: config_reloaded; from the switch on, ix-peer-c is gone
     and its MAC's samples are the port's unattributed; ix-peer-a carries
     the new label.

Checked against independent truth:
  * datagrams: the exporter_health counts of every window add up to the
    datagrams sent (no window lost or written twice across the reloads);
  * the exchange split in every window: port samples = its peers' +
    unattributed (sampled packets and bytes);
  * BMP: the same TCP connection carries on (one bmp_router_connected, no
    bmp_router_disconnected before the end), and the sessions' final
    snapshots count every Route Monitoring message of the stream, both
    halves (counted here from the BMP common headers): the RIB and the
    sessions were not reset by the reloads.
"""
import os
import re
import signal
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
from test_reload_live import Proc, free_udp_port, messages  # noqa: E402

rep = cl.Reporter()
PORT_ID = "198.51.100.5/if17"
BMP_PORT = 11019  # the lab's (peering/topology.json)


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bmp_stream(cap):
    """The router's BMP bytes (to port 11019), in sequence order."""
    _, link, recs = cl.read_pcap_records(cap)
    segs = {}
    for _, frame in recs:
        t = cl.tcp_of(link, frame)
        if t is None or t[3] != BMP_PORT or not t[6]:
            continue
        segs.setdefault(t[4], t[6])  # retransmissions: once
    return b"".join(segs[k] for k in sorted(segs))


def bmp_messages(stream):
    """[(type, bytes)] from the BMP common headers (RFC 7854 4.1)."""
    out, off = [], 0
    while off + 6 <= len(stream):
        version, length, mtype = struct.unpack(">BIB", stream[off:off + 6])
        if version != 3 or length < 6 or off + length > len(stream):
            break
        out.append((mtype, stream[off:off + length]))
        off += length
    return out


def registry(path, bad=False, reloaded=False):
    """The lab's registry; `bad`: ix-peer-b also claims peer-a's MAC;
    `reloaded`: without ix-peer-c, ix-peer-a labelled reloaded=yes."""
    text = open(path).read()
    head, conns = text.split("connections:\n", 1)
    blocks = re.split(r"(?m)^(?=  - id: )", conns)
    keep = []
    for b in blocks:
        if reloaded and "id: ix-peer-c" in b:
            continue
        if reloaded and "id: ix-peer-a" in b:
            b = b.replace("peer: peer-a}", "peer: peer-a, reloaded: \"yes\"}")
        if bad and "id: ix-peer-b" in b:
            b = b.replace('peer_macs: ["02:00:00:00:01:12"]',
                          'peer_macs: ["02:00:00:00:01:12", '
                          '"02:00:00:00:01:11"]')
        keep.append(b)
    return head + "connections:\n" + "".join(keep)


def write(conf, out, body):
    with open(conf, "w") as f:
        f.write("window_seconds: 2\noutput:\n  json:\n    path: %s\n%s"
                % (out, body))


def send_for(tx, frames, udp, seconds, pos):
    n, end = 0, time.time() + seconds
    while time.time() < end and pos + n < len(frames):
        tx.sendto(frames[pos + n], ("127.0.0.1", udp))
        n += 1
        time.sleep(0.01)
    return n


def split_ok(msgs):
    """Windows whose port samples != peers' + unattributed."""
    bad = []
    by_win = {}
    for m in msgs:
        by_win.setdefault(m["window"]["start"], []).append(m)
    for start, ms in by_win.items():
        port = [m for m in ms if m["connection_id"] == PORT_ID]
        if not port:
            continue
        for d in ("in", "out"):
            def pb(s):
                return (s["sampled_packets"], s["sampled_bytes"]) if s \
                    else (0, 0)
            want = pb(port[0][d]["samples"])
            parts = [pb(m[d]["samples"]) for m in ms
                     if m.get("port_id") == PORT_ID]
            parts.append(pb(port[0]["unattributed"][d]["samples"]))
            got = (sum(p[0] for p in parts), sum(p[1] for p in parts))
            if got != want:
                bad.append((start, d, got, want))
    return bad


def main():
    args = cl.parse_args(__doc__)
    run(args)
    rep.finish()


def run(args):
    peering = os.path.join(args.data, "peering")
    cap = os.path.join(peering, "sflow-rate1.pcap.gz")
    lab = os.path.join(peering, "peerscope.demo-peering.yaml")
    frames = [d[5] for d in cl.read_pcap_udp(cap) if d[4] == 6343]
    bmp = bmp_messages(bmp_stream(cap))
    rep.check("capture: sFlow datagrams and a BMP stream",
              len(frames) > 50 and len(bmp) > 10,
              "%d datagrams, %d BMP messages" % (len(frames), len(bmp)))
    half = len(bmp) // 2
    rm_total = sum(1 for t, _ in bmp if t == 0)

    tmp = tempfile.mkdtemp(prefix="ps-reload-reg-")
    out = os.path.join(tmp, "out.jsonl")
    conf = os.path.join(tmp, "reload.yaml")
    write(conf, out, registry(lab))
    udp, tcp = free_udp_port(), free_tcp_port()
    proc = Proc([args.peerscope, "--config", conf, "--workers", "2",
                 "--set", "listen.sflow=127.0.0.1:%d" % udp,
                 "--set", "listen.ipfix=", "--set", "listen.netflow=",
                 "--set", "bmp.listen=127.0.0.1:%d" % tcp,
                 "--set", "bmp.allow=127.0.0.1",
                 "--set", "http.enabled=false",
                 "--set", "allow_root=true"], tmp, "reload-registry")
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    bs = None
    sent = 0
    switch_t = None
    try:
        if not rep.check("live collector started",
                         proc.wait_for("collecting") is not None,
                         proc.stderr()[-400:]):
            return
        bs = socket.create_connection(("127.0.0.1", tcp), timeout=10)
        bs.sendall(b"".join(m for _, m in bmp[:half]))
        third = len(frames) // 3
        sent += send_for(tx, frames[:third], udp, 30, 0)

        write(conf, out, registry(lab, bad=True))
        proc.p.send_signal(signal.SIGHUP)
        m = proc.wait_for(r"config_reload_rejected[^\n]*\n")
        rep.check("refused registry: config_reload_rejected with file:line "
                  "and the MAC", m is not None and
                  re.search(re.escape(conf) + r":\d+:.*02:00:00:00:01:11",
                            m.group(0)) is not None and
                  proc.p.poll() is None,
                  m.group(0) if m else proc.stderr()[-400:])
        sent += send_for(tx, frames[:2 * third], udp, 30, sent)

        write(conf, out, registry(lab, reloaded=True))
        proc.p.send_signal(signal.SIGHUP)
        # the whole line (the log is read while it is written)
        m = proc.wait_for(r'config_reloaded[^\n]*effective=(\S+)[^\n]*\n')
        rep.check("good registry: config_reloaded, 3 connections",
                  m is not None and "connections=3" in m.group(0),
                  m.group(0) if m else proc.stderr()[-400:])
        switch_t = m.group(1) if m else None
        bs.sendall(b"".join(m for _, m in bmp[half:]))
        sent += send_for(tx, frames, udp, 30, sent)
        time.sleep(0.5)
    finally:
        tx.close()
        if bs is not None:
            bs.close()  # the session's end: its final snapshot
            time.sleep(1.0)
        before_stop = proc.stderr()
        rc = proc.stop()
    rep.equal("exit status", rc, 0)
    rep.equal("BMP: one connection, never closed before the end",
              [before_stop.count("bmp_router_connected"),
               before_stop.count("bmp_router_disconnected")], [1, 1])

    msgs = messages(out)
    health = [x for x in msgs if x.get("type") == "exporter_health"]
    rep.equal("datagrams of every window = datagrams sent",
              sum(x["datagrams"] + x.get("datagrams_rejected", 0)
                  for x in health), sent)
    cm = [x for x in msgs if x.get("type") == "connection_metrics"]
    rep.equal("every window: port samples = peers' + unattributed",
              split_ok(cm), [])
    if switch_t is None:
        return
    before = [x for x in cm if x["window"]["start"] < switch_t]
    after = [x for x in cm if x["window"]["start"] >= switch_t]
    ids_before = {x["connection_id"] for x in before}
    ids_after = {x["connection_id"] for x in after}
    rep.check("before the switch (refused reload included): ix-peer-c "
              "published", "ix-peer-c" in ids_before, str(sorted(ids_before)))
    rep.check("after it: ix-peer-c gone, the others kept",
              after and "ix-peer-c" not in ids_after and
              {"ix-peer-a", "ix-peer-b", "pni-peer-d", PORT_ID} <= ids_after,
              str(sorted(ids_after)))
    rep.check("after it: ix-peer-a carries the new label",
              all(x["labels"].get("reloaded") == "yes" for x in after
                  if x["connection_id"] == "ix-peer-a") and
              not any("reloaded" in x["labels"] for x in before),
              "")
    port_after = [x for x in after if x["connection_id"] == PORT_ID]
    rep.check("after it: the port lists its two connections",
              all(x["connections"] == ["ix-peer-a", "ix-peer-b"]
                  for x in port_after) and port_after != [], "")

    snaps = {}
    for x in msgs:
        if x.get("type") == "bgp_session" and x.get("event") == "snapshot":
            snaps[x["session_id"]] = x
    got = sum(s["messages"]["route_monitoring"] for s in snaps.values())
    rep.equal("BMP: the sessions' last snapshots count every Route "
              "Monitoring message of both halves", got, rm_total)


if __name__ == "__main__":
    main()
