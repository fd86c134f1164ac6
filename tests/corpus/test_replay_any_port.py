#!/usr/bin/env python3
"""`peerscope replay CAPTURE` with no port option (collector/replay/replay.c,
decoders/recognise.c, replay_ports.c): exports are recognised by content on
whatever port they were sent to, unrelated traffic is named and not used.

Truth, never peerscope's own output:
  * every flows corpus capture (tools/ and crafted/ manifests), replayed
    with no option, against its truth.json (tshark 4.0.17): per exporter
    records, bytes and packets (IPFIX/NetFlow), per agent datagrams and
    samples (sFlow), and per interface through the corpus's second
    decoders (flow_oracle.py, corpus_lib.sflow_walk), which must agree
    with tshark first; the summary names the port and what it carried;
  * the real-router captures in external/akvorado, read in place: NetFlow
    v5/v9/IPFIX per exporter, sFlow per agent, BMP per peer (state at the
    end, prefixes per family, messages), against their truth.json;
  * unrelated traffic mixed into a real capture (DNS, NTP, syslog, random
    UDP, datagrams that start like an export but are not one, SSH, HTTP
    and a BGP session of real BGP messages over TCP): what we wrote is
    what is expected: no exporter but the real
    one, the real one's figures unchanged (truth.json), every unrelated
    datagram and stream counted unused by reason and its port named;
  * a flow, and a port, once recognised keep their protocol (a later
    malformed datagram reaches the decoder, which names it); a default
    port does not force its protocol on content recognised as another; a
    port the user configures does.
"""
import os
import random
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
import flow_oracle as fo  # noqa: E402
import test_ipfix_corpus as tic  # noqa: E402
import test_sflow_corpus as tsc  # noqa: E402

WINDOW = 86400
FAMILY = {"sflow": "sflow-v5", 5: "netflow-v5", 9: "netflow-v9",
          10: "ipfix"}


def port_entries(run, transport):
    return {e["port"]: e for e in (run.stats or {}).get("ports", [])
            if e["transport"] == transport}


def flow_version(payload):
    v16 = struct.unpack(">H", payload[:2])[0]
    return "sflow" if v16 == 0 else v16


def check_port_line(rep, tag, run, port, dgs):
    """The summary's entry for the capture's port: every datagram decoded,
    as the version its header says (read here from the bytes)."""
    want = {}
    for d in dgs:
        name = FAMILY[flow_version(d)]
        want[name] = want.get(name, 0) + 1
    e = port_entries(run, "udp").get(port, {})
    rep.equal(tag + ": port %d/udp decoded as the headers say, by content,"
              " nothing unused" % port,
              (e.get("decoded"), e.get("by"), e.get("not_used")),
              (want, "content", {}))
    named = ("summary: port %d/udp:" % port) in run.stderr
    rep.check(tag + ": the summary names the port", named,
              "" if named else run.stderr[-300:])


def cflow_checks(rep, fn, pcap, port, run, truth):
    dgs = [(d[1], d[5]) for d in cl.read_pcap_udp(pcap) if d[4] == port]
    oracle = fo.walk(dgs)
    ours = tic.our_exporters(run)
    for tk, e in truth["exporters"].items():
        key = tic.truth_key(tk)
        o = oracle.exporters.get(key)
        got = ours.get(key, {})
        trusted = fn not in tic.ORACLE_OVER_TSHARK and \
            fn not in tic.README_EXPECT
        if trusted:
            rep.equal("%s %s: records, bytes, packets (truth)" % (fn, tk),
                      (got.get("records"), got.get("bytes"),
                       got.get("packets")),
                      (e["flows"], e["bytes"], e["packets"]))
            rep.equal("%s: oracle agrees with truth" % fn,
                      (o.records, o.bytes, o.packets) if o else None,
                      (e["flows"], e["bytes"], e["packets"]))
            tic.check_interfaces(rep, fn + " (no port option)", run, key[0],
                                 o.by_if if o else {}, 0)
        elif o is not None:
            rep.equal("%s %s: records, bytes, packets (oracle: %s)" %
                      (fn, tk, tic.ORACLE_OVER_TSHARK.get(fn, "README")),
                      (got.get("records"), got.get("bytes"),
                       got.get("packets")),
                      (o.records, o.bytes, o.packets))
    rep.equal("%s: exporters are truth's" % fn, sorted(ours),
              sorted(tic.truth_key(k) for k in truth["exporters"]))
    return [p for _s, p in dgs]


