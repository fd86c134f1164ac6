"""RIB reads from the flow workers: one `peerscope replay` run with a BMP
capture and then NetFlow v5 flows from the same router.  The flows leaving
by ifIndex 7 must be broken down by the origin AS of the route the router's
BMP feed holds for their destination (connection_metrics
out_dst_origin_as; rule in collector/rib/rib_enrich.h).

BMP input: quirks/frr_peerup_tlv.pcap of the shared corpus (FRR 8.4 router
10.79.0.1, BMP to port 11041, one peer 10.79.0.11 AS 65001, a session
bounce, 301 prefixes at the end per its truth file; no Termination, so the
routes stay published when the capture ends).

Truth, checked by hand against tshark 4.0 (`tshark -V -d
tcp.port==11041,bmp` on that pcap, walking announcements and withdrawals
in order, Peer Down clearing): at the end of the capture
  23.208.0.1   is covered only by 23.208.0.0/12, AS_PATH ... 4837 170005
  96.4.132.9   only by 96.4.132.0/22, AS_PATH ending 1299
  99.158.252.1 only by 99.158.252.0/24, AS_PATH ending 5794
  192.0.2.1    by nothing
(no route shorter than /9 exists in the capture).  The flow figures are
the ones this test writes (sampling interval 0: counted at rate 1).

The same flows again as IPFIX records metered on ingress only
(flowDirection 61 = 0, RFC 7011 / IANA), as most routers export: their
`out` side and its breakdown come from the direction rule (attrib.h),
so the breakdown must be the same.
"""
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib  # noqa: E402

ROUTER = bytes([10, 79, 0, 1])
COLLECTOR = bytes([10, 79, 0, 100])
TIME = 1795680500  # after the BMP capture ends (1795680447)

FLOWS = [  # destination, bytes
    ((23, 208, 0, 1), 1000),
    ((96, 4, 132, 9), 300),
    ((99, 158, 252, 1), 200),
    ((192, 0, 2, 1), 50),
]
WANT_ASNS = {170005: (1000, 1), 1299: (300, 1), 5794: (200, 1)}
WANT_UNROUTED = 50


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def nf5_datagram():
    uptime = 100000
    hdr = struct.pack("!HHIIIIBBH", 5, len(FLOWS), uptime, TIME, 0, 1,
                      0, 0, 0)
    recs = b""
    for dst, nbytes in FLOWS:
        recs += struct.pack("!4s4s4sHHIIIIHHBBBBHHBBH",
                            bytes([198, 18, 0, 1]), bytes(dst),
                            bytes([10, 79, 0, 11]), 3, 7, 1, nbytes,
                            uptime - 10, uptime - 10, 40000, 443, 0, 0x10,
                            6, 0, 0, 0, 24, 24, 0)
    return hdr + recs


def ipfix_ingress_datagram():
    """Template 256 (sourceIPv4Address, destinationIPv4Address,
    ingressInterface, egressInterface, octetDeltaCount, packetDeltaCount,
    flowDirection) and one record per flow, metered on ingress."""
    fields = ((8, 4), (12, 4), (10, 4), (14, 4), (1, 4), (2, 4), (61, 1))
    tmpl = struct.pack("!HH", 256, len(fields)) + b"".join(
        struct.pack("!HH", ie, ln) for ie, ln in fields)
    recs = b"".join(struct.pack("!4s4sIIIIB", bytes([198, 18, 0, 1]),
                                bytes(dst), 3, 7, nbytes, 1, 0)
                    for dst, nbytes in FLOWS)
    sets = (struct.pack("!HH", 2, 4 + len(tmpl)) + tmpl +
            struct.pack("!HH", 256, 4 + len(recs)) + recs)
    return struct.pack("!HHIII", 10, 16 + len(sets), TIME, 0, 0) + sets


