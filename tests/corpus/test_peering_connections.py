#!/usr/bin/env python3
"""Configured connections (issue 11): the peering lab captures
(tests/data/peering) replayed with their connection configuration
(peering/peerscope.demo-peering.yaml: three exchange connections on
edge1's IX port, ifIndex 17, and one direct connection, ifIndex 23).

Truth, independent of peerscope:
  * wire.truth.json (tshark on edge1's two ports): `connections.<id>`,
    the issue's rule applied frame by frame (an exchange connection takes
    the frames whose source MAC in / destination MAC out is its peer's;
    the direct connection its whole port), and `unattributed.ix0`, what is
    left (the two unconfigured IX members, multicast).  IP frames only
    (the exporters see no ARP).  At sFlow 1:1 every frame is a sample
    (bytes with FCS); in IPFIX every frame is counted (octets = IP length).
  * sflow-rate10.truth.json by_peer_mac: the samples per peer MAC at 1:10.
  * For IPFIX without MACs: tshark on the IX port's wire capture with the
    announcements of peering/topology.json (the prefixes edge1 accepted)
    and the peers' session addresses: a frame in belongs to the peer that
    announced its source (or whose session address it comes from), a
    frame out to the peer its destination is routed to.  peer-a's sessions
    never went down: exact.  peer-b (a flap) and peer-c (killed) had their
    routes withdrawn while records were still arriving: at most the rule's
    figure, at least 85 % of it.
Learnt MACs: the registry without peer_macs and one hand-built sFlow
datagram first (peer-a's and peer-c's ARP replies, peer-b's Neighbor
Advertisement): every peer exactly its MAC's wire truth plus its neighbour
frame, all by learnt MAC; the unknown members' stay unattributed.
Also: every message valid against schemas/connection_metrics.v2; the
port's samples = its connections' + its unattributed, per window; the
exchange connections carry no interface counters (the port's message
does, once); a bad registry is refused with file:line and nothing runs.
"""
import collections
import ipaddress
import json
import os
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402

ROUTER = "198.51.100.5"
PORT_ID = ROUTER + "/if17"
EXCHANGE = ("ix-peer-a", "ix-peer-b", "ix-peer-c")


def peering(args, name):
    return os.path.join(args.data, "peering", name)


def run_with_config(rep, args, cap):
    run = cl.replay(args.peerscope, [peering(args, cap + ".pcap.gz")],
                    config=peering(args, "peerscope.demo-peering.yaml"))
    rep.check("%s: replay with the connections exits 0" % cap, run.rc == 0,
              "" if run.rc == 0 else run.describe())
    return [m for m in run.of_type("connection_metrics")]


def sums(msgs):
    """connection_id -> dir -> [packets, bytes] of samples (and the
    port's unattributed under "<port>/unattributed")."""
    t = collections.defaultdict(lambda: {"in": [0, 0], "out": [0, 0]})
    for m in msgs:
        for d in ("in", "out"):
            blocks = [(m["connection_id"], m[d]["samples"])]
            if m["kind"] == "exchange_port":
                blocks.append((m["connection_id"] + "/unattributed",
                               m["unattributed"][d]["samples"]))
            for cid, s in blocks:
                if s:
                    t[cid][d][0] += s["sampled_packets"]
                    t[cid][d][1] += s["sampled_bytes"]
    return t


def check_schema(rep, args, cap, msgs):
    try:
        import jsonschema
    except ImportError:
        rep.check("%s: jsonschema available" % cap, False, "no jsonschema")
        return
    with open(os.path.join(args.schemas,
                           "connection_metrics.v2.schema.json")) as f:
        v = jsonschema.Draft202012Validator(
            json.load(f), format_checker=jsonschema.FormatChecker())
    errors = [e.message for m in msgs for e in v.iter_errors(m)]
    rep.check("%s: %d connection_metrics valid against v2" % (cap, len(msgs)),
              not errors, str(errors[:3]))
    kinds = collections.Counter(m["kind"] for m in msgs)
    rep.check("%s: kinds exchange, exchange_port and direct published" % cap,
              kinds["exchange"] > 0 and kinds["exchange_port"] > 0 and
              kinds["direct"] > 0 and all(m["schema_version"] == 2
                                          for m in msgs), str(kinds))


