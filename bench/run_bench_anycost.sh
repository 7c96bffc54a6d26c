#!/usr/bin/env bash
# The anycost generator's cost against consistency on this CPU: `gantry anycost-report` on a
# checkpoint of the family at its default widths (w_dim 128, n_mlp 4, ch 32, ch_max 128: latency
# does not depend on training, so a 2-step `gantry train` of configs/anycost.json with those widths
# is enough; a trained checkpoint can be given instead), then the same for the widths
# configs/anycost.json trains (ch 16, ch_max 64, w_dim 64, n_mlp 2), and bench_anycost_latency's
# breakdown (mapping vs synthesis, the engine's per-call costs). Prints the tables and the issue's
# number: the speed-up per image at batch 1 of 0.25 channels at half the resolution (0.25@16) over
# the full generator (1@32). With no checkpoint given, the same architecture in PyTorch
# (bench/bench_anycost.py, TORCH=0 skips it) for comparison. PROFILE=1 adds a perf profile of both
# configs (where the time goes).
# usage: bench/run_bench_anycost.sh [CKPT]        (env: BUILD=build, N=64, REPS=101, THREADS=0 = all cores)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
N="${N:-64}"
REPS="${REPS:-101}"
THREADS="${THREADS:-0}"
export OMP_WAIT_POLICY=passive
if [ ! -x "$BUILD/gantry" ] || [ ! -x "$BUILD/bench_anycost_latency" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j2 --target gantry_cli bench_anycost_latency >/dev/null
fi
G="$BUILD/gantry"
work="$BUILD/bench-anycost"
mkdir -p "$work"

# a checkpoint: $1, or 2 training steps of configs/anycost.json (Fashion-MNIST, the first 256
# images) at the given widths
ckpt_for() { # name model-opts
  local run="$work/$1"
  if [ ! -f "$run/last.safetensors" ]; then
    rm -rf "$run"
    "$G" train --config configs/anycost.json ${2:+--model-opts "$2"} --steps 2 --batch 8 --data-limit 256 \
      --sample-every 0 --ckpt-every 0 --out "$run" --quiet >&2
  fi
  echo "$run/last.safetensors"
}
if [ $# -ge 1 ]; then
  CKPTS=("$1")
  NAMES=("given checkpoint")
else
  CKPTS=("$(ckpt_for default w_dim=128,n_mlp=4,ch=32,ch_max=128,dch=32)" "$(ckpt_for config "")")
  NAMES=("default widths (w_dim 128, n_mlp 4, ch 32, ch_max 128)" "configs/anycost.json widths (w_dim 64, n_mlp 2, ch 16, ch_max 64)")
fi

echo "anycost cost vs consistency, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
summary=()
for i in "${!CKPTS[@]}"; do
  c="${CKPTS[$i]}"
  out="$work/report-$i"
  echo
  echo "## ${NAMES[$i]}: $c"
  echo
  "$G" anycost-report --ckpt "$c" --n "$N" --reps "$REPS" --threads "$THREADS" --out "$out" | tee "$work/report-$i.txt"
  # every config again in bench_anycost_latency: mapping vs synthesis, the tensors a call makes, and
  # the fit of the fastest times to per-tensor cost + multiply-adds; one thread and two
  R=$(sed -n 's/.* generator, \([0-9]*\)x.*/\1/p' "$work/report-$i.txt" | head -1)
  cfgs=()
  for ((r = R; r >= 8; r /= 2)); do for q in 1 0.75 0.5 0.25; do cfgs+=("$q@$r"); done; done
  for t in 1 2; do
    echo
    OMP_NUM_THREADS=$t "$BUILD/bench_anycost_latency" "$c" "$REPS" "${cfgs[@]}"
  done
  summary+=("${NAMES[$i]}: $(grep -E '^0\.25@[0-9]+ vs 1@' "$work/report-$i.txt")")
  if [ $# -eq 0 ] && [ "${TORCH:-1}" = 1 ] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    # the same architecture in PyTorch (random weights), batch 1, passive OpenMP waiting as gantry
    if [ "$i" = 0 ]; then widths=(); else widths=(--ch 16 --ch-max 64 --w-dim 64 --n-mlp 2 --nz 64); fi
    for t in 1 2; do
      echo
      OMP_NUM_THREADS=$t /usr/bin/python3 bench/bench_anycost.py "$REPS" "${widths[@]}" | tee "$work/torch-$i-$t.txt"
      summary+=("  PyTorch, same widths, $t thread(s): 0.25@16 vs 1@32: $(awk '$1 == "0.25@16" {print $4}' "$work/torch-$i-$t.txt") faster ($(awk '$1 == "1@32" {print $2}' "$work/torch-$i-$t.txt") ms -> $(awk '$1 == "0.25@16" {print $2}' "$work/torch-$i-$t.txt") ms)")
    done
  fi
done
echo
echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "summary (the report's interleaved medians, all cores):"
for s in "${summary[@]}"; do echo "  $s"; done

if [ "${PROFILE:-0}" = 1 ] && command -v perf >/dev/null; then
  c="${CKPTS[0]}"
  R=$(sed -n 's/.* generator, \([0-9]*\)x.*/\1/p' "$work/report-0.txt" | head -1)
  for cfg in "1@$R" "0.25@$((R / 2))"; do
    echo
    echo "## perf: where $cfg's time goes (1 thread; % of all samples, the load included; children)"
    OMP_NUM_THREADS=1 perf record -q --call-graph dwarf,16384 -F 1999 -o "$work/perf.data" \
      "$BUILD/bench_anycost_latency" "$c" 400 "$cfg" >/dev/null 2>&1
    perf report -i "$work/perf.data" --children --stdio 2>/dev/null |
      grep -E '^ +[0-9.]+% +[0-9.]+% ' |
      grep -E ' (gt_anycost_synthesis|gt_anycost_mapping|gt_conv2d|gt__kern_avx512|gt__kern_avx2|gt__s2d_panels|gt__s2d_input|gt__pack_a|gt_linear|gt_mul|gt_add|gt_mul_scalar|gt_contiguous|gt_leaky_relu|gt_upsample_bilinear2d|gt__resample|gt__binary|gt_sum|gt_matmul|gt_pow_scalar|gt__new|gt_scope_end|_int_malloc|_int_free|malloc_consolidate)$' |
      awk '{printf "  %-26s %7s (self %s)\n", $NF, $1, $2}'
  done
fi
