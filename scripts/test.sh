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
# A log that keeps only its tail (CI's) still names what failed: at the end, each failed test of a
# pass again with its failure lines (the sanitized suite's inner tests included).
recap() { # recap BUILD_DIR LABEL: the failed tests of the last ctest run in BUILD_DIR
  local t="$1/Testing/Temporary"
  [ -s "$t/LastTestsFailed.log" ] || return 0
  echo "== failed in the $2:"
  cut -d: -f2- "$t/LastTestsFailed.log" | while read -r name; do
    echo "-- $name"
    awk -v n="$name" 'index($0, "Testing: " n) && substr($0, index($0, "Testing: ") + 9) == n {on=1}
      on && index($0, "\"" n "\" end time") == 1 {on=0} on' "$t/LastTest.log" |
      grep -E 'FAIL|[Ee]rror|failed|Timeout|Assert|Sanitizer|not ok' | head -40 || true
  done
  return 0
}
rc=0
rm -f Testing/Temporary/LastTestsFailed.log ../build-san/Testing/Temporary/LastTestsFailed.log # ctest keeps old ones
ctest --output-on-failure -j1 -LE slow "$@" || rc=$?
quick_recap=$(recap . "quick pass"; recap ../build-san "sanitized suite")
budget=${GANTRY_SLOW_BUDGET:-1800}
if [ "$budget" -gt 0 ]; then
  echo "slow tests (label slow), within ${budget} s:"
  rm -f Testing/Temporary/LastTestsFailed.log
  ctest -V -j1 -L slow --stop-time "$(date -d "+${budget} seconds" +%H:%M:%S)" "$@" || rc=$?
fi
if [ $rc -ne 0 ]; then
  echo "== the failures again"
  [ -n "$quick_recap" ] && echo "$quick_recap"
  recap . "slow pass"
fi
exit $rc
