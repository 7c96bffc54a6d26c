#!/usr/bin/env bash
# Data-parallel training (gantry/ddp.h, docs/mpi.md): step time of DCGAN (32 px, batch 64, Fashion-MNIST)
# and SNGAN (configs/sngan.json: 32 px, batch 64, hinge, n_critic 5; a step is 5 D updates and 1 G
# update) on this machine as
#   1 rank  x 1 thread       the baseline
#   1 rank  x 2 threads      the same cores used by threads
#   2 ranks x 1 thread       mpirun -np 2, gradient buckets (1 MiB) started during backward
#   2 ranks x 1 thread       the same with one blocking allreduce of the whole gradient slab (--bucket-mb 0)
# with the gradient bytes each rank allreduces per step, the time per step spent waiting for the
# allreduces before the optimizer steps, and (buckets) the share of the bytes whose allreduce had
# already completed when backward ended: the communication hidden behind backward. In the blocking
# run the wait is the whole allreduce (and any skew between the ranks), so 1 - wait(buckets) /
# wait(blocking) is a second, noisier view of the same. Step time = the mean over the last STEPS steps (after
# WARM warm-up steps), from metrics.jsonl's it/s. Prints the load before and after (other work on the
# machine skews every number).
# usage: bench/bench_ddp.sh [steps] [warm]    (Open MPI's mpirun; as root it sets OMPI_ALLOW_RUN_AS_ROOT)
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS="${1:-6}"
WARM="${2:-2}"
G=build/gantry
if [ ! -x "$G" ] || [ ! -f build/libgantry_mpi.so ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j2 --target gantry_cli >/dev/null
fi
command -v mpirun >/dev/null || { echo "bench_ddp: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)"; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores); $(mpirun --version 2>&1 | head -1)"

# run NAME NP THREADS EXTRA... -> prints "step_ms bytes wait_ms early_percent"
run() {
  local name="$1" np="$2" th="$3"
  shift 3
  local out="$tmp/$name" log="$tmp/$name.log"
  local total=$((STEPS + WARM))
  local cmd=("$G" train --out "$out" --steps "$total" --log-every "$WARM" --sample-every 0 --ckpt-every 0
             --eval-every 0 --n-samples 16 --threads "$th" --data-limit 2048 "$@")
  if [ "$np" = 1 ]; then nice -n 10 "${cmd[@]}" >"$log" 2>&1
  else nice -n 10 mpirun -np "$np" --oversubscribe --bind-to none "${cmd[@]}" >"$log" 2>&1; fi
  local its
  its=$(tail -1 "$out/metrics.jsonl" | sed 's/.*"it_s":\([^,]*\),.*/\1/')
  local bytes wait
  bytes=$(sed -n 's/.*ddp: [0-9]* steps, \([0-9]*\) gradient bytes.*/\1/p' "$log")
  wait=$(sed -n 's/.* per step, \([0-9.]*\) ms per step waiting.*/\1/p' "$log")
  early=$(sed -n 's/.*, \([0-9]*\)% of the bytes reduced when backward ended.*/\1/p' "$log")
  awk -v i="$its" -v b="${bytes:-0}" -v w="${wait:-0}" -v e="${early:-0}" 'BEGIN { printf "%.1f %d %.2f %d\n", 1000 / i, b, w, e }'
}

printf "%-7s %-34s %10s %8s %14s %13s\n" model setup "step (ms)" "img/s" "bytes/step" "wait ms/step"
for model in dcgan sngan; do
  if [ "$model" = dcgan ]; then args=(--data fashion-mnist --model dcgan --res 32 --channels 1 --batch 64)
  else args=(--config configs/sngan.json); fi
  declare -A W=()
  for setup in "1 1 1 rank x 1 thread" "1 2 1 rank x 2 threads" "2 1 2 ranks x 1 thread, buckets" \
               "2 1 2 ranks x 1 thread, blocking"; do
    read -r np th label <<<"$setup"
    extra=()
    [[ "$label" == *blocking* ]] && extra=(--bucket-mb 0)
    read -r ms bytes wait early <<<"$(run "$model-$np-$th-${#extra[@]}" "$np" "$th" "${args[@]}" "${extra[@]}")"
    nc=1; [ "$model" = sngan ] && nc=5
    printf "%-7s %-34s %10s %8.0f %14s %13s\n" "$model" "$label" "$ms" "$(awk -v m="$ms" -v n="$nc" 'BEGIN{print 64*n*1000/m}')" \
      "$([ "$np" = 1 ] && echo - || echo "$bytes")" "$([ "$np" = 1 ] && echo - || echo "$wait")"
    [ "$np" = 2 ] && W[${#extra[@]}]="$wait"
    [ "$np" = 2 ] && [ ${#extra[@]} = 0 ] && E="$early"
  done
  awk -v o="${W[0]}" -v b="${W[2]}" -v m="$model" -v e="$E" \
    'BEGIN { printf "%-7s hidden behind backward: %d%% of the bytes reduced when backward ended; wait %.2f ms/step with buckets, %.2f ms blocking\n", m, e, o, b }'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
