#!/usr/bin/env bash
# CPU per IPFIX record: peerscope against nfdump's nfcapd (Debian package
# nfdump), on the same stream in the same run (issue 3 target: peerscope
# at most 0.5x nfcapd).  Each collector listens on its own loopback port;
# peerscope-bench-ipfix --send sends the identical synthetic stream (16
# observation domains, one data template of 14 fields, 25 records per
# message, templates and 1-in-1000 sampling options refreshed every
# second) to one, then the other, at the same rate.  The collectors' CPU
# time (user + system, all threads) is read from /proc before and after.
# Both run pinned to CPU 0, the sender to CPU 1.  Only processes started
# here are signalled, by PID.
#
#   tests/bench/compare_nfcapd.sh BUILD_DIR [RATE] [SECONDS] [RUNS]
#
# RATE is in messages per second (records = 25 x RATE).
set -euo pipefail
build=${1:?usage: compare_nfcapd.sh BUILD_DIR [RATE] [SECONDS] [RUNS]}
rate=${2:-20000}
seconds=${3:-3}
runs=${4:-3}
bench=$build/tests/bench/peerscope-bench-ipfix
peerscope=$build/peerscope
command -v nfcapd >/dev/null || {
	echo "nfcapd not found: apt-get install nfdump" >&2
	exit 1
}
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

stop() { # TERM, then KILL what is still there after 5 s
	kill "$@" 2>/dev/null || true
	for _ in $(seq 1 50); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	kill -9 "$@" 2>/dev/null || true
	wait "$@" 2>/dev/null || true
}

ticks() { # user+system clock ticks of the given PIDs
	local t=0
	for p in "$@"; do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}

send() { # stream to a port; prints "run 1: sent=M records=R"
	taskset -c 1 "$bench" --send "$1" --rate "$rate" --seconds "$seconds" |
		grep '^run 1:'
}

echo "stream: synthetic IPFIX, 25 records/message, ${rate} messages/s for ${seconds}s"
mkdir -p "$work/nfcapd"
for run in $(seq 1 "$runs"); do
	taskset -c 0 "$peerscope" --set listen.ipfix=127.0.0.1:14739 \
		--set listen.netflow= --set listen.sflow=127.0.0.1:16399 \
		--set http.enabled=false --set allow_root=true \
		--workers 1 --output /dev/null 2>"$work/peerscope.log" &
	pp=$!
	pids+=("$pp")
	taskset -c 0 nfcapd -b 127.0.0.1 -p 14740 -w "$work/nfcapd" -t 60 \
		>"$work/nfcapd.log" 2>&1 &
	np=$!
	pids+=("$np")
	sleep 1

	before=$(ticks "$pp")
	sent_p=$(send 14739)
	sleep 0.5
	cpu_p=$(($(ticks "$pp") - before))

	before=$(ticks "$np")
	sent_n=$(send 14740)
	sleep 0.5
	cpu_n=$(($(ticks "$np") - before))

	stop "$pp" "$np"
	rp=$(sed -n 's/.* records=\([0-9]*\).*/\1/p' <<<"$sent_p")
	rn=$(sed -n 's/.* records=\([0-9]*\).*/\1/p' <<<"$sent_n")
	hz=$(getconf CLK_TCK)
	awk -v r="$run" -v cp="$cpu_p" -v cn="$cpu_n" -v rp="$rp" -v rn="$rn" \
		-v hz="$hz" 'BEGIN {
		np = cp / hz * 1e9 / rp; nn = cn / hz * 1e9 / rn;
		printf "run %d: peerscope %.0f ns/record, nfcapd %.0f ns/record, ratio %.2f\n",
			r, np, nn, (nn > 0 ? np / nn : 0) }'
done
