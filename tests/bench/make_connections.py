#!/usr/bin/env python3
"""A connection registry for `peerscope-bench offline --synthetic --config`:
1,000 connections on the synthetic set's 16 agents (192.0.2.1-16) and
their ifIndexes 1-64.  Per agent: ifIndexes 1-7 are exchange ports with 8
peers each (16 source MACs per peer: the synthetic headers' source MACs
00:1b:21:00:00:00-ff, so half the frames that came in by a port carry a
peer's MAC, half an unknown one), 8-13 direct connections; agent 1 also
has direct 14-21.  Every connection has two peer addresses.

    make_connections.py > /tmp/conns.yaml
"""
import sys

out = ["connections:"]
n = 0
for agent in range(1, 17):
    router = "192.0.2.%d" % agent
    for port in range(1, 8):
        for peer in range(8):
            macs = ", ".join('"00:1b:21:00:00:%02x"' % (peer * 16 + k)
                             for k in range(16))
            out.append(
                "  - {id: x%d-%d-%d, kind: exchange, router: %s, "
                "interface: %d, peer_asn: %d, peer_addresses: "
                "[\"10.%d.%d.%d\", \"2001:db8:%x:%x::%x\"], peer_macs: [%s], "
                "capacity: 100G, labels: {site: s%d}}"
                % (agent, port, peer, router, port, 64512 + n, agent, port,
                   peer + 1, agent, port, peer + 1, macs, agent))
            n += 1
    for port in range(8, 14 if agent > 1 else 22):
        out.append(
            "  - {id: d%d-%d, kind: direct, router: %s, interface: %d, "
            "peer_asn: %d, peer_addresses: [\"10.%d.%d.1\", "
            "\"2001:db8:%x:%x::1\"], capacity: 10G}"
            % (agent, port, router, port, 64512 + n, agent, port, agent,
               port))
        n += 1
assert n == 1000, n
sys.stdout.write("\n".join(out) + "\n")
