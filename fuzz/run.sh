#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS on its seed corpus (fuzz/corpus/<target>, plus the
# topologies under deploy/ for fuzz_topology). A crash, a leak, undefined behaviour, an
# uncaught exception or a timeout fails the run and names the input that caused it.
# Usage: fuzz/run.sh BUILD_DIR SECONDS [TARGET...]
set -euo pipefail
build=${1:?build dir}
seconds=${2:?seconds per target}
shift 2
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(http_request jwt topology events)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
  seeds=("$here/corpus/$t")
  [ "$t" = topology ] && seeds+=("$here/../deploy")
  mkdir -p "$work/$t" "$work/$t-crash"
  echo "fuzz: $t for ${seconds} s"
  # New inputs go to the scratch corpus: the repository's seeds stay as committed.
  if ! "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/$t-crash/" \
      "$work/$t" "${seeds[@]}" > "$work/$t.log" 2>&1; then
    tail -n 60 "$work/$t.log"
    for f in "$work/$t-crash"/*; do
      [ -f "$f" ] || continue
      mkdir -p "$build/fuzz-findings"
      cp "$f" "$build/fuzz-findings/"
      echo "fuzz: $t failed on $build/fuzz-findings/$(basename "$f")"
    done
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$t.log" | sed "s/^/fuzz: $t /"
done
