#!/usr/bin/env bash
# Runs bench_first_paint: the runs dashboard's first paint on a run of 1,000,000 logged metrics lines
# (written into a temporary folder, deleted afterwards): Chromium's time from navigation to the run's
# loss chart drawn, first visit right after `gantry lab --runs` starts, then the median of 5 visits.
# usage: bench/run_bench_dashboard_paint.sh [lines (1000000)]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target gantry_cli >/dev/null
GANTRY_BIN=build/gantry GANTRY_WEB=web node bench/bench_first_paint.mjs "${1:-1000000}"
