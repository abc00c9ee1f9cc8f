#!/usr/bin/env bash
# GET /api/users/{id} with wrk -t2 -c64 through troupe (dev mode and two nodes), beside
# baselines measured in the same run: a minimal Beast server answering the same JSON
# directly, and troupe's HTTP server answering without the actor hop. All servers run at
# once (idle ones cost nothing) and are measured in alternation for ROUNDS rounds, so slow
# drifts of a shared machine hit every row alike; the table shows medians and the median of
# the per-round ratios to the bare server.
# Usage: bench/run-http.sh [BUILD_DIR] [SECONDS] [ROUNDS]
# TROUPE_BEFORE=/path/to/an/older/troupe adds its dev mode as a row, measured in the same
# alternation, for before/after comparisons of a change.
set -euo pipefail
build=${1:-build-bench}
secs=${2:-10}
rounds=${3:-3}
troupe="$build/troupe"
baseline="$build/bench/bench_http_baseline"
name_of_run=http
source "$(dirname "$0")/lib.sh"
auth=$(bench_auth "$troupe")

create_user() {
  curl -sf -X POST "http://$1/api/users" -H 'Content-Type: application/json' -H "$auth" \
       -d '{"id":"bench","name":"Bench","email":"bench@example.com"}' >/dev/null
}

declare -A url label admin
start bare "$baseline" --mode bare
url[bare]="http://127.0.0.1:${line##*port=}/api/users/bench"
start runtime "$baseline" --mode runtime
url[runtime]="http://127.0.0.1:${line##*port=}/api/users/bench"
start dev "$troupe" --http 127.0.0.1:0 --data "$work/dev-data"
dev_http=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line")
dev_pid=${pids[-1]}
create_user "$dev_http"
url[dev]="http://$dev_http/api/users/bench"
if [ -n "${TROUPE_BEFORE:-}" ]; then
  start before "$TROUPE_BEFORE" --http 127.0.0.1:0 --data "$work/before-data"
  before_http=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line")
  create_user "$before_http"
  url[before]="http://$before_http/api/users/bench"
fi
core_listen=$(free_port)  # the one fixed port: edge dials it
# Rate limits off as in dev mode (the default 100 per 15 minutes would answer 429s).
cat > "$work/two.json" <<JSON
{"data_dir": "$work/two-data",
 "capabilities": {"gateway": {"rate_limit": {"per_client": {"requests": 0}, "per_subject": {"requests": 0}}}},
 "nodes": {
  "edge": {"http": "127.0.0.1:0", "capabilities": ["gateway"]},
  "core": {"listen": "127.0.0.1:$core_listen", "capabilities": ["users"]}}}
JSON
start core "$troupe" run --topology "$work/two.json" --node core
start edge "$troupe" run --topology "$work/two.json" --node edge  # ready: core reachable
edge_http=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line")
create_user "$edge_http"
url[two]="http://$edge_http/api/users/bench"
# The gateway as production runs it, with and without what issue 8 adds: the same node
# (gateway + users) with rate limits (buckets that never run out, so every request takes a
# token and none is refused) and tracing (every request sampled: a server span, a client
# span, OTLP JSON to a file) on, then both off; bearer tokens and metrics in both.
for variant in secured plain; do
  extra='"rate_limit": {"per_client": {"requests": 0}, "per_subject": {"requests": 0}}'
  tracing='"exporter": "none"'
  if [ "$variant" = secured ]; then
    extra='"rate_limit": {"per_client": {"requests": 1000000000, "window_s": 60}, "per_subject": {"requests": 1000000000, "window_s": 60}}'
    tracing="\"exporter\": \"file\", \"file\": \"$work/traces.jsonl\", \"max_file_mb\": 8192"
  fi
  cat > "$work/$variant.json" <<JSON
{"data_dir": "$work/$variant-data", "tracing": {$tracing},
 "nodes": {"dev": {"http": "127.0.0.1:0", "admin": "127.0.0.1:0", "capabilities": ["gateway", "users"]}},
 "capabilities": {"gateway": {"auth": {"secret_env": "TROUPE_JWT_SECRET"}, $extra}}}