def sflow_checks(rep, fn, pcap, port, run, truth, expect):
    dgs = cl.sflow_datagrams(pcap, port)
    conns, _counters, agents = tsc.check_oracle(rep, fn + " (oracle)", dgs,
                                                truth, expect)
    tsc.check_health(rep, fn + " (no port option)", run, truth, expect,
                     agents)
    rates = {r for c in conns.values() for b in (c["in"], c["out"]) if b
             for r in b["rates"]}
    tsc.check_connections(rep, fn + " (no port option)", run, conns,
                          rate_exact=(rates == {1}))
    return [d[5] for d in cl.read_pcap_udp(pcap) if d[4] == port]


def flows_corpus(rep, args, flows):
    rows = [(f, p, d) for f, p, d in
            cl.read_manifest(os.path.join(flows, "tools", "manifest.tsv"))]
    rows += [("crafted/" + f, p, d) for f, p, d in
             cl.read_manifest(os.path.join(flows, "crafted",
                                           "manifest.tsv"))]
    rep.check("corpus: flow captures found", len(rows) >= 28, "%d" % len(rows))
    for fn, port, diss in rows:
        pcap = os.path.join(flows, fn)
        stem = pcap[:-len(".pcap")]
        truth = cl.load_json(stem + ".truth.json")
        expect = cl.load_json(stem + ".expect.json") \
            if os.path.exists(stem + ".expect.json") else None
        run = cl.replay(args.peerscope, [pcap], WINDOW)
        if not rep.check("%s: replay with no option exits 0" % fn,
                         run.rc == 0 and run.stats is not None,
                         "" if run.rc == 0 else run.describe()):
            continue
        if diss == "cflow":
            payloads = cflow_checks(rep, fn, pcap, port, run, truth)
        else:
            payloads = sflow_checks(rep, fn, pcap, port, run, truth, expect)
        check_port_line(rep, fn, run, port, payloads)
        rep.equal("%s: nothing counted unrecognised" % fn,
                  {k: v for k, v in run.stats["decode_errors"].items()
                   if k.startswith("capture.")}, {})


# --- external/akvorado: real routers, read in place ----------------------

def external_netflow(rep, args, ext, name, caps, truth):
    n = truth["netflow_ipfix"]
    run = cl.replay(args.peerscope, caps, WINDOW)
    if not rep.check("external %s: replay with no option exits 0" % name,
                     run.rc == 0, "" if run.rc == 0 else run.describe()):
        return
    ours = tic.our_exporters(run)
    held = bool(n.get("undecodable_data_sets"))
    for ex in n["exporters"]:
        t = n["totals_by_exporter"][ex["exporter"]]
        dom = ex.get("source_id", ex.get("observation_domain_id"))
        if ex["version"] == 5:
            a, b = ex["engine_type/engine_id"].split("/")
            dom = int(a) << 8 | int(b)
        got = ours.get((ex["source_ip"], ex["version"], dom), {})
        tag = "external %s %s (no port option)" % (name, ex["exporter"])
        if held:  # truth is one pass; the held data set decodes later
            rep.check(tag + ": at least truth's records",
                      got.get("records", 0) >= t["records"],
                      "got %r, truth %r" % (got, t))
            continue
        rep.equal(tag + ": records, bytes, packets",
                  (got.get("records"), got.get("bytes"), got.get("packets")),
                  (t["records"], t["bytes"], t["packets"]))
    ports = sorted({d[4] for c in caps for d in cl.read_pcap_udp(c)})
    entries = port_entries(run, "udp")
    rep.equal("external %s: its ports decoded, nothing unused" % name,
              [(p, entries.get(p, {}).get("not_used")) for p in ports],
              [(p, {}) for p in ports])


