#!/usr/bin/env python3
"""BMP and IPFIX TCP streams in captures that do not begin with them, with
no port option (collector/replay/replay_tcp.c, stream_sync.c, tcp_reasm.c).

1. tcpdump started mid-session: each main BMP capture of the corpus (FRR
   and GoBGP; IPv4 and IPv6 transport; bmp.port's 11019 and other ports)
   is cut before a router->station segment that begins inside a message;
   the SYN and everything before the cut go.  Truth: the corpus's own
   decoder (scripts/bmp_truth.py) over the stream from the first message
   start after the cut (the .bmp file is the pcap's payload: pcapcheck),
   which tshark must agree with first (scripts/crosscheck_tshark.py) on
   the same capture trimmed to begin at that message: tshark 4.0 does not
   look for a message start, and loses messages after a cut inside one
   (all of them in some of these captures).  Compared per peer, as
   test_bmp_corpus.py compares whole streams: state at the end, ups,
   downs and reasons, prefixes per view and family, statistics, messages;
   and the bytes passed over = first message start - cut offset.
2. Data in the SYN, numbered RFC 9293's way (from ISN + 1) and the way
   traffic generators write it (from the ISN): split_source.bmp's 12 real
   FRR messages replay exactly as the .bmp file does, whether the port is
   bmp.port or another.
3. IPFIX over TCP captured mid-stream, no flow.tcp_listen: the messages
   from the first whole one after the cut decode, as flow_oracle.py (the
   second IPFIX decoder, checked against tshark by test_ipfix_corpus.py)
   reads them from the stream we wrote.
4. Streams that never resynchronise: 2 MiB of random bytes, and a BMP
   session that loses a segment and goes on with random bytes: abandoned
   after the bounded scan (PS_STREAM_RESYNC_MAX, 1 MiB), counted by
   reason, never looped on; the messages before the hole still count.
"""
import gzip
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib as cl  # noqa: E402
import flow_oracle as fo  # noqa: E402
import test_bmp_corpus as tbc  # noqa: E402
import test_ipfix_corpus as tic  # noqa: E402

MAIN = [("frr_main", 11019), ("frr_late", 11020), ("gobgp_all", 11021),
        ("gobgp_late", 11022)]
RESYNC_MAX = 1 << 20  # PS_STREAM_RESYNC_MAX
SEG = 1400


def port_entry(run, transport, port):
    for e in (run.stats or {}).get("ports", []):
        if e["transport"] == transport and e["port"] == port:
            return e
    return {}


# --- 1. mid-session cuts of real BMP captures ------------------------------

def message_starts(main, name):
    with gzip.open(os.path.join(main, name + ".index.csv.gz"), "rt") as f:
        return [int(line.split(",")[0]) for line in f.read().split("\n")[1:]
                if line]


def trim_frame(linktype, rec_hdr, frame, skip):
    """An Ethernet IPv4/IPv6 TCP frame with its first `skip` payload bytes
    removed (sequence number, IP length and capture lengths adjusted)."""
    assert linktype == 1
    etype = struct.unpack(">H", frame[12:14])[0]
    l3 = bytearray(frame[14:])
    if etype == 0x0800:
        ihl = (l3[0] & 0x0F) * 4
        struct.pack_into(">H", l3, 2, struct.unpack(">H", l3[2:4])[0] - skip)
    else:
        ihl = 40
        struct.pack_into(">H", l3, 4, struct.unpack(">H", l3[4:6])[0] - skip)
    seq = struct.unpack(">I", l3[ihl + 4:ihl + 8])[0]
    struct.pack_into(">I", l3, ihl + 4, (seq + skip) & 0xffffffff)
    doff = ihl + (l3[ihl + 12] >> 4) * 4
    out = frame[:14] + bytes(l3[:doff]) + bytes(l3[doff + skip:])
    end = "<" if rec_hdr[8:12] == struct.pack("<I", len(frame)) else ">"
    ts = rec_hdr[:8]
    return ts + struct.pack(end + "II", len(out), len(out)), out


