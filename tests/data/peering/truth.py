#!/usr/bin/python3
"""Truth for the peering captures, from tshark's decoding alone (no
peerscope code): reads the committed captures in DIR and writes

  DIR/wire.truth.json         the router's two peering ports as captured on
                              the wire: per interface, per peer MAC, per
                              configured connection, per minute window and
                              10 s slot; ARP/ND bindings; TCP handshakes
  DIR/bmp.truth.json          per BGP session from the BMP stream: state
                              changes, flaps, Established fraction of each
                              minute window, prefixes pre/post-policy per AFI
  DIR/<export>.truth.json     what each export capture carries (sFlow
                              samples and counters, IPFIX records), and how
                              it compares with the wire

    truth.py DIR

Every figure comes from `tshark -T fields` or `-T pdml` output, summed
here with plain dictionaries; README.capture.md says what each field means.
"""
import bisect
import json
import os
import statistics
import subprocess
import sys
import xml.etree.ElementTree as ET

import yaml

TSHARK = ["tshark", "-n"]
BMP_PORT = 11019
BMP_OPTS = ["-d", "tcp.port==%d,bmp" % BMP_PORT, "-o", "bgp.asn_len:4",
            "-o", "tcp.reassemble_out_of_order:TRUE"]
FCS = 4  # bytes of Ethernet FCS: in sFlow frame_length, not in a pcap
WINDOW_S = 60
SLOT_S = 10
BROADCAST = "ff:ff:ff:ff:ff:ff"
EXPORTS = {  # capture -> (decoder, UDP port, sampling rate)
    "sflow-rate1": ("sflow", 6343, 1),
    "sflow-rate10": ("sflow", 6344, 10),
    "ipfix": ("cflow", 4739, 1),
    "ipfix-nomac": ("cflow", 4740, 1),
}


# ---------------------------------------------------------------- tshark
def tshark_fields(path, fields, extra=(), display=None):
    cmd = TSHARK + ["-r", path] + list(extra) + ["-T", "fields", "-E",
                                                 "separator=\t", "-E",
                                                 "occurrence=f"]
    if display:
        cmd += ["-Y", display]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        yield dict(zip(fields, line.split("\t")))


def tshark_pdml(path, extra=(), display=None):
    """(frame time, <packet> element) per frame of tshark -T pdml."""
    cmd = TSHARK + ["-r", path] + list(extra) + ["-T", "pdml"]
    if display:
        cmd += ["-Y", display]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    for _ev, el in ET.iterparse(p.stdout, events=("end",)):
        if el.tag != "packet":
            continue
        t = float(first(el, "frame.time_epoch"))
        yield t, el
        el.clear()
    if p.wait() != 0:
        raise RuntimeError("tshark failed on %s" % path)


def first(el, name, default=None):
    for f in el.iter("field"):
        if f.get("name") == name:
            return f.get("show")
    return default


def shows(el, name):
    return [f.get("show") for f in el.iter("field") if f.get("name") == name]


def children_named(el, prefix):
    """Direct sub-trees whose display text starts with prefix (the
    unnamed container fields tshark uses for samples, records, flows)."""
    return [c for c in el if c.tag == "field" and c.get("name") == ""
            and (c.get("show") or "").startswith(prefix)]


# ---------------------------------------------------------------- helpers
def cast_of(dst):
    if dst == BROADCAST:
        return "broadcast"
    return "multicast" if int(dst.split(":")[0], 16) & 1 else "unicast"


