# lib.sh - shared by the collector comparisons (compare_*.sh): a scratch
# folder removed at exit with the processes started here, and a bounded
# stop of those processes by PID.  Source it after `set -euo pipefail`.

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

# stop_within SECONDS PID...: TERM, then KILL what is still there after
# SECONDS (checked every 0.1 s).
stop_within() {
	local tenths=$(($1 * 10))
	shift
	kill "$@" 2>/dev/null || true
	for _ in $(seq 1 "$tenths"); do
		alive=0
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
		((alive)) || break
		sleep 0.1
	done
	kill -9 "$@" 2>/dev/null || true
	wait "$@" 2>/dev/null || true
}
