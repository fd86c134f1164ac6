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
trap 'rm -f "$out"' EXIT
./build/peerscope replay --window 60 tests/data/demo-sflow.pcap.gz >"$out"

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
