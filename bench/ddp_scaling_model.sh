#!/usr/bin/env bash
# The scaling model of docs/mpi.md from measured figures: per step, the gradient allreduces' time on N
# ranks, T = sum over allreduces of 2 (N-1)/N * bytes / BW + 2 log2(N) * alpha, and --sync-bn's small
# blocking allreduces (latency only), against the per-rank compute time of a step (weak scaling: each
# rank keeps its batch). Efficiency = compute / (compute + communication), no overlap counted.
# usage: bench/ddp_scaling_model.sh NAME COMPUTE_MS BYTES_PER_STEP BUCKETS_PER_STEP [SYNC_BN_ALLREDUCES]
#        [BW_GBPS=25] [ALPHA_US=5]
set -euo pipefail
name="$1" comp="$2" bytes="$3" k="$4" sbn="${5:-0}" bw="${6:-25}" alpha="${7:-5}"
for n in 8 64 512; do
  awk -v name="$name" -v n="$n" -v c="$comp" -v s="$bytes" -v k="$k" -v sb="$sbn" -v bw="$bw" -v a="$alpha" 'BEGIN {
    l = log(n) / log(2)
    tbw = 2 * (n - 1) / n * s / (bw * 1e9) * 1e3      # ms
    tlat = k * 2 * l * a * 1e-3                        # ms
    tsbn = sb * 2 * l * a * 1e-3
    t = tbw + tlat
    printf "%-8s %4d ranks  bandwidth %.3f ms  latency %.3f ms  total %.3f ms  efficiency %.2f%%", name, n, tbw, tlat, t, 100 * c / (c + t)
    if (sb > 0) printf "  (+ sync-bn %.3f ms: %.2f%%)", tsbn, 100 * c / (c + t + tsbn)
    printf "\n"
  }'
done
