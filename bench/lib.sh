# Shared by the benchmark scripts: a work folder cleaned on exit, processes started and
# waited for, free ports. Source it after setting `name_of_run`.
command -v wrk >/dev/null || { echo "wrk missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d "/tmp/troupe-bench-${name_of_run:-run}-XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# Every node started here verifies bearer tokens with this secret; $auth is a header with an
# admin token for it (minted by the troupe binary given, as a user would: `troupe token`).
export TROUPE_JWT_SECRET
TROUPE_JWT_SECRET=$(head -c 36 /dev/urandom | base64 | tr -d '\n')
bench_auth() { echo "Authorization: Bearer $("$1" token --data "$work/token" --sub bench --scope admin --ttl 1d)"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Starts a process logging to $work/$1.log and waits (30 s) for its ready line, left in $line.
start() {
  local name=$1; shift
  "$@" > "$work/$name.log" 2> "$work/$name.err" &
  pids+=($!)
  for _ in $(seq 1 600); do
    if grep -q "ready" "$work/$name.log" 2>/dev/null; then line=$(grep -m1 "ready" "$work/$name.log"); return; fi
    sleep 0.05
  done
  echo "$name did not start" >&2; cat "$work/$name.err" >&2; exit 1
}
