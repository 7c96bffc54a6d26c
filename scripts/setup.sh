#!/usr/bin/env bash
# Installs what gantry needs to build and test on Debian 12 (idempotent).
set -euo pipefail
PKGS="build-essential cmake pkg-config libopenblas-dev liblapacke-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev
      libcjson-dev python3-torch python3-torchvision python3-numpy python3-pil dataset-fashion-mnist valgrind"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
