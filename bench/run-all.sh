#!/usr/bin/env bash
# Runs every benchmark against a Release build. Run on an idle machine: not during a build.
set -euo pipefail
build=${1:-build-bench}
cd "$(dirname "$0")/.."
bench/run-http.sh "$build" "${HTTP_SECONDS:-10}"
echo
"$build/bench/bench_capability_call" --troupe "$build/troupe" --seconds "${CALL_SECONDS:-3}"
echo
bench/run-sagas.sh "$build" "${SAGA_SECONDS:-10}" "${SAGA_ROUNDS:-3}"