JSON
  start "$variant" "$troupe" run --topology "$work/$variant.json" --node dev
  http_of=$(sed -E 's/.* http=([^ ]+).*/\1/' <<<"$line")
  create_user "$http_of"
  url[$variant]="http://$http_of/api/users/bench"
  admin[$variant]=$(sed -E 's/.* admin=([^ ]+).*/\1/' <<<"$line")
done
rss_idle=$(awk '/VmRSS/ {print $2}' "/proc/$dev_pid/status")

label[bare]="bare Beast server, answers directly"
label[runtime]="troupe HTTP server, answers directly"
label[dev]="troupe dev mode (gateway -> users, traced)"
label[two]="troupe two nodes (gateway | users)"
label[before]="troupe dev mode, TROUPE_BEFORE build"
label[secured]="gateway: rate limits + tracing on"
label[plain]="gateway: rate limits + tracing off"
order=(bare runtime dev two secured plain)
[ -n "${TROUPE_BEFORE:-}" ] && order=(bare runtime before dev two secured plain)

# One wrk run: "req/s p50 p99" (latencies as wrk prints them).
measure() {
  local out
  out=$(wrk -t2 -c64 -d"${secs}s" --latency -H "$auth" "$1")
  # A row that answers errors measures nothing: stop rather than print it.
  if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
    echo "$1 answered errors:" >&2; grep -E "Non-2xx|Socket errors" <<<"$out" >&2; exit 1
  fi
  echo "$(awk '/Requests\/sec/ {print $2}' <<<"$out") $(awk '$1=="50%" {print $2}' <<<"$out") $(awk '$1=="99%" {print $2}' <<<"$out")"
}

: > "$work/results"
for r in $(seq 1 "$rounds"); do
  for k in "${order[@]}"; do
    figures=$(measure "${url[$k]}")
    echo "$r $k $figures" >> "$work/results"
  done
done
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$dev_pid/status")

printf '\nGET /api/users/{id}, wrk -t2 -c64 -d%ss, %s rounds in alternation, %s cores shared by client and servers\n' \
  "$secs" "$rounds" "$(nproc)"
printf '%-40s %10s %9s %9s %9s %s\n' "server (medians)" "req/s" "p50" "p99" "vs bare" "(per round)"
for k in "${order[@]}"; do
  awk -v k="$k" -v name="${label[$k]}" '
    { rps[$1 " " $2] = $3; if ($2 == k) { n++; r[n] = $3; p50[n] = $4; p99[n] = $5 } }
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return a[int((n + 1) / 2)]
    }
    END {
      for (i = 1; i <= n; i++) { ratio[i] = rps[i " " k] / rps[i " bare"]; shown = shown sprintf(" %.2f", ratio[i]) }
      # latencies carry units (us/ms): report the round with the median throughput
      m = median(r, n); for (i = 1; i <= n; i++) if (r[i] == m) mid = i
      printf "%-40s %10.0f %9s %9s %8.2fx %s\n", name, m, p50[mid], p99[mid], median(ratio, n), "(" substr(shown, 2) ")"
    }' "$work/results"
done
spans=$(curl -sf "http://${admin[secured]}/metrics" | awk '/^trace_spans_exported_total\{exporter="file"\}/ {e=$2} /^trace_spans_dropped_total/ {d+=$2} END {printf "%d spans exported, %d dropped", e, d}')
printf '\n"secured" and "plain": one node (gateway + users), bearer token and metrics in both; tracing sampled every request (%s)\n' "$spans"
printf '\ntroupe binary: %s bytes; dev-mode RSS: %s KiB idle, %s KiB after the run\n' \
  "$(stat -c %s "$troupe")" "$rss_idle" "$rss_after"
