#!/bin/sh
# Inception-v3 feature extraction, gantry vs PyTorch (same weights, same images,
# same run): builds the Release tree and runs bench_inception with 2 threads.
# Extra arguments go to bench_inception (--batch, --threads, --reps, --chunk, --no-torch).
set -e
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target bench_inception >/dev/null
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
exec ./build/bench_inception "$@"