def external_sflow(rep, args, name, caps, truth):
    run = cl.replay(args.peerscope, caps, WINDOW)
    if not rep.check("external %s: replay with no option exits 0" % name,
                     run.rc == 0, "" if run.rc == 0 else run.describe()):
        return
    for a in truth["sflow"]["agents"]:
        h = cl.health_sums(run.messages, a["agent"], a["sub_agent"])
        samples = sum(a["flow_samples"].values()) + \
            sum(a["counter_samples"].values())
        rep.equal("external %s agent %s (no port option): datagrams, "
                  "samples" % (name, a["agent"]),
                  (h.get("datagrams"),
                   h.get("samples.flow", 0) + h.get("samples.counters", 0)),
                  (a["datagrams"], samples))


def bmp_family(label):
    """'1/128 (ipv4 vpn)' -> 'ipv4_vpn'."""
    return label.split("(", 1)[1].rstrip(")").replace(" ", "_")


def external_bmp(rep, args, name, caps, truth):
    run = cl.replay(args.peerscope, caps, WINDOW)
    if not rep.check("external %s: replay with no option exits 0" % name,
                     run.rc == 0, "" if run.rc == 0 else run.describe()):
        return
    snaps = {}
    for m in run.of_type("bgp_session"):
        if m["event"] == "snapshot":
            snaps[(m["peer"]["address"], m["peer"]["asn"])] = m
    peers = truth["bmp"]["peers"]
    rep.equal("external %s: peers (truth)" % name, sorted(snaps),
              sorted((p["address"], p["asn"]) for p in peers))
    states = {"no peer up/down seen": "unknown", "up": "up", "down": "down"}
    errs = (run.stats or {}).get("decode_errors", {})
    for p in peers:
        m = snaps.get((p["address"], p["asn"]))
        if m is None:
            continue
        tag = "external %s %s" % (name, p["address"])
        rep.equal(tag + ": state at the end", m["state"],
                  states.get(p["peer_state_at_end"]))
        mine = {}
        for view in m["views"].values():
            for fam, c in view.items():
                mine[fam] = mine.get(fam, 0) + c["routes"]
        want = {bmp_family(k): v for k, v in p["final_prefixes"].items()}
        unsupported = {k for k in want if k == "l2vpn_evpn"}
        rep.equal(tag + ": prefixes per family",
                  {k: v for k, v in mine.items() if v},
                  {k: v for k, v in want.items() if k not in unsupported})
        if unsupported:
            rep.check(tag + ": EVPN routes counted as an unsupported family",
                      errs.get("bgp.nlri.afi_safi_unsupported", 0) >= 1,
                      repr(errs))
        got_msgs = {k: v for k, v in m["messages"].items() if v}
        rep.equal(tag + ": messages", got_msgs, p["messages"])
    for r in truth["bmp"]["routers"]:
        e = port_entries(run, "tcp").get(r["collector_port"], {})
        rep.equal("external %s: port %d/tcp one BMP stream, by content" %
                  (name, r["collector_port"]),
                  (e.get("decoded"), e.get("by")), ({"bmp": 1}, "content"))


def external(rep, args):
    ext = os.path.join(args.corpus, "external", "akvorado")
    if not os.path.isdir(ext):
        rep.skip("external/akvorado not found at %s (real-router checks "
                 "not run)" % os.path.abspath(ext))
        return
    for line in open(os.path.join(ext, "manifest.tsv")):
        cols = line.rstrip("\n").split("\t")
        if line.startswith("stream") or len(cols) < 3:
            continue
        name = cols[0]
        caps = [os.path.join(ext, c) for c in cols[2].split(" ")]
        truth = cl.load_json(os.path.join(ext, name + ".truth.json"))
        if name.startswith("netflow_"):
            external_netflow(rep, args, ext, name, caps, truth)
        elif name.startswith("sflow_"):
            external_sflow(rep, args, name, caps, truth)
        elif name.startswith("bmp_"):
            external_bmp(rep, args, name, caps, truth)


# --- unrelated traffic ---------------------------------------------------

