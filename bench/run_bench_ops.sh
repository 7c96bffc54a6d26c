#!/usr/bin/env bash
# Runs bench_ops (gantry) and bench_ops.py (PyTorch, 2 threads) on the same
# shapes and prints one table: per op the median ms of each, the ratio
# PyTorch/gantry, gantry's effective GFLOPS, and that as a % of the machine's
# FMA peak measured in the same run (bench_gemm --peak: a register-only
# AVX-512 loop, AVX2 where there is no AVX-512). `sgemm N` is gantry's own
# sgemm beside torch.mm; bench/bench_gemm compares it with OpenBLAS. The two sides alternate layer by layer, so
# a change in machine load hits both alike; the load average is printed too.
# On a shared machine under load, `chrt -f 10 bench/run_bench_ops.sh` (root)
# runs both sides ahead of the other work, i.e. as on a quiet machine.
# usage: bench/run_bench_ops.sh [repeats] [name filter]
set -euo pipefail
cd "$(dirname "$0")/.."
REPS="${1:-7}"
FILTER="${2:-}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target bench_ops bench_gemm >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
LAYERS=("sgemm")
while IFS=$'\t' read -r name _; do LAYERS+=("$name"); done < <(build/bench_ops --layers)
load0="$(cut -d' ' -f1-3 /proc/loadavg)"
fma_peak="$(build/bench_gemm --peak)"
for l in "${LAYERS[@]}"; do
  case "$l" in *"$FILTER"*) ;; *) [ -n "$FILTER" ] && continue ;; esac
  build/bench_ops "$REPS" "$l" >>"$tmp/gantry.tsv"
  /usr/bin/python3 bench/bench_ops.py "$REPS" "$l" >>"$tmp/torch.tsv"
done
load1="$(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/python3 - "$tmp/gantry.tsv" "$tmp/torch.tsv" "$load0" "$load1" "$(nproc)" "$fma_peak" <<'PY'
import sys

def load(path):
    rows = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "op":
            rows[f[1]] = (float(f[2]), float(f[3]))
    return rows

g, t = load(sys.argv[1]), load(sys.argv[2])
peak = float(sys.argv[6])
print("load average %s at the start, %s at the end (%s cores)" % (sys.argv[3], sys.argv[4], sys.argv[5]))
print("FMA peak (register-only loop, this run): %.1f GFLOPS" % peak)
hdr = "%-30s %11s %11s %8s %9s %8s" % ("op", "gantry ms", "PyTorch ms", "PT/gt", "GFLOPS", "% peak")
print(hdr)
print("-" * len(hdr))
for name, (ms, gf) in g.items():
    tms = t.get(name, (float("nan"), 0))[0]
    gfs = gf / ms * 1e3
    print("%-30s %11.2f %11.2f %8.2f %9.1f %7.0f%%" % (name, ms, tms, tms / ms, gfs, 100 * gfs / peak))
PY
