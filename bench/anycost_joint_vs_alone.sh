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
#   more model options for the joint run only (ac_uniform=1: uniform random configs); AVG=K: evaluate
#   each run's last K step checkpoints (the runs then keep every checkpoint) and give each FID as their
#   mean (and range): a sub's FID moves by ~10 between checkpoints 1200 steps apart, so one checkpoint
#   per run decides little
# writes: OUTDIR/NAME/ (run folders), OUTDIR/NAME.time (training seconds), OUTDIR/eval_*.json
#         (with AVG: OUTDIR/eval_NAME@STEP.json, one per checkpoint),
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
AVG="${AVG:-0}"
case "$AVG" in ''|*[!0-9]*) echo "AVG must be a count of checkpoints" >&2; exit 2 ;; esac
if [ "${SMOKE:-0}" = 1 ]; then
  TRAIN_EXTRA=(--steps 4 --sample-every 0 --ckpt-every "$((AVG > 0 ? 1 : 0))")
  AT_OPT=(--model-opts ac_channels_at=2) N=500
fi
SHOW_STEPS="${STEPS:-}" SHOW_AT="${CHANNELS_AT:-}"
if [ "${SMOKE:-0}" = 1 ]; then SHOW_STEPS=4 SHOW_AT=2; fi
if [ "$AVG" -gt 0 ]; then TRAIN_EXTRA+=(--keep-ckpts 0); fi
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
# the checkpoints each run is evaluated at: its last one, or (AVG=K) its last K step checkpoints
ckpts_of() {
  if [ "$AVG" -eq 0 ]; then echo "$OUT/$1/last.safetensors"; return; fi
  local all; all=$(ls "$OUT/$1/checkpoints/"step_*.safetensors 2>/dev/null | sort)
  if [ "$(echo "$all" | grep -c .)" -lt "$AVG" ]; then
    echo "AVG=$AVG: $OUT/$1 keeps fewer step checkpoints (train with AVG set from the start)" >&2; return 1
  fi
  echo "$all" | tail -n "$AVG"
}
for e in "${EVALS[@]}"; do
  read -r name run ch res <<<"$e"
  for ck in $(ckpts_of "$run"); do
    tag="$name"
    if [ "$AVG" -gt 0 ]; then st=$(basename "$ck" .safetensors); tag="$name@$((10#${st#step_}))"; fi
    [ -f "$OUT/eval_$tag.json" ] && continue
    echo "== eval $tag ($(date +%H:%M:%S))" >&2
    "$G" eval --ckpt "$ck" --channels "$ch" --res "$res" --real fashion-mnist:test \
      --extractor fmnist --metrics fid --n "$N" --json "$OUT/eval_$tag.tmp" --quiet >/dev/null
    mv "$OUT/eval_$tag.tmp" "$OUT/eval_$tag.json"
  done
done
/usr/bin/python3 - "$OUT" "$SHOW_STEPS" "$SHOW_AT" "$AVG" <<'PY'
import glob, json, os, re, sys
out, steps_env, at_env, avg = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def ev(name):
    """The evaluations of one config: [json] for the last checkpoint, or the last AVG checkpoints' (AVG)."""
    if not avg:
        f = f"{out}/eval_{name}.json"
        return [json.load(open(f))] if os.path.exists(f) else []
    found = {}
    for f in glob.glob(f"{out}/eval_{name}@*.json"):
        found[int(re.search(r"@(\d+)\.json$", f).group(1))] = f
    return [json.load(open(found[k])) for k in sorted(found)[-avg:]]
def fid(evs):
    v = [e["metrics"]["frechet_inception_distance"] for e in evs]
    m = sum(v) / len(v)
    return f"{m:.1f}" if len(v) == 1 else f"{m:.1f} ({min(v):.1f}-{max(v):.1f})"
def secs(run):
    s = int(open(f"{out}/{run}.time").read())
    return f"{s // 60} min {s % 60:02d} s"
cfg = json.load(open("configs/anycost.json"))
steps = f"{int(steps_env) if steps_env else cfg['steps']} x {cfg['batch']}"
at = int(at_env) if at_env else cfg["model"]["ac_channels_at"]
head = "FID joint" if not avg else f"FID joint, mean of {avg} ckpts (range)"
rows = [f"| config (width @ res) | MACs per image | {head} | FID alone | G steps x batch | training wall time |",
        "|---|---|---|---|---|---|"]
for label, j, a, arun in [("1.0 @ 32 (full)", "joint_100_32", None, None),
                          ("0.5 @ 32", "joint_050_32", "alone_050_32", "anycost_alone_050"),
                          ("0.25 @ 32", "joint_025_32", "alone_025_32", "anycost_alone_025"),
                          ("1.0 @ 16", "joint_100_16", None, None),
                          ("0.25 @ 16", "joint_025_16", None, None)]:
    je, ae = ev(j), ev(a) if a else []
    if not je:
        continue
    macs = je[0]["anycost"]["macs"]
    fa = fid(ae) if ae else "-"
    if ae and ae[0]["anycost"]["macs"] != macs:
        fa += f" ({ae[0]['anycost']['macs'] / 1e6:.2f} M MACs)"
    wall = f"joint {secs('anycost')}" + (f", alone {secs(arun)}" if arun else "")
    rows.append(f"| {label} | {macs / 1e6:.2f} M | {fid(je)} | {fa} | {steps} | {wall} |")
rows.append("")
phases = (f"multi-resolution for steps 0-{at - 1}, adaptive channels (sandwich, distillation) from {at}" if at > 0 else
          "adaptive channels (sandwich, distillation) from step 0" if at == 0 else "multi-resolution only")
per = "" if not avg else f" Each FID is the mean over the last {avg} step checkpoints of its run."
rows.append(f"Joint: {phases}; alone: the same steps and batch, multi-resolution only. FID: fmnist extractor, 10k "
            f"EMA samples vs the 10k test images.{per}")
open(f"{out}/table.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
