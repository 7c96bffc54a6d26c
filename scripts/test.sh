#!/usr/bin/env bash
# Set up, build and run every test. Ends with ctest's summary line.
# A second tree built with AddressSanitizer + LeakSanitizer runs the op and
# autograd tests again (the ctest entry leaks/lsan_unit_tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)
cmake -S . -B build-lsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGANTRY_SANITIZE=ON >/dev/null
cmake --build build-lsan -j"$jobs" >/dev/null
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DGANTRY_LSAN_BUILD="$PWD/build-lsan" >/dev/null
cmake --build build -j"$jobs"
cd build && ctest --output-on-failure -j1 "$@"
