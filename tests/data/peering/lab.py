#!/usr/bin/python3
"""Build the peering lab of topology.json, run its scenario, and leave the
raw captures and logs in WORK.  Run by ../make-peering-captures.sh (root).

    lab.py WORK --delayline PATH

                         IX LAN (a bridge): peer-a (its hosts 10 ms away
                         behind a delay line), peer-b, peer-c, and two
 inside host             members with no configured connection
 198.51.100.130 --in0-- edge1 --ix0 (ifIndex 17)-- IX LAN
                        edge1 --dx0 (ifIndex 23)-- peer-d (hosts 5 ms away)
 collector 198.51.100.6 --mg0-- edge1 (sFlow, IPFIX and BMP from 198.51.100.5)

edge1 forwards with the Linux kernel (static routes that follow the
accepted announcements), speaks BGP with GoBGP (BMP to the collector) and
exports with pmacctd (sFlow at 1:1 and 1:10, IPFIX with and without MACs).
The peers run GoBGP too; curl, ping and agent.py make the traffic.

Namespaces are named psp<pid><role>; every process started here is tracked
by its Popen (never found by name), gets SIGTERM if this script dies
(PR_SET_PDEATHSIG), and is stopped by PID; the namespaces are deleted on
every exit path.  The whole run is bounded by HARD_LIMIT_S.

Capture windows: the far ends of ix0 and dx0 stay down until the truth
captures (tcpdump on ix0 and dx0) and pmacctd are listening, and go down
again ("freeze") before either stops, so that the exporter and the truth
captures see exactly the same frames on those ports.
"""
import argparse
import ctypes
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
AGENT = os.path.join(HERE, "agent.py")
HARD_LIMIT_S = 900
TOPO = json.load(open(os.path.join(HERE, "topology.json")))

_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent():
    _libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Abort(Exception):
    pass


def _abort(signum, _frame):
    raise Abort("signal %d" % signum)


def iface(topo_router, name):
    return next(i for i in topo_router["interfaces"] if i["name"] == name)


def addr_only(cidr):
    return cidr.split("/")[0]


def url_host(a):
    return "[%s]" % a if ":" in a else a


