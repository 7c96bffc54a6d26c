#!/usr/bin/env bash
# The main job in one command, on a fresh Debian 12 machine: installs what
# gantry needs (scripts/setup.sh), builds, trains a DCGAN on Fashion-MNIST for
# a few minutes on the CPU (logging the FID every 1000 steps), writes a grid of
# 64 samples, prints its path, and scores 10k samples against the test set
# with the shipped Fashion-MNIST evaluator (FID, KID, precision/recall).
# Run it again and it reuses the finished run (it only draws the grid anew).
# usage: bash scripts/demo.sh [RUN_DIR]      (default runs/fashion-dcgan)
# Extra flags for `gantry train` can be passed in GANTRY_TRAIN_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs" --target gantry_cli >/dev/null
OUT="${1:-runs/fashion-dcgan}"
# 28 px (Fashion-MNIST's own size), half-width DCGAN (ngf = ndf = 32), EMA generator.
FLAGS=(--data fashion-mnist --model dcgan --res 28 --ngf 32 --ndf 32 --steps 4000
       --lr-g 2e-4 --lr-d 2e-4 --ema 0.999 --seed 0 --sample-every 500 --ckpt-every 1000
       --eval-every 1000 --eval-n 2000 --eval-extractor fmnist --out "$OUT")
if [ -f "$OUT/last.safetensors" ]; then
  build/gantry train --out "$OUT" --resume ${GANTRY_TRAIN_FLAGS:-}
else
  build/gantry train "${FLAGS[@]}" ${GANTRY_TRAIN_FLAGS:-}
fi
build/gantry sample --ckpt "$OUT/last.safetensors" --n 64 --seed 0 --scale 2 --out "$OUT/grid.png" >/dev/null
echo "sample grid: $OUT/grid.png"
build/gantry eval --fake "$OUT/last.safetensors" --real fashion-mnist:test --n 10000 --extractor fmnist \
    --metrics fid,kid,pr --quiet
