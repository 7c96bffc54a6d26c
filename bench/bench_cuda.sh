#!/usr/bin/env bash
# GPU throughput, gantry vs PyTorch + cuDNN on the same GPU in the same run: DCGAN-64 training
# (batch 64), the zoo's SNGAN training (32 px, width 128, batch 64) and Inception-v3 features (FID
# pipeline, batch 50). gantry: build/bench_cuda (bench/bench_cuda.c); PyTorch:
# bench/torch_cuda_bench.py (it says when torch has no CUDA: then only gantry's figures). The two
# sides alternate per model; each prints the median and best of ITERS iterations after WARMUP.
# Prints one table with the ratios gantry / PyTorch (above 1: gantry faster), and the CPU kernels'
# share of gantry's work (host fallbacks per iteration: ops the GPU table lacks).
# usage: bench/bench_cuda.sh [iters] [warmup] [build dir]    (BENCH_TIMEOUT: seconds per run, 120)
# A check of the script on a machine without a GPU: BENCH_GANTRY_DEVICE=cpu BENCH_TORCH_DEVICE=cpu.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ITERS="${1:-10}"
WARM="${2:-2}"
BUILD="${3:-build}"
PER="${BENCH_TIMEOUT:-120}"
PY="${PYTHON:-/usr/bin/python3}"
if [ ! -x "$BUILD/bench_cuda" ]; then
  echo "bench_cuda.sh: $BUILD/bench_cuda is not built (cmake --build $BUILD --target bench_cuda)" >&2
  exit 1
fi
GFAIL=0 # a gantry run failed: exit 1 after the table (PyTorch without CUDA is not a failure)
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$BUILD/gantry" info --devices 2>/dev/null | sed 's/^/  /' || true
for what in dcgan64 sngan inception; do
  if timeout "$PER" "$BUILD/bench_cuda" "$what" --device "${BENCH_GANTRY_DEVICE:-cuda}" --iters "$ITERS" --warmup "$WARM" >>"$tmp/gantry.tsv" 2>"$tmp/gantry.err"; then :
  else
    rc=$?
    echo "gantry $what: failed (exit $rc$([ $rc = 124 ] && echo ", over ${PER}s")): $(tail -1 "$tmp/gantry.err")" >&2
    printf '%s\tfailed\n' "$what" >>"$tmp/gantry.tsv"
    GFAIL=1
  fi
  timeout "$PER" "$PY" bench/torch_cuda_bench.py "$what" "$ITERS" "$WARM" >>"$tmp/torch.tsv" 2>"$tmp/torch.err"
  rc=$?
  if [ $rc != 0 ] && [ $rc != 3 ]; then
    echo "PyTorch $what: failed (exit $rc$([ $rc = 124 ] && echo ", over ${PER}s")): $(tail -1 "$tmp/torch.err")" >&2
    printf '%s\tfailed\n' "$what" >>"$tmp/torch.tsv"
  fi
  sort -u "$tmp/torch.err" >>"$tmp/torch.notes"
done
sort -u "$tmp/torch.notes" | sed 's/^/  /'
"$PY" - "$tmp/gantry.tsv" "$tmp/torch.tsv" <<'PY'
import sys


def load(path):
    out = {}
    for line in open(path):
        f = line.rstrip("\n").split("\t")
        out[f[0]] = f
    return out


g, t = load(sys.argv[1]), load(sys.argv[2])
label = {"dcgan64": "DCGAN-64 train, bs 64", "sngan": "SNGAN-32 train, bs 64", "inception": "Inception feats, bs 50"}
print("%-24s %11s %11s %11s %11s %9s %9s %10s" % ("GPU, img/s", "gantry", "gantry", "PyTorch", "PyTorch",
                                                  "ratio", "ratio", "gantry"))
print("%-24s %11s %11s %11s %11s %9s %9s %10s" % ("", "median", "best", "median", "best", "median", "best",
                                                  "fallbacks"))
print("-" * 104)
for w in ("dcgan64", "sngan", "inception"):
    a, b = g.get(w, [w, "missing"]), t.get(w, [w, "missing"])
    ga = len(a) >= 7 and a[1] != "failed"
    tb = len(b) >= 6 and b[1] in ("torch-cuda", "torch-cpu-check")
    gm, gb = (float(a[2]), float(a[4])) if ga else (None, None)
    tm, tbest = (float(b[2]), float(b[4])) if tb else (None, None)
    f = lambda v: "%11.1f" % v if v is not None else "%11s" % "-"  # noqa: E731
    r = lambda x, y: "%9.2f" % (x / y) if x and y else "%9s" % "-"  # noqa: E731
    note = "" if tb else "  (PyTorch: %s)" % (b[1] if len(b) > 1 else "?")
    if not ga:
        note += "  (gantry: %s)" % (a[1] if len(a) > 1 else "?")
    print("%-24s %s %s %s %s %s %s %10s%s" % (label[w], f(gm), f(gb), f(tm), f(tbest), r(gm, tm), r(gb, tbest),
                                            "%.1f/it" % float(a[6]) if ga else "-", note))
print("ratio: gantry / PyTorch (above 1: gantry faster); fallbacks: ops per iteration that ran a CPU kernel")
PY
exit $GFAIL
