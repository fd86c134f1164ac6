#!/usr/bin/env bash
# CPU per IPFIX record: peerscope against nfdump's nfcapd (Debian package
# nfdump), on the same stream in the same run (issue 3 target: peerscope
# at most 0.5x nfcapd, with zero loss).
#
# Each run starts both collectors afresh, each on its own loopback port,
# pinned to the same CPU (0); peerscope-bench-ipfix --send, pinned to CPU
# 1, sends the identical synthetic stream (16 observation domains, one data
# template of 14 fields, 25 records per message, templates and 1-in-1000
# sampling options refreshed every second) to one collector, then the
# same to the other.  The order alternates from run to run, so neither
# collector always goes first on a machine whose load drifts.
#
# CPU: each collector's CPU time over its own send (plus a 0.5 s drain),
# all threads, user and system: the sum of the first field of
# /proc/PID/task/*/schedstat (nanoseconds; both keep their threads for the
# whole run).  /proc/PID/stat's utime+stime (clock ticks) is printed beside
# it as a cross-check.  The idle collector's time is not counted.
#
# Records: what each collector decoded, not what was sent: peerscope's
# exporter_health data_records summed over its output, nfcapd's flows as
# `nfdump -I` reads them from its file.  Loss: peerscope's datagrams
# received (its summary) plus its kernel drops (SO_RXQ_OVFL) must equal the
# datagrams sent, kernel drops must be 0 and records decoded must equal
# records sent; the run says "loss 0" or what was missing.
#
#   tests/bench/compare_nfcapd.sh BUILD_DIR [RATE] [SECONDS] [RUNS]
#
# RATE is in messages per second (records = 25 x RATE); 0 sends flat out.
# Only processes started here are signalled, by PID.
set -euo pipefail
build=${1:?usage: compare_nfcapd.sh BUILD_DIR [RATE] [SECONDS] [RUNS]}
rate=${2:-20000}
seconds=${3:-3}
runs=${4:-3}
bench=$build/tests/bench/peerscope-bench-ipfix
peerscope=$build/peerscope
for tool in nfcapd nfdump; do
	command -v "$tool" >/dev/null || {
		echo "$tool not found: apt-get install nfdump" >&2
		exit 1
	}
done
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

cpu_ns() { # run time of every thread of a process, nanoseconds
	cat /proc/"$1"/task/*/schedstat | awk '{ t += $1 } END { printf "%.0f\n", t }'
}

ticks() { # user+system clock ticks of a process
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

field() { # the value of KEY=VALUE in a line
	sed -n "s/.*[ :]$1=\([0-9]*\).*/\1/p" <<<"$2"
}

# measure NAME PID PORT: send the stream, record CPU, sets NAME_* vars
measure() {
	local name=$1 pid=$2 port=$3 c0 t0 out
	c0=$(cpu_ns "$pid")
	t0=$(ticks "$pid")
	out=$(taskset -c 1 "$bench" --send "$port" --rate "$rate" \
		--seconds "$seconds" | grep '^run 1:')
	sleep 0.5
	printf -v "${name}_cpu" '%s' $(($(cpu_ns "$pid") - c0))
	printf -v "${name}_ticks" '%s' $(($(ticks "$pid") - t0))
	printf -v "${name}_sent" '%s' "$(field records "$out")"
	printf -v "${name}_dgrams" '%s' "$(field datagrams "$out")"
	printf -v "${name}_secs" '%s' \
		"$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$out")"
}

wait_for() { # a line in a log, 10 s at most
	for _ in $(seq 1 100); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no \"$2\" in $1" >&2
	return 1
}

hz=$(getconf CLK_TCK)
echo "stream: synthetic IPFIX, 25 records/message, rate ${rate} messages/s" \
	"(0 = flat out) for ${seconds}s, ${runs} runs; collectors on CPU 0," \
	"sender on CPU 1"
