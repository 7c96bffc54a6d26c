#!/usr/bin/env bash
# Set up, build and run every test (on this project's 2-core machine about
# 10 minutes the first time, packages included; see the README's Testing).
#   1. the quick pass, `ctest -LE slow`: every unit, parity (PyTorch / NumPy),
#      CLI, install and browser test, then sanitize/asan_ubsan_suite: the same
#      quick suite again in a second tree (build-san) built with
#      AddressSanitizer (+ leak detection) + UndefinedBehaviorSanitizer;
#   2. the slow pass, `ctest -L slow` (end-to-end trainings), stopped after
#      GANTRY_SLOW_BUDGET seconds (default 1800; 0 skips it).
# Extra arguments go to both ctest calls (e.g. -R io/). Each pass ends with
# ctest's summary line; the exit status is non-zero if either failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)
cmake -S . -B build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANTRY_SANITIZE=ON >/dev/null
cmake --build build-san -j"$jobs" >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGANTRY_SAN_BUILD="$PWD/build-san" >/dev/null
cmake --build build -j"$jobs"
# --- fuzz (fuzz/, docs/fuzz.md): the libFuzzer harnesses in a clang tree (ASan + UBSan); the quick
# pass runs each for GANTRY_FUZZ_SECONDS (15) on its committed corpus: ctest label fuzz
CC=clang-14 cmake -S . -B build-fuzz -DGANTRY_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_all >/dev/null
cmake -S . -B build -DGANTRY_FUZZ_BUILD="$PWD/build-fuzz" >/dev/null
cd build
rc=0
ctest --output-on-failure -j1 -LE slow "$@" || rc=$?
budget=${GANTRY_SLOW_BUDGET:-1800}
if [ "$budget" -gt 0 ]; then
  echo "slow tests (label slow), within ${budget} s:"
  ctest -V -j1 -L slow --stop-time "$(date -d "+${budget} seconds" +%H:%M:%S)" "$@" || rc=$?
fi
exit $rc