def cut_capture(pcap, port, starts, out, aligned):
    """Cut before the first router->station data segment past 40 % of the
    stream that begins inside a message.  Returns its stream offset.  Also
    writes `aligned`: the same capture trimmed to begin at the first
    message start after the cut (for tshark, which does not look for one)."""
    header, linktype, recs = cl.read_pcap_records(pcap)
    segs = []
    for i, (_h, fr) in enumerate(recs):
        t = cl.tcp_of(linktype, fr)
        if t is not None and t[3] == port:
            segs.append((i, t))
    data = [(i, t) for i, t in segs if t[6]]
    sport = data[-1][1][1]
    isn = [t[4] for _i, t in segs if t[5] & 0x02 and t[1] == sport][-1]
    total = max((t[4] - isn - 1) % (1 << 32) + len(t[6]) for _i, t in data)
    begins = set(starts)
    for i, t in data:
        off = (t[4] - isn - 1) % (1 << 32)
        if t[1] == sport and off >= total * 2 // 5 and off not in begins:
            cl.write_pcap_records(out, header, recs[i:])
            first = min(s for s in starts if s > off)
            trimmed = []
            for h, fr in recs[i:]:
                u = cl.tcp_of(linktype, fr)
                if u is not None and u[3] == port and u[1] == sport and \
                        u[6]:
                    o = (u[4] - isn - 1) % (1 << 32)
                    if o + len(u[6]) <= first:
                        continue
                    if o < first:
                        h, fr = trim_frame(linktype, h, fr, first - o)
                trimmed.append((h, fr))
            cl.write_pcap_records(aligned, header, trimmed)
            return off
    return None