def window_of(t, size=WINDOW_S):
    return int(t // size) * size


def iso(t):
    import datetime
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


def ms(x):
    return round(x * 1000.0, 3)


class Tally:
    """Frames and bytes of a set of frames, for all frames and for the IP
    ones alone (pmacctd, and so every export here, sees only IP frames)."""

    def __init__(self):
        self.all = {"frames": 0, "bytes": 0, "bytes_with_fcs": 0,
                    "unicast": 0, "multicast": 0, "broadcast": 0}
        self.ip = {"frames": 0, "bytes": 0, "bytes_with_fcs": 0,
                   "l3_bytes": 0, "unicast": 0, "multicast": 0,
                   "broadcast": 0}

    def add(self, fr):
        for part in ([self.all, self.ip] if fr["l3"] else [self.all]):
            part["frames"] += 1
            part["bytes"] += fr["len"]
            part["bytes_with_fcs"] += fr["len"] + FCS
            part[fr["cast"]] += 1
        if fr["l3"]:
            self.ip["l3_bytes"] += fr["l3"]

    def json(self):
        return {"all": self.all, "ip": self.ip}


def tallies(keys):
    return {k: Tally() for k in keys}


# ---------------------------------------------------------------- topology
class Names:
    def __init__(self, topo, config):
        self.topo = topo
        self.ports = {i["name"]: i for i in topo["router"]["interfaces"]
                      if i["role"] in ("exchange", "direct")}
        self.by_mac = {}
        for i in topo["router"]["interfaces"]:
            self.by_mac[i["mac"]] = "edge1:" + i["name"]
        for p in topo["peers"] + topo["unknown_hosts"]:
            self.by_mac[p["mac"]] = p["id"]
        self.connections = config["connections"]

    def mac_name(self, mac):
        if mac in self.by_mac:
            return self.by_mac[mac]
        return cast_of(mac) if cast_of(mac) != "unicast" else "unknown"

    def connection_of(self, port, fr):
        """The issue-11 rule: a frame on an exchange port belongs to the
        connection whose peer_macs hold its source MAC (in) or destination
        MAC (out); a direct connection takes its whole interface."""
        ifindex = self.ports[port]["ifindex"]
        mac = fr["peer_mac"]
        for c in self.connections:
            if c["interface"] != ifindex:
                continue
            if c["kind"] == "direct":
                return c["id"]
            if mac in [m.lower() for m in c.get("peer_macs", [])]:
                return c["id"]
        return None


# ---------------------------------------------------------------- wire
WIRE_FIELDS = [
    "frame.number", "frame.time_epoch", "frame.len", "eth.src", "eth.dst",
    "eth.type", "ip.len", "ipv6.plen", "ip.src", "ip.dst", "ipv6.src",
    "ipv6.dst", "tcp.stream", "tcp.flags", "tcp.srcport", "tcp.dstport",
    "tcp.seq_raw", "tcp.ack_raw", "tcp.analysis.initial_rtt", "arp.opcode",
    "arp.src.hw_mac", "arp.src.proto_ipv4", "icmpv6.type",
    "icmpv6.nd.ns.target_address", "icmpv6.nd.na.target_address",
    "icmpv6.opt.src_linkaddr", "icmpv6.opt.target_linkaddr"]


def read_wire(path, port_mac):
    frames = []
    for r in tshark_fields(path, WIRE_FIELDS):
        l3 = 0
        if r["ip.len"]:
            l3 = int(r["ip.len"])
        elif r["ipv6.plen"]:
            l3 = int(r["ipv6.plen"]) + 40
        out = r["eth.src"] == port_mac
        fr = {"n": int(r["frame.number"]), "t": float(r["frame.time_epoch"]),
              "len": int(r["frame.len"]), "src": r["eth.src"],
              "dst": r["eth.dst"], "l3": l3,
              "dir": "out" if out else "in",
              "peer_mac": r["eth.dst"] if out else r["eth.src"],
              "cast": cast_of(r["eth.dst"]), "r": r}
        frames.append(fr)
    return frames


def wire_truth(names, wire):
    ports = {}
    conns = {c["id"]: tallies(("in", "out")) for c in names.connections}
    unattributed = {}
    windows, slots = {}, {}
    for port, frames in wire.items():
        ifindex = names.ports[port]["ifindex"]
        per_dir = tallies(("in", "out"))
        per_mac = {}
        un = unattributed.setdefault(port, {"in": {}, "out": {}})
        for fr in frames:
            per_dir[fr["dir"]].add(fr)
            key = (fr["dir"], fr["peer_mac"])
            per_mac.setdefault(key, Tally()).add(fr)
            cid = names.connection_of(port, fr)
            w = windows.setdefault(window_of(fr["t"]), {})
            if cid is None:
                un[fr["dir"]].setdefault(fr["peer_mac"], Tally()).add(fr)
                w.setdefault("unattributed:" + port, tallies(
                    ("in", "out")))[fr["dir"]].add(fr)
            else:
                conns[cid][fr["dir"]].add(fr)
                w.setdefault(cid, tallies(("in", "out")))[fr["dir"]].add(fr)
            w.setdefault("interface:%d" % ifindex, tallies(
                ("in", "out")))[fr["dir"]].add(fr)
            s = slots.setdefault("%d/%s" % (ifindex, fr["dir"]), {})
            s.setdefault(window_of(fr["t"], SLOT_S), Tally()).add(fr)
        ports[port] = {
            "ifindex": ifindex, "router_mac": names.ports[port]["mac"],
            "frames": len(frames),
            "first_frame_time": frames[0]["t"] if frames else None,
            "last_frame_time": frames[-1]["t"] if frames else None,
            "in": per_dir["in"].json(), "out": per_dir["out"].json(),
            "by_peer_mac": {
                dr: {mac: dict(per_mac[(dd, mac)].json(),
                               name=names.mac_name(mac))
                     for (dd, mac) in sorted(per_mac) if dd == dr}
                for dr in ("in", "out")},
        }
    un_json = {}
    for port, dirs in unattributed.items():
        un_json[port] = {}
        for dr, macs in dirs.items():
            total = Tally()
            by = {}
            for mac, t in sorted(macs.items()):
                reason = cast_of(mac) if cast_of(mac) != "unicast" \
                    else "unconfigured_mac"
                by[mac] = dict(t.json(), name=names.mac_name(mac),
                               reason=reason)
                for part in ("all", "ip"):
                    for k, v in getattr(t, part).items():
                        getattr(total, part)[k] += v
            un_json[port][dr] = dict(total.json(), by_mac=by)
    return {
        "ports": ports,
        "connections": {cid: {"in": t["in"].json(), "out": t["out"].json()}
                        for cid, t in conns.items()},
        "unattributed": un_json,
        "windows": {iso(w): {k: {"in": v["in"].json(), "out": v["out"].json()}
                             for k, v in sorted(ent.items())}
                    for w, ent in sorted(windows.items())},
        "slots_10s": {k: {iso(s): {"frames": t.all["frames"],
                                   "bytes_with_fcs": t.all["bytes_with_fcs"],
                                   "ip_frames": t.ip["frames"],
                                   "ip_bytes_with_fcs":
                                       t.ip["bytes_with_fcs"],
                                   "ip_l3_bytes": t.ip["l3_bytes"]}
                              for s, t in sorted(v.items())}
                      for k, v in sorted(slots.items())},
    }


def neighbour_bindings(names, wire):
    """IP -> MAC bindings announced on the ports: ARP senders, ND
    solicitations (source link-layer option), advertisements (target
    option, else the frame's source MAC)."""
    seen = {}
    for port, frames in wire.items():
        for fr in frames:
            r = fr["r"]
            if r["arp.opcode"]:
                kind = "arp_request" if r["arp.opcode"] == "1" \
                    else "arp_reply"
                ip, mac = r["arp.src.proto_ipv4"], r["arp.src.hw_mac"]
            elif r["icmpv6.type"] == "135" and r["icmpv6.opt.src_linkaddr"] \
                    and r["ipv6.src"] != "::":
                kind = "nd_solicitation"
                ip, mac = r["ipv6.src"], r["icmpv6.opt.src_linkaddr"]
            elif r["icmpv6.type"] == "136":
                kind = "nd_advertisement"
                ip = r["icmpv6.nd.na.target_address"]
                mac = r["icmpv6.opt.target_linkaddr"] or fr["src"]
            else:
                continue
            b = seen.setdefault((port, ip, mac), {
                "interface": port, "ifindex": names.ports[port]["ifindex"],
                "ip": ip, "mac": mac, "name": names.mac_name(mac),
                "first_seen": fr["t"], "frames": {},
                "in_ip_exports": kind.startswith("nd_")})
            b["frames"][kind] = b["frames"].get(kind, 0) + 1
    return sorted(seen.values(), key=lambda b: (b["interface"], b["ip"]))


def handshakes(names, wire):
    """Complete TCP handshakes on the ports, timed on the wire.  The half
    beyond the router ("external") is SYN -> SYN/ACK when the SYN leaves
    through the port (the client is inside) and SYN/ACK -> ACK when the
    SYN comes in through it; the other half is the inside's."""
    out = []
    for port, frames in wire.items():
        streams = {}
        for fr in frames:
            r = fr["r"]
            if r["tcp.stream"]:
                streams.setdefault(r["tcp.stream"], []).append(fr)
        for sid, frs in streams.items():
            syn = next((f for f in frs
                        if int(f["r"]["tcp.flags"], 16) & 0x12 == 0x02), None)
            if syn is None:
                continue
            sa = next((f for f in frs if f["t"] >= syn["t"] and
                       int(f["r"]["tcp.flags"], 16) & 0x12 == 0x12 and
                       f["r"]["tcp.ack_raw"] ==
                       str(int(syn["r"]["tcp.seq_raw"]) + 1)), None)
            ack = None
            if sa is not None:
                ack = next((f for f in frs if f["t"] >= sa["t"] and
                            f["dir"] == syn["dir"] and
                            int(f["r"]["tcp.flags"], 16) & 0x17 == 0x10 and
                            f["r"]["tcp.ack_raw"] ==
                            str(int(sa["r"]["tcp.seq_raw"]) + 1)), None)
            r = syn["r"]
            v6 = bool(r["ipv6.src"])
            h = {"interface": port,
                 "ifindex": names.ports[port]["ifindex"],
                 "tcp_stream": int(sid),
                 "client": r["ipv6.src"] if v6 else r["ip.src"],
                 "server": r["ipv6.dst"] if v6 else r["ip.dst"],
                 "client_port": int(r["tcp.srcport"]),
                 "server_port": int(r["tcp.dstport"]),
                 "client_side": "router" if syn["dir"] == "out" else "peer",
                 "peer": names.mac_name(syn["peer_mac"]),
                 "peer_mac": syn["peer_mac"],
                 "service": "bgp" if 179 in (int(r["tcp.srcport"]),
                                             int(r["tcp.dstport"]))
                 else "http",
                 "syn_time": syn["t"], "syn_seq": int(r["tcp.seq_raw"]),
                 "complete": ack is not None}
            if ack is not None:
                a, b = sa["t"] - syn["t"], ack["t"] - sa["t"]
                ext, inn = (a, b) if syn["dir"] == "out" else (b, a)
                rtt = next((f["r"]["tcp.analysis.initial_rtt"] for f in frs
                            if f["r"]["tcp.analysis.initial_rtt"]), "")
                h.update({"synack_time": sa["t"], "ack_time": ack["t"],
                          "synack_seq": int(sa["r"]["tcp.seq_raw"]),
                          "syn_to_synack_ms": ms(a),
                          "synack_to_ack_ms": ms(b),
                          "external_ms": ms(ext), "internal_ms": ms(inn),
                          "tshark_initial_rtt_ms":
                              ms(float(rtt)) if rtt else None})
            out.append(h)
    out.sort(key=lambda h: h["syn_time"])
    summary = {}
    for h in out:
        key = "%s %s client=%s" % (h["peer"], h["service"], h["client_side"])
        s = summary.setdefault(key, {"handshakes": 0, "complete": 0,
                                     "external": [], "internal": [],
                                     "initial_rtt": []})
        s["handshakes"] += 1
        if h["complete"]:
            s["complete"] += 1
            s["external"].append(h["external_ms"])
            s["internal"].append(h["internal_ms"])
            if h["tshark_initial_rtt_ms"] is not None:
                s["initial_rtt"].append(h["tshark_initial_rtt_ms"])
    for s in summary.values():
        for k in ("external", "internal", "initial_rtt"):
            v = s.pop(k)
            s[k + "_ms"] = {"min": min(v), "median": statistics.median(v),
                            "max": max(v)} if v else None
    return out, summary


# ---------------------------------------------------------------- BMP
BMP_TYPES = {"0": "route_monitoring", "1": "statistics_report",
             "2": "peer_down", "3": "peer_up", "4": "initiation",
             "5": "termination", "6": "route_mirroring"}
PREFIX_FIELDS = {
    "bgp.nlri_prefix": ("ipv4", "announce"),
    "bgp.withdrawn_prefix": ("ipv4", "withdraw"),
    "bgp.mp_reach_nlri_ipv4_prefix": ("ipv4", "announce"),
    "bgp.mp_unreach_nlri_ipv4_prefix": ("ipv4", "withdraw"),
    "bgp.mp_reach_nlri_ipv6_prefix": ("ipv6", "announce"),
    "bgp.mp_unreach_nlri_ipv6_prefix": ("ipv6", "withdraw"),
}


def bmp_messages(path):
    msgs = []
    for t, pkt in tshark_pdml(path, BMP_OPTS, "bmp"):
        for proto in pkt.iter("proto"):
            if proto.get("name") != "bmp":
                continue
            m = {"t": t, "type": BMP_TYPES.get(first(proto, "bmp.type"),
                                               first(proto, "bmp.type"))}
            if first(proto, "bmp.peer.type") is not None:
                flags = int(first(proto, "bmp.peer.flags"), 16)
                ptype = int(first(proto, "bmp.peer.type"))
                addr = first(proto, "bmp.peer.ipv6.addr") or \
                    first(proto, "bmp.peer.ip.addr")
                m.update({
                    # RFC 9069: the Loc-RIB "peer" (type 3) is the router
                    "peer": "loc-rib" if ptype == 3 else addr,
                    "peer_type": ptype,
                    "view": "loc_rib" if ptype == 3 else
                    ("post" if flags & 0x40 else "pre"),
                    "peer_asn": int(first(proto, "bmp.peer.asn")),
                    "peer_bgp_id": first(proto, "bmp.peer.id"),
                    "ts": int(first(proto, "bmp.peer.timestamp.sec")) +
                    int(first(proto, "bmp.peer.timestamp.msec")) / 1e6})
            if m["type"] == "peer_down":
                m["reason"] = int(first(proto, "bmp.peer.down.reason"))
                major = first(proto, "bgp.notify.major_error")
                if major is not None:
                    m["notification"] = "%s/%s" % (major, next(
                        (f.get("show") for f in proto.iter("field")
                         if (f.get("name") or "").startswith(
                             "bgp.notify.minor_error")), "?"))
            elif m["type"] == "route_monitoring":
                m["prefixes"] = []
                for f in proto.iter("field"):  # prefix + length siblings
                    kids = list(f)
                    lengths = [c.get("show") for c in kids
                               if c.get("name") == "bgp.prefix_length"]
                    found = [c for c in kids
                             if c.get("name") in PREFIX_FIELDS]
                    for c, plen in zip(found, lengths):
                        afi, op = PREFIX_FIELDS[c.get("name")]
                        m["prefixes"].append(
                            (afi, op, "%s/%s" % (c.get("show"), plen)))
                m["next_hop"] = first(
                    proto, "bgp.update.path_attribute.mp_reach_nlri."
                    "next_hop.ipv6") or first(
                    proto, "bgp.update.path_attribute.next_hop")
                m["as_path"] = [int(a) for a in shows(
                    proto, "bgp.update.path_attribute.as_path_segment.as4")]
            elif m["type"] == "statistics_report":
                m["stats"] = {}
                for c in proto.iter("field"):
                    if c.get("name") == "bmp.stats.type":
                        m["stats"].setdefault(c.get("show"), 0)
            elif m["type"] == "initiation":
                m["info"] = dict(zip(shows(proto, "bmp.init.type"),
                                     shows(proto, "bmp.init.info")))
            msgs.append(m)
    return msgs


def bmp_truth(path, names):
    msgs = bmp_messages(path)
    obs_start, obs_end = msgs[0]["t"], msgs[-1]["t"]
    sessions = {}
    counts = {}
    for m in msgs:
        counts[m["type"]] = counts.get(m["type"], 0) + 1
        if "peer" not in m:
            continue
        s = sessions.setdefault(m["peer"], {
            "peer_address": m["peer"], "peer_asn": m["peer_asn"],
            "peer_bgp_id": m["peer_bgp_id"], "peer_type": m["peer_type"],
            "events": [], "state": None, "intervals": [],
            "rib": {(v, afi): {} for v in (
                ("loc_rib",) if m["peer_type"] == 3 else ("pre", "post"))
                for afi in ("ipv4", "ipv6")},
            "rib_at": [], "stats_reports": 0})
        if m["type"] == "peer_up":
            if s["state"] != "up":
                s["intervals"].append([m["ts"], None, m["t"], None])
            s["events"].append({"event": "peer_up", "bmp_timestamp": m["ts"],
                                "capture_time": m["t"],
                                "was": s["state"]})
            s["state"] = "up"
        elif m["type"] == "peer_down":
            ev = {"event": "peer_down", "bmp_timestamp": m["ts"],
                  "capture_time": m["t"], "reason": m["reason"],
                  "was": s["state"]}
            if "notification" in m:
                ev["notification"] = m["notification"]
            s["events"].append(ev)
            if s["state"] == "up":
                s["intervals"][-1][1] = m["ts"]
                s["intervals"][-1][3] = m["t"]
            s["state"] = "down"
            for rib in s["rib"].values():  # its routes go with the session
                rib.clear()
            s["rib_at"].append((m["t"], counts_of(s["rib"])))
        elif m["type"] == "route_monitoring":
            pp = m["view"]
            for afi, op, pfx in m["prefixes"]:
                if op == "announce":
                    s["rib"][(pp, afi)][pfx] = {"next_hop": m["next_hop"],
                                               "as_path": m["as_path"]}
                else:
                    s["rib"][(pp, afi)].pop(pfx, None)
            s["rib_at"].append((m["t"], counts_of(s["rib"])))
        elif m["type"] == "statistics_report":
            s["stats_reports"] += 1

    windows = list(range(window_of(obs_start), window_of(obs_end) + 1,
                         WINDOW_S))
    out = {}
    for addr, s in sorted(sessions.items()):
        downs = [e for e in s["events"] if e["event"] == "peer_down"]
        flaps = [e for e in downs if e["was"] == "up"]
        per_window = {}
        times = [t for t, _ in s["rib_at"]]
        for w in windows:
            lo, hi = w, w + WINDOW_S
            est = sum(overlap(a, b if b is not None else obs_end, lo, hi)
                      for a, b, _ca, _cb in s["intervals"])
            est_arr = sum(overlap(ca, cb if cb is not None else obs_end,
                                  max(lo, obs_start), min(hi, obs_end))
                          for _a, _b, ca, cb in s["intervals"])
            observed = overlap(obs_start, obs_end, lo, hi)
            i = bisect.bisect_right(times, hi) - 1
            per_window[iso(w)] = {
                "established_s": round(est, 3),
                "availability": round(est / WINDOW_S, 4),
                "observed_s": round(observed, 3),
                "established_s_by_arrival": round(est_arr, 3),
                "flaps": sum(1 for e in flaps
                             if lo <= e["bmp_timestamp"] < hi),
                "state_at_end": state_at(s["events"], hi),
                "prefixes_at_end": s["rib_at"][i][1] if i >= 0
                else counts_of({k: {} for k in s["rib"]}),
            }
        peer = next((p["id"] for p in names.topo["peers"]
                     if addr in p["sessions"]), None)
        out[addr] = {
            "peer": peer, "peer_asn": s["peer_asn"],
            "peer_bgp_id": s["peer_bgp_id"], "peer_type": s["peer_type"],
            "afi": "ipv6" if ":" in addr else "ipv4",
            "final_state": s["state"],
            "flaps": len(flaps),
            "peer_up_messages": sum(1 for e in s["events"]
                                    if e["event"] == "peer_up"),
            "peer_down_messages": len(downs),
            "peer_down_messages_while_down": len(downs) - len(flaps),
            "events": s["events"],
            "established_intervals": [
                {"from_bmp_timestamp": a, "to_bmp_timestamp": b,
                 "from_capture_time": ca, "to_capture_time": cb}
                for a, b, ca, cb in s["intervals"]],
            "prefixes_final": counts_of(s["rib"]),
            "routes_final": {"%s_%s" % k: dict(sorted(v.items()))
                             for k, v in sorted(s["rib"].items()) if v},
            "statistics_reports": s["stats_reports"],
            "windows": per_window,
        }
    init = next((m["info"] for m in msgs if m["type"] == "initiation"), {})
    return {
        "capture": os.path.basename(path),
        "oracle": "tshark -r CAPTURE %s -Y bmp -T pdml" % " ".join(BMP_OPTS),
        "observed_from": obs_start, "observed_to": obs_end,
        "messages": counts,
        "initiation": {"sysDescr": init.get("1"), "sysName": init.get("2")},
        "sessions": out,
    }


def counts_of(rib):
    return {"%s_%s" % k: len(v) for k, v in sorted(rib.items())}


def overlap(a, b, lo, hi):
    return max(0.0, min(b, hi) - max(a, lo))


def state_at(events, t):
    state = None
    for e in events:
        if e["bmp_timestamp"] <= t:
            state = "up" if e["event"] == "peer_up" else "down"
    return state


# ---------------------------------------------------------------- exports
def sflow_truth(path, port, rate, names, wire):
    datagrams, seqs, agents = 0, [], set()
    flow = {}       # (ifindex, dir) -> Tally-like sums
    by_mac = {}     # (ifindex, dir, mac) -> [samples, bytes]
    counters = {}   # ifindex -> [records]
    seen_tcp = {}   # (flags, seq) -> datagram time, for handshakes
    by_window = {}  # minute of the datagram's arrival -> ifindex/dir
    rates, pools = set(), {}
    for t, pkt in tshark_pdml(path, ["-d", "udp.port==%d,sflow" % port],
                              "udp.dstport==%d" % port):
        sf = next(p for p in pkt.iter("proto") if p.get("name") == "sflow")
        datagrams += 1
        seqs.append(int(first(sf, "sflow_245.sequence_number")))
        agents.add((first(sf, "sflow_245.agent"),
                    int(first(sf, "sflow_245.sub_agent_id"))))
        for smp in children_named(sf, "Flow sample"):
            inp = int(first(smp, "sflow.flow_sample.input_interface"))
            outp = int(first(smp, "sflow.flow_sample.output_interface_value"))
            direction, ifindex = ("in", inp) if inp != 0x3FFFFFFF \
                else ("out", outp)
            rates.add(int(first(smp, "sflow.flow_sample.sampling_rate")))
            pools[(ifindex, direction)] = int(first(
                smp, "sflow.flow_sample.sample_pool"))
            flen = int(first(smp, "sflow_245.header.frame_length"))
            stripped = int(first(smp, "sflow_245.header.payload_stripped"))
            src, dst = first(smp, "eth.src"), first(smp, "eth.dst")
            mac = src if direction == "in" else dst
            f = flow.setdefault((ifindex, direction), {
                "samples": 0, "frame_length_sum": 0,
                "frame_length_minus_stripped_sum": 0})
            f["samples"] += 1
            f["frame_length_sum"] += flen
            f["frame_length_minus_stripped_sum"] += flen - stripped
            e = by_mac.setdefault((ifindex, direction, mac), [0, 0])
            e[0] += 1
            e[1] += flen
            w = by_window.setdefault(iso(window_of(t)), {}).setdefault(
                "%d/%s" % (ifindex, direction), {"samples": 0,
                                                 "frame_length_sum": 0,
                                                 "by_peer_mac": {}})
            w["samples"] += 1
            w["frame_length_sum"] += flen
            wm = w["by_peer_mac"].setdefault(mac, [0, 0])
            wm[0] += 1
            wm[1] += flen
            tflags = first(smp, "tcp.flags")
            if tflags and int(tflags, 16) & 0x02 or (
                    tflags and int(tflags, 16) & 0x17 == 0x10):
                seen_tcp.setdefault((int(tflags, 16) & 0x17,
                                     int(first(smp, "tcp.seq_raw")),
                                     int(first(smp, "tcp.ack_raw"))), t)
        for smp in children_named(sf, "Counters sample"):
            for rec in children_named(smp, "Generic interface counters"):
                ifx = int(first(rec, "sflow_245.ifindex"))
                counters.setdefault(ifx, []).append({
                    "capture_time": t,
                    "if_speed": int(first(rec, "sflow_245.ifspeed")),
                    "in_octets": int(first(rec, "sflow_245.ifinoct")),
                    "in_ucast_pkts": int(first(rec, "sflow_245.ifinpkt")),
                    "in_mcast_pkts": int(first(rec, "sflow_245.ifinmcast")),
                    "in_bcast_pkts": int(first(rec, "sflow_245.ifinbcast")),
                    "out_octets": int(first(rec, "sflow_245.ifoutoct")),
                    "out_ucast_pkts": int(first(rec, "sflow_245.ifoutpkt")),
                    "out_mcast_pkts": int(first(rec, "sflow_245.ifoutmcast")),
                    "out_bcast_pkts": int(first(rec,
                                                "sflow_245.ifoutbcast"))})
    gaps = sum(1 for a, b in zip(seqs, seqs[1:]) if b != a + 1)
    per_if = {}
    for (ifx, dr), f in sorted(flow.items()):
        e = per_if.setdefault(str(ifx), {})
        e[dr] = dict(f, sample_pool_last=pools[(ifx, dr)],
                     estimated_frames=f["samples"] * rate,
                     estimated_bytes_with_fcs=f["frame_length_sum"] * rate)
    mac_json = {}
    for (ifx, dr, mac), (n, b) in sorted(by_mac.items()):
        mac_json.setdefault(str(ifx), {}).setdefault(dr, {})[mac] = {
            "name": names.mac_name(mac), "samples": n,
            "frame_length_sum": b}
    truth = {
        "decoder": "sflow", "udp_port": port, "datagrams": datagrams,
        "agents": ["%s sub-agent %d" % a for a in sorted(agents)],
        "sequence": {"first": seqs[0], "last": seqs[-1], "gaps": gaps},
        "sampling_rates": sorted(rates),
        "flow_samples": sum(f["samples"] for f in flow.values()),
        "by_interface": per_if, "by_peer_mac": mac_json,
        "by_window_of_arrival": dict(sorted(by_window.items())),
        "counter_samples": {str(k): {
            "records": len(v), "first": v[0], "last": v[-1],
            "last_minus_first": {
                c: v[-1][c] - v[0][c] for c in v[0]
                if c.endswith(("_octets", "_pkts"))}}
            for k, v in sorted(counters.items())},
    }
    truth["compared_with_wire"] = compare_sflow(truth, rate, names, wire)
    return truth, seen_tcp


def compare_sflow(truth, rate, names, wire_t):
    """At rate 1 every IP frame of the wire is a sample: counts and sums
    must match exactly; at 1:N the estimate's error is shown."""
    res = {}
    for port, p in wire_t["ports"].items():
        ifx = str(p["ifindex"])
        for dr in ("in", "out"):
            w = p[dr]["ip"]
            s = truth["by_interface"].get(ifx, {}).get(dr, {})
            est_b = s.get("estimated_bytes_with_fcs", 0)
            row = {"wire_ip_frames": w["frames"],
                   "wire_ip_bytes_with_fcs": w["bytes_with_fcs"],
                   "samples": s.get("samples", 0),
                   "estimated_bytes_with_fcs": est_b,
                   "bytes_error_pct": round(100.0 * (est_b - w["bytes_with_fcs"])
                                            / w["bytes_with_fcs"], 2)
                   if w["bytes_with_fcs"] else None}
            if rate == 1:
                row["exact"] = (s.get("samples") == w["frames"] and
                                s.get("frame_length_sum") ==
                                w["bytes_with_fcs"])
                macs = p["by_peer_mac"][dr]
                smacs = truth["by_peer_mac"].get(ifx, {}).get(dr, {})
                row["per_mac_exact"] = all(
                    smacs.get(m, {}).get("samples", 0) == v["ip"]["frames"]
                    and smacs.get(m, {}).get("frame_length_sum", 0) ==
                    v["ip"]["bytes_with_fcs"] for m, v in macs.items())
            last = truth["counter_samples"].get(ifx, {}).get("last")
            if last:
                row["counters_last"] = {
                    "octets": last[dr + "_octets"],
                    "ucast_pkts": last[dr + "_ucast_pkts"],
                    "mcast_pkts": last[dr + "_mcast_pkts"],
                    "bcast_pkts": last[dr + "_bcast_pkts"]}
                row["counters_equal_wire_ip"] = (
                    last[dr + "_octets"] == w["bytes"] and
                    last[dr + "_ucast_pkts"] == w["unicast"] and
                    last[dr + "_mcast_pkts"] == w["multicast"] and
                    last[dr + "_bcast_pkts"] == w["broadcast"])
            res["%s/%s" % (ifx, dr)] = row
    return res


def ipfix_truth(path, port, names, wire_t):
    per_if, by_mac, templates, by_window = {}, {}, set(), {}
    records, datagrams, odids = 0, 0, set()
    for t, pkt in tshark_pdml(path, ["-d", "udp.port==%d,cflow" % port],
                              "udp.dstport==%d" % port):
        cf = next(p for p in pkt.iter("proto") if p.get("name") == "cflow")
        datagrams += 1
        odids.add(int(first(cf, "cflow.od_id")))
        for tid in shows(cf, "cflow.template_id"):
            templates.add(int(tid))
        for fs in children_named(cf, "Set "):
            for rec in children_named(fs, "Flow "):
                if first(rec, "cflow.octets") is None:
                    continue
                records += 1
                inp = int(first(rec, "cflow.inputint", "0"))
                outp = int(first(rec, "cflow.outputint", "0"))
                direction, ifx = ("in", inp) if inp else ("out", outp)
                octets = int(first(rec, "cflow.octets"))
                pkts = int(first(rec, "cflow.packets"))
                win = by_window.setdefault(iso(window_of(t)), {})
                for e in (per_if.setdefault(str(ifx), {}).setdefault(
                              direction, {"records": 0, "octets": 0,
                                          "packets": 0}),
                          win.setdefault("%d/%s" % (ifx, direction), {
                              "records": 0, "octets": 0, "packets": 0})):
                    e["records"] += 1
                    e["octets"] += octets
                    e["packets"] += pkts
                src = first(rec, "cflow.srcmac") or first(rec,
                                                          "cflow.post_srcmac")
                dst = first(rec, "cflow.dstmac") or first(rec,
                                                          "cflow.post_dstmac")
                if src or dst:
                    mac = src if direction == "in" else dst
                    m = by_mac.setdefault(str(ifx), {}).setdefault(
                        direction, {}).setdefault(mac, {
                            "name": names.mac_name(mac), "records": 0,
                            "octets": 0, "packets": 0})
                    m["records"] += 1
                    m["octets"] += octets
                    m["packets"] += pkts
    cmp = {}
    for port_name, p in wire_t["ports"].items():
        ifx = str(p["ifindex"])
        for dr in ("in", "out"):
            w = p[dr]["ip"]
            e = per_if.get(ifx, {}).get(dr, {"octets": 0, "packets": 0})
            row = {"wire_ip_frames": w["frames"], "wire_l3_bytes":
                   w["l3_bytes"], "packets": e["packets"],
                   "octets": e["octets"],
                   "exact": e["packets"] == w["frames"] and
                   e["octets"] == w["l3_bytes"]}
            if by_mac:
                macs = p["by_peer_mac"][dr]
                xm = by_mac.get(ifx, {}).get(dr, {})
                row["per_mac_exact"] = all(
                    xm.get(m, {}).get("packets", 0) == v["ip"]["frames"] and
                    xm.get(m, {}).get("octets", 0) == v["ip"]["l3_bytes"]
                    for m, v in macs.items())
            cmp["%s/%s" % (ifx, dr)] = row
    return {"decoder": "cflow", "udp_port": port, "datagrams": datagrams,
            "observation_domains": sorted(odids),
            "template_ids": sorted(templates), "records": records,
            "by_interface": per_if, "by_peer_mac": by_mac,
            "by_window_of_arrival": dict(sorted(by_window.items())),
            "compared_with_wire": cmp}


def handshakes_in_sflow(hs, seen):
    """When an sFlow collector could time each handshake: flow samples
    carry no timestamp, so the best it has is the arrival time of the
    datagram that carried each of the three packets (matched here by TCP
    flags, sequence and acknowledgement numbers)."""
    out, summary = [], {}
    for h in hs:
        if not h["complete"]:
            continue
        syn = seen.get((0x02, h["syn_seq"], 0))
        sa = seen.get((0x12, h["synack_seq"], h["syn_seq"] + 1))
        ack = seen.get((0x10, h["syn_seq"] + 1, h["synack_seq"] + 1))
        row = {"tcp_stream": h["tcp_stream"], "interface": h["interface"],
               "peer": h["peer"], "service": h["service"],
               "client_side": h["client_side"],
               "wire_external_ms": h["external_ms"],
               "datagram_syn_to_synack_ms": None,
               "datagram_synack_to_ack_ms": None}
        if None not in (syn, sa, ack):
            a, b = ms(sa - syn), ms(ack - sa)
            row.update({"datagram_syn_to_synack_ms": a,
                        "datagram_synack_to_ack_ms": b,
                        "datagram_external_ms":
                            a if h["client_side"] == "router" else b})
            key = "%s %s client=%s" % (h["peer"], h["service"],
                                       h["client_side"])
            summary.setdefault(key, []).append(row["datagram_external_ms"])
        out.append(row)
    return out, {k: {"handshakes": len(v), "zero": sum(1 for x in v
                                                        if x == 0),
                     "median_ms": statistics.median(v), "max_ms": max(v)}
                 for k, v in sorted(summary.items())}


# ---------------------------------------------------------------- main
def main():
    d = sys.argv[1]
    topo = json.load(open(os.path.join(d, "topology.json")))
    config = yaml.safe_load(open(os.path.join(
        d, "peerscope.demo-peering.yaml")))
    names = Names(topo, config)
    wire = {}
    for port, i in names.ports.items():
        wire[port] = read_wire(os.path.join(d, "wire-%s.pcap.gz" % port),
                               i["mac"])
    wt = wire_truth(names, wire)
    hs, hs_summary = handshakes(names, wire)
    wt.update({
        "captures": ["wire-%s.pcap.gz" % p for p in names.ports],
        "oracle": "tshark -n -r CAPTURE -T fields -E occurrence=f -e " +
        " -e ".join(WIRE_FIELDS),
        "byte_basis": {
            "bytes": "frame length as captured (Ethernet header + payload, "
                     "no FCS); what sFlow counter samples of pmacctd count",
            "bytes_with_fcs": "bytes + 4 per frame: the sFlow flow-sample "
                              "frame_length basis",
            "l3_bytes": "IPv4 total length / IPv6 payload length + 40: the "
                        "IPFIX octetDeltaCount basis"},
        "neighbour_bindings": neighbour_bindings(names, wire),
        "tcp_handshakes": hs,
        "tcp_handshakes_by_peer": hs_summary,
    })
    with open(os.path.join(d, "wire.truth.json"), "w") as f:
        json.dump(wt, f, indent=1, sort_keys=False)
        f.write("\n")
    bt = bmp_truth(os.path.join(d, "sflow-rate1.pcap.gz"), names)
    with open(os.path.join(d, "bmp.truth.json"), "w") as f:
        json.dump(bt, f, indent=1)
        f.write("\n")
    for name, (dec, port, rate) in EXPORTS.items():
        path = os.path.join(d, "%s.pcap.gz" % name)
        if dec == "sflow":
            t, seen = sflow_truth(path, port, rate, names, wt)
            if rate == 1:
                rows, summ = handshakes_in_sflow(hs, seen)
                t["tcp_handshakes_by_datagram_time"] = rows
                t["tcp_handshakes_by_datagram_time_summary"] = summ
        else:
            t = ipfix_truth(path, port, names, wt)
        t["capture"] = os.path.basename(path)
        t["bmp"] = "the same BMP stream in every export capture: " \
                   "bmp.truth.json"
        with open(os.path.join(d, "%s.truth.json" % name), "w") as f:
            json.dump(t, f, indent=1, sort_keys=True)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