class Lab:
    NAMES = ["rtr", "ix", "a", "asrv", "b", "c", "d", "dsrv", "u1", "u2",
             "inh", "col"]

    def __init__(self, work, delayline):
        self.work = work
        self.delayline = delayline
        self.tag = "psp%d" % (os.getpid() % 100000)
        self.made = []
        self.procs = []  # (name, Popen), stopped in reverse order
        self.events = []
        self.failures = []
        self.t0 = time.time()
        self.r = TOPO["router"]
        self.peers = {p["id"]: p for p in TOPO["peers"]}
        self.gobgpd = {}
        self.down_sessions = set()
        self.dead = set()  # peers whose BGP speaker was killed

    # ------------------------------------------------------------ basics
    def ns(self, role):
        return self.tag + role

    def log(self, event, **kw):
        rec = {"t": round(time.time(), 6), "event": event}
        rec.update(kw)
        self.events.append(rec)
        if "rc" not in kw and event != "router_view":
            print("%8.2f %s %s" % (time.time() - self.t0, event,
                                   json.dumps(kw) if kw else ""), flush=True)

    def run(self, cmd, timeout=20, check=True):
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise RuntimeError("%s: %s" % (" ".join(cmd),
                                            (r.stderr or r.stdout).strip()))
        return r

    def ip(self, role, *args, check=True):
        return self.run(["ip", "-n", self.ns(role)] + list(args),
                        check=check)

    def nsexec(self, role, cmd):
        return ["ip", "netns", "exec", self.ns(role)] + list(cmd)

    def sh(self, role, cmd, timeout=20, check=True):
        return self.run(self.nsexec(role, cmd), timeout=timeout, check=check)

    def sysctl(self, role, key, value):
        self.sh(role, ["sysctl", "-qw", "%s=%s" % (key, value)])

    def start(self, name, role, cmd, stdout=None):
        logf = open(os.path.join(self.work, "logs", name + ".log"), "w")
        p = subprocess.Popen(self.nsexec(role, cmd),
                             stdout=stdout or logf, stderr=logf,
                             stdin=subprocess.DEVNULL, text=True,
                             preexec_fn=_die_with_parent)
        self.procs.append((name, p))
        return p

    def wait_line(self, p, want, seconds):
        """Read p's stdout until a line equals want (bounded by seconds)."""
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if sel.select(timeout=0.2):
                line = p.stdout.readline()
                if line.strip() == want:
                    return
                if line == "":
                    break
        raise RuntimeError("no %r from %s" % (want, p.args))

    def wait_log(self, name, needle, count, seconds):
        path = os.path.join(self.work, "logs", name + ".log")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with open(path, errors="replace") as f:
                if f.read().count(needle) >= count:
                    return
            time.sleep(0.2)
        raise RuntimeError("%s: no %d x %r in %s s" % (name, count, needle,
                                                      seconds))

    def stop(self, p, sig=signal.SIGTERM, grace=10):
        if p.poll() is not None:
            return
        p.send_signal(sig)
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=grace)

    def close(self):
        for _name, p in reversed(self.procs):
            try:
                self.stop(p, grace=5)
            except Exception:
                pass
        self.procs = []
        for n in reversed(self.made):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
        self.made = []

    # ------------------------------------------------------------ topology
    def veth(self, role1, name1, role2, name2, mac1=None, mac2=None,
             index1=None):
        cmd = ["link", "add", name1]
        if index1 is not None:
            cmd += ["index", str(index1)]
        if mac1:
            cmd += ["address", mac1]
        cmd += ["type", "veth", "peer", "name", name2]
        if mac2:
            cmd += ["address", mac2]
        cmd += ["netns", self.ns(role2)]
        self.ip(role1, *cmd)
        for role, name in ((role1, name1), (role2, name2)):
            # wire-sized frames with valid checksums, as a real port sends
            self.sh(role, ["ethtool", "-K", name, "tso", "off", "gso", "off",
                           "gro", "off", "tx", "off"], check=False)

    def addr(self, role, dev, cidr):
        extra = ["nodad"] if ":" in cidr else []
        self.ip(role, "addr", "add", cidr, "dev", dev, *extra)

    def build(self):
        for role in self.NAMES:
            self.run(["ip", "netns", "add", self.ns(role)])
            self.made.append(self.ns(role))
            self.ip(role, "link", "set", "lo", "up")
            # no duplicate address detection noise, addresses are unique
            self.sysctl(role, "net.ipv6.conf.all.accept_dad", 0)
            self.sysctl(role, "net.ipv6.conf.default.accept_dad", 0)
        for role in ("rtr", "a", "b", "c", "d", "u1", "u2"):  # routers
            self.sysctl(role, "net.ipv4.ip_forward", 1)
            self.sysctl(role, "net.ipv6.conf.all.forwarding", 1)
        for key in ("all", "default"):  # the fabric itself stays silent
            self.sysctl("ix", "net.ipv6.conf.%s.disable_ipv6" % key, 1)
        self.sysctl("col", "net.ipv6.conf.default.disable_ipv6", 1)
        self.ip("ix", "link", "add", "br0", "type", "bridge", "stp_state",
                "0", "mcast_snooping", "0")
        self.ip("ix", "link", "set", "br0", "up")

        r = self.r
        mg, inn = iface(r, "mg0"), iface(r, "in0")
        ix, dx = iface(r, "ix0"), iface(r, "dx0")
        col, inside = TOPO["collector"], TOPO["inside"]
        self.veth("rtr", "mg0", "col", "eth0", mg["mac"], col["mac"],
                  mg["ifindex"])
        self.veth("rtr", "in0", "inh", "eth0", inn["mac"], inside["mac"],
                  inn["ifindex"])
        self.veth("rtr", "ix0", "ix", "p-rtr", ix["mac"], None, ix["ifindex"])
        d = self.peers["peer-d"]
        self.veth("rtr", "dx0", "d", "dx", dx["mac"], d["mac"], dx["ifindex"])
        self.ix_ports = ["p-rtr"]
        for m in self.ix_members():
            port = "p-" + m["ns"]
            self.veth(m["ns"], "ix", "ix", port, m["mac"])
            self.ix_ports.append(port)
        for port in self.ix_ports:
            self.ip("ix", "link", "set", port, "master", "br0")
        # addresses
        self.addr("rtr", "mg0", mg["ipv4"])
        self.addr("col", "eth0", col["ipv4"])
        for i in (inn, ix, dx):
            self.addr("rtr", i["name"], i["ipv4"])
            self.addr("rtr", i["name"], i["ipv6"])
        for dev in ("mg0", "in0", "ix0", "dx0"):
            self.ip("rtr", "link", "set", dev, "up")
        self.ip("col", "link", "set", "eth0", "up")
        self.addr("inh", "eth0", inside["ipv4"] + "/25")
        self.addr("inh", "eth0", inside["ipv6"] + "/64")
        self.ip("inh", "link", "set", "eth0", "up")
        for m in self.ix_members():
            self.addr(m["ns"], "ix", m["ipv4"] + "/24")
            if m.get("ipv6"):
                self.addr(m["ns"], "ix", m["ipv6"] + "/64")
            self.ip(m["ns"], "link", "set", "ix", "up")
        self.addr("d", "dx", d["ipv4"] + "/30")
        self.addr("d", "dx", d["ipv6"] + "/64")
        # hosts of the peers' prefixes: on lo, or behind a delay line
        for p in list(self.peers.values()) + TOPO["unknown_hosts"]:
            h = p["hosts"]
            if h["ns"] != p["ns"]:
                continue
            self.addr(h["ns"], "lo", h["ipv4"] + "/32")
            if h.get("ipv6"):
                self.addr(h["ns"], "lo", h["ipv6"] + "/128")
        for pid in ("peer-a", "peer-d"):
            self.delay_line(self.peers[pid])
        self.log("topology_built", namespaces=self.made)

    def ix_members(self):
        return [p for p in TOPO["peers"] if p["interface"] == "ix0"] + \
            TOPO["unknown_hosts"]

    def delay_line(self, p):
        """The peer's hosts sit in their own namespace behind TUN devices
        joined by peerscope-delayline (a fixed one-way delay each way)."""
        h = p["hosts"]
        self.ip(p["ns"], "tuntap", "add", "dev", "tsrv", "mode", "tun")
        self.ip(h["ns"], "tuntap", "add", "dev", "tup", "mode", "tun")
        line = subprocess.Popen(
            [self.delayline, "--a", "/run/netns/%s:tsrv" % self.ns(p["ns"]),
             "--b", "/run/netns/%s:tup" % self.ns(h["ns"]),
             "--delay-us", str(p["delay_us_one_way"]), "--duration-s",
             str(HARD_LIMIT_S), "--rt"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_die_with_parent)
        self.procs.append(("delayline-" + p["id"], line))
        self.wait_line(line, "ready", 10)
        self.ip(p["ns"], "link", "set", "tsrv", "up")
        self.ip(h["ns"], "link", "set", "tup", "up")
        self.addr(h["ns"], "tup", h["ipv4"] + "/32")
        self.addr(h["ns"], "tup", h["ipv6"] + "/128")
        self.ip(h["ns"], "route", "add", "default", "dev", "tup")
        self.ip(h["ns"], "-6", "route", "add", "default", "dev", "tup")
        for a in p["announce"]:
            if a["registered"]:
                fam = ["-6"] if ":" in a["prefix"] else []
                self.ip(p["ns"], *fam, "route", "add", a["prefix"], "dev",
                        "tsrv")

    def routes(self):
        """Static routes: the router's data plane follows the registered
        (accepted) announcements; every peer routes home via the router."""
        ix, dx = iface(self.r, "ix0"), iface(self.r, "dx0")
        for p in TOPO["peers"]:
            for a in p["announce"]:
                if not a["registered"]:
                    continue
                v6 = ":" in a["prefix"]
                via = p["ipv6"] if v6 else p["ipv4"]
                self.ip("rtr", *(["-6"] if v6 else []), "route", "add",
                        a["prefix"], "via", via)
        for u in TOPO["unknown_hosts"]:
            for pfx in u["routes"]:
                v6 = ":" in pfx
                self.ip("rtr", *(["-6"] if v6 else []), "route", "add", pfx,
                        "via", u["ipv6"] if v6 else u["ipv4"])
        self.ip("inh", "route", "add", "default", "via",
                addr_only(iface(self.r, "in0")["ipv4"]))
        self.ip("inh", "-6", "route", "add", "default", "via",
                addr_only(iface(self.r, "in0")["ipv6"]))
        for m in self.ix_members():
            self.ip(m["ns"], "route", "add", "default", "via",
                    addr_only(ix["ipv4"]))
            if m.get("ipv6"):
                self.ip(m["ns"], "-6", "route", "add", "default", "via",
                        addr_only(ix["ipv6"]))
        self.ip("d", "route", "add", "default", "via", addr_only(dx["ipv4"]))
        self.ip("d", "-6", "route", "add", "default", "via",
                addr_only(dx["ipv6"]))

    def ports(self, state):
        """Carrier on the router's peering ports: their far ends up/down."""
        for port in self.ix_ports:
            self.ip("ix", "link", "set", port, state)
        self.ip("d", "link", "set", "dx", state)
        self.log("peering_ports_" + state)

    # ------------------------------------------------------------ configs
    def write(self, name, text):
        path = os.path.join(self.work, "configs", name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def pmacct_configs(self):
        ix, dx = iface(self.r, "ix0"), iface(self.r, "dx0")
        d = self.peers["peer-d"]
        col = addr_only(TOPO["collector"]["ipv4"])
        ports = TOPO["collector"]["ports"]
        exp = self.r["export_address"]
        ifmap = self.write("pcap_interfaces.map",
                           "ifindex=%d ifname=ix0\nifindex=%d ifname=dx0\n"
                           % (ix["ifindex"], dx["ifindex"]))
        own = "ether src %s or ether src %s" % (ix["mac"], dx["mac"])
        direct = "ether src %s or ether src %s" % (dx["mac"], d["mac"])
        # pmacctd 1.7.7 cannot give one interface two directions in the
        # pcap_interfaces_map (with an "in" and an "out" line for one
        # interface only inbound frames came out), so both ports are
        # captured both ways and the
        # pre_tag_map says what the router knows: tag = direction (the
        # router's own MAC as source = out), tag2 = ifIndex (the direct
        # link carries only the router's and peer-d's MACs).
        pretag = self.write("pretag.map", "\n".join([
            "set_tag=2 filter='%s' jeq=port" % own,
            "set_tag=1 filter='not (%s)' jeq=port" % own,
            "set_tag2=%d filter='%s' label=port" % (dx["ifindex"], direct),
            "set_tag2=%d filter='not (%s)'" % (ix["ifindex"], direct),
            ""]))
        flow_timeouts = ("tcp=30:tcp.rst=5:tcp.fin=5:udp=15:icmp=15:"
                         "general=30:maxlife=30:expint=5")
        lines = [
            "! pmacctd 1.7.7 on edge1: one core process, four export plugins",
            "daemonize: false",
            "promisc: false",
            "pcap_interfaces_map: %s" % ifmap,
            "pcap_ifindex: map",
            "pre_tag_map: %s" % pretag,
            "snaplen: 128",
            "plugins: sfprobe[sflow1], sfprobe[sflow10], nfprobe[ipfix], "
            "nfprobe[ipfixnomac]",
        ]
        for name, rate, subid in (("sflow1", 1, 1), ("sflow10", 10, 10)):
            port = ports["sflow_rate%d" % rate]
            lines += [
                "sfprobe_receiver[%s]: %s:%d" % (name, col, port),
                "sfprobe_agentip[%s]: %s" % (name, exp),
                "sfprobe_agentsubid[%s]: %d" % (name, subid),
                "sampling_rate[%s]: %d" % (name, rate),
                "sfprobe_direction[%s]: tag" % name,
                "sfprobe_ifindex[%s]: tag2" % name,
                "sfprobe_ifspeed[%s]: %d" % (name, ix["speed_bps"]),
            ]
        for name, odid, macs in (("ipfix", 1, True), ("ipfixnomac", 2, False)):
            port = ports["ipfix" if macs else "ipfix_nomac"]
            prims = "src_host, dst_host, src_port, dst_port, proto, tos, " \
                "in_iface, out_iface" + (", src_mac, dst_mac" if macs else "")
            lines += [
                "nfprobe_receiver[%s]: %s:%d" % (name, col, port),
                "nfprobe_version[%s]: 10" % name,
                "nfprobe_engine[%s]: %d" % (name, odid),
                "nfprobe_source_ip[%s]: %s" % (name, exp),
                "nfprobe_direction[%s]: tag" % name,
                "nfprobe_ifindex[%s]: tag2" % name,
                "nfprobe_timeouts[%s]: %s" % (name, flow_timeouts),
                "aggregate[%s]: %s" % (name, prims),
            ]
        return self.write("pmacctd.conf", "\n".join(lines) + "\n")

    def router_config(self):
        """GoBGP as edge1's BGP speaker: sessions to every peer, an import
        policy that accepts each peer's registered prefixes only (so that
        pre-policy and post-policy differ), and BMP to the collector with
        pre-policy, post-policy and Loc-RIB monitoring."""
        r = self.r
        col = addr_only(TOPO["collector"]["ipv4"])
        t = ['[global.config]', '  as = %d' % r["asn"],
             '  router-id = "%s"' % r["router_id"], '  port = 179', '',
             '[global.apply-policy.config]',
             '  import-policy-list = ["registered-prefixes"]',
             '  default-import-policy = "reject-route"',
             '  default-export-policy = "reject-route"', '',
             '[[bmp-servers]]', '  [bmp-servers.config]',
             '    address = "%s"' % col,
             '    port = %d' % TOPO["collector"]["ports"]["bmp"],
             '    route-monitoring-policy = "all"',
             '    statistics-timeout = 15',
             '    sys-name = "%s"' % r["name"],
             '    sys-descr = "peerscope peering lab edge router (GoBGP)"']
        stmts = []
        for p in TOPO["peers"]:
            t += ['', '[[defined-sets.neighbor-sets]]',
                  '  neighbor-set-name = "ns-%s"' % p["id"],
                  '  neighbor-info-list = [%s]' % ", ".join(
                      '"%s"' % s for s in p["sessions"])]
            for fam in ("ipv4", "ipv6"):
                pfx = [a["prefix"] for a in p["announce"] if a["registered"]
                       and (":" in a["prefix"]) == (fam == "ipv6")]
                if not pfx:
                    continue
                name = "ps-%s-%s" % (p["id"], fam)
                t += ['', '[[defined-sets.prefix-sets]]',
                      '  prefix-set-name = "%s"' % name]
                for x in pfx:
                    t += ['  [[defined-sets.prefix-sets.prefix-list]]',
                          '    ip-prefix = "%s"' % x]
                stmts += [
                    '  [[policy-definitions.statements]]',
                    '    name = "%s-%s"' % (p["id"], fam),
                    '    [policy-definitions.statements.conditions.'
                    'match-prefix-set]',
                    '      prefix-set = "%s"' % name,
                    '      match-set-options = "any"',
                    '    [policy-definitions.statements.conditions.'
                    'match-neighbor-set]',
                    '      neighbor-set = "ns-%s"' % p["id"],
                    '      match-set-options = "any"',
                    '    [policy-definitions.statements.actions]',
                    '      route-disposition = "accept-route"']
        t += ['', '[[policy-definitions]]',
              '  name = "registered-prefixes"'] + stmts
        for p in TOPO["peers"]:
            for s in p["sessions"]:
                t += self.neighbor_toml(s, p["asn"])
        return self.write("edge1-gobgpd.toml", "\n".join(t) + "\n")

    @staticmethod
    def neighbor_toml(addr, asn):
        return ['', '[[neighbors]]', '  [neighbors.config]',
                '    neighbor-address = "%s"' % addr,
                '    peer-as = %d' % asn,
                '  [neighbors.timers.config]',
                '    connect-retry = 5',
                '    hold-time = 180',
                '    keepalive-interval = 60',
                '  [[neighbors.afi-safis]]',
                '    [neighbors.afi-safis.config]',
                '      afi-safi-name = "%s-unicast"'
                % ("ipv6" if ":" in addr else "ipv4")]

    def gobgp_config(self, p):
        rtr_if = iface(self.r, p["interface"])
        text = ['[global.config]', '  as = %d' % p["asn"],
                '  router-id = "%s"' % p["ipv4"], '  port = 179']
        for s in p["sessions"]:
            text += self.neighbor_toml(
                addr_only(rtr_if["ipv6" if ":" in s else "ipv4"]),
                self.r["asn"])
        return self.write("%s-gobgpd.toml" % p["id"], "\n".join(text) + "\n")

    # ------------------------------------------------------------ daemons
    def gobgp(self, role, *args, check=True):
        return self.sh(role, ["gobgp"] + list(args), check=check)

    def start_gobgpd(self, name, role, hostname, conf):
        """gobgpd in its own UTS namespace: the FQDN capability of its
        OPEN messages (and so the BMP Peer Up) names the lab node, not the
        machine the captures were made on."""
        p = self.start(name, role, [
            "unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"',
            hostname, "gobgpd", "-f", conf, "-l", "info", "--api-hosts",
            "127.0.0.1:50051", "--pprof-disable"])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if self.sh(role, ["gobgp", "global"], timeout=3,
                           check=False).returncode == 0:
                    return p
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.3)
        raise RuntimeError("%s: no gobgp API" % name)

    def start_peer_bgp(self, p):
        self.gobgpd[p["id"]] = self.start_gobgpd(
            "%s-gobgpd" % p["id"], p["ns"], p["id"], self.gobgp_config(p))
        for a in p["announce"]:
            fam = "ipv6" if ":" in a["prefix"] else "ipv4"
            args = ["global", "rib", "add", "-a", fam, a["prefix"]]
            if a.get("as_path"):
                args += ["aspath", ",".join(str(x) for x in a["as_path"])]
            self.gobgp(p["ns"], *args)
        self.log("peer_bgp_started", peer=p["id"],
                 pid=self.gobgpd[p["id"]].pid)

    def neighbors(self):
        r = self.sh("rtr", ["gobgp", "-j", "neighbor"], timeout=5,
                    check=False)
        try:
            return json.loads(r.stdout)
        except ValueError:
            return []

    def established(self):
        return {n["state"]["neighbor_address"] for n in self.neighbors()
                if n.get("state", {}).get("session_state") == 6}

    def wait_established(self, want, seconds):
        deadline = time.monotonic() + seconds
        up = set()
        while time.monotonic() < deadline:
            up = self.established()
            if want <= up:
                return up
            time.sleep(0.5)
        raise RuntimeError("sessions not Established after %d s: %s"
                           % (seconds, sorted(want - up)))

    # ------------------------------------------------------------ traffic
    def targets(self):
        for p in TOPO["peers"] + TOPO["unknown_hosts"]:
            yield p

    def family_up(self, p, v6):
        if not p.get("sessions"):
            return True  # no BGP: static routes only
        return any((":" in s) == v6 and s not in self.down_sessions
                   for s in p["sessions"])

    def act(self, what, role, cmd, timeout=10):
        r = self.sh(role, cmd, timeout=timeout, check=False)
        lines = (r.stdout + "\n" + r.stderr).strip().splitlines()
        out = lines[-1].strip() if lines else ""  # ping -q: the rtt line
        self.log(what, rc=r.returncode, out=out[:120])
        if r.returncode != 0:
            self.failures.append((what, out))

    def traffic_round(self, k):
        sc = TOPO["scenario"]
        inside = TOPO["inside"]
        curl = ["curl", "-sS", "-0", "-g", "--noproxy", "*", "-o", "/dev/null",
                "--max-time", "5", "-w", "%{size_download}"]
        for p in self.targets():
            h = p["hosts"]
            fams = [v6 for v6 in (k % 2 == 1, k % 2 == 0)
                    if (h.get("ipv6") if v6 else True) and self.family_up(p, v6)]
            if not fams or p["id"] in self.dead:
                continue
            v6 = fams[0]
            far = h["ipv6" if v6 else "ipv4"]
            near = inside["ipv6" if v6 else "ipv4"]
            fb = p["fetch_bytes"]
            tag = "%s %s" % (p["id"], "v6" if v6 else "v4")
            self.act("fetch_from_peer " + tag, "inh", curl + [
                "http://%s:8080/bytes/%d" % (url_host(far), fb["from_peer"])])
            self.act("fetch_by_peer " + tag, h["ns"], curl + [
                "--interface", far,
                "http://%s:8080/bytes/%d" % (url_host(near), fb["to_peer"])])
            u = sc["udp"]
            self.act("udp_to_peer " + tag, "inh", [
                PY, AGENT, "udp", "--to", far, "--count", str(u["count"]),
                "--size", str(u["size"])])
            self.act("udp_from_peer " + tag, h["ns"], [
                PY, AGENT, "udp", "--to", near, "--bind", far, "--count",
                str(u["reverse_count"]), "--size", str(u["reverse_size"])])
            pg = sc["ping"]
            self.act("ping_peer " + tag, "inh", [
                "ping", "-6" if v6 else "-4", "-n", "-q", "-c",
                str(pg["count"]), "-i", "0.2", "-W", "1", "-s",
                str(pg["size"]), far])

    def neighbour_flush(self):
        for dev in ("ix0", "dx0"):
            self.ip("rtr", "neigh", "flush", "dev", dev, check=False)
            self.ip("rtr", "-6", "neigh", "flush", "dev", dev, check=False)
        for m in self.ix_members():
            self.ip(m["ns"], "neigh", "flush", "dev", "ix", check=False)
            self.ip(m["ns"], "-6", "neigh", "flush", "dev", "ix", check=False)
        self.ip("d", "neigh", "flush", "dev", "dx", check=False)
        self.ip("d", "-6", "neigh", "flush", "dev", "dx", check=False)
        self.log("neighbour_caches_flushed")

    # ------------------------------------------------------------ scenario
    def scenario(self):
        sc = TOPO["scenario"]
        W = self.work
        cports = TOPO["collector"]["ports"]
        # collector side: the sink, then the capture of everything it gets
        sink = self.start("collector-sink", "col", [
            PY, AGENT, "sink", "--udp", ",".join(
                str(cports[k]) for k in ("sflow_rate1", "sflow_rate10",
                                         "ipfix", "ipfix_nomac")),
            "--tcp", str(cports["bmp"]), "--out", os.path.join(W, "bmp.raw"),
            "--max-seconds", str(HARD_LIMIT_S)], stdout=subprocess.PIPE)
        self.wait_line(sink, "ready", 10)
        self.col_dump = self.start("collector-tcpdump", "col", [
            "tcpdump", "-i", "eth0", "-p", "-n", "-s", "0", "-B", "32768",
            "-U", "-w", os.path.join(W, "collector.pcap"),
            "udp or tcp port %d" % cports["bmp"]])
        self.wait_log("collector-tcpdump", "listening on", 1, 10)
        # truth side: the router's two peering ports, before pmacctd
        self.wire_dumps = []
        for dev in ("ix0", "dx0"):
            self.wire_dumps.append(self.start("wire-%s-tcpdump" % dev, "rtr", [
                "tcpdump", "-i", dev, "-p", "-n", "-s", "0", "-B", "32768",
                "-U", "-w", os.path.join(W, "wire-%s.pcap" % dev)]))
            self.wait_log("wire-%s-tcpdump" % dev, "listening on", 1, 10)
        self.pmacctd = self.start("pmacctd", "rtr",
                                  ["pmacctd", "-f", self.pmacct_configs()])
        self.wait_log("pmacctd", "link type is", 2, 15)
        time.sleep(2)
        self.log("exporter_ready", pid=self.pmacctd.pid)
        self.ports("up")
        self.routes()
        for p in list(self.targets()) + [{"id": "inside"}]:
            role = p["hosts"]["ns"] if "hosts" in p else "inh"
            a = self.start("agent-%s" % p["id"], role, [
                PY, AGENT, "serve", "--max-seconds", str(HARD_LIMIT_S)],
                stdout=subprocess.PIPE)
            self.wait_line(a, "ready", 10)
        for p in TOPO["peers"]:
            self.start_peer_bgp(p)
        self.bgpd = self.start_gobgpd("edge1-gobgpd", "rtr", self.r["name"],
                                      self.router_config())
        self.log("router_bgp_started", pid=self.bgpd.pid)
        all_sessions = {s for p in TOPO["peers"] for s in p["sessions"]}
        up = self.wait_established(all_sessions, 90)
        self.log("all_sessions_established", sessions=sorted(up))
        self.router_view("all sessions established")

        t_start = time.monotonic()
        for k in range(sc["rounds"]):
            if k in sc["neighbour_flush_before_rounds"]:
                self.neighbour_flush()
            fl, dn = sc["flap"], sc["down"]
            if k == fl["down_before_round"]:
                peer = self.peers[fl["peer"]]
                self.gobgp(peer["ns"], "neighbor",
                           addr_only(iface(self.r, peer["interface"])["ipv4"]),
                           "disable")
                self.down_sessions.add(fl["session"])
                self.log("session_disabled_by_peer", peer=fl["peer"],
                         session=fl["session"])
            if k == fl["up_before_round"]:
                peer = self.peers[fl["peer"]]
                self.gobgp(peer["ns"], "neighbor",
                           addr_only(iface(self.r, peer["interface"])["ipv4"]),
                           "enable")
                self.log("session_enabled_by_peer", peer=fl["peer"],
                         session=fl["session"])
                self.wait_established({fl["session"]}, 40)
                self.down_sessions.discard(fl["session"])
                self.log("session_established_again", session=fl["session"])
            if k == dn["before_round"]:
                victim = self.gobgpd[dn["peer"]]
                victim.kill()
                victim.wait(timeout=10)
                self.dead.add(dn["peer"])
                self.down_sessions.add(dn["session"])
                self.log("peer_bgp_killed", peer=dn["peer"], pid=victim.pid)
            # round k starts at round_seconds * k (later if the last ran over)
            wait = t_start + k * sc["round_seconds"] - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.log("round", k=k)
            self.traffic_round(k)
        time.sleep(5)
        self.log("sessions_at_end", established=sorted(self.established()))
        self.router_view("end of traffic, before the freeze")
        self.ports("down")  # freeze: nothing more on ix0 / dx0
        # sfprobe sends its last datagram and counter sample on its next
        # tick, which comes with the next packet or its 60 s poll timeout
        time.sleep(sc["quiet_seconds_after_freeze"])
        self.stop(self.pmacctd, sig=signal.SIGINT, grace=15)  # nfprobe flush
        self.log("exporter_stopped", rc=self.pmacctd.returncode)
        time.sleep(3)
        for p in self.wire_dumps + [self.col_dump]:
            self.stop(p)
        self.log("captures_stopped")

    def router_view(self, when):
        """The router's own view of its sessions and tables (gobgp CLI),
        kept beside the captures as a cross-check of the BMP truth."""
        view = {"neighbors": {}, "rib_counts": {}}
        for n in self.neighbors():
            st = n.get("state", {})
            view["neighbors"][st.get("neighbor_address")] = {
                "session_state": st.get("session_state"),
                "afi_safis": [{k: a.get("state", {}).get(k) for k in
                               ("family", "received", "accepted")}
                              for a in n.get("afi_safis", [])]}
        for fam in ("ipv4", "ipv6"):
            r = self.gobgp("rtr", "-j", "global", "rib", "-a", fam,
                           check=False)
            try:
                view["rib_counts"][fam] = len(json.loads(r.stdout))
            except ValueError:
                view["rib_counts"][fam] = None
        self.log("router_view", when=when, view=view)

    def save(self):
        with open(os.path.join(self.work, "events.json"), "w") as f:
            json.dump({"tag": self.tag, "events": self.events,
                       "failures": self.failures}, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("work")
    ap.add_argument("--delayline", required=True)
    args = ap.parse_args()
    for d in ("logs", "configs"):
        os.makedirs(os.path.join(args.work, d), exist_ok=True)
    signal.signal(signal.SIGTERM, _abort)
    signal.signal(signal.SIGINT, _abort)
    signal.signal(signal.SIGALRM, _abort)
    signal.alarm(HARD_LIMIT_S)
    lab = Lab(args.work, args.delayline)
    rc = 1
    try:
        lab.build()
        lab.scenario()
        rc = 0
    except (Abort, RuntimeError, subprocess.TimeoutExpired) as e:
        lab.log("aborted", why=str(e))
        print("lab: %s" % e, file=sys.stderr)
    finally:
        signal.alarm(0)
        lab.close()
        lab.save()
    if lab.failures:
        print("lab: %d traffic actions failed (see events.json)"
              % len(lab.failures), file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