def dns_query(ident, qname):
    q = b"".join(bytes([len(x)]) + x.encode() for x in qname.split("."))
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + q + \
        b"\x00\x00\x01\x00\x01"


def unrelated_udp(rng):
    """[(src, sport, dst, dport, payload)]: traffic a collector host sees
    beside the exports, some of it starting like an export on purpose."""
    out = []
    for i in range(40):  # DNS both ways, ids 5, 9 and 10 among them
        ident = (5, 9, 10, 0)[i] if i < 4 else rng.randrange(65536)
        q = dns_query(ident, "host%d.example.net" % i)
        out.append(("192.0.2.53", 53, "192.0.2.10", 33000 + i,
                    q[:2] + b"\x81\x80" + q[4:] + bytes(16)))
        out.append(("192.0.2.10", 33000 + i, "192.0.2.53", 53, q))
    for i in range(10):  # NTP v4 client requests
        out.append(("192.0.2.10", 123, "192.0.2.123", 123,
                    b"\x23" + bytes(47)))
    for i in range(10):  # syslog
        out.append(("192.0.2.20", 514, "192.0.2.10", 514,
                    b"<13>Dec  1 00:00:00 router1 link %d up" % i))
    for i in range(30):  # random binary to a usual NetFlow port
        out.append(("192.0.2.30", 40000, "192.0.2.10", 9995,
                    bytes(rng.randrange(256) for _ in range(rng.randrange(
                        1, 1400)))))
    # export-like starts: sFlow 5 with a short tail, IPFIX with a wrong
    # length, NetFlow v5 with a count its length does not hold, v9 junk
    out.append(("192.0.2.31", 40001, "192.0.2.10", 9996,
                struct.pack(">II", 5, 1) + bytes(30)))
    out.append(("192.0.2.31", 40002, "192.0.2.10", 9996,
                struct.pack(">HHIII", 10, 400, 0, 0, 0) + bytes(40)))
    out.append(("192.0.2.31", 40003, "192.0.2.10", 9996,
                struct.pack(">HH", 5, 30) + bytes(100)))
    out.append(("192.0.2.31", 40004, "192.0.2.10", 9996,
                struct.pack(">HH", 9, 1) + bytes(16) + b"\x00\x02\x00\x01"))
    return out


def bgp_messages(bmp_stream):
    """The BGP messages inside a BMP stream's Route Monitoring and Peer Up
    messages (RFC 7854 section 4): what a BGP session on port 179 carries."""
    out, off = b"", 0
    while off + 6 <= len(bmp_stream):
        n = struct.unpack(">I", bmp_stream[off + 1:off + 5])[0]
        mtype = bmp_stream[off + 5]
        if mtype == 0:
            out += bmp_stream[off + 48:off + n]
        elif mtype == 3:
            out += bmp_stream[off + 68:off + n]
        off += n
    return out


def unrelated_tcp(pc, ts, bmp_stream):
    """SSH, HTTP and a BGP session (real BGP messages), both directions;
    returns the streams with payload."""
    rng = random.Random(7)
    ssh_c = b"SSH-2.0-OpenSSH_9.2\r\n" + bytes(rng.randrange(256)
                                             for _ in range(3000))
    ssh_s = b"SSH-2.0-OpenSSH_8.4\r\n" + bytes(rng.randrange(256)
                                             for _ in range(5000))
    http_c = b"GET / HTTP/1.1\r\nHost: example.net\r\n\r\n"
    http_s = b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + \
        b"x" * 2000
    streams = [("192.0.2.40", 50022, "192.0.2.10", 22, ssh_c),
               ("192.0.2.10", 22, "192.0.2.40", 50022, ssh_s),
               ("192.0.2.41", 50080, "192.0.2.10", 80, http_c),
               ("192.0.2.10", 80, "192.0.2.41", 50080, http_s),
               ("192.0.2.42", 179, "192.0.2.10", 50179,
                bgp_messages(bmp_stream))]
    for src, sp, dst, dp, data in streams:
        pc.tcp(ts, src, sp, dst, dp, 1000, 0x02)
        for off in range(0, len(data), 1400):
            pc.tcp(ts, src, sp, dst, dp, 1001 + off, 0x18,
                   data[off:off + 1400])
        pc.tcp(ts, src, sp, dst, dp, 1001 + len(data), 0x11)
    return streams


