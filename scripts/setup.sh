#!/usr/bin/env bash
# Installs what gantry needs to build and test on Debian 12 (idempotent).
set -euo pipefail
PKGS="build-essential cmake pkg-config libopenblas-dev liblapacke-dev zlib1g-dev libpng-dev libjpeg62-turbo-dev
      libcjson-dev libmicrohttpd-dev python3-torch python3-torchvision python3-numpy python3-pil dataset-fashion-mnist valgrind
      chromium libopenmpi-dev openmpi-bin clang-14 libclang-rt-14-dev libomp-14-dev"
missing=""
# node and npm: any install will do (Debian's packages nodejs + npm, or NodeSource's nodejs, which
# carries npm and conflicts with Debian's npm package)
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing="nodejs npm"
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing
fi
# the lab's page: its npm packages (web/package-lock.json), installed once and again when the lock changes
if [ -f web/package-lock.json ] && ! cmp -s web/package-lock.json web/node_modules/.gantry-installed-lock; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.gantry-installed-lock)
fi
