#!/usr/bin/env bash
# Place-order sagas per second through HTTP (POST /api/orders, wrk with a Lua body), in dev
# mode (co-located) and on the three-node topology, beside the raw SQLite commit rate of this
# machine measured in the same run. Every order is a full durable saga: customer check,
# pending order, reservation, charge, confirmation, commit; each step logged before it is
# sent and each participant's change committed with synchronous=FULL.
# Usage: bench/run-sagas.sh [BUILD_DIR] [SECONDS] [ROUNDS] [CONNECTIONS...]
# TROUPE_BEFORE=/path/to/older/troupe adds that build in dev mode, measured in the same rounds.
set -euo pipefail
build=${1:-build-bench}
secs=${2:-10}
rounds=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
conns=("$@")
[ ${#conns[@]} -eq 0 ] && conns=(8 32)
troupe="$build/troupe"
name_of_run=sagas
source "$(dirname "$0")/lib.sh"
auth=$(bench_auth "$troupe")

setup_shop() {
  curl -sf -X POST "http://$1/api/users" -H 'Content-Type: application/json' -H "$auth" \
       -d '{"id":"u-bench","name":"Bench","email":"bench@example.com"}' >/dev/null
  curl -sf -X PUT "http://$1/api/inventory/BENCH" -H 'Content-Type: application/json' -H "$auth" \
       -d '{"quantity":1000000000,"price":100,"currency":"EUR"}' >/dev/null
}

cat > "$work/order.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"customer":"u-bench","items":[{"sku":"BENCH","quantity":1}]}'
wrk.headers["Content-Type"] = "application/json"
LUA

settings='"payments": {"decline_over": 1000000000}, "gateway": {"request_timeout_ms": 10000}'
cat > "$work/dev.json" <<JSON
{"data_dir": "$work/dev-data", "nodes": {
  "dev": {"http": "127.0.0.1:0", "capabilities": ["gateway", "users", "orders", "inventory", "payments"]}},
 "capabilities": {$settings}}
JSON
shop_port=$(free_port); stock_port=$(free_port)
cat > "$work/three.json" <<JSON
{"data_dir": "$work/three-data", "nodes": {
  "edge": {"http": "127.0.0.1:0", "capabilities": ["gateway"]},
  "shop": {"listen": "127.0.0.1:$shop_port", "capabilities": ["users", "orders"]},
  "stock": {"listen": "127.0.0.1:$stock_port", "capabilities": ["inventory", "payments"]}},
 "capabilities": {$settings}}
JSON

declare -A url label
kinds=(dev three)
start dev "$troupe" run --topology "$work/dev.json" --node dev
dev_http=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line"); setup_shop "$dev_http"
url[dev]="http://$dev_http/api/orders"
if [ -n "${TROUPE_BEFORE:-}" ]; then
  sed "s|$work/dev-data|$work/before-data|" "$work/dev.json" > "$work/before.json"
  start before "$TROUPE_BEFORE" run --topology "$work/before.json" --node dev
  before_http=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line"); setup_shop "$before_http"
  url[before]="http://$before_http/api/orders"
  label[before]="dev mode, the build before (TROUPE_BEFORE)"
  kinds=(before dev three)
fi
start stock "$troupe" run --topology "$work/three.json" --node stock
start shop "$troupe" run --topology "$work/three.json" --node shop
start edge "$troupe" run --topology "$work/three.json" --node edge
edge_http=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line"); setup_shop "$edge_http"
url[three]="http://$edge_http/api/orders"
label[dev]="dev mode (one process)"
label[three]="three nodes (gateway | users+orders | inventory+payments)"

measure() {  # url connections -> "req/s p50 p99 non2xx"
  local out
  out=$(wrk -t2 -c"$2" -d"${secs}s" --latency -H "$auth" -s "$work/order.lua" "$1")
  local bad; bad=$(awk '/Non-2xx/ {print $NF}' <<<"$out"); bad=${bad:-0}
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out") $bad"
}

: > "$work/results"
sqlite_line=""
for r in $(seq 1 "$rounds"); do
  for c in "${conns[@]}"; do
    for k in "${kinds[@]}"; do echo "$r $k $c $(measure "${url[$k]}" "$c")" >> "$work/results"; done
  done
done
# The raw commit rate while the nodes idle (same files system, same minute).
sqlite=$("$build/bench/bench_sqlite_commit" 3)
commits=$(awk '/sqlite_commits_per_s/ {print $2}' <<<"$sqlite")
batched=$(awk '/batched/ {print $2}' <<<"$sqlite")

printf '\nPOST /api/orders (one durable place-order saga each), wrk -t2 -d%ss, %s rounds, %s cores shared by client and nodes\n' "$secs" "$rounds" "$(nproc)"
printf 'raw SQLite on this machine (WAL, synchronous=FULL): %s single-row commits/s, %s rows/s batched 50 per commit\n\n' "$commits" "$batched"
printf '%-58s %5s %9s %9s %9s %14s %s\n' "topology (medians)" "conns" "sagas/s" "p50" "p99" "vs commits/s" "errors"
for c in "${conns[@]}"; do
  for k in "${kinds[@]}"; do
    awk -v k="$k" -v c="$c" -v name="${label[$k]}" -v commits="$commits" '
      $2 == k && $3 == c { n++; r[n] = $4; p50[n] = $5; p99[n] = $6; bad += $7 }
      function median(a, n,   i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return a[int((n + 1) / 2)]
      }
      END {
        split("", sorted); for (i = 1; i <= n; i++) sorted[i] = r[i]
        m = median(sorted, n); for (i = 1; i <= n; i++) if (r[i] == m) mid = i
        printf "%-58s %5s %9.0f %9s %9s %13.2fx %s\n", name, c, m, p50[mid], p99[mid], m / commits, bad
      }' "$work/results"
  done
done