def write_udp_pcap(path, payload, sport=50000, dport=2055):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17,
                     0, ROUTER, COLLECTOR)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    frame = b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip + udp
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        f.write(struct.pack("<IIII", TIME, 0, len(frame), len(frame)))
        f.write(frame)


def origin_blocks(run, ifindex):
    out = []
    for m in run.of_type("connection_metrics"):
        if m.get("router") == "10.79.0.1" and m.get("ifindex") == ifindex:
            if m.get("out_dst_origin_as") is not None:
                out.append(m["out_dst_origin_as"])
    return out


def main():
    args = corpus_lib.parse_args(__doc__)
    rep = corpus_lib.Reporter()
    bmp = os.path.join(args.corpus, "bmp", "quirks", "frr_peerup_tlv.pcap")
    if not os.path.isfile(bmp):
        rep.skip("shared corpus BMP capture not found: %s" % bmp)
        rep.finish()
    tmp = tempfile.mkdtemp(prefix="ps-ribenrich-")
    flows = os.path.join(tmp, "nf5.pcap")
    write_udp_pcap(flows, nf5_datagram())
    sets = ["bmp.port=11041"]

    run = corpus_lib.replay(args.peerscope, [bmp, flows], workers=2,
                            sets=sets)
    rep.equal("replay exits 0", run.rc, 0)
    blocks = origin_blocks(run, 7)
    rep.check("a connection window carries out_dst_origin_as",
              len(blocks) >= 1, run.describe())
    asns, unrouted, lookups = {}, 0.0, 0
    for b in blocks:
        for a in b["asns"]:
            got = asns.get(a["asn"], (0, 0))
            asns[a["asn"]] = (got[0] + a["bytes"], got[1] + a["records"])
        unrouted += b["unrouted_bytes"]
        lookups += b["lookups"]
    rep.equal("origin AS of each destination (from the BMP routes)", asns,
              WANT_ASNS)
    rep.equal("bytes with no covering route", unrouted, WANT_UNROUTED)
    rep.equal("records looked up", lookups, len(FLOWS))
    rep.equal("inbound side is not broken down", origin_blocks(run, 3), [])

    # IPFIX metered on ingress only: the out side from the direction rule
    ipfix = os.path.join(tmp, "ipfix.pcap")
    write_udp_pcap(ipfix, ipfix_ingress_datagram(), dport=4739)
    run = corpus_lib.replay(args.peerscope, [bmp, ipfix], workers=2,
                            sets=sets)
    rep.equal("ingress-only IPFIX: replay exits 0", run.rc, 0)
    asns, unrouted = {}, 0.0
    for b in origin_blocks(run, 7):
        for a in b["asns"]:
            got = asns.get(a["asn"], (0, 0))
            asns[a["asn"]] = (got[0] + a["bytes"], got[1] + a["records"])
        unrouted += b["unrouted_bytes"]
    rep.equal("ingress-only IPFIX: out side broken down by origin AS",
              (asns, unrouted), (WANT_ASNS, WANT_UNROUTED))
    outs = [m["out"]["samples"]["sampled_bytes"]
            for m in run.of_type("connection_metrics")
            if m.get("router") == "10.79.0.1" and m.get("ifindex") == 7
            and m["out"]["samples"] is not None]
    rep.equal("ingress-only IPFIX: out bytes on the output interface",
              sum(outs), sum(n for _d, n in FLOWS))

    # Without the BMP capture the router has no feed: no breakdown at all.
    run = corpus_lib.replay(args.peerscope, [flows], workers=2, sets=sets)
    rep.equal("replay without BMP exits 0", run.rc, 0)
    rep.equal("no BMP feed, no breakdown", origin_blocks(run, 7), [])
    n = len([m for m in run.of_type("connection_metrics")
             if m.get("router") == "10.79.0.1" and m.get("ifindex") == 7])
    rep.check("the connection is still published", n >= 1, run.describe())
    rep.finish()


if __name__ == "__main__":
    main()
