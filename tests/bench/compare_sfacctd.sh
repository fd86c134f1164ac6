#!/usr/bin/env bash
# CPU per sFlow sample: peerscope against pmacct's sfacctd, on the same
# stream in the same run.  Each collector listens on its own loopback port;
# peerscope-bench sends the identical synthetic stream to one, then the
# other, at the same rate, and the collectors' CPU time (user + system,
# all threads and, for sfacctd, its plugin process) is read from /proc
# before and after.  Only processes started here are signalled, by PID.
#
#   tests/bench/compare_sfacctd.sh BUILD_DIR [RATE] [SECONDS] [RUNS]
set -euo pipefail
build=${1:?usage: compare_sfacctd.sh BUILD_DIR [RATE] [SECONDS] [RUNS]}
rate=${2:-100000}
seconds=${3:-3}
runs=${4:-3}
bench=$build/tests/bench/peerscope-bench
peerscope=$build/peerscope
command -v sfacctd >/dev/null || {
	echo "sfacctd not found: apt-get install pmacct" >&2
	exit 1
}
# shellcheck source=tests/bench/lib.sh
source "$(dirname "$0")/lib.sh"

ticks() { # user+system clock ticks of the given PIDs
	local t=0
	for p in "$@"; do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}

# send the stream to a port; print the sent datagram and sample counts
send() {
	"$bench" loopback --synthetic --no-child --rate "$rate" \
		--seconds "$seconds" --port "$1" --cpu 1 2>&1 |
		grep '^run 1:'
}

cat >"$work/sfacctd.conf" <<CONF
daemonize: false
sfacctd_ip: 127.0.0.1
sfacctd_port: 16343
plugins: print[p]
print_output_file[p]: $work/sfacctd.out
print_refresh_time[p]: 60
aggregate[p]: src_host, dst_host, in_iface, out_iface
CONF

samples_per_datagram=$("$bench" offline --synthetic --seconds 1 --repeat 1 2>&1 |
	sed -n 's/.*samples_per_datagram=\([0-9.]*\).*/\1/p' | head -n 1)
echo "stream: synthetic, ${samples_per_datagram} samples/datagram, ${rate} datagrams/s for ${seconds}s"

for run in $(seq 1 "$runs"); do
	taskset -c 0 "$peerscope" --set listen.sflow=127.0.0.1:16344 \
		--set listen.ipfix= --set listen.netflow= \
		--set http.enabled=false --set allow_root=true --workers 1 \
		--output /dev/null 2>"$work/peerscope.log" &
	pp=$!
	pids+=("$pp")
	taskset -c 0 sfacctd -f "$work/sfacctd.conf" >"$work/sfacctd.log" 2>&1 &
	sp=$!
	pids+=("$sp")
	sleep 1
	sfa=("$sp" $(pgrep -P "$sp" || true))

	before=$(ticks "$pp")
	sent_p=$(send 16344)
	sleep 0.5
	cpu_p=$(($(ticks "$pp") - before))

	before=$(ticks "${sfa[@]}")
	sent_s=$(send 16343)
	sleep 0.5
	cpu_s=$(($(ticks "${sfa[@]}") - before))

	stop_within 5 "$pp" "${sfa[@]}"
	dg_p=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$sent_p")
	dg_s=$(sed -n 's/.* sent=\([0-9]*\).*/\1/p' <<<"$sent_s")
	hz=$(getconf CLK_TCK)
	awk -v r="$run" -v cp="$cpu_p" -v cs="$cpu_s" -v dp="$dg_p" -v ds="$dg_s" \
		-v spd="$samples_per_datagram" -v hz="$hz" 'BEGIN {
		np = cp / hz * 1e9 / (dp * spd); ns = cs / hz * 1e9 / (ds * spd);
		printf "run %d: peerscope %.0f ns/sample, sfacctd %.0f ns/sample, ratio %.2f\n",
			r, np, ns, np / ns }'
done
