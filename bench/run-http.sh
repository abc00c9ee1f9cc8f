#!/usr/bin/env bash
# GET /api/users/{id} with wrk -t2 -c64 through troupe (dev mode and two nodes), beside
# baselines measured in the same run: a minimal Beast server answering the same JSON
# directly, and troupe's HTTP server answering without the actor hop. Prints ratios.
# Usage: bench/run-http.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=${1:-build-bench}
secs=${2:-10}
troupe="$build/troupe"
baseline="$build/bench/bench_http_baseline"
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d /tmp/troupe-bench-http-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Starts a process logging to $work/$1.log and waits for its ready line, left in $line.
start() {
  local name=$1; shift
  "$@" > "$work/$name.log" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 300); do
    if grep -q "ready" "$work/$name.log" 2>/dev/null; then line=$(grep -m1 "ready" "$work/$name.log"); return; fi
    sleep 0.05
  done
  echo "$name did not start" >&2; cat "$work/$name.err" >&2; exit 1
}
stop_last() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

# wrk: prints "req/s p50 p99" (latencies in ms).
measure() {
  local out
  out=$(wrk -t2 -c64 -d"${secs}s" --latency "$1")
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local errors
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  [ -n "$errors" ] && echo "  ($errors)" >&2
  echo "$rps $p50 $p99"
}

create_user() {
  curl -sf -X POST "http://$1/api/users" -H 'Content-Type: application/json' \
       -d '{"id":"bench","name":"Bench","email":"bench@example.com"}' >/dev/null
}

declare -A rps p50 p99
run() {  # name url
  read -r rps[$1] p50[$1] p99[$1] < <(measure "$2")
}

start bare "$baseline" --mode bare
run bare "http://127.0.0.1:${line##*port=}/api/users/bench"; stop_last

start runtime "$baseline" --mode runtime
run runtime "http://127.0.0.1:${line##*port=}/api/users/bench"; stop_last

start dev "$troupe" --http 127.0.0.1:0 --data "$work/dev-data"
http=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line")
create_user "$http"
dev_pid=${pids[-1]}
rss_idle=$(awk '/VmRSS/ {print $2}' "/proc/$dev_pid/status")
run dev "http://$http/api/users/bench"
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$dev_pid/status")
stop_last

edge_listen=$(free_port); core_listen=$(free_port); edge_http=$(free_port)
cat > "$work/two.json" <<JSON
{"data_dir": "$work/two-data", "nodes": {
  "edge": {"listen": "127.0.0.1:$edge_listen", "http": "127.0.0.1:$edge_http", "capabilities": ["gateway"]},
  "core": {"listen": "127.0.0.1:$core_listen", "capabilities": ["users"]}}}
JSON
start core "$troupe" run --topology "$work/two.json" --node core
start edge "$troupe" run --topology "$work/two.json" --node edge
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$edge_http/ready" >/dev/null && break; sleep 0.05; done
create_user "127.0.0.1:$edge_http"
run two "http://127.0.0.1:$edge_http/api/users/bench"

printf '\nGET /api/users/{id}, wrk -t2 -c64 -d%ss, %s cores (client and servers share them)\n' "$secs" "$(nproc)"
printf '%-44s %10s %9s %9s %8s\n' "server" "req/s" "p50" "p99" "vs bare"
for k in bare runtime dev two; do
  case $k in
    bare) label="bare Beast server, answers directly";;
    runtime) label="troupe HTTP server, answers directly";;
    dev) label="troupe dev mode (gateway -> users actors)";;
    two) label="troupe two nodes (gateway | users)";;
  esac
  ratio=$(awk -v a="${rps[$k]}" -v b="${rps[bare]}" 'BEGIN {printf "%.2fx", a/b}')
  printf '%-44s %10s %9s %9s %8s\n' "$label" "${rps[$k]}" "${p50[$k]}" "${p99[$k]}" "$ratio"
done
printf '\ntroupe binary: %s bytes; dev-mode RSS: %s KiB idle, %s KiB after the run\n' \
  "$(stat -c %s "$troupe")" "$rss_idle" "$rss_after"
