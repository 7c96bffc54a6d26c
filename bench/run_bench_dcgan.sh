#!/usr/bin/env bash
# DCGAN training throughput, gantry vs PyTorch (2 threads each, batch 64,
# 3-channel 32 px and 64 px, the same architecture, loss and optimizer), and
# the peak RSS of each process; prints one table with the ratios.
# gantry runs with OMP_WAIT_POLICY=passive, as the gantry program sets it
# (override by exporting OMP_WAIT_POLICY).
# usage: bench/run_bench_dcgan.sh [iters] [warmup] [--profile]
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS="${1:-5}"
WARM="${2:-1}"
PROFILE="${3:-}"
if [ ! -x build/bench_dcgan ] || [ -n "$(find src bench/bench_dcgan.c -newer build/bench_dcgan -name '*.c' 2>/dev/null | head -1)" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target bench_dcgan >/dev/null
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores; other work on the machine skews both sides)"
for res in 32 64; do
  it=$ITERS
  [ "$res" = 64 ] && it=$(( ITERS > 3 ? ITERS - 2 : ITERS ))
  OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 build/bench_dcgan "$res" "$it" "$WARM" $PROFILE >>"$tmp/gantry.tsv"
  OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_dcgan.py "$res" "$it" "$WARM" >>"$tmp/torch.tsv"
done
[ -n "$PROFILE" ] && grep '^phase' "$tmp/gantry.tsv" | awk -F'\t' '{printf "  %spx %-22s %10s %5s\n", $2, $3, $4, $5}'
/usr/bin/python3 - "$tmp/gantry.tsv" "$tmp/torch.tsv" <<'PY'
import sys

def load(path):
    rows = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "dcgan":
            rows[int(f[1])] = (float(f[2]), float(f[3]), float(f[4]))
    return rows

g, t = load(sys.argv[1]), load(sys.argv[2])
hdr = "%-22s %10s %10s %8s %9s %9s %12s %12s" % ("DCGAN train, batch 64", "gantry", "PyTorch", "ratio",
                                                  "gantry", "PyTorch", "gantry RSS", "PyTorch RSS")
print(hdr)
print("%-22s %10s %10s %8s %9s %9s %12s %12s" % ("", "img/s", "img/s", "gt/PT", "s/iter", "s/iter", "MiB", "MiB"))
print("-" * len(hdr))
for res in sorted(g):
    gi, gs, gr = g[res]
    ti, tsec, tr = t.get(res, (float("nan"),) * 3)
    print("%-22s %10.1f %10.1f %7.2fx %9.3f %9.3f %12.0f %12.0f" % ("3 x %d x %d" % (res, res), gi, ti, gi / ti, gs,
                                                                    tsec, gr, tr))
PY
