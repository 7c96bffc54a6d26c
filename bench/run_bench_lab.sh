#!/usr/bin/env bash
# Runs bench_lab: gantry lab's training speed (epochs/s of one session with GAN Lab's defaults,
# playing) with 0, 1 and 20 viewers streaming its frames at 30 a second over loopback, the frames
# each viewer received, and the slowdown against 0 viewers. The issue's targets: >= 1,000 epochs/s
# with the view at 30 frames/s; 20 viewers slow training by < 10%. On a shared machine the load
# average (printed) moves these numbers: the 0-viewer run is taken first and last.
# Both optimizers: Adam (the issue's set-up) and SGD (GAN Lab's page as it opens).
# usage: bench/run_bench_lab.sh [seconds per run (5)]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target bench_lab >/dev/null
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
build/bench_lab "${1:-5}" adam
echo
build/bench_lab "${1:-5}" sgd
