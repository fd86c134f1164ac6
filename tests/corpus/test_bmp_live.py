"""Live BMP end to end: a real GoBGP (Debian gobgpd) exports BMP to
peerscope over loopback.

Two gobgpd speakers on 127.0.0.1 (router R, AS 64512, monitored) and
127.x.y.2 (peer P, AS 65001, x and y random) peer over loopback on free ports; R exports
BMP (pre-policy) to `peerscope` listening on 127.0.0.1.  The test injects
routes into P, withdraws some, bounces the session from R and stops
peerscope, and checks the bgp_session messages: the peer comes up with
the right AS and BGP id, the prefix count follows what was injected (the
truth is what this test told GoBGP to announce), the bounce gives a down
with a reason then an up, and the end of the BMP session makes the peer
"unknown".  Every process is started here and stopped by its PID; every
wait is bounded.  SKIP when gobgpd is not installed.
"""
import json
import random
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus_lib  # noqa: E402

N_ROUTES = 20
DEADLINE = 40  # seconds for each wait


class Abort(Exception):
    """A check failed that the rest of the test depends on."""


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def gobgp_conf(path, asn, rid, addr, port, peer, peer_as, peer_port,
               bmp_port=None):
    text = """[global.config]
  as = %d
  router-id = "%s"
  port = %d
  local-address-list = ["%s"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "%s"
    peer-as = %d
  [neighbors.transport.config]
    local-address = "%s"
    remote-port = %d
  [neighbors.timers.config]
    connect-retry = 1
    hold-time = 9
    keepalive-interval = 3
    idle-hold-time-after-reset = 1
""" % (asn, rid, port, addr, peer, peer_as, addr, peer_port)
    if bmp_port:
        text += """[[bmp-servers]]
  [bmp-servers.config]
    address = "127.0.0.1"
    port = %d
    route-monitoring-policy = "pre-policy"
    statistics-timeout = 15
""" % bmp_port
    with open(path, "w") as f:
        f.write(text)


class Messages:
    """bgp_session lines from peerscope's output file, read as they come."""

    def __init__(self, path):
        self.path = path
        self.pos = 0
        self.all = []
        self.buf = ""

    def poll(self):
        try:
            with open(self.path) as f:
                f.seek(self.pos)
                data = f.read()
                self.pos = f.tell()
        except OSError:
            return
        self.buf += data
        while "\n" in self.buf:
            line, self.buf = self.buf.split("\n", 1)
            if line.strip():
                m = json.loads(line)
                if m.get("type") == "bgp_session":
                    self.all.append(m)

    def wait(self, pred, deadline=DEADLINE):
        end = time.time() + deadline
        while time.time() < end:
            self.poll()
            for m in self.all:
                if pred(m):
                    return m
            time.sleep(0.2)
        return None


