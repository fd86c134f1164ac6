#!/usr/bin/env bash
# Install what peerscope needs to build, run and test, from Debian 12's
# packages.  Idempotent; run as root (or with sudo available).
set -euo pipefail

packages=(
	# build
	build-essential cmake pkg-config git ca-certificates
	# core libraries
	libpcap-dev librdkafka-dev zlib1g-dev libyaml-dev
	libjson-c-dev # peerscope top parses messages with it
	# tests, sanitizers and fuzzing
	libcmocka-dev clang llvm libclang-rt-14-dev
	python3 python3-jsonschema
	# the independent decoder the tests take their truth from
	tshark
	# independent Kafka consumers for the Kafka end-to-end tests and demo;
	# python3-lz4: kafka-python reads peerscope's default lz4 with it
	kcat python3-kafka python3-lz4
	# a real sFlow exporter for the live end-to-end test
	pmacct
	# a real BMP exporter (and BGP speaker) for the live BMP test
	gobgpd
	# latency tests: network namespaces and TUN devices, ping alongside
	# the probes, setpriv to drop CAP_NET_RAW
	iproute2 iputils-ping util-linux
	# operations: the HTTP endpoint, and the tools that check /metrics,
	# the systemd unit, the manifests and the man pages
	libmicrohttpd-dev prometheus systemd python3-yaml groff-base
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