def check_shape(rep, cap, msgs):
    """Per window: the port = its peers + its unattributed; counters only
    on the port; identity fields from the configuration."""
    by_window = collections.defaultdict(dict)
    for m in msgs:
        by_window[m["window"]["start"]][m["connection_id"]] = m
    bad = []
    for w, ms in sorted(by_window.items()):
        port = ms.get(PORT_ID)
        if port is None:
            bad.append("%s: no port message" % w)
            continue
        for d in ("in", "out"):
            parts = [ms[c][d]["samples"] for c in EXCHANGE if c in ms]
            parts.append(port["unattributed"][d]["samples"])
            got = [sum(s["sampled_packets"] for s in parts if s),
                   sum(s["sampled_bytes"] for s in parts if s)]
            ps = port[d]["samples"]
            want = [ps["sampled_packets"], ps["sampled_bytes"]] if ps \
                else [0, 0]
            if got != want:
                bad.append("%s %s: peers+unattributed %s port %s"
                           % (w, d, got, want))
            for c in EXCHANGE:
                if c in ms and ms[c][d]["counters"] is not None:
                    bad.append("%s %s: counters on %s" % (w, d, c))
        if sorted(port["connections"] or []) != list(EXCHANGE):
            bad.append("%s: port connections %s" % (w, port["connections"]))
    rep.check("%s: every window, port samples = peers + unattributed; "
              "counters on the port only" % cap, not bad, str(bad[:3]))
    a = [m for m in msgs if m["connection_id"] == "ix-peer-b"]
    rep.check("%s: ix-peer-b's identity from the configuration" % cap,
              a and all(m["kind"] == "exchange" and m["peer_asn"] == 65537
                        and m["port_id"] == PORT_ID and
                        m["capacity_bps"] == 10 ** 9 and
                        m["capacity_source"] == "configured" and
                        m["labels"] == {"site": "lab", "ix": "doc-ix",
                                        "peer": "peer-b"} and
                        m["peer_addresses"] == ["192.0.2.12",
                                                "2001:db8:1::12"]
                        for m in a), json.dumps(a[:1])[:300])
    d = [m for m in msgs if m["connection_id"] == "pni-peer-d"]
    rep.check("%s: pni-peer-d direct, on ifIndex 23" % cap,
              d and all(m["kind"] == "direct" and m["ifindex"] == 23 and
                        m["peer_asn"] == 64499 for m in d))


def check_wire(rep, cap, msgs, wire, basis):
    got = sums(msgs)
    want = dict((cid, c) for cid, c in wire["connections"].items())
    want[PORT_ID + "/unattributed"] = wire["unattributed"]["ix0"]
    for cid, w in sorted(want.items()):
        for d in ("in", "out"):
            ip = w[d]["ip"]
            exp = [ip["frames"], ip[basis]]
            rep.check("%s: %s %s = wire IP frames, %s" % (cap, cid, d, basis),
                      got[cid][d] == exp,
                      "have %s want %s" % (got[cid][d], exp))


def check_rate10(rep, args, msgs):
    truth = cl.load_json(peering(args, "sflow-rate10.truth.json"))
    topo = cl.load_json(peering(args, "topology.json"))
    by_mac = {p["mac"]: p["id"] for p in topo["peers"]}
    conn = {"peer-a": "ix-peer-a", "peer-b": "ix-peer-b",
            "peer-c": "ix-peer-c"}
    want = collections.defaultdict(lambda: {"in": 0, "out": 0})
    for d in ("in", "out"):
        for mac, v in truth["by_peer_mac"]["17"][d].items():
            cid = conn.get(by_mac.get(mac), PORT_ID + "/unattributed")
            want[cid][d] += v["samples"]
    got = sums(msgs)
    for cid in sorted(want):
        for d in ("in", "out"):
            rep.check("sflow-rate10: %s %s samples = samples of its MACs"
                      % (cid, d), got[cid][d][0] == want[cid][d],
                      "have %d want %d" % (got[cid][d][0], want[cid][d]))


