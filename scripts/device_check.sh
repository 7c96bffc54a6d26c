#!/usr/bin/env bash
# The CUDA device check: ONE script a session with a GPU machine runs from the repository root
# (e.g. the `device` tool: `bash scripts/device_check.sh`). It does not assume the machine: it
# checks what it has (GPU, driver, nvcc, cuDNN, cmake, the Debian libraries gantry needs, PyTorch
# with CUDA) and says what is missing, then
#   1. configures and builds with -DGANTRY_CUDA=ON (-j$(nproc)) into build-device/: the program,
#      the plugin libgantry_cuda.so, tests/cuda/*, tests/cli/test_cli_device and bench_cuda;
#   2. runs `gantry info --devices`;
#   3. runs every tests/cuda/test_*.c program (CPU vs GPU on every op, a DCGAN-64 step) and
#      tests/cli/test_cli_device (--device cuda then trains);
#   4. runs the benchmark bench/bench_cuda.sh (gantry vs PyTorch + cuDNN);
# each part under its own timeout, the whole inside DEVICE_CHECK_BUDGET seconds (470: 8 minutes
# with room to spare), then prints a summary: each part's result, time and budget.
# Logs and the summary are also written under $OUT when it is set (else build-device/check/).
# Without a GPU it stops after the checks of step 0 and says so (exit 2); DEVICE_CHECK_BUILD=1
# builds and runs the rest anyway (how the script itself is tried on a machine without a GPU).
# DEVICE_CHECK_BUILD_DIR: another build folder (default build-device).
# Exit: 0 every part passed, 1 a part failed, 2 no GPU.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
T0=$(date +%s)
BUDGET="${DEVICE_CHECK_BUDGET:-470}"
BUILD="${DEVICE_CHECK_BUILD_DIR:-build-device}"
LOGS="${OUT:-$BUILD/check}"
mkdir -p "$LOGS"
JOBS=$(nproc 2>/dev/null || echo 4)
SUMMARY=()
FAILED=0

left() { echo $((BUDGET - ($(date +%s) - T0))); }
note() { echo "== $*"; }
# part NAME BUDGET_S COMMAND...: runs COMMAND with timeout min(BUDGET_S, time left), output to
# $LOGS/NAME.log; records "NAME ok|FAILED|TIMEOUT|SKIPPED (Ns of Ms)"
part() {
  local name="$1" budget="$2"
  shift 2
  local l t rc s
  l=$(left)
  if [ "$l" -lt 5 ]; then
    SUMMARY+=("$(printf '%-16s %-9s %5s of %4ss  (no time left in the %ss budget)' "$name" SKIPPED 0 "$budget" "$BUDGET")")
    FAILED=1
    return 1
  fi
  t=$budget
  [ "$l" -lt "$t" ] && t=$l
  s=$(date +%s)
  timeout --kill-after=5 "$t" "$@" >"$LOGS/$name.log" 2>&1
  rc=$?
  local took=$(($(date +%s) - s)) res=ok
  if [ $rc = 124 ] || [ $rc = 137 ]; then res=TIMEOUT; elif [ $rc = 77 ]; then res=SKIPPED; elif [ $rc != 0 ]; then res="FAILED($rc)"; fi
  [ "$res" != ok ] && FAILED=1
  SUMMARY+=("$(printf '%-16s %-9s %5ss of %4ss' "$name" "$res" "$took" "$budget")")
  return $rc
}

summary() {
  {
    echo
    echo "== device check summary ($(($(date +%s) - T0))s of ${BUDGET}s; logs in $LOGS)"
    printf '%s\n' "${SUMMARY[@]}"
  } | tee "$LOGS/summary.txt"
}

# --- 0. what the machine has ------------------------------------------------------------------
note "0. the machine"
MISSING=()
uname -srm
[ -r /etc/os-release ] && . /etc/os-release && echo "${PRETTY_NAME:-?}"
echo "cores: $JOBS"
GPU=0
if command -v nvidia-smi >/dev/null 2>&1; then
  if timeout 15 nvidia-smi --query-gpu=index,name,memory.total,driver_version,compute_cap --format=csv,noheader \
    >"$LOGS/nvidia-smi.txt" 2>&1 && [ -s "$LOGS/nvidia-smi.txt" ]; then
    GPU=1
    sed 's/^/gpu: /' "$LOGS/nvidia-smi.txt"
  else
    echo "nvidia-smi: $(head -2 "$LOGS/nvidia-smi.txt" | tr '\n' ' ')"
  fi
else
  echo "nvidia-smi: not found (no NVIDIA driver installed?)"
fi
NVCC=""
for c in "$(command -v nvcc 2>/dev/null)" /usr/local/cuda/bin/nvcc; do [ -n "$c" ] && [ -x "$c" ] && NVCC="$c" && break; done
if [ -n "$NVCC" ]; then echo "nvcc: $NVCC ($("$NVCC" --version | grep -o 'release [0-9.]*'))"; else MISSING+=("nvcc (the CUDA toolkit)"); fi
CUDNN_H=$(ls /usr/local/cuda/include/cudnn_version.h /usr/include/cudnn_version.h /usr/include/x86_64-linux-gnu/cudnn_version*.h 2>/dev/null | head -1)
if [ -n "$CUDNN_H" ]; then
  echo "cuDNN: $(awk '/define CUDNN_MAJOR/{a=$3} /define CUDNN_MINOR/{b=$3} /define CUDNN_PATCHLEVEL/{c=$3} END{print a"."b"."c}' "$CUDNN_H") ($CUDNN_H)"
