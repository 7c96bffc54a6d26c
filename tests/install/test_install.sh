#!/usr/bin/env bash
# install/test_install - `cmake --install` into a temporary prefix, then use what
# was installed from a directory outside the source and build trees:
#   1. every file lands where it should (bin, lib, include, pkg-config, share/gantry);
#   2. PREFIX/bin/gantry eval --extractor fmnist finds the installed weights
#      (FID of Fashion-MNIST test vs train, 2000 images each: finite, 0 < FID < 5);
#   3. the prefix moved elsewhere still works, and the program reads the weights
#      in its own PREFIX/share/gantry/ (a broken copy there makes it fail, naming it);
#   4. a C program compiled and linked with `pkg-config --static --cflags --libs
#      gantry` runs: a matrix product, and the fmnist classifier from the installed
#      weights (pkg-config --variable=pkgdatadir) on real test images.
# Usage: test_install.sh BUILD_DIR (ctest passes the tools and install directories
# in GT_CMAKE, GT_CC, GT_PKG_CONFIG, GT_BINDIR, GT_LIBDIR, GT_INCLUDEDIR, GT_DATADIR,
# GT_VERSION; the defaults suit a plain build). Everything goes in a mktemp -d
# directory under ${TMPDIR:-/tmp}, removed at exit (GANTRY_KEEP_TMP=1 keeps it).
set -euo pipefail

build=$(cd "${1:?usage: test_install.sh BUILD_DIR}" && pwd -P)
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cmake=${GT_CMAKE:-cmake} cc=${GT_CC:-cc} pkgconf=${GT_PKG_CONFIG:-pkg-config}
bindir=${GT_BINDIR:-bin} libdir=${GT_LIBDIR:-lib} incdir=${GT_INCLUDEDIR:-include} datadir=${GT_DATADIR:-share}
weights_name=fmnist_classifier.safetensors

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gantry-install-test.XXXXXX")
cleanup() {
    if [ "${GANTRY_KEEP_TMP:-0}" = 1 ]; then echo "test_install: kept $tmp (GANTRY_KEEP_TMP=1)"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM # the EXIT trap runs then too
tmp=$(cd "$tmp" && pwd -P)
fail() {
    echo "test_install: FAIL: $*" >&2
    exit 1
}
case "$tmp/" in "$src/"* | "$build/"*) fail "the temporary directory $tmp is inside the source or build tree" ;; esac

# nothing from the environment may point the program at the weights or the cache
unset GANTRY_FMNIST_WEIGHTS XDG_CACHE_HOME
export GANTRY_CACHE=$tmp/cache

# --- 1. install --------------------------------------------------------------------
prefix=$tmp/prefix
start=$(date +%s.%N)
"$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
for f in "$bindir/gantry" "$libdir/libgantry.a" "$incdir/gantry.h" "$libdir/pkgconfig/gantry.pc" \
         "$datadir/gantry/$weights_name" "$datadir/gantry/convert_inception.py"; do
    [ -f "$prefix/$f" ] || fail "cmake --install did not install $f (log: $(tr '\n' ' ' <"$tmp/install.log"))"
