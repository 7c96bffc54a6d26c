#!/usr/bin/env bash
# Runs bench_abuse: gantry lab (a child process on loopback) under 1,000 abusive connections at once
# (byte-a-second clients, idle ones, half-closed event streams, bodies over the 1 MiB limit, declared
# and chunked) while a normal client asks twice a second; prints the connections held, the normal
# requests served and their median/max latency, the server's peak RSS (VmHWM) and its stop on
# SIGTERM. The test of the same (tests/serve/test_server_abuse.c) asserts; this measures.
# usage: bench/run_bench_abuse.sh [seconds (35)] [connections (1000)]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target bench_abuse gantry_cli >/dev/null
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc --all) cores"
"$BUILD/bench_abuse" "$BUILD/gantry" "${1:-35}" "${2:-1000}"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