else MISSING+=("cuDNN headers (cudnn_version.h)"); fi
LDC=$(ldconfig -p 2>/dev/null) # (grep -q on a pipe would end it early: a false "missing" under pipefail)
grep -q 'libcudnn\.so' <<<"$LDC" || ls /usr/local/cuda/lib64/libcudnn.so* >/dev/null 2>&1 || MISSING+=("libcudnn.so")
command -v cmake >/dev/null && echo "cmake: $(cmake --version | head -1)" || MISSING+=("cmake")
command -v cc >/dev/null || MISSING+=("a C compiler (build-essential)")
for m in zlib libpng libjpeg libcjson libmicrohttpd; do pkg-config --exists "$m" 2>/dev/null || MISSING+=("$m (pkg-config)"); done
grep -q 'libopenblas\.so' <<<"$LDC" || MISSING+=("libopenblas-dev")
grep -q 'liblapacke\.so' <<<"$LDC" || MISSING+=("liblapacke-dev")
TORCH=$(timeout 30 /usr/bin/python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "GPU", torch.cuda.is_available())' 2>&1 | tail -1)
echo "PyTorch: $TORCH"
if [ ${#MISSING[@]} -gt 0 ]; then
  echo "missing: ${MISSING[*]}"
  SUMMARY+=("$(printf '%-16s %-9s' machine "MISSING: ${MISSING[*]}")")
else
  SUMMARY+=("$(printf '%-16s %-9s' machine "ok$([ $GPU = 0 ] && echo ', but no GPU')")")
fi
case "$TORCH" in *"GPU True"*) ;; *) SUMMARY+=("$(printf '%-16s %s' pytorch "no CUDA PyTorch: the benchmark gives gantry's figures only ($TORCH)")") ;; esac
if [ $GPU = 0 ] && [ "${DEVICE_CHECK_BUILD:-0}" != 1 ]; then
  echo "no GPU: nothing more to check here (DEVICE_CHECK_BUILD=1 builds and runs the rest anyway)"
  SUMMARY+=("$(printf '%-16s %s' gpu "NONE: stopped before the build")")
  summary
  exit 2
fi
if [ ${#MISSING[@]} -gt 0 ]; then
  summary
  exit 1
fi

# --- 1. configure and build ---------------------------------------------------------------------
note "1. configure and build (-DGANTRY_CUDA=ON, -j$JOBS) into $BUILD"
if part configure 45 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DGANTRY_CUDA=ON -DCMAKE_CUDA_COMPILER="$NVCC"; then
  grep -E "CUDA|cuDNN" "$LOGS/configure.log" | head -5
  CUDA_TESTS=$(cd tests/cuda && ls test_*.c 2>/dev/null | sed 's/\.c$//' | tr '\n' ' ')
  # shellcheck disable=SC2086
  part build 150 cmake --build "$BUILD" -j"$JOBS" --target gantry_cli gantry_cuda bench_cuda test_cli_device $CUDA_TESTS
  tail -3 "$LOGS/build.log"
  grep -E "error|warning" "$LOGS/build.log" | head -20
else
  tail -20 "$LOGS/configure.log"
fi

# --- 2. the devices ------------------------------------------------------------------------------
if [ -x "$BUILD/gantry" ] && [ -f "$BUILD/libgantry_cuda.so" ]; then
  note "2. gantry info --devices"
  part info 15 "$BUILD/gantry" info --devices
  cat "$LOGS/info.log"

  # --- 3. the tests ------------------------------------------------------------------------------
  note "3. tests/cuda/* and tests/cli/test_cli_device"
  for t in ${CUDA_TESTS:-}; do
    if [ -x "$BUILD/$t" ]; then
      part "$t" 75 env OMP_NUM_THREADS="$JOBS" "$BUILD/$t"
      # the GPU, the rows that fell back to the CPU or failed, the totals
      grep -E "host fallbacks [0-9]+$" "$LOGS/$t.log" | head -25
      grep -E "^cuda:|rows agree|CHECK failed|DCGAN|after one step|device counters|passed|SKIP" "$LOGS/$t.log" | head -30
    else
      SUMMARY+=("$(printf '%-16s %-9s' "$t" "NOT BUILT")")
      FAILED=1
    fi
  done
  part test_cli_device 35 env OMP_NUM_THREADS=4 "$BUILD/test_cli_device"
  tail -8 "$LOGS/test_cli_device.log"

  # --- 4. the benchmark --------------------------------------------------------------------------
  note "4. bench/bench_cuda.sh (gantry vs PyTorch + cuDNN)"
  part bench 150 env BENCH_TIMEOUT=22 bash bench/bench_cuda.sh 10 2 "$BUILD"
  cat "$LOGS/bench.log"
else
  echo "no program or no plugin built: parts 2-4 skipped"
  FAILED=1
fi
summary
[ $GPU = 0 ] && exit 2
exit $FAILED
