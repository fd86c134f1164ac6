"""Two network namespaces joined by peerscope-delayline, for latency tests.

    with DelayedPair(delayline, delay_us=10000) as pair:
        pair.run_a(["ping", "-c", "3", pair.PEER4])

Namespace A ("near", where probes and ping run) and B ("peer") get unique
names per test run (pst<pid><random>a/b) and a TUN device each; the delay
line forwards between the two.  Addresses are TEST-NET and documentation
ranges only:

    A: 192.0.2.1/24, 2001:db8::1/64       B: 192.0.2.2/24, 2001:db8::2/64
                                             198.51.100.1/32 on lo, routed
                                             from A via the TUN link

Everything started here is tracked by PID and stopped by PID (SIGTERM,
then SIGKILL after a bounded wait); the namespaces are deleted on exit,
on an exception, and at interpreter exit.  Tests that cannot run (not
root, no netns, no /dev/net/tun) call skip_unless_possible(), which exits
with status 77 (ctest: skipped) and says why.
"""
import atexit
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

SKIP = 77


def _run(cmd, timeout=20):
    return subprocess.run(cmd, capture_output=True, text=True,
                          timeout=timeout)


def skip_unless_possible(need=("ip",)):
    """Exit 77 with the reason when namespaces + TUN are out of reach."""
    why = None
    if os.geteuid() != 0:
        why = "needs root (network namespaces and TUN devices)"
    elif not os.path.exists("/dev/net/tun"):
        why = "no /dev/net/tun"
    else:
        for tool in need:
            if shutil.which(tool) is None:
                why = "%s not installed" % tool
                break
    if why is None:
        probe = "pstchk%d" % os.getpid()
        r = _run(["ip", "netns", "add", probe])
        if r.returncode != 0:
            why = "cannot create a network namespace: %s" % r.stderr.strip()
        else:
            _run(["ip", "netns", "del", probe])
    if why is not None:
        print("SKIP: %s" % why)
        sys.stdout.flush()
        sys.exit(SKIP)


def stop_pid(proc, grace=5.0):
    """SIGTERM this one process, SIGKILL after `grace` seconds; reap it."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=grace)


class DelayedPair:
    NEAR4, PEER4, PEER4_LO = "192.0.2.1", "192.0.2.2", "198.51.100.1"
    NEAR6, PEER6 = "2001:db8::1", "2001:db8::2"
    TUN = "psdl0"

    def __init__(self, delayline, delay_us, jitter_us=0, loss_ppm=0,
                 seed=1):
        tag = "pst%d%s" % (os.getpid(), secrets.token_hex(2))
        self.a, self.b = tag + "a", tag + "b"
        self.args = [delayline, "--a", "/run/netns/%s:%s" % (self.a, self.TUN),
                     "--b", "/run/netns/%s:%s" % (self.b, self.TUN),
                     "--delay-us", str(delay_us), "--jitter-us",
                     str(jitter_us), "--loss-ppm", str(loss_ppm),
                     "--seed", str(seed), "--duration-s", "900", "--rt"]
        self.line = None
        self.line_stats = None
        self.procs = []
        self.made = []

    # -- set-up and tear-down -------------------------------------------
    def _ip(self, *args):
        r = _run(["ip"] + list(args))
        if r.returncode != 0:
            raise RuntimeError("ip %s: %s" % (" ".join(args),
                                              r.stderr.strip()))

    def __enter__(self):
        atexit.register(self.close)
        try:
            self._setup()
        except BaseException:
            self.close()
            raise
        return self

    def _setup(self):
        for ns in (self.a, self.b):
            self._ip("netns", "add", ns)
            self.made.append(ns)
            self._ip("-n", ns, "link", "set", "lo", "up")
            self._ip("-n", ns, "tuntap", "add", "dev", self.TUN, "mode",
                     "tun")
        self.line = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        ready = self.line.stdout.readline()  # bounded: the line prints it
        if ready.strip() != "ready":            # or exits at once
            err = self.line.stderr.read() if self.line.poll() is not None \
                else ""
            raise RuntimeError("delay line did not start: %r %s"
                               % (ready, err))
        for ns, v4, v6 in ((self.a, self.NEAR4, self.NEAR6),
                           (self.b, self.PEER4, self.PEER6)):
            self._ip("-n", ns, "addr", "add", v4 + "/24", "dev", self.TUN)
            self._ip("-n", ns, "-6", "addr", "add", v6 + "/64", "dev",
                     self.TUN, "nodad")
            self._ip("-n", ns, "link", "set", self.TUN, "up")
        self._ip("-n", self.b, "addr", "add", self.PEER4_LO + "/32", "dev",
                 "lo")
        self._ip("-n", self.a, "route", "add", self.PEER4_LO + "/32", "dev",
                 self.TUN)
        # bounded wait for the path: one ping through the line
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.run_a(["ping", "-c", "1", "-W", "1", self.PEER4],
                          timeout=5).returncode == 0:
                return
        raise RuntimeError("no path through the delay line")

    def close(self):
        for p in reversed(self.procs):
            stop_pid(p)
        self.procs = []
        if self.line is not None:
            stop_pid(self.line)
            out = self.line.stdout.read() if self.line.stdout else ""
            self.line_stats = out.strip() or None
            self.line = None
        for ns in self.made:
            _run(["ip", "netns", "del", ns])
        self.made = []

    def __exit__(self, *exc):
        self.close()
        return False

    # -- running things in the namespaces -------------------------------
    def _in(self, ns, cmd):
        return ["ip", "netns", "exec", ns] + list(cmd)

    def run_a(self, cmd, timeout=60, **kw):
        return subprocess.run(self._in(self.a, cmd), capture_output=True,
                              text=True, timeout=timeout, **kw)

    def run_b(self, cmd, timeout=60, **kw):
        return subprocess.run(self._in(self.b, cmd), capture_output=True,
                              text=True, timeout=timeout, **kw)

    def start_a(self, cmd, **kw):
        """A background process in A, stopped by PID at close()."""
        p = subprocess.Popen(self._in(self.a, cmd), **kw)
        self.procs.append(p)
        return p

    def start_b(self, cmd, **kw):
        p = subprocess.Popen(self._in(self.b, cmd), **kw)
        self.procs.append(p)
        return p

    def sysctl_a(self, key, value):
        r = self.run_a(["sysctl", "-q", "-w", "%s=%s" % (key, value)])
        if r.returncode != 0:
            raise RuntimeError("sysctl %s: %s" % (key, r.stderr.strip()))


def ping_rtts(output):
    """Per-reply RTTs in ms from iputils ping's output, by icmp_seq."""
    rtts = {}
    for line in output.splitlines():
        if "icmp_seq=" not in line or "time=" not in line:
            continue
        seq = int(line.split("icmp_seq=")[1].split()[0])
        t = line.split("time=")[1].split()[0]
        rtts[seq] = float(t)
    return rtts


def median(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return float("nan")
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
