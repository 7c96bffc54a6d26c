#!/usr/bin/env bash
# The zoo's ResNet families (SNGAN, SAGAN at 32 px, width 128 as the papers, batch 64, hinge,
# Adam), training throughput: gantry vs PyTorch with the same architectures (bench_zoo.py), 2
# threads each, alternating for ROUNDS rounds; PyTorch as it comes and with passive OpenMP waiting
# (like for like: the gantry program waits passively). Also the parameter counts of both sides
# (equal when the architectures are), peak RSS, and the fraction of the two cores' FMA peak that
# gantry's step reaches (bench_gemm --peak; the step's FLOPs counted by bench_zoo.py's profile).
# usage: bench/run_bench_zoo.sh [rounds] [iters] [width]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
ITERS="${2:-4}"
WIDTH="${3:-128}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target bench_zoo bench_gemm >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores)"
peak="$(OMP_NUM_THREADS=2 build/bench_gemm --peak)"
for round in $(seq "$ROUNDS"); do
  for m in sngan sagan; do
    OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2 build/bench_zoo "$m" "$ITERS" 1 "$WIDTH" >>"$tmp/gantry.tsv"
    OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_zoo.py "$m" "$ITERS" 1 "$WIDTH" >>"$tmp/torch.tsv"
    OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_zoo.py "$m" "$ITERS" 1 "$WIDTH" >>"$tmp/torchp.tsv"
  done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
FLOPS="$(OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_zoo_flops.py "$WIDTH")"
/usr/bin/python3 - "$tmp" "$peak" "$WIDTH" "$FLOPS" <<'PY'
import statistics, sys
tmp, peak, width, flops = sys.argv[1], float(sys.argv[2]), sys.argv[3], dict(x.split("=") for x in sys.argv[4].split())
def load(name):
    rows = {}
    for line in open(f"{tmp}/{name}.tsv"):
        m, ips, spi, rss, npg, npd = line.split("\t")
        rows.setdefault(m, []).append((float(ips), float(rss), int(npg), int(npd)))
    return rows
g, t, tp = load("gantry"), load("torch"), load("torchp")
print(f"zoo, batch 64, 32 px, width {width}       best   median  gt/this  gt/this  peak RSS   params G / D")
print(f"{'':36}img/s    img/s   (best) (median)       MiB")
print("-" * 100)
for m in g:
    gb, gm = max(x[0] for x in g[m]), statistics.median(x[0] for x in g[m])
    print(f"{m:8} gantry              {gb:9.2f} {gm:8.2f} {'':17} {max(x[1] for x in g[m]):9.0f}   {g[m][0][2]} / {g[m][0][3]}")
    for lab, rows in (("PyTorch", t), ("PyTorch passive", tp)):
        b, md = max(x[0] for x in rows[m]), statistics.median(x[0] for x in rows[m])
        print(f"{'':8} {lab:19} {b:9.2f} {md:8.2f} {gb / b:7.2f}x {gm / md:7.2f}x {max(x[1] for x in rows[m]):9.0f}   {rows[m][0][2]} / {rows[m][0][3]}")
    f = float(flops[m])
    print(f"{'':8} gantry's step: {f:.1f} GFLOP, {f * gb / 64:.0f} GFLOPS at its best = {100 * f * gb / 64 / peak:.0f}% of the FMA peak ({peak:.0f} GFLOPS)")
PY
