#!/usr/bin/env bash
# The main job on the embedded default: install dependencies, build, replay
# a router's IPFIX flows and BMP feed (tests/data/peering/ipfix.pcap.gz)
# with its connections configured (deploy/examples/peerscope.demo.yaml)
# through the full pipeline, and show what it publishes per connection:
# status (direct and exchange), bandwidth, events.  Then measure latency
# live with active probes (deploy/examples/peerscope.demo-probes.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."

bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPEERSCOPE_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

capture=tests/data/peering/ipfix.pcap.gz
config=deploy/examples/peerscope.demo.yaml
out=$(mktemp)
log=$(mktemp)
probes=$(mktemp -d)
pid=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
	rm -f "$out" "$log"
	rm -rf "$probes"
}
trap cleanup EXIT
# Kafka on the embedded broker: peerscope starts an in-process
# Kafka-protocol broker on loopback, publishes every message to it, and
# keeps it up after the replay (serve_seconds) so consumers can read it.
./build/peerscope replay --config "$config" --set output.kafka.enabled=true \
	--set output.kafka.serve_seconds=60 "$capture" >"$out" 2>"$log" &
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
echo "== connections: status changes (connection_event; ./build/peerscope replay --config $config $capture)"
python3 - "$out" <<'PY'
import json, sys
def why(r):
    where = r["session"] or r["method"] or {0: "in", 1: "out"}.get(r["direction"], "")
    figure = " %g > %g" % (r["value"], r["threshold"]) if r["value"] is not None else ""
    return r["reason"] + (" " + where if where else "") + figure
print("%-24s %-12s %-9s %-9s %s" % ("time", "connection", "kind", "status", "reasons"))
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] == "connection_event":
        print("%-24s %-12s %-9s %-9s %s" % (m["time"], m["connection_id"], m["kind"],
              m["status"], ", ".join(why(r) for r in m["reasons"]) or "-"))
PY
echo
echo "== per-connection metrics, one line per connection and window (connection_metrics)"
python3 - "$out" <<'PY'
import json, sys
def rate(d):
    for src in ("counters", "samples", "flows"):
        b = d.get(src)
        if b and b.get("bits_per_second") is not None:
            return "%9.1f kb/s %-8s" % (b["bits_per_second"] / 1e3, src)
    return "%20s" % "-"
print("%-24s %-20s %-9s %-29s %-29s" % ("window start", "connection", "status",
      "in", "out"))
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] == "connection_metrics":
        print("%-24s %-20s %-9s %s  %s" % (m["window"]["start"], m["connection_id"],
              m.get("status") or "-", rate(m["in"]), rate(m["out"])))
PY
echo
echo "== latency: active probes, live for 12 s (./build/peerscope --config deploy/examples/peerscope.demo-probes.yaml)"
./build/peerscope --config deploy/examples/peerscope.demo-probes.yaml \
	--set runtime_dir="$probes" -o "$probes/out.jsonl" 2>"$probes/log" &
pid=$!
sleep 12
kill "$pid" && wait "$pid" || true
pid=
python3 - "$probes/out.jsonl" <<'PY'
import json, sys
print("%-24s %-14s %-12s %5s %5s %7s %8s %8s %9s  %s" % ("window start", "connection",
      "source", "sent", "lost", "loss %", "p50 ms", "p99 ms", "jitter ms", "targets"))
status = None
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m["type"] != "connection_metrics":
        continue
    status = m.get("status"), [r["reason"] for r in m.get("status_reasons") or []]
    for src, b in sorted((m.get("latency") or {}).items()):
        if b and "sent" in b:
            print("%-24s %-14s %-12s %5d %5d %7.1f %8.3f %8.3f %9.3f  %s" % (
                m["window"]["start"], m["connection_id"], src, b["sent"], b["lost"],
                b["loss_pct"], b["p50_ms"] or 0, b["p99_ms"] or 0, b["jitter_ms"] or 0,
                " ".join(b["targets"])))
if status:
    print("status: %s (%s): probe loss or p99 past status.degraded.probe_* would make a"
          % (status[0], ", ".join(status[1]) or "-"))
    print("connection whose BGP sessions are up degraded; this one has no BMP feed")
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
