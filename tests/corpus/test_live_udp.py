#!/usr/bin/env python3
"""End-to-end over real sockets: peerscope in live mode on loopback.

1. The datagrams of a corpus sFlow capture are sent over UDP to a live
   peerscope; after SIGTERM its counters must show every datagram and every
   sample of the capture's truth file, and its published flow-sample totals
   per interface must equal the truth's.
2. When pmacct is installed, a real exporter (pmacctd's sfprobe reading the
   corpus input traffic) sends sFlow to peerscope; the flow samples received
   must equal what the corpus README documents for that run (2037: pmacctd
   does not flush its last partial datagram at EOF).

Only 127.0.0.1 is used; every wait is bounded; only processes this test
started are signalled, by PID.
"""
import argparse
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

results = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    results["passed" if ok else "failed"] += 1
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail else ""))


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_payloads(path, port):
    """UDP payloads to `port` from a classic pcap of Ethernet frames."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    assert linktype == 1, "expects Ethernet captures"
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        etype = struct.unpack(">H", frame[12:14])[0]
        l3 = frame[14:]
        if etype == 0x0800 and l3[9] == 17:
            l4 = l3[(l3[0] & 0xF) * 4:]
        elif etype == 0x86DD and l3[6] == 17:
            l4 = l3[40:]
        else:
            continue
        sport, dport, ulen = struct.unpack(">HHH", l4[:6])
        if dport == port:
            out.append(l4[8:ulen])
    return out


class Peerscope:
    """A live peerscope child on 127.0.0.1:port, stopped by its PID."""

    def __init__(self, binary, port, workdir, window=60):
        self.out = os.path.join(workdir, "out.jsonl")
        self.stats = os.path.join(workdir, "stats.json")
        self.proc = subprocess.Popen(
            [binary, "--set", "listen.sflow=127.0.0.1:%d" % port,
                     "--set", "listen.ipfix=", "--set", "listen.netflow=",
             "--window", str(window), "--workers", "2",
             "--output", self.out, "--stats", self.stats,
             # root in CI: allowed here; metrics on a free port
             "--set", "allow_root=true", "--set", "http.listen=127.0.0.1:0"],
            stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:  # wait until the port is bound
            line = self.proc.stderr.readline()
            if "collecting" in line or line == "":
                break

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err

    def messages(self):
        with open(self.out) as f:
            return [json.loads(l) for l in f if l.strip()]

    def counters(self):
        with open(self.stats) as f:
            return json.load(f)


def sample_totals(messages):
    """Published flow-sample figures summed per (connection, direction)."""
    tot = {}
    for m in messages:
        if m["type"] != "connection_metrics":
            continue
        for d in ("in", "out"):
            s = m[d]["samples"]
            if s:
                t = tot.setdefault((m["ifindex"], d), [0, 0])
                t[0] += s["sample_count"]
                t[1] += s["sampled_bytes"]
    return tot


def test_capture_over_udp(binary, corpus):
    name = "pmacctd-sflow-rate1-live"
    pcap = os.path.join(corpus, "flows", name + ".pcap")
    with open(os.path.join(corpus, "flows", name + ".truth.json")) as f:
        truth = json.load(f)
    agent = truth["agents"]["agent=127.0.0.1 sub_agent=1"]
    payloads = udp_payloads(pcap, 6343)
    check("capture holds the truth's datagrams", len(payloads) == agent["datagrams"],
          "%d vs %d" % (len(payloads), agent["datagrams"]))
    port = free_udp_port()
    with tempfile.TemporaryDirectory() as work:
        ps = Peerscope(binary, port, work)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for i, p in enumerate(payloads):
                s.sendto(p, ("127.0.0.1", port))
                if i % 64 == 63:
                    time.sleep(0.001)  # gentle pacing: the test is not a load test
        time.sleep(0.5)
        rc, err = ps.stop()
        check("live peerscope exits 0 on SIGTERM", rc == 0, err[-500:])
        c = ps.counters()
        check("every datagram received", c["datagrams"] == agent["datagrams"],
              "%d vs %d" % (c["datagrams"], agent["datagrams"]))
        want_samples = agent["flow_samples"] + agent["counter_samples"]
        check("every sample decoded", c["samples"] == want_samples,
              "%d vs %d" % (c["samples"], want_samples))
        check("no kernel drops", c["kernel_drops"] == 0, str(c["kernel_drops"]))
        tot = sample_totals(ps.messages())
        for key, v in agent["by_interface"].items():
            # "in=10 out=1073741823": one connection and direction per side
            ins, outs = [int(x.split("=")[1]) for x in key.split()]
            for ifx, d in ((ins, "in"), (outs, "out")):
                if ifx in (0, 0x3FFFFFFF):
                    continue
                got = tot.get((ifx, d), [0, 0])
                check("if%d %s samples" % (ifx, d), got[0] == v["samples"],
                      "%d vs %d" % (got[0], v["samples"]))
                check("if%d %s sampled bytes" % (ifx, d), got[1] == v["est_bytes"],
                      "%d vs %d" % (got[1], v["est_bytes"]))


def test_real_exporter(binary, corpus):
    pmacctd = shutil.which("pmacctd") or (
        "/usr/sbin/pmacctd" if os.path.exists("/usr/sbin/pmacctd") else None)
    if pmacctd is None:
        print("SKIP pmacctd not installed (Debian package pmacct): real-exporter test not run")
        return
    tools = os.path.join(corpus, "flows", "tools", "configs")
    port = free_udp_port()
    with tempfile.TemporaryDirectory() as work:
        # The corpus's own exporter configuration, pointed at our port; its
        # paths are relative to the folder that holds corpus/.
        conf = os.path.join(work, "pmacctd.conf")
        with open(os.path.join(tools, "pmacctd-savefile-sflow-rate1.conf")) as f:
            text = f.read().replace("127.0.0.1:6343", "127.0.0.1:%d" % port)
        with open(conf, "w") as f:
            f.write(text)
        ps = Peerscope(binary, port, work)
        exporter = subprocess.Popen([pmacctd, "-f", conf], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL,
                                    cwd=os.path.dirname(os.path.abspath(corpus)))
        try:
            exporter.wait(timeout=60)
        except subprocess.TimeoutExpired:
            exporter.kill()
            exporter.wait()
        time.sleep(0.5)
        rc, err = ps.stop()
        check("live peerscope exits 0 after pmacctd", rc == 0, err[-500:])
        c = ps.counters()
        flows = sum(m["samples"]["flow"] for m in ps.messages()
                    if m["type"] == "exporter_health")
        # corpus/flows/README.md: the savefile run yields 2037 flow samples
        check("pmacctd sfprobe: 2037 flow samples received", flows == 2037, str(flows))
        check("pmacctd sfprobe: no decode errors but the pmacct tag record",
              set(c["decode_errors"]) <= {"sflow.flow_record.unsupported"},
              json.dumps(c["decode_errors"]))


def test_port_in_use(binary):
    """A listener port held by another process: a clear error, no crash."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as holder:
        holder.bind(("127.0.0.1", 0))  # no SO_REUSEPORT: peerscope cannot share it
        port = holder.getsockname()[1]
        r = subprocess.run(
            [binary, "--set", "listen.sflow=127.0.0.1:%d" % port,
             "--set", "listen.ipfix=", "--set", "listen.netflow=",
             "--set", "allow_root=true", "--set", "http.listen=127.0.0.1:0",
             "--workers", "2"],
            capture_output=True, text=True, timeout=30)
    check("port in use: exits with an error, not a signal", r.returncode == 1,
          "returncode %d" % r.returncode)
    check("port in use: the error names the port",
          "port %d" % port in r.stderr, r.stderr[-300:])
    check("port in use: ... and who holds it (this test's PID)",
          "address in use (held by PID %d" % os.getpid() in r.stderr,
          r.stderr[-300:])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peerscope", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--data")
    ap.add_argument("--schemas")
    a = ap.parse_args()
    test_port_in_use(a.peerscope)
    if not os.path.isdir(os.path.join(a.corpus, "flows")):
        print("SKIP: shared corpus not found at %s" % a.corpus)
    else:
        test_capture_over_udp(a.peerscope, a.corpus)
        test_real_exporter(a.peerscope, a.corpus)
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