done
[ -x "$prefix/$bindir/gantry" ] || fail "$bindir/gantry is not executable"
cmp -s "$src/assets/$weights_name" "$prefix/$datadir/gantry/$weights_name" || fail "installed weights differ from assets/"
for h in "$src"/include/gantry/*.h; do
    cmp -s "$h" "$prefix/$incdir/gantry/$(basename "$h")" || fail "header gantry/$(basename "$h") not installed as is"
done
n_src=$(find "$src/include" -name '*.h' | wc -l)
n_inst=$(find "$prefix/$incdir" -name '*.h' | wc -l)
[ "$n_src" = "$n_inst" ] || fail "$n_inst headers installed, the source has $n_src"
echo "installed into $prefix: $(cd "$prefix" && find . -type f | sort | tr '\n' ' ')"
# the device plugin, when this build made one: installed, and found by the installed program (its
# `info --devices` line then says why there is no GPU, not that gantry was built without CUDA)
if [ -f "$build/libgantry_cuda.so" ]; then
    [ -f "$prefix/$libdir/gantry/libgantry_cuda.so" ] || fail "cmake --install did not install $libdir/gantry/libgantry_cuda.so"
    devs=$(env -u GANTRY_CUDA_PLUGIN "$prefix/$bindir/gantry" info --devices 2>&1) || fail "installed gantry info --devices: $devs"
    case "$devs" in *"built without CUDA"*) fail "the installed program did not find its CUDA plugin: $devs" ;; esac
    echo "installed gantry info --devices: $(echo "$devs" | tr '\n' ' ')"
fi

# --- 2. the installed program, from elsewhere ----------------------------------------
work=$tmp/work
mkdir -p "$work"
cd "$work"
run_eval() { # $1: the prefix; writes eval.json, eval.out, eval.err in $work
    "$1/$bindir/gantry" eval --extractor fmnist --real fashion-mnist:test --fake fashion-mnist:train \
        --n 2000 --metrics fid --json eval.json --quiet >eval.out 2>eval.err
}
read_fid() {
    awk -F: '/"frechet_inception_distance"/ { gsub(/[ \t,]/, "", $2); print $2 }' eval.json
}
check_fid() { # $1: what
    local fid
    fid=$(read_fid)
    [ -n "$fid" ] || fail "$1: no frechet_inception_distance in eval.json: $(cat eval.json)"
    awk -v f="$fid" 'BEGIN { exit !(f == f + 0 && f > 0 && f < 5) }' || fail "$1: FID $fid not in (0, 5)"
    echo "$1: FID (Fashion-MNIST test vs train, 2000 each, fmnist extractor) = $fid"
}
run_eval "$prefix" || fail "installed gantry eval failed: $(cat eval.err)"
check_fid "installed $bindir/gantry"
version=$("$prefix/$bindir/gantry" version | awk '{ print $2 }')
if [ -n "${GT_VERSION:-}" ] && [ "$version" != "$GT_VERSION" ]; then
    fail "gantry version says $version, cli/main.c $GT_VERSION"
fi

# --- 3. the prefix moved: its own share/gantry/ still found, and found first ------------
moved=$tmp/moved/somewhere/else
mkdir -p "$(dirname "$moved")"
mv "$prefix" "$moved"
rm -f eval.json
run_eval "$moved" || fail "gantry eval from the moved prefix failed: $(cat eval.err)"
check_fid "moved prefix"
# a broken copy in the moved prefix: the program must read it (and say so), not
# fall back to the source tree's assets/ or the configured install directory
cp "$moved/$datadir/gantry/$weights_name" "$tmp/weights.keep"
printf 'not a safetensors file' >"$moved/$datadir/gantry/$weights_name"
rm -f eval.json
if run_eval "$moved"; then
    fail "gantry eval ran with a broken $moved/$datadir/gantry/$weights_name: it did not read the installed weights"
fi
grep -q "$moved/$datadir/gantry/$weights_name" eval.err ||
    fail "the error for broken installed weights does not name them: $(cat eval.err)"
echo "moved prefix, broken weights: refused, naming them ($(head -c 200 eval.err | tr '\n' ' '))"
cp "$tmp/weights.keep" "$moved/$datadir/gantry/$weights_name"
prefix=$moved

# --- 4. a program built with pkg-config ----------------------------------------------
export PKG_CONFIG_PATH=$prefix/$libdir/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
pc_version=$("$pkgconf" --modversion gantry) || fail "pkg-config --modversion gantry"
[ "$pc_version" = "$version" ] || fail "gantry.pc says version $pc_version, gantry version says $version"
flags=$("$pkgconf" --static --cflags --libs gantry) || fail "pkg-config --static --cflags --libs gantry"
echo "pkg-config --static --cflags --libs gantry: $flags"
pkgdatadir=$("$pkgconf" --variable=pkgdatadir gantry)
[ -f "$pkgdatadir/$weights_name" ] || fail "pkg-config --variable=pkgdatadir gantry = $pkgdatadir holds no $weights_name"
cp "$src/tests/install/consumer.c" "$work/consumer.c"
# shellcheck disable=SC2086 # the flags are words
"$cc" -std=c11 -O2 -Wall -Wextra -Werror -o consumer consumer.c $flags 2>cc.err ||
    fail "compiling a program with pkg-config's flags: $(cat cc.err)"
./consumer "$pkgdatadir/$weights_name" 1000 0.8 || fail "the program linked with libgantry failed"

elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
echo "test_install: passed in ${elapsed}s"
