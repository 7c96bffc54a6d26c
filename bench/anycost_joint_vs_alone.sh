#!/usr/bin/env bash
# Anycost GAN's claim at small scale: sub-generators trained jointly (configs/anycost.json:
# multi-resolution sampling, then sorted channels with the sandwich rule and distillation) against
# the same sub-architectures trained alone for the same steps and batch (configs/anycost_alone_050
# and _025.json: the 0.5 / 0.25-width generator as its own full-width model, the same D width).
# The three runs train one after the other with all cores on Fashion-MNIST (32 px); then FID with
# the shipped Fashion-MNIST extractor, 10,000 images from each EMA generator (latent seed 0)
# against the 10,000 test images, as bench/zoo_table.sh measures the zoo. A sub-generator is
# evaluated with `gantry eval --ckpt FILE --channels R --res N` (its slice only; below 32 px its
# images are upsampled bilinearly to 32 before the extractor).
#
# usage: bench/anycost_joint_vs_alone.sh OUTDIR
#   BUILD=dir: the build folder ("build"); SMOKE=1: a quick check of the script (4 steps, switch at
#   2, 500 images per FID), not the measurement; STEPS=N and CHANNELS_AT=K: a longer (or shorter)
#   schedule than the configs' (every run N steps; the joint one switches to channels at K);
#   THREADS=N: training threads (0, all cores); SEED=S: every run's seed (weights, data order,
#   latents; default the configs' 0), to repeat the comparison on another draw; JOINT_OPTS=k=v,...:
#   more model options for the joint run only (ac_uniform=1: uniform random configs)
# writes: OUTDIR/NAME/ (run folders), OUTDIR/NAME.time (training seconds), OUTDIR/eval_*.json,
#         OUTDIR/table.md (also printed)
# A run whose OUTDIR/NAME.time exists is not trained again, an evaluation whose json exists is
# not redone (delete them to redo), so an interrupted bench continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: bench/anycost_joint_vs_alone.sh OUTDIR" >&2; exit 2; }
OUT="$1"
B="${BUILD:-build}"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j2 --target gantry_cli >/dev/null
G="$B/gantry"
TRAIN_EXTRA=() N=10000 AT_OPT=()
if [ -n "${STEPS:-}" ]; then TRAIN_EXTRA=(--steps "$STEPS"); fi
if [ -n "${SEED:-}" ]; then TRAIN_EXTRA+=(--seed "$SEED"); fi
JOPTS="${CHANNELS_AT:+ac_channels_at=$CHANNELS_AT}"
if [ -n "${JOINT_OPTS:-}" ]; then JOPTS="${JOPTS:+$JOPTS,}$JOINT_OPTS"; fi
if [ -n "$JOPTS" ]; then AT_OPT=(--model-opts "$JOPTS"); fi
if [ "${SMOKE:-0}" = 1 ]; then TRAIN_EXTRA=(--steps 4 --sample-every 0 --ckpt-every 0); AT_OPT=(--model-opts ac_channels_at=2); N=500; fi
mkdir -p "$OUT"
for n in anycost anycost_alone_050 anycost_alone_025; do
  [ -f "$OUT/$n.time" ] && continue
  rm -rf "${OUT:?}/$n"
  echo "== $n: training ($(date +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
  t0=$(date +%s.%N)
  "$G" train --config "configs/$n.json" --out "$OUT/$n" --eval-every 0 --threads "${THREADS:-0}" --quiet \
    ${TRAIN_EXTRA[@]+"${TRAIN_EXTRA[@]}"} $( [ "$n" = anycost ] && echo ${AT_OPT[@]+"${AT_OPT[@]}"} )
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{printf "%.0f\n", $2 - $1}' >"$OUT/$n.time"
done
# name, checkpoint, channels, res
EVALS=(
  "joint_100_32 anycost 1 32"
  "joint_050_32 anycost 0.5 32"
  "joint_025_32 anycost 0.25 32"
  "alone_050_32 anycost_alone_050 1 32"
  "alone_025_32 anycost_alone_025 1 32"
  "joint_100_16 anycost 1 16"
  "joint_025_16 anycost 0.25 16"
)
for e in "${EVALS[@]}"; do
  read -r name run ch res <<<"$e"
  [ -f "$OUT/eval_$name.json" ] && continue
  echo "== eval $name ($(date +%H:%M:%S))" >&2
  "$G" eval --ckpt "$OUT/$run/last.safetensors" --channels "$ch" --res "$res" --real fashion-mnist:test \
    --extractor fmnist --metrics fid --n "$N" --json "$OUT/eval_$name.tmp" --quiet >/dev/null
  mv "$OUT/eval_$name.tmp" "$OUT/eval_$name.json"
done
/usr/bin/python3 - "$OUT" "${STEPS:-}" "${CHANNELS_AT:-}" <<'PY'
import json, sys
out, steps_env, at_env = sys.argv[1], sys.argv[2], sys.argv[3]
def ev(name):
    try:
        return json.load(open(f"{out}/eval_{name}.json"))
    except FileNotFoundError:
        return None
def secs(run):
    s = int(open(f"{out}/{run}.time").read())
    return f"{s // 60} min {s % 60:02d} s"
cfg = json.load(open("configs/anycost.json"))
steps = f"{int(steps_env) if steps_env else cfg['steps']} x {cfg['batch']}"
at = int(at_env) if at_env else cfg["model"]["ac_channels_at"]
rows = ["| config (width @ res) | MACs per image | FID joint | FID alone | G steps x batch | training wall time |",
        "|---|---|---|---|---|---|"]
for label, j, a, arun in [("1.0 @ 32 (full)", "joint_100_32", None, None),
                          ("0.5 @ 32", "joint_050_32", "alone_050_32", "anycost_alone_050"),
                          ("0.25 @ 32", "joint_025_32", "alone_025_32", "anycost_alone_025"),
                          ("1.0 @ 16", "joint_100_16", None, None),
                          ("0.25 @ 16", "joint_025_16", None, None)]:
    je, ae = ev(j), ev(a) if a else None
    if je is None:
        continue
    macs = je["anycost"]["macs"]
    fj = je["metrics"]["frechet_inception_distance"]
    fa = f"{ae['metrics']['frechet_inception_distance']:.1f}" if ae else "-"
    if ae and ae["anycost"]["macs"] != macs:
        fa += f" ({ae['anycost']['macs'] / 1e6:.2f} M MACs)"
    wall = f"joint {secs('anycost')}" + (f", alone {secs(arun)}" if arun else "")
    rows.append(f"| {label} | {macs / 1e6:.2f} M | {fj:.1f} | {fa} | {steps} | {wall} |")
rows.append("")
phases = (f"multi-resolution for steps 0-{at - 1}, adaptive channels (sandwich, distillation) from {at}" if at > 0 else
          "adaptive channels (sandwich, distillation) from step 0" if at == 0 else "multi-resolution only")
rows.append(f"Joint: {phases}; alone: the same steps and batch, multi-resolution only. FID: fmnist extractor, 10k "
            "EMA samples vs the 10k test images.")
open(f"{out}/table.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
