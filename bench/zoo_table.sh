#!/usr/bin/env bash
# The README's model table: every shipped config (configs/NAME.json) trained to its default schedule
# (the config's steps, batch, loss, n_critic, ...) on Fashion-MNIST on this machine, one after the
# other with all cores, then measured: FID and KID with the shipped Fashion-MNIST extractor, 10,000
# images from the EMA generator (latent seed 0; conditional models draw the classes in turn) against
# the 10,000 images of the test set. Each run's training wall time is timed here (the in-training
# evaluations are turned off so that the time is the training's).
#
# usage: bench/zoo_table.sh OUTDIR [NAME ...]      (no NAME: every config)
# writes: OUTDIR/NAME/ (the run folder), OUTDIR/NAME.eval.json, OUTDIR/NAME.time,
#         OUTDIR/strips/NAME.png (16 samples, 2 rows of 8, each pixel 2x2), OUTDIR/table.md
# A model whose OUTDIR/NAME.eval.json exists is not trained again (delete it to redo the model), so
# an interrupted table continues where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/zoo_table.sh OUTDIR [NAME ...]" >&2; exit 2; }
OUT="$1"; shift
NAMES=("$@")
if [ ${#NAMES[@]} -eq 0 ]; then
  for c in configs/*.json; do NAMES+=("$(basename "$c" .json)"); done
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j2 --target gantry >/dev/null
mkdir -p "$OUT/strips"
for n in "${NAMES[@]}"; do
  [ -f "configs/$n.json" ] || { echo "no configs/$n.json" >&2; exit 2; }
  [ -f "$OUT/$n.eval.json" ] && continue
  rm -rf "${OUT:?}/$n"
  echo "== $n: training ($(date +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >&2
  t0=$(date +%s.%N)
  build/gantry train --config "configs/$n.json" --out "$OUT/$n" --eval-every 0 --threads 0 --quiet
  t1=$(date +%s.%N)
  echo "$t0 $t1" | awk '{printf "%.0f\n", $2 - $1}' >"$OUT/$n.time"
  build/gantry sample --ckpt "$OUT/$n/last.safetensors" --out "$OUT/strips/$n.png" --n 16 --nrow 8 \
    --scale 2 --seed 1 --quiet 2>/dev/null || build/gantry sample --ckpt "$OUT/$n/last.safetensors" \
    --out "$OUT/strips/$n.png" --n 16 --nrow 8 --scale 2 --seed 1
  build/gantry eval --fake "$OUT/$n/last.safetensors" --real fashion-mnist:test --extractor fmnist \
    --metrics fid,kid --n 10000 --json "$OUT/$n.eval.tmp" --quiet
  mv "$OUT/$n.eval.tmp" "$OUT/$n.eval.json"
done
/usr/bin/python3 - "$OUT" "${NAMES[@]}" <<'PY'
import json, sys
out, names = sys.argv[1], sys.argv[2:]
rows = ["| model | loss | G steps x batch (n_critic) | FID | KID | wall time | samples |",
        "|---|---|---|---|---|---|---|"]
for n in names:
    try:
        ev = json.load(open(f"{out}/{n}.eval.json"))["metrics"]
        secs = int(open(f"{out}/{n}.time").read())
    except FileNotFoundError:
        continue
    cfg = json.load(open(f"configs/{n}.json"))
    fam = cfg["model"]["name"]
    crit = cfg.get("n_critic", 1)
    steps = f"{cfg['steps']} x {cfg['batch']}" + (f" ({crit})" if crit != 1 else "")
    kid = ev["kernel_inception_distance_mean"], ev["kernel_inception_distance_std"]
    rows.append(f"| `{n}` ({fam}) | {cfg['loss']} | {steps} | {ev['frechet_inception_distance']:.1f} | "
                f"{kid[0]:.3g} ± {kid[1]:.2g} | {secs // 60} min {secs % 60:02d} s | "
                f"![{n}](docs/zoo/{n}.png) |")
open(f"{out}/table.md", "w").write("\n".join(rows) + "\n")
print("\n".join(rows))
PY