def bgp_rule_truth(args):
    """The IX port's IP frames by the BGP rule (see the docstring), from
    tshark and topology.json: cid -> dir -> [frames, l3 bytes]."""
    topo = cl.load_json(peering(args, "topology.json"))
    ix_mac = [i["mac"] for i in topo["router"]["interfaces"]
              if i["name"] == "ix0"][0]
    conn = {"peer-a": "ix-peer-a", "peer-b": "ix-peer-b",
            "peer-c": "ix-peer-c"}
    peers = [p for p in topo["peers"] if p["id"] in conn]

    def owner(text):
        a = ipaddress.ip_address(text)
        for p in peers:
            if text in p["sessions"] or any(
                    x["registered"] and a in ipaddress.ip_network(x["prefix"])
                    for x in p["announce"]):
                return conn[p["id"]]
        return PORT_ID + "/unattributed"
    out = subprocess.run(
        ["tshark", "-n", "-r", peering(args, "wire-ix0.pcap.gz"), "-T",
         "fields", "-e", "eth.src", "-e", "ip.src", "-e", "ip.dst",
         "-e", "ip.len", "-e", "ipv6.src", "-e", "ipv6.dst", "-e",
         "ipv6.plen"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        universal_newlines=True, check=True).stdout
    t = collections.defaultdict(lambda: {"in": [0, 0], "out": [0, 0]})
    for line in out.splitlines():
        f = line.split("\t")
        if f[1]:
            src, dst, l3 = f[1], f[2], int(f[3].split(",")[0])
        elif f[4]:
            src, dst, l3 = f[4], f[5], int(f[6].split(",")[0]) + 40
        else:
            continue
        d = "out" if f[0] == ix_mac else "in"
        cid = owner((src if d == "in" else dst).split(",")[0])
        t[cid][d][0] += 1
        t[cid][d][1] += l3
    return t


def check_nomac(rep, args, msgs):
    got = sums(msgs)
    want = bgp_rule_truth(args)
    by = collections.Counter()
    for m in msgs:
        if m["kind"] == "exchange":
            for d in ("in", "out"):
                for k, n in m["attributed_by"][d].items():
                    by[k] += n
    rep.check("ipfix-nomac: no record attributed by MAC, some by BGP",
              by["mac"] == 0 and by["bgp_next_hop"] > 0 and
              by["bgp_announcer"] > 0 and by["peer_address"] > 0, str(by))
    for d in ("in", "out"):
        exp = want["ix-peer-a"][d]
        rep.check("ipfix-nomac: ix-peer-a %s = the BGP rule on the wire" % d,
                  got["ix-peer-a"][d] == exp,
                  "have %s want %s" % (got["ix-peer-a"][d], exp))
        for cid in ("ix-peer-b", "ix-peer-c"):
            have, exp = got[cid][d], want[cid][d]
            rep.check("ipfix-nomac: %s %s within 85-100 %% of the BGP rule "
                      "(routes withdrawn part of the time)" % (cid, d),
                      0.85 * exp[1] <= have[1] <= exp[1] and
                      0.85 * exp[0] <= have[0] <= exp[0],
                      "have %s want %s" % (have, exp))


# Neighbour frames by hand (RFC 826, RFC 4861), as a peer sends them on the
# IX LAN: 60 bytes on the wire + FCS (ARP), 86 + FCS (a Neighbor
# Advertisement with its Target Link-Layer Address option).
def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def arp_reply(mac, ip, router_mac, router_ip):
    m, r = mac_bytes(mac), mac_bytes(router_mac)
    f = r + m + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2) + \
        m + ipaddress.ip_address(ip).packed + r + \
        ipaddress.ip_address(router_ip).packed
    return f + bytes(60 - len(f)), 64


def nd_advert(mac, ip, router_mac):
    m, r = mac_bytes(mac), mac_bytes(router_mac)
    a = ipaddress.ip_address(ip).packed
    body = struct.pack(">BBHI", 136, 0, 0, 0x60000000) + a + \
        bytes([2, 1]) + m
    ip6 = struct.pack(">IHBB", 0x60000000, len(body), 58, 255) + a + \
        ipaddress.ip_address("ff02::1").packed
    f = bytes.fromhex("333300000001") + m + b"\x86\xdd" + ip6 + body
    return f, len(f) + 4


