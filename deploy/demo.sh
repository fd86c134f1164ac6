#!/usr/bin/env bash
# The main job on the embedded default: install dependencies, build, replay
# the bundled sFlow capture through the full pipeline and show the
# per-connection metrics it publishes.
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPEERSCOPE_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

out=$(mktemp)
log=$(mktemp)
pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	rm -f "$out" "$log"
}
trap cleanup EXIT
# Kafka on the embedded broker: peerscope starts an in-process
# Kafka-protocol broker on loopback, publishes every message to it, and
# keeps it up after the replay (serve_seconds) so consumers can read it.
./build/peerscope replay --window 60 --set output.kafka.enabled=true \
	--set output.kafka.serve_seconds=60 \
	tests/data/demo-sflow.pcap.gz >"$out" 2>"$log" &
pid=$!
for _ in $(seq 300); do
	grep -q "event=kafka_serving" "$log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
cat "$log"
# The embedded broker's address is in the runtime directory: peerscope top
# finds it there, and so can any client.
broker=$(cat /run/peerscope/kafka-brokers 2>/dev/null ||
	sed -n 's/.*event=kafka_embedded_broker .*brokers=\([^ ]*\).*/\1/p' "$log")
echo
if [ -r /run/peerscope/kafka-brokers ]; then
	echo "== consumed back from Kafka (./build/peerscope top --once: the address is in /run/peerscope/kafka-brokers)"
	./build/peerscope top --once
else
	echo "== consumed back from Kafka (./build/peerscope top --once --brokers $broker)"
	./build/peerscope top --once --brokers "$broker"
fi
if command -v kcat >/dev/null; then
	echo
	echo "== the same topic with kcat (kcat -C -b $broker -t peerscope.connection.metrics -e)"
	kcat -C -b "$broker" -t peerscope.connection.metrics -o beginning -e -q \
		-f 'partition %p offset %o key %k headers %h: %S bytes\n'
fi
kill "$pid" && wait "$pid" || true
pid=

echo
echo "== per-connection metrics (JSON lines: ./build/peerscope replay tests/data/demo-sflow.pcap.gz)"
python3 - "$out" <<'PY'
import json, sys
def rate(block):
    return "%10.1f kb/s" % (block["bits_per_second"] / 1e3) if block else "%15s" % "-"
print("%-24s %-20s %-6s %-15s %-15s %-15s %-15s" % ("window start", "connection", "oper",
      "in counters", "in samples", "out counters", "out samples"))
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] != "connection_metrics":
        continue
    print("%-24s %-20s %-6s %s %s %s %s" % (m["window"]["start"], m["connection_id"],
          m["oper_status"], rate(m["in"]["counters"]), rate(m["in"]["samples"]),
          rate(m["out"]["counters"]), rate(m["out"]["samples"])))
PY
echo
echo "== first message of each type"
python3 - "$out" <<'PY'
import json, sys
seen = set()
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] not in seen:
        seen.add(m["type"])
        print(json.dumps(m, indent=2))
PY
