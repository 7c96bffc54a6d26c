#!/usr/bin/env bash
# The exported C generator (gantry export / gt_prog_export_c) against the same network through the
# library (gt_net_forward at batch 1, 1 and 2 threads), per image: DCGAN 28 px at the teacher's
# width (ngf 64) and a student's (ngf 20); the exported file compiled with cc -O2 and with
# cc -O3 -march=native. The paths take turns for ROUNDS rounds (>= 40 ms each) and each reports its
# best round (the machine is shared). About a minute, most of it compiling.
# usage: bench/run_bench_export.sh [rounds]     (BUILD=build-dir, default build)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-15}"
BUILD="${BUILD:-build}"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target bench_export >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores); cc: $(cc --version | head -1)"
OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2 "$BUILD/bench_export" "$tmp" "$ROUNDS" >"$tmp/out.tsv"
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
grep '^#' "$tmp/out.tsv" | sed 's/^# /  /'
echo
printf '| %-14s | %-36s | %12s | %24s | %12s |\n' config path "ms / image" "speed-up vs library 1 th" "max |diff|"
printf '|%s|%s|%s|%s|%s|\n' "----------------" "--------------------------------------" "--------------" \
  "--------------------------" "--------------"
grep -v '^#' "$tmp/out.tsv" | tail -n +2 | while IFS=$'\t' read -r cfg path ms ratio diff; do
  printf '| %-14s | %-36s | %12s | %24s | %12s |\n' "$cfg" "$path" "$ms" "$ratio" "$diff"
done