def sflow_datagram(agent, sub_agent, frames, ifindex):
    """sFlow v5 (sflow_version_5.txt): one flow sample per frame, taken
    on `ifindex` as it came in (input = source = ifindex, output unknown),
    1:1, each with a raw Ethernet header record."""
    samples = b""
    for i, (frame, length) in enumerate(frames):
        hdr = frame + bytes(-len(frame) % 4)
        rec = struct.pack(">IIII", 1, length, 4, len(frame)) + hdr
        body = struct.pack(">IIIIIIII", i + 1, ifindex, 1, i + 1, 0,
                           ifindex, 0, 1) + \
            struct.pack(">II", 1, len(rec)) + rec
        samples += struct.pack(">II", 1, len(body)) + body
    return struct.pack(">II", 5, 1) + ipaddress.ip_address(agent).packed + \
        struct.pack(">IIII", sub_agent, 1, 1000, len(frames)) + samples


def udp_frame_like(template, payload):
    """`payload` in the Ethernet / IPv4 / UDP headers of `template` (an
    sFlow datagram of the capture: same addresses and ports)."""
    ihl = (template[14] & 0x0F) * 4
    ip = bytearray(template[14:14 + ihl])
    struct.pack_into(">H", ip, 2, ihl + 8 + len(payload))
    struct.pack_into(">H", ip, 10, 0)
    csum = sum(struct.unpack(">%dH" % (ihl // 2), bytes(ip)))
    while csum >> 16:
        csum = (csum & 0xFFFF) + (csum >> 16)
    struct.pack_into(">H", ip, 10, ~csum & 0xFFFF)
    udp = template[14 + ihl:14 + ihl + 4] + \
        struct.pack(">HH", 8 + len(payload), 0)
    return template[:14] + bytes(ip) + udp + payload


def check_learnt(rep, args, wire):
    """MACs learnt from ARP / ND (issue 11 item 3): the registry without
    peer_macs, the sFlow capture with one datagram put first that carries
    peer-a's and peer-c's ARP replies and peer-b's Neighbor Advertisement
    (hand-built, from topology.json's MACs and addresses).  Every peer's
    traffic must then be exactly what its MAC carried on the wire (tshark,
    wire.truth.json) plus its own neighbour frame, attributed by learnt
    MAC; the unknown members' stays unattributed."""
    topo = cl.load_json(peering(args, "topology.json"))
    ix = [i for i in topo["router"]["interfaces"] if i["name"] == "ix0"][0]
    peers = {p["id"]: p for p in topo["peers"]}
    frames = [
        arp_reply(peers["peer-a"]["mac"], peers["peer-a"]["ipv4"],
                  ix["mac"], ix["ipv4"].split("/")[0]),
        nd_advert(peers["peer-b"]["mac"], peers["peer-b"]["ipv6"],
                  ix["mac"]),
        arp_reply(peers["peer-c"]["mac"], peers["peer-c"]["ipv4"],
                  ix["mac"], ix["ipv4"].split("/")[0]),
    ]
    extra = {"ix-peer-a": frames[0][1], "ix-peer-b": frames[1][1],
             "ix-peer-c": frames[2][1]}
    header, link, recs = cl.read_pcap_records(
        peering(args, "sflow-rate1.pcap.gz"))
    first = next(i for i, (_, f) in enumerate(recs)
                 if cl.tcp_of(link, f) is None and f[23:24] == b"\x11" and
                 struct.unpack(">H", f[36:38])[0] == 6343)
    h, tmpl = recs[first]
    dgram = sflow_datagram(topo["router"]["export_address"], 99, frames,
                           ix["ifindex"])
    fr = udp_frame_like(tmpl, dgram)
    rh = h[:8] + struct.pack("<II", len(fr), len(fr))
    tmp = tempfile.mkdtemp(prefix="ps-learnt-")
    cap = os.path.join(tmp, "learnt.pcap")
    cl.write_pcap_records(cap, header, recs[:first] + [(rh, fr)] +
                          recs[first:])
    conf = os.path.join(tmp, "nomacs.yaml")
    with open(peering(args, "peerscope.demo-peering.yaml")) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write("\n".join(ln for ln in text.split("\n")
                          if "peer_macs:" not in ln))
    run = cl.replay(args.peerscope, [cap], config=conf)
    rep.check("learnt: replay exits 0", run.rc == 0, run.describe()
              if run.rc else "")
    msgs = run.of_type("connection_metrics")
    got = sums(msgs)
    by = collections.defaultdict(collections.Counter)
    for m in msgs:
        if m["kind"] == "exchange":
            for d in ("in", "out"):
                by[m["connection_id"]].update(
                    {d + "." + k: n for k, n in m["attributed_by"][d].items()
                     if n})
    for cid in EXCHANGE:
        w = wire["connections"][cid]
        for d in ("in", "out"):
            ip = w[d]["ip"]
            exp = [ip["frames"] + (d == "in"),
                   ip["bytes_with_fcs"] + (extra[cid] if d == "in" else 0)]
            rep.check("learnt: %s %s = its MAC's wire IP frames + its "
                      "neighbour frame" % (cid, d), got[cid][d] == exp,
                      "have %s want %s" % (got[cid][d], exp))
        frames_in = w["in"]["ip"]["frames"] + 1
        frames_out = w["out"]["ip"]["frames"]
        rep.equal("learnt: %s attributed by learnt MAC only" % cid,
                  dict(by[cid]), {"in.learnt_mac": frames_in,
                                  "out.learnt_mac": frames_out})
    u = wire["unattributed"]["ix0"]
    for d in ("in", "out"):
        exp = [u[d]["ip"]["frames"], u[d]["ip"]["bytes_with_fcs"]]
        rep.check("learnt: unknown members' %s stays unattributed" % d,
                  got[PORT_ID + "/unattributed"][d] == exp,
                  "have %s want %s" % (got[PORT_ID + "/unattributed"][d],
                                       exp))
    os.unlink(cap)
    os.unlink(conf)
    os.rmdir(tmp)


def check_refusal(rep, args):
    tmp = tempfile.mkdtemp(prefix="ps-conn-")
    path = os.path.join(tmp, "bad.yaml")
    with open(path, "w") as f:
        f.write("connections:\n"
                "  - {id: a, kind: exchange, router: 192.0.2.1,"
                " interface: 17, peer_macs: [02:00:00:00:00:01]}\n"
                "  - {id: b, kind: exchange, router: 192.0.2.1,"
                " interface: 17, peer_macs: [02:00:00:00:00:01]}\n")
    p = subprocess.run([args.peerscope, "replay", "-c", path,
                        peering(args, "ipfix.pcap.gz")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=60)
    want = ("%s:3: connections[1].peer_macs: 02:00:00:00:00:01 is in two "
            "connections on router 192.0.2.1 interface 17: a (line 2) and "
            "b (line 3)" % path)
    rep.check("a MAC in two connections of one port: refused, exit 2, "
              "file:line", p.returncode == 2 and want in p.stderr and
              p.stdout == "", "rc %s: %s" % (p.returncode, p.stderr[-300:]))
    os.unlink(path)
    os.rmdir(tmp)


def main():
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    wire = cl.load_json(peering(args, "wire.truth.json"))
    for cap, basis in (("sflow-rate1", "bytes_with_fcs"),
                       ("ipfix", "l3_bytes")):
        msgs = run_with_config(rep, args, cap)
        check_schema(rep, args, cap, msgs)
        check_shape(rep, cap, msgs)
        check_wire(rep, cap, msgs, wire, basis)
    msgs = run_with_config(rep, args, "sflow-rate10")
    check_shape(rep, "sflow-rate10", msgs)
    check_rate10(rep, args, msgs)
    msgs = run_with_config(rep, args, "ipfix-nomac")
    check_shape(rep, "ipfix-nomac", msgs)
    check_nomac(rep, args, msgs)
    check_learnt(rep, args, wire)
    check_refusal(rep, args)
    rep.finish()


if __name__ == "__main__":
    main()