def tshark_agrees(rep, tag, pcap, port, truth_path, tmp):
    """tshark on the aligned capture against the truth of the suffix."""
    if shutil.which("tshark") is None:
        rep.skip("tshark not installed: %s checked against the truth alone"
                 % tag)
        return
    script = os.path.join(os.path.dirname(truth_path), "crosscheck.json")
    tshark = subprocess.Popen(
        ["tshark", "-r", pcap, "-o", "tcp.reassemble_out_of_order:TRUE",
         "-o", "bgp.asn_len:4", "-d", "tcp.port==%d,bmp" % port, "-Y",
         "bmp", "-T", "ek", "-V"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL)
    cc = subprocess.run(
        [sys.executable, os.path.join(CORPUS_SCRIPTS, "crosscheck_tshark.py"),
         "--ek", "-", truth_path, "-o", script], stdin=tshark.stdout,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    tshark.wait()
    res = cl.load_json(script) if cc.returncode == 0 else {}
    rep.check(tag + ": tshark from the first message on agrees with the "
              "truth",
              res.get("agree") is True,
              repr(res.get("differences", cc.stderr[-300:]))[:400])


def mid_session(rep, args, bmp_dir, tmp):
    main = os.path.join(bmp_dir, "main")
    for name, port in MAIN:
        tag = "%s cut mid-message" % name
        starts = message_starts(main, name)
        pcap = os.path.join(tmp, name + "-cut.pcap")
        aligned = os.path.join(tmp, name + "-aligned.pcap")
        cut = cut_capture(os.path.join(main, name + ".pcap.gz"), port,
                          starts, pcap, aligned)
        if not rep.check(tag + ": a segment inside a message found",
                         cut is not None):
            continue
        first = min(s for s in starts if s > cut)
        with gzip.open(os.path.join(main, name + ".bmp.gz"), "rb") as f:
            suffix = f.read()[first:]
        sdir = os.path.join(tmp, name)
        os.makedirs(sdir)
        bmp = os.path.join(sdir, "suffix.bmp")
        truth_path = os.path.join(sdir, "suffix.truth.json")
        with open(bmp, "wb") as f:
            f.write(suffix)
        subprocess.run([sys.executable,
                        os.path.join(CORPUS_SCRIPTS, "bmp_truth.py"), bmp,
                        "-o", truth_path, "--no-index"], check=True,
                       stdout=subprocess.DEVNULL, timeout=600)
        truth = cl.load_json(truth_path)
        tshark_agrees(rep, tag, aligned, port, truth_path, tmp)
        run = cl.replay(args.peerscope, [pcap])
        if not rep.check(tag + ": replay with no option exits 0",
                         run.rc == 0 and run.stats is not None,
                         "" if run.rc == 0 else run.describe()):
            continue
        tbc.compare(rep, tag, truth, run)
        errs = run.stats["decode_errors"]
        e = port_entry(run, "tcp", port)
        rep.equal(tag + ": resynchronised once, passing over the bytes to "
                  "the first message; framing never lost",
                  (errs.get("capture.tcp.resynchronised"),
                   e.get("resynchronised"), e.get("skipped_bytes"),
                   errs.get("bmp.stream.framing_lost")),
                  (1, 1, first - cut, None))
        rep.equal(tag + ": port %d/tcp one BMP stream, %s" %
                  (port, "bmp.port" if port == 11019 else "by content"),
                  (e.get("decoded"), e.get("by")),
                  ({"bmp": 1}, "bmp.port" if port == 11019 else "content"))


# --- 2. data in the SYN -----------------------------------------------------

def syn_data_pcap(path, data, port, shift):
    """One connection whose SYN carries the first 500 bytes; the rest in
    SEG-byte segments numbered from ISN + 1 (shift 0) or ISN (shift 1)."""
    pc = cl.PcapWriter()
    isn = 0xfffffe00  # the numbering wraps inside the stream
    pc.tcp(1.0, "10.99.0.1", 40000, "10.99.0.100", port, isn, 0x02,
           data[:500])
    for off in range(500, len(data), SEG):
        pc.tcp(1.0, "10.99.0.1", 40000, "10.99.0.100", port,
               isn + 1 - shift + off, 0x18, data[off:off + SEG])
    pc.tcp(1.0, "10.99.0.1", 40000, "10.99.0.100", port,
           isn + 1 - shift + len(data), 0x11)
    pc.write(path)


def syn_data(rep, args, bmp_dir, tmp):
    split = os.path.join(bmp_dir, "split")
    src = os.path.join(split, "split_source.bmp")
    truth = cl.load_json(os.path.join(split, "split_source.truth.json"))
    data = open(src, "rb").read()
    whole = cl.replay(args.peerscope, [src])
    tbc.compare(rep, "split_source.bmp", truth, whole)
    for port in (11019, 10179):
        for shift, how in ((0, "RFC 9293"), (1, "from the ISN")):
            tag = "SYN with data (%s), port %d" % (how, port)
            path = os.path.join(tmp, "syn-%d-%d.pcap" % (port, shift))
            syn_data_pcap(path, data, port, shift)
            run = cl.replay(args.peerscope, [path])
            tbc.compare(rep, tag, truth, run)
            rep.equal(tag + ": the same messages as the .bmp replay",
                      tbc.comparable(run), tbc.comparable(whole))
            errs = (run.stats or {}).get("decode_errors", {})
            rep.equal(tag + ": renumbered only when needed; no gap, no "
                      "resync, no retransmission",
                      [errs.get(k) for k in ("tcp.stream.syn_data_at_isn",
                                             "tcp.stream.gap",
                                             "capture.tcp.resynchronised",
                                             "tcp.stream.retransmission")],
                      [1 if shift else None, None, None, None])


# --- 3. IPFIX over TCP, mid-stream ------------------------------------------

def ipfix_mid_stream(rep, args, flows, tmp):
    fn = "pmacctd-ipfix-live.pcap"
    dgs = [d for d in cl.read_pcap_udp(os.path.join(flows, fn))
           if d[4] == 4739]
    payloads = [d[5] for d in dgs]
    stream = b"".join(payloads)
    ends, end = [], 0
    for p in payloads:
        end += len(p)
        ends.append(end)
    # cut 7 bytes into a message past a third of the stream, one after
    # which templates come before their data: peerscope holds at most
    # FLOW_HELD_MAX_PER_EXPORTER data sets waiting for a template, the
    # oracle any number, so only there are the two comparable record by
    # record
    k = next(i for i in range(len(payloads) // 3, len(payloads) - 1)
             if list(fo.walk([("x", p) for p in payloads[i + 1:]])
                     .exporters.values())[0].held == 0)
    cut = ends[k - 1] + 7
    kept = payloads[k + 1:]
    pc = cl.PcapWriter()
    isn = 5000
    off = cut  # no SYN: the capture begins with this segment
    while off < len(stream):
        n = min(SEG, len(stream) - off)
        pc.tcp(dgs[0][0], "10.98.0.1", 41000, "10.98.0.100", 4799,
               isn + 1 + off, 0x18, stream[off:off + n])
        off += n
    pc.tcp(dgs[-1][0], "10.98.0.1", 41000, "10.98.0.100", 4799,
           isn + 1 + len(stream), 0x11)
    path = os.path.join(tmp, "ipfix-mid.pcap")
    pc.write(path)
    run = cl.replay(args.peerscope, [path], 86400)
    oracle = fo.walk([("10.98.0.1", p) for p in kept])
    ours = tic.our_exporters(run)
    got = [(k, (v.get("records"), v.get("bytes"), v.get("packets")))
           for k, v in sorted(ours.items())]
    want = [(k, (e.records, e.bytes, e.packets))
            for k, e in sorted(oracle.exporters.items())]
    rep.equal("IPFIX/TCP mid-stream: the %d messages after the cut, as the "
              "oracle reads them" % len(kept), got, want)
    st = (run.stats or {}).get("ipfix_tcp", {})
    e = port_entry(run, "tcp", 4799)
    rep.equal("IPFIX/TCP mid-stream: one session by content, messages, "
              "bytes passed over",
              (e.get("decoded"), st.get("accepted"), st.get("messages"),
               e.get("skipped_bytes")),
              ({"ipfix": 1}, 1, len(kept), ends[k] - cut))


# --- 4. streams that never resynchronise -------------------------------------

def garbage(rep, args, bmp_dir, tmp):
    rng = random.Random(15)
    noise = bytes(rng.getrandbits(8) for _ in range(2 << 20))
    pc = cl.PcapWriter()
    pc.tcp(1.0, "10.97.0.1", 42000, "10.97.0.100", 7000, 100, 0x02)
    for off in range(0, len(noise), SEG):
        pc.tcp(1.0, "10.97.0.1", 42000, "10.97.0.100", 7000, 101 + off,
               0x18, noise[off:off + SEG])
    pc.tcp(1.0, "10.97.0.1", 42000, "10.97.0.100", 7000,
           101 + len(noise), 0x11)
    path = os.path.join(tmp, "noise.pcap")
    pc.write(path)
    run = cl.replay(args.peerscope, [path])
    errs = (run.stats or {}).get("decode_errors", {})
    e = port_entry(run, "tcp", 7000)
    unused = e.get("not_used_bytes", 0)
    rep.equal("random stream: not used, by reason, nothing decoded",
              (run.rc, errs.get("capture.tcp.unrecognised"), e.get("decoded"),
               len(run.of_type("bgp_session"))),
              (0, 1, {}, 0))
    rep.check("random stream: abandoned once past the bound "
              "(%d < bytes searched <= bound + one segment)" % RESYNC_MAX,
              RESYNC_MAX < unused <= RESYNC_MAX + SEG, "%d" % unused)

    # a real session, a lost segment, then noise: the session keeps what
    # came before the hole, and the search after it gives up
    split = os.path.join(bmp_dir, "split")
    data = open(os.path.join(split, "split_source.bmp"), "rb").read()
    truth = cl.load_json(os.path.join(split, "split_source.truth.json"))
    pc = cl.PcapWriter()
    pc.tcp(1.0, "10.97.0.2", 42001, "10.97.0.100", 7001, 100, 0x02)
    segs = [data[o:o + SEG] for o in range(0, len(data), SEG)]
    segs += [noise[o:o + SEG] for o in range(0, len(noise), SEG)]
    off = 0
    for i, sg in enumerate(segs):
        # the segment after the session's messages is lost
        if i != (len(data) + SEG - 1) // SEG:
            pc.tcp(1.0, "10.97.0.2", 42001, "10.97.0.100", 7001,
                   101 + off, 0x18, sg)
        off += len(sg)
    path = os.path.join(tmp, "bmp-then-noise.pcap")
    pc.write(path)
    run = cl.replay(args.peerscope, [path])
    errs = (run.stats or {}).get("decode_errors", {})
    tbc.compare(rep, "BMP, a hole, then noise", truth, run)
    e = port_entry(run, "tcp", 7001)
    rep.equal("BMP, a hole, then noise: one gap, the search abandoned",
              (errs.get("tcp.stream.gap"),
               errs.get("capture.tcp.resync_abandoned"), e.get("decoded")),
              (1, 1, {"bmp": 1}))


CORPUS_SCRIPTS = None


def main():
    global CORPUS_SCRIPTS
    args = cl.parse_args(__doc__)
    rep = cl.Reporter()
    bmp_dir = os.path.join(args.corpus, "bmp")
    flows = cl.corpus_flows(args)
    if not os.path.isdir(bmp_dir) or flows is None:
        cl.skip_corpus_line(rep, args)
        rep.finish()
    CORPUS_SCRIPTS = os.path.join(bmp_dir, "scripts")
    tmp = tempfile.mkdtemp(prefix="ps-streams-")
    try:
        syn_data(rep, args, bmp_dir, tmp)
        ipfix_mid_stream(rep, args, flows, tmp)
        garbage(rep, args, bmp_dir, tmp)
        mid_session(rep, args, bmp_dir, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
