#!/bin/sh
# Inception-v3 feature extraction, gantry vs PyTorch (same weights, same images,
# same run): builds the Release tree and runs bench_inception with 2 threads.
# Then the end-to-end FID of 10k Fashion-MNIST training images against the 10k
# test images with the fmnist extractor: `gantry eval` (the whole command,
# no cached statistics) against PyTorch + NumPy (bench_fid_fmnist.py) on the
# same classifier weights, best of 3 each.
# Extra arguments go to bench_inception (--batch, --threads, --reps, --chunk, --no-torch).
set -e
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target bench_inception gantry >/dev/null
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
./build/bench_inception "$@"

[ -d /usr/share/datasets/fashion-mnist ] || { echo "(no fashion-mnist package: FID end-to-end skipped)"; exit 0; }
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
best_gt="" best_pt="" fid_gt="" fid_pt=""
for r in 1 2 3; do
    t0=$(date +%s.%N)
    fid_gt=$(GANTRY_CACHE="$cache" ./build/gantry eval --real fashion-mnist:test --fake fashion-mnist:train \
        --n 10000 --extractor fmnist --metrics fid --no-cache --quiet --threads 2 | awk '/FID/ {print $2}')
    t1=$(date +%s.%N)
    dt=$(echo "$t1 - $t0" | bc)
    if [ -z "$best_gt" ] || [ "$(echo "$dt < $best_gt" | bc)" = 1 ]; then best_gt=$dt; fi
    out=$(/usr/bin/python3 bench/bench_fid_fmnist.py 10000 2 2>/dev/null) || out=""
    pt=$(echo "$out" | sed -n 's/.*torch_fid_s=\([0-9.]*\).*/\1/p')
    fid_pt=$(echo "$out" | sed -n 's/.*fid=\([0-9.]*\).*/\1/p')
    if [ -n "$pt" ] && { [ -z "$best_pt" ] || [ "$(echo "$pt < $best_pt" | bc)" = 1 ]; }; then best_pt=$pt; fi
done
echo
echo "| FID, fmnist extractor, 10k train vs 10k test | gantry s | PyTorch+NumPy s | ratio | FID gantry | FID PyTorch |"
echo "|---|---|---|---|---|---|"
if [ -n "$best_pt" ]; then
    ratio=$(echo "scale=2; $best_pt / $best_gt" | bc)
    printf '| whole command vs decode+forward+statistics | %.2f | %.2f | %sx | %s | %s |\n' "$best_gt" "$best_pt" "$ratio" "$fid_gt" "$fid_pt"
else
    printf '| whole command | %.2f | - | - | %s | - |\n' "$best_gt" "$fid_gt"
fi
