#!/usr/bin/env bash
# Runs bench_dashboard: (1) the time the runs dashboard's server takes to answer
# /api/runs/NAME/metrics?max=2000 for a run with 1,000,000 logged lines (first request: the parse;
# second: the cache; then one appended line), and (2) how much 20 open dashboards (both event
# streams held open, the metrics fetched every 3 s) slow a `gantry train` of a small DCGAN on the
# same machine, against the same run alone before and after (target < 5%). On a shared machine
# the load average moves these numbers: it is printed.
# usage: bench/run_bench_dashboard.sh [steps per training run (2000)] [build folder (build)]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${2:-build}"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target bench_dashboard gantry_cli >/dev/null
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc --all) cores"
"$BUILD/bench_dashboard" "$BUILD/gantry" "${1:-2000}" "${TMPDIR:-/tmp}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
