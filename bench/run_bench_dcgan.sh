#!/usr/bin/env bash
# DCGAN training throughput, gantry vs PyTorch (2 threads each, batch 64,
# 3-channel 32 px and 64 px, the same architecture, loss and optimizer), and
# the peak RSS of each process; prints one table with the ratios.
# The two sides alternate for ROUNDS rounds (the machine is shared: other work
# skews whichever runs at that moment); the table gives each side's best round
# and the median of its rounds.
# gantry runs with OMP_WAIT_POLICY=passive, as the gantry program sets it.
# PyTorch runs twice per round: as it comes (libgomp's default, spinning
# waits) and with OMP_WAIT_POLICY=passive too - on a busy 2-core machine the
# spinning costs PyTorch up to 3x, so the second is the like-for-like figure.
# usage: bench/run_bench_dcgan.sh [rounds] [iters] [--profile]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
ITERS="${2:-5}"
PROFILE="${3:-}"
if [ ! -x build/bench_dcgan ] || [ -n "$(find src bench/bench_dcgan.c -newer build/bench_dcgan -name '*.c' 2>/dev/null | head -1)" ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target bench_dcgan >/dev/null
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores)"
for round in $(seq "$ROUNDS"); do
  for res in 32 64; do
    it=$ITERS
    [ "$res" = 64 ] && it=$(( ITERS > 3 ? ITERS - 2 : ITERS ))
    prof=""
    [ "$round" = 1 ] && prof="$PROFILE"
    OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 \
      build/bench_dcgan "$res" "$it" 1 $prof >>"$tmp/gantry.tsv"
    OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_dcgan.py "$res" "$it" 1 >>"$tmp/torch.tsv"
    OMP_WAIT_POLICY=passive OMP_NUM_THREADS=2 /usr/bin/python3 bench/bench_dcgan.py "$res" "$it" 1 >>"$tmp/torchp.tsv"
  done
done
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -n "$PROFILE" ]; then
  echo "gantry, time per phase of a step (round 1):"
  grep '^phase' "$tmp/gantry.tsv" | awk -F'\t' '{printf "  %spx %-24s %10s %5s\n", $2, $3, $4, $5}'
fi
/usr/bin/python3 - "$tmp/gantry.tsv" "$tmp/torch.tsv" "$tmp/torchp.tsv" <<'PY'
import statistics
import sys


def load(path):
    rows = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        if f[0] == "dcgan":
            rows.setdefault(int(f[1]), []).append((float(f[2]), float(f[4])))
    return rows


sides = [("gantry", load(sys.argv[1])), ("PyTorch", load(sys.argv[2])), ("PyTorch passive", load(sys.argv[3]))]
g = sides[0][1]
print("%-14s %-16s %9s %9s %9s %9s %10s" % ("DCGAN, bs 64", "", "best", "median", "gt/this", "gt/this", "peak RSS"))
print("%-14s %-16s %9s %9s %9s %9s %10s" % ("", "", "img/s", "img/s", "(best)", "(median)", "MiB"))
print("-" * 82)
for res in sorted(g):
    gb = max(r[0] for r in g[res])
    gm = statistics.median(r[0] for r in g[res])
    for name, rows in sides:
        r = rows.get(res)
        if not r:
            continue
        b, m, rss = max(x[0] for x in r), statistics.median(x[0] for x in r), max(x[1] for x in r)
        ratio = "" if name == "gantry" else "%8.2fx %8.2fx" % (gb / b, gm / m)
        print("%-14s %-16s %9.1f %9.1f %19s %10.0f" % ("3 x %d x %d" % (res, res) if name == "gantry" else "", name,
                                                      b, m, ratio, rss))
print("rounds: %d (each: gantry, PyTorch, PyTorch passive on the same step, alternating)" % len(g[min(g)]))
PY
