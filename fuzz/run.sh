#!/usr/bin/env bash
# fuzz/run.sh SECONDS [HARNESS...]: runs each libFuzzer harness of fuzz/ (all by default:
# safetensors npy npz idx cifar image config sweep http) for SECONDS on its committed corpus
# fuzz/corpus/HARNESS/ (read only: new inputs go to a scratch corpus in a temporary folder,
# removed afterwards, also after a crash) and prints one line per harness: executions, edges covered (cov:),
# features (ft:), crashes. Exits non-zero when any harness crashed; the crashing input is left in
# $FUZZ_CRASH_DIR/HARNESS/ (default build-fuzz/crashes/HARNESS/) and libFuzzer's report is shown.
#   fuzz/run.sh --regress [HARNESS...]  runs each harness once over its corpus files (no fuzzing)
# Environment: FUZZ_BUILD (the clang tree; default build-fuzz, configured and built when missing
# or stale unless FUZZ_NO_BUILD=1), FUZZ_CRASH_DIR, FUZZ_ARGS (more libFuzzer options).
# Campaigns here ran one at a time: nice -n 10 fuzz/run.sh 1800 safetensors
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
all="safetensors npy npz idx cifar image config sweep http"
regress=0
if [ "${1:-}" = "--regress" ]; then regress=1; shift; else
  secs="${1:?usage: fuzz/run.sh SECONDS [harness...] | fuzz/run.sh --regress [harness...]}"; shift
  [[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz/run.sh: SECONDS must be a number, got '$secs'" >&2; exit 2; }
fi
harnesses="${*:-$all}"
build="${FUZZ_BUILD:-$root/build-fuzz}"
crashes="${FUZZ_CRASH_DIR:-$build/crashes}"
for h in $harnesses; do
  [ -f "$root/fuzz/fuzz_$h.c" ] || { echo "fuzz/run.sh: no harness '$h' (there are: $all)" >&2; exit 2; }
done
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
  if [ ! -f "$build/CMakeCache.txt" ]; then
    CC="${FUZZ_CC:-clang-14}" cmake -S "$root" -B "$build" -DGANTRY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  targets=""; for h in $harnesses; do targets="$targets --target fuzz_$h"; done
  cmake --build "$build" -j"$(nproc)" $targets >/dev/null
fi
# the scratch corpora and the harnesses' own files (GANTRY_FUZZ_TMP), in memory where /dev/shm is there
scratch=$(mktemp -d /dev/shm/gantry-fuzz-run-XXXXXX 2>/dev/null || mktemp -d "${TMPDIR:-/tmp}/gantry-fuzz-run-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export GANTRY_FUZZ_TMP="$scratch"
rc=0
printf '%-12s %10s %8s %8s %8s %8s %8s\n' harness execs "cov:" "ft:" corpus crashes seconds
for h in $harnesses; do
  bin="$build/fuzz/fuzz_$h"
  [ -x "$bin" ] || { echo "fuzz/run.sh: $bin is not built" >&2; exit 2; }
  corpus="$root/fuzz/corpus/$h"
  opts=(-rss_limit_mb=2048 -timeout=20 -print_final_stats=1)
  [ -f "$root/fuzz/$h.dict" ] && opts+=(-dict="$root/fuzz/$h.dict")
  case $h in http) opts+=(-max_len=8192) ;; image) opts+=(-max_len=65536) ;; cifar) opts+=(-max_len=16384) ;; esac
  log="$scratch/$h.log"
  t0=$(date +%s.%N)
  st=0
  if [ $regress = 1 ]; then
    files=("$corpus"/*)
    "$bin" "${opts[@]}" ${FUZZ_ARGS:-} "${files[@]}" >"$log" 2>&1 || st=$?
  else
    mkdir -p "$scratch/$h" "$crashes/$h"
    "$bin" "${opts[@]}" -max_total_time="$secs" -artifact_prefix="$crashes/$h/" ${FUZZ_ARGS:-} \
      "$scratch/$h" "$corpus" >"$log" 2>&1 || st=$?
  fi
  t1=$(date +%s.%N)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
  [ $regress = 1 ] && execs=$(grep -c '^Executed ' "$log" || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  units=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  ncrash=0
  if [ $st -ne 0 ]; then
    ncrash=1; rc=1
    echo "--- $h: libFuzzer exited with status $st; its report (the input is in $crashes/$h/):"
    grep -v '^#[0-9]' "$log" | tail -60
  fi
  printf '%-12s %10s %8s %8s %8s %8s %8.0f\n' "$h" "${execs:--}" "${cov:--}" "${ft:--}" "${units:--}" "$ncrash" \
    "$(awk "BEGIN{print $t1 - $t0}")"
done
exit $rc
