#!/bin/sh
# Sharded `gantry eval` (docs/mpi_eval.md): feature-extraction throughput of 1 process x 2 threads
# against `mpirun -np 2` x 1 thread per rank, on this machine, for the fmnist extractor (10000
# Fashion-MNIST images) and Inception-v3 (300 images, random weights written by bench_inception.py,
# resized 28 -> 299 like any small image). FID against statistics from a file, so only the fake side is
# extracted. images/s: of the extraction phase as `gantry eval` prints it (one process: its progress
# line; N ranks: "N images on R ranks in T s", timed to the slowest rank). Best of --reps (3).
#   bench/run_bench_eval_mpi.sh [reps]
set -e
cd "$(dirname "$0")/.."
reps=${1:-3}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target gantry_cli >/dev/null
[ -f build/libgantry_mpi.so ] || { echo "no build/libgantry_mpi.so: gantry was built without MPI"; exit 1; }
command -v mpirun >/dev/null || { echo "no mpirun (openmpi-bin)"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
G=./build/gantry

rate1() { sed -n 's/.*fake .*images  \([0-9.]*\) img\/s  took.*/\1/p' "$1" | tail -1; }
rateN() { sed -n 's/.*fake  *[0-9]* images on [0-9]* ranks in .*: \([0-9.]*\) img\/s/\1/p' "$1" | tail -1; }
best() { sort -g | tail -1; }

# $1 label, $2 n, $3.. extractor arguments
bench() {
    label=$1 n=$2
    shift 2
    $G eval --fake fashion-mnist:test --n 100 --real fashion-mnist:test --metrics fid --quiet --no-cache \
        --save-fake-stats "$tmp/real.npz" "$@" >/dev/null
    : >"$tmp/one" && : >"$tmp/two"
    for r in $(seq "$reps"); do
        $G eval --fake fashion-mnist:train --n "$n" --real "$tmp/real.npz" --threads 2 "$@" 2>"$tmp/o" >/dev/null
        rate1 "$tmp/o" >>"$tmp/one"
        mpirun -np 2 --bind-to core $G eval --fake fashion-mnist:train --n "$n" --real "$tmp/real.npz" "$@" \
            2>"$tmp/o" >/dev/null
        rateN "$tmp/o" >>"$tmp/two"
    done
    printf "%-28s %6d images  1 rank x 2 threads: %8.1f img/s   2 ranks x 1 thread: %8.1f img/s  (best of %d)\n" \
        "$label" "$n" "$(best <"$tmp/one")" "$(best <"$tmp/two")" "$reps"
}

echo "gantry eval, feature extraction; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench "fmnist" 10000 --extractor fmnist
if /usr/bin/python3 bench/bench_inception.py weights "$tmp/incep.safetensors" >/dev/null 2>&1; then
    bench "inception (random weights)" 300 --extractor inception --inception "$tmp/incep.safetensors"
else
    echo "(no python3-torch: Inception weights not written, Inception skipped)"
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