: >"$work/ratios"
for run in $(seq 1 "$runs"); do
	rm -rf "$work/nfcapd" "$work/out.json"
	mkdir -p "$work/nfcapd"
	taskset -c 0 "$peerscope" --set listen.ipfix=127.0.0.1:14739 \
		--set listen.netflow= --set listen.sflow=127.0.0.1:16399 \
		--set http.enabled=false --set allow_root=true \
		--workers 1 --output "$work/out.json" 2>"$work/peerscope.log" &
	pp=$!
	pids+=("$pp")
	taskset -c 0 nfcapd -b 127.0.0.1 -p 14740 -w "$work/nfcapd" -t 60 \
		>"$work/nfcapd.log" 2>&1 &
	np=$!
	pids+=("$np")
	wait_for "$work/peerscope.log" "collecting with"
	sleep 1 # nfcapd says nothing when it is ready

	if ((run % 2)); then
		measure ps "$pp" 14739
		measure nf "$np" 14740
	else
		measure nf "$np" 14740
		measure ps "$pp" 14739
	fi
	stop_within 15 "$pp" "$np"
	load=$(cut -d' ' -f1 /proc/loadavg) # other work on the machine

	summary=$(grep '^summary:' "$work/peerscope.log" | tr '\n' ' ')
	ps_recv=$(field datagrams "$summary")
	ps_drops=$(field kernel_drops "$summary")
	ps_recs=$(python3 -c '
import json, sys
n = 0
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get("type") == "exporter_health":
        n += m.get("flow", {}).get("data_records", 0)
print(n)' "$work/out.json")
	nf_recs=0
	for f in "$work"/nfcapd/nfcapd.*; do
		[ -e "$f" ] || continue
		n=$(nfdump -r "$f" -I | sed -n 's/^Flows: \([0-9]*\)/\1/p')
		nf_recs=$((nf_recs + ${n:-0}))
	done
	awk -v r="$run" -v pc="$ps_cpu" -v nc="$nf_cpu" -v pt="$ps_ticks" \
		-v nt="$nf_ticks" -v hz="$hz" -v pr="$ps_recs" -v nr="$nf_recs" \
		-v psent="$ps_sent" -v nsent="$nf_sent" -v pd="$ps_dgrams" \
		-v recv="$ps_recv" -v drops="$ps_drops" -v ps="$ps_secs" \
		-v ns="$nf_secs" -v load="$load" -v out="$work/ratios" 'BEGIN {
		pn = pr > 0 ? pc / pr : 0; nn = nr > 0 ? nc / nr : 0;
		ratio = nn > 0 ? pn / nn : 0;
		lossless = recv + drops == pd && drops == 0 && pr == psent;
		loss = "loss 0";
		if (!lossless)
			loss = sprintf("LOSS: received %d + kernel drops %d " \
				"of %d datagrams, %d of %d records", recv,
				drops, pd, pr, psent);
		pk = pr > 0 ? pt / hz * 1e9 / pr : 0;
		nk = nr > 0 ? nt / hz * 1e9 / nr : 0;
		printf "run %d: peerscope %.0f ns/record (%.0f by ticks), " \
			"%d of %d records at %.2f M/s, %s\n", r, pn, pk, pr,
			psent, psent / ps / 1e6, loss;
		printf "run %d: nfcapd    %.0f ns/record (%.0f by ticks), " \
			"%d of %d records at %.2f M/s\n", r, nn, nk, nr,
			nsent, nsent / ns / 1e6;
		printf "run %d: ratio %.2f (load average %s)\n", r, ratio, load;
		printf "%.4f %.1f %.1f %d\n", ratio, pn, nn, !lossless >> out
	}'
done
median() { # the median of column $1 of the runs file
	sort -n -k"$1" "$work/ratios" | awk -v k="$1" '
		{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'
}
awk -v mr="$(median 1)" -v mp="$(median 2)" -v mn="$(median 3)" '
	NR == 1 || $1 < lo { lo = $1 }
	NR == 1 || $1 > hi { hi = $1 }
	{ lossy += $4 }
	END {
		printf "median ratio %.2f (min %.2f, max %.2f) over %d runs; " \
			"median ns/record peerscope %.0f, nfcapd %.0f; " \
			"runs with peerscope loss: %d\n",
			mr, lo, hi, NR, mp, mn, lossy }' "$work/ratios"
