#!/usr/bin/env bash
# Overload: POST /api/orders (one durable saga each) offered open-loop at half, once and twice
# the sustainable rate, then half again (2 s while the backlog clears, then 5 s), to a dev-mode node with load shedding as configured
# by default, and to the same node with shedding turned off as the baseline (same offered
# rates, measured in the same run). See bench_overload for what each column means.
# Usage: bench/run-overload.sh [BUILD_DIR] [PHASES]   (PHASES: MULTIPLExSECONDS,...)
set -euo pipefail
build=${1:-build-bench}
phases=${2:-0.5x5,1x5,2x10,0.5x2,0.5x5}
troupe="$build/troupe"
name_of_run=overload
source "$(dirname "$0")/lib.sh"
auth=$(bench_auth "$troupe")

body='{"customer":"u-bench","items":[{"sku":"BENCH","quantity":1}]}'
settings='"payments": {"decline_over": 1000000000}'
write_topology() {  # name, extra runtime settings
  cat > "$work/$1.json" <<JSON
{"data_dir": "$work/$1-data", $2 "nodes": {
  "dev": {"http": "127.0.0.1:0", "capabilities": ["gateway", "users", "orders", "inventory", "payments"]}},
 "capabilities": {$settings}}
JSON
}
write_topology shedding ''
write_topology unbounded '"calls": {"max_queue_ms": 0, "max_in_flight": 1000000},'

# Starts the node `name`, stocks the shop, runs the load, stops the node.
run() {
  local name=$1; shift
  start "$name" "$troupe" run --topology "$work/$name.json" --node dev
  local pid=${pids[-1]}
  local http; http=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line")
  curl -sf -X POST "http://$http/api/users" -H 'Content-Type: application/json' -H "$auth" \
       -d '{"id":"u-bench","name":"Bench","email":"bench@example.com"}' >/dev/null
  curl -sf -X PUT "http://$http/api/inventory/BENCH" -H 'Content-Type: application/json' -H "$auth" \
       -d '{"quantity":1000000000,"price":100,"currency":"EUR"}' >/dev/null
  "$build/bench/bench_overload" --url "http://$http/api/orders" --method POST --body "$body" --authorization "${auth#Authorization: }" \
      --pid "$pid" --phases "$phases" --max-connections 9000 --calibrate-connections 128 "$@" | tee "$work/$name.out"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

printf 'POST /api/orders, open loop, %s cores shared by the load and the node\n\n' "$(nproc)"
run shedding --label "load shedding on (defaults: calls.max_queue_ms 1000, max_in_flight 1024)"
rate=$(sed -nE 's/.*sustainable rate ([0-9]+) req.*/\1/p' "$work/shedding.out")
echo
run unbounded --rate "$rate" \
    --label "baseline: shedding off (max_queue_ms 0, max_in_flight 1000000), same offered rates"