def mixed(rep, args, flows, tmp):
    fn = "pmacctd-sflow-rate10-live.pcap"
    pcap = os.path.join(flows, fn)
    truth = cl.load_json(pcap[:-5] + ".truth.json")
    real = cl.read_pcap_udp(pcap)
    rng = random.Random(1)
    junk = unrelated_udp(rng)
    pc = cl.PcapWriter()
    for i, (ts, src, sp, dst, dp, payload) in enumerate(real):
        pc.udp(ts, src, sp, dst, dp, payload)
        for j in range(i * len(junk) // len(real),
                       (i + 1) * len(junk) // len(real)):
            pc.udp(ts, *junk[j])
    bmp = open(os.path.join(args.corpus, "bmp", "split",
                            "split_source.bmp"), "rb").read()
    streams = unrelated_tcp(pc, real[-1][0], bmp)
    path = os.path.join(tmp, "mixed.pcap")
    pc.write(path)
    run = cl.replay(args.peerscope, [path], WINDOW)
    if not rep.check("mixed: replay exits 0", run.rc == 0 and run.stats,
                     "" if run.rc == 0 else run.describe()):
        return
    agents = {(m.get("agent"), m.get("exporter"))
              for m in run.of_type("exporter_health")}
    rep.equal("mixed: the only exporter is the real agent",
              sorted(a for a, _e in agents),
              sorted(tsc.agent_key(k)[0] for k in truth["agents"]))
    for k, ta in truth["agents"].items():
        h = cl.health_sums(run.messages, *tsc.agent_key(k))
        rep.equal("mixed: the agent's datagrams and samples (truth)",
                  (h.get("datagrams"), h.get("samples.flow"),
                   h.get("samples.counters")),
                  (ta["datagrams"], ta["flow_samples"],
                   ta["counter_samples"]))
    errs = run.stats["decode_errors"]
    unrec = sum(v for k, v in errs.items()
                if k.startswith("capture.udp.unrecognised."))
    rep.equal("mixed: every unrelated datagram counted unrecognised",
              unrec, len(junk))
    rep.equal("mixed: every unrelated stream with bytes counted",
              errs.get("capture.tcp.unrecognised"), len(streams))
    entries = port_entries(run, "udp")
    want_ports = {}
    for _s, _sp, _d, dp, payload in junk:
        want_ports[dp] = want_ports.get(dp, 0) + 1
    rep.equal("mixed: unused datagrams per destination port",
              {p: e["unit"] == "datagrams" and
               sum(e["not_used"].values()) for p, e in entries.items()
               if e["not_used"]}, want_ports)
    for port in (53, 123, 514, 9995, 9996):
        said = any(line.startswith("summary: port %d/udp: not used" % port)
                   and "capture.udp.unrecognised." in line
                   for line in run.stderr.splitlines())
        rep.check("mixed: the summary says why port %d/udp was not used" %
                  port, said, "" if said else run.stderr[-600:])
    rep.check("mixed: no warning that nothing was used",
              "capture_unused" not in run.stderr)
    only = cl.PcapWriter()
    for j in junk:
        only.udp(1.0, *j)
    only.write(os.path.join(tmp, "unrelated.pcap"))
    r2 = cl.replay(args.peerscope, [os.path.join(tmp, "unrelated.pcap")],
                   WINDOW)
    ok = r2.rc == 0 and not r2.messages and \
        "event=capture_unused" in r2.stderr
    rep.check("unrelated traffic only: exit 0, no message, a warning that "
              "nothing was recognised", ok, "" if ok else r2.describe())
    tcp = port_entries(run, "tcp")
    rep.equal("mixed: TCP ports 22, 80, BGP's and the clients' not used, "
              "by reason",
              sorted((p, e["not_used"]) for p, e in tcp.items()),
              sorted((dp, {"capture.tcp.unrecognised": 1})
                     for _s, _sp, _d, dp, _p in streams))


def sticky_and_forced(rep, args, flows, tmp):
    nf9 = [d for d in cl.read_pcap_udp(os.path.join(flows,
                                                     "softflowd-nf9.pcap"))]
    junk = b"\x00\x63" + bytes(60)  # version 99
    pc = cl.PcapWriter()
    ts, src, sp, dst, dp, first = nf9[0]
    pc.udp(ts, src, sp, dst, 7778, junk)       # before anything: not used
    pc.udp(ts, src, sp, dst, 7777, first)
    pc.udp(ts, src, sp, dst, 7777, junk)       # same flow: to the decoder
    pc.udp(ts, src, sp + 1, dst, 7777, junk)   # a port that carries v9 too
    pc.udp(ts, src, sp, dst, 7779, junk)       # another port: not used
    for d in nf9[1:]:
        pc.udp(d[0], d[1], d[2], d[3], 7777, d[5])
    path = os.path.join(tmp, "sticky.pcap")
    pc.write(path)
    run = cl.replay(args.peerscope, [path], WINDOW)
    h = cl.health_sums(run.messages)
    # a datagram whose header names no exporter is counted per source
    # (--stats unrecognised_sources), not as an exporter's
    junk = cl.junk_sums(run)
    errs = (run.stats or {}).get("decode_errors", {})
    ports = port_entries(run, "udp")
    rep.equal("sticky: the flow's and the port's malformed datagrams reach "
              "the decoder, the others are not used",
              (h.get("datagrams", 0) + junk["datagrams"],
               h.get("datagrams_rejected", 0) + junk["datagrams"],
               sum(v for k, v in errs.items()
                   if k.startswith("capture.udp.unrecognised.")),
               [sum(ports.get(p, {}).get("not_used", {}).values())
                for p in (7777, 7778, 7779)]),
              (len(nf9) + 2, 2, 2, [0, 1, 1]))

    # sFlow sent to NetFlow's default port: content wins over a default
    sfl = os.path.join(flows, "pmacctd-sflow-rate10-live.pcap")
    truth = cl.load_json(sfl[:-5] + ".truth.json")
    dgs = cl.read_pcap_udp(sfl)
    pc = cl.PcapWriter()
    for d in dgs:
        pc.udp(d[0], d[1], d[2], d[3], 2055, d[5])
    path = os.path.join(tmp, "sflow-on-2055.pcap")
    pc.write(path)
    run = cl.replay(args.peerscope, [path], WINDOW)
    h = cl.health_sums(run.messages)
    ta = list(truth["agents"].values())[0]
    rep.equal("default port 2055: sFlow recognised, truth's samples",
              (h.get("datagrams"), h.get("samples.flow"),
               port_entries(run, "udp").get(2055, {}).get("decoded")),
              (ta["datagrams"], ta["flow_samples"], {"sflow-v5": len(dgs)}))
    # ... but a port the user configures (not a default) forces its own
    pc = cl.PcapWriter()
    for d in dgs:
        pc.udp(d[0], d[1], d[2], d[3], 9999, d[5])
    path = os.path.join(tmp, "sflow-on-9999.pcap")
    pc.write(path)
    run = cl.replay(args.peerscope, [path], WINDOW,
                    sets=["listen.netflow=:9999"])
    h = cl.health_sums(run.messages)
    junk = cl.junk_sums(run)
    e = port_entries(run, "udp").get(9999, {})
    rep.equal("listen.netflow=:9999: forced, every datagram rejected by "
              "the NetFlow decoder (no exporter: counted per source)",
              (h.get("datagrams", 0), junk["datagrams"], e.get("by")),
              (0, len(dgs), "listen.netflow"))


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    flows = cl.corpus_flows(args)
    if flows is None:
        cl.skip_corpus_line(rep, args)
        rep.finish()
    tmp = tempfile.mkdtemp(prefix="ps-anyport-")
    try:
        flows_corpus(rep, args, flows)
        external(rep, args)
        mixed(rep, args, flows, tmp)
        sticky_and_forced(rep, args, flows, tmp)
    finally:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
