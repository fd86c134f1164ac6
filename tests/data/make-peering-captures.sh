#!/usr/bin/env bash
# Make the peering captures in tests/data/peering/ and their truth files
# (README.capture.md, "Peering captures", says what they are).
#
#   bash tests/data/make-peering-captures.sh [WORKDIR]
#
# Root only: it builds a router, an Internet Exchange LAN and a direct link
# out of network namespaces (peering/lab.py; TEST-NET and 2001:db8::/32
# addresses only, every namespace removed on exit), runs GoBGP (with BMP on
# the router) and pmacctd (sFlow and IPFIX) and real traffic for about five
# minutes, then cuts the collector's capture into one file per export
# and computes the truth with tshark (peering/truth.py).  Not run by the
# test suite: the committed outputs are what the tests use.  Exits 77
# (skipped) with the reason when it cannot run here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$here/peering

skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, TUN devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
for tool in ip ethtool tcpdump tshark editcap pmacctd gobgpd gobgp unshare \
	curl ping cc gzip /usr/bin/python3; do
	command -v "$tool" >/dev/null || skip "$tool is not installed"
done
/usr/bin/python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
probe=psp$$chk
ip netns add "$probe" 2>/dev/null || skip "cannot create a network namespace"
ip netns del "$probe"

work=${1:-$(mktemp -d /tmp/peering-captures.XXXXXX)}
mkdir -p "$work"
echo "work directory: $work"
cc -O2 -D_GNU_SOURCE -o "$work/peerscope-delayline" "$root/tests/tools/delayline.c"
/usr/bin/python3 "$out/lab.py" "$work/run" --delayline "$work/peerscope-delayline"

run=$work/run
# One file per export, each with the whole BMP stream (the router's TCP
# session to the collector from its SYN on): every file stands alone.
split() { # NAME UDP_PORT
	tcpdump -r "$run/collector.pcap" -w "$work/$1.pcap" \
		"udp port $2 or tcp port 11019" 2>/dev/null
	gzip -9 -n -c "$work/$1.pcap" >"$out/$1.pcap.gz"
}
split sflow-rate1 6343
split sflow-rate10 6344
split ipfix 4739
split ipfix-nomac 4740
# The router's two peering ports as captured there, cut to 128 bytes a
# frame (headers; the original lengths stay in the pcap records).
for dev in ix0 dx0; do
	editcap -s 128 "$run/wire-$dev.pcap" "$work/wire-$dev.pcap"
	gzip -9 -n -c "$work/wire-$dev.pcap" >"$out/wire-$dev.pcap.gz"
done
cp "$run/events.json" "$out/scenario.json"

/usr/bin/python3 "$out/truth.py" "$out"
du -cb "$out"/*.pcap.gz "$out"/*.json | tail -1
echo "done: $out"