def main():
    args = corpus_lib.parse_args(__doc__)
    rep = corpus_lib.Reporter()
    gobgpd = shutil.which("gobgpd")
    gobgp = shutil.which("gobgp")
    if gobgpd is None or gobgp is None:
        rep.skip("gobgpd/gobgp not installed (apt-get install gobgpd)")
        rep.finish()
    tmp = tempfile.mkdtemp(prefix="ps-bmp-live-")
    procs = []
    try:
        ps_port, ra_port, pa_port = free_port(), free_port(), free_port()
        r_api, p_api = free_port(), free_port()
        out = os.path.join(tmp, "out.jsonl")
        ps = subprocess.Popen(
            [args.peerscope, "--set", "bmp.listen=127.0.0.1:%d" % ps_port,
             "--set", "bmp.allow=127.0.0.1", "--set",
             "bmp.snapshot_seconds=1", "--set", "http.enabled=false",
             "--set", "allow_root=true",
             "--set", "listen.sflow=127.0.0.1:%d" % free_port(),
             "--set", "listen.ipfix=", "--set", "listen.netflow=",
             "--set", "workers=1", "--set", "output.json.path=" + out],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "ps.err"), "w"))
        procs.append(ps)
        # wait for the BMP listener
        end = time.time() + 10
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", ps_port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        rconf = os.path.join(tmp, "r.toml")
        pconf = os.path.join(tmp, "p.toml")
        # the peer on its own loopback address, so that two runs of this
        # test on one host (parallel builds) cannot meet
        peer = "127.%d.%d.2" % (random.randint(1, 254), random.randint(0, 255))
        gobgp_conf(rconf, 64512, "10.255.0.1", "127.0.0.1", ra_port,
                   peer, 65001, pa_port, bmp_port=ps_port)
        gobgp_conf(pconf, 65001, "192.0.2.1", peer, pa_port,
                   "127.0.0.1", 64512, ra_port)
        for conf, api, name in ((rconf, r_api, "r"), (pconf, p_api, "p")):
            procs.append(subprocess.Popen(
                [gobgpd, "-f", conf, "--api-hosts", "127.0.0.1:%d" % api,
                 "--pprof-disable", "-l", "warn"],
                stdout=open(os.path.join(tmp, name + ".log"), "w"),
                stderr=subprocess.STDOUT))
        msgs = Messages(out)
        key_peer = lambda m: m["peer"]["address"] == peer  # noqa
        up = msgs.wait(lambda m: key_peer(m) and m["event"] == "up")
        if not rep.check("peer comes up over BMP", up is not None,
                         open(os.path.join(tmp, "ps.err")).read()[-300:]):
            raise Abort()
        rep.equal("peer AS", up["peer"]["asn"], 65001)
        rep.equal("peer BGP id", up["peer"]["bgp_id"], "192.0.2.1")
        rep.equal("router is the BMP source", up["router"], "127.0.0.1")
        # bad neighbours: a session of garbage, and a router outside
        # bmp.allow; neither may disturb the GoBGP session
        junk = socket.create_connection(("127.0.0.1", ps_port), 2)
        junk.sendall(b"GET / HTTP/1.0\r\n\r\n" * 100)
        stranger = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        stranger.bind(("127.0.0.3", 0))
        stranger.settimeout(2)
        stranger.connect(("127.0.0.1", ps_port))
        for i in range(N_ROUTES):
            subprocess.run([gobgp, "-p", str(p_api), "global", "rib", "add",
                            "198.51.%d.0/24" % i, "-a", "ipv4"],
                           check=True, stdout=subprocess.DEVNULL, timeout=10)

        def routes(m):
            v = m["views"].get("pre_policy", {}).get("ipv4_unicast")
            return v["routes"] if v else 0
        snap = msgs.wait(lambda m: key_peer(m) and m["event"] == "snapshot"
                         and routes(m) == N_ROUTES)
        rep.check("snapshot shows the %d injected routes" % N_ROUTES,
                  snap is not None,
                  "last: %r" % [routes(m) for m in msgs.all[-3:]])
        for i in range(5):
            subprocess.run([gobgp, "-p", str(p_api), "global", "rib", "del",
                            "198.51.%d.0/24" % i, "-a", "ipv4"],
                           check=True, stdout=subprocess.DEVNULL, timeout=10)
        snap = msgs.wait(lambda m: key_peer(m) and m["event"] == "snapshot"
                         and routes(m) == N_ROUTES - 5)
        rep.check("withdrawals bring it to %d" % (N_ROUTES - 5),
                  snap is not None)
        nup = len([m for m in msgs.all if key_peer(m) and m["event"] == "up"])
        subprocess.run([gobgp, "-p", str(r_api), "neighbor", peer,
                        "reset"], check=True, stdout=subprocess.DEVNULL,
                       timeout=10)
        down = msgs.wait(lambda m: key_peer(m) and m["event"] == "down")
        rep.check("reset gives a down with a reason",
                  down is not None and down["down_reason"] is not None and
                  down["down_reason"]["code"] in (1, 2, 3, 4, 5))
        if down is not None:
            rep.equal("routes dropped at Peer Down", routes(down), 0)
        back = msgs.wait(lambda m: key_peer(m) and m["event"] == "up" and
                         m["ups"] > nup)
        rep.check("the session comes back up", back is not None)
        snap = msgs.wait(lambda m: key_peer(m) and m["event"] == "snapshot"
                         and m["state"] == "up" and m["flaps"] >= 1 and
                         routes(m) == N_ROUTES - 5)
        rep.check("routes re-learnt after the bounce", snap is not None)
        ps.send_signal(signal.SIGTERM)
        try:
            ps.wait(timeout=20)
        except subprocess.TimeoutExpired:
            ps.kill()
        msgs.poll()
        err = open(os.path.join(tmp, "ps.err")).read()
        rep.check("garbage session dropped and counted",
                  "bmp.stream.framing_lost=1" in err, err[-600:])
        rep.check("router outside bmp.allow refused and counted",
                  "bmp.server.router_not_allowed=1" in err, err[-600:])
        junk.close()
        stranger.close()
        last = [m for m in msgs.all if key_peer(m)][-1]
        rep.equal("end of the BMP session: peer unknown",
                  (last["event"], last["state"]), ("unknown", "unknown"))
    except Abort:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    rep.finish()


if __name__ == "__main__":
    main()
