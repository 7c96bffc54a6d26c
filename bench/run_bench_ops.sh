#!/usr/bin/env bash
# Runs bench_ops (gantry) and bench_ops.py (PyTorch, 2 threads) on the same
# shapes and prints one table: per op the median ms of each, the ratio
# PyTorch/gantry, gantry's effective GFLOPS, and that as a % of the best
# sgemm GFLOPS measured in the same run.
# usage: bench/run_bench_ops.sh [repeats] [name filter]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS="${1:-7}"
FILTER="${2:-}"
if [ ! -x build/bench_ops ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target bench_ops >/dev/null
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 build/bench_ops "$REPS" $FILTER >"$tmp/gantry.tsv"
/usr/bin/python3 bench/bench_ops.py "$REPS" $FILTER >"$tmp/torch.tsv"
/usr/bin/python3 - "$tmp/gantry.tsv" "$tmp/torch.tsv" <<'PY'
import sys

def load(path):
    rows = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "op":
            rows[f[1]] = (float(f[2]), float(f[3]))
    return rows

g, t = load(sys.argv[1]), load(sys.argv[2])
peak = max([gf / ms * 1e3 for name, (ms, gf) in g.items() if name.startswith("sgemm")] or [float("nan")])
print("sgemm peak (best of the sgemm rows): %.1f GFLOPS" % peak)
hdr = "%-30s %11s %11s %8s %9s %8s" % ("op", "gantry ms", "PyTorch ms", "PT/gt", "GFLOPS", "% sgemm")
print(hdr)
print("-" * len(hdr))
for name, (ms, gf) in g.items():
    tms = t.get(name, (float("nan"), 0))[0]
    gfs = gf / ms * 1e3
    print("%-30s %11.2f %11.2f %8.2f %9.1f %7.0f%%" % (name, ms, tms, tms / ms, gfs, 100 * gfs / peak))
PY
