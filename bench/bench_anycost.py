"""The PyTorch row of bench/run_bench_anycost.sh: the anycost generator (include/gantry/anycost.h's
architecture: mapping, modulated 3x3 convs with demodulation computed as conv2d(x * s, W) * d,
noise, bias, leaky ReLU * sqrt 2, a torgb per level summed through bilinear upsampling) and its
sub-generators (the first k channels of every conv, the levels up to the sub's resolution), timed
per image at batch 1 under torch.no_grad: the median of REPS calls after a warm-up, the configs
taken in turn, like `gantry anycost-report`. Random weights (latency does not depend on them).
usage: bench_anycost.py [REPS] [--res 32] [--ch 32] [--ch-max 128] [--w-dim 128] [--n-mlp 4] [--nz 128]
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument("reps", nargs="?", type=int, default=101)
p.add_argument("--res", type=int, default=32)
p.add_argument("--channels", type=int, default=1)
p.add_argument("--ch", type=int, default=32)
p.add_argument("--ch-max", type=int, default=128)
p.add_argument("--w-dim", type=int, default=128)
p.add_argument("--n-mlp", type=int, default=4)
p.add_argument("--nz", type=int, default=128)
a = p.parse_args()
torch.manual_seed(0)

R, levels = a.res, int(math.log2(a.res)) - 1  # 4, 8, ..., R
C = [min(a.ch_max, a.ch * R // (4 << l)) for l in range(levels)]
map_w = [torch.randn(a.w_dim, a.nz if i == 0 else a.w_dim) * 100 for i in range(a.n_mlp)]
map_b = [torch.zeros(a.w_dim) for _ in range(a.n_mlp)]
const = torch.randn(1, C[0], 4, 4)


def mconv(cin, cout, k, torgb=False):
    return dict(W=torch.randn(cout, cin, k, k), A=torch.randn(cin, a.w_dim), b=torch.ones(cin),
                bias=torch.zeros(cout), nw=torch.zeros(1), k=k, torgb=torgb, cin=cin)


convs, torgbs, noises = [], [], []
for l in range(levels):
    if l == 0:
        convs.append(mconv(C[0], C[0], 3))
    else:
        convs.append(mconv(C[l - 1], C[l], 3))
        convs.append(mconv(C[l], C[l], 3))
    torgbs.append(mconv(C[l], a.channels, 1, True))
for i in range(len(convs)):
    h = 4 << ((i + 1) // 2)
    noises.append(torch.randn(1, 1, h, h))


def mconv_fwd(m, x, w, kin, kout, up, noise):
    W, A, b = m["W"][:kout, :kin], m["A"][:kin], m["b"][:kin]
    s = F.linear(w, A, b) * (1 / math.sqrt(a.w_dim)) * (1 / math.sqrt(m["cin"] * m["k"] ** 2))
    x = x[:, :kin] * s[:, :, None, None]
    if up:
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    y = F.conv2d(x, W, padding=m["k"] // 2)
    if m["torgb"]:
        return y + m["bias"][None, :, None, None]
    d = torch.rsqrt((s * s) @ (W * W).sum((2, 3)).t() + 1e-8)
    y = y * d[:, :, None, None] + noise * m["nw"] + m["bias"][:kout][None, :, None, None]
    return F.leaky_relu(y, 0.2) * math.sqrt(2)


def generate(z, ratio, res):
    h = z * torch.rsqrt((z * z).mean(1, keepdim=True) + 1e-8)
    for i in range(a.n_mlp):
        h = F.leaky_relu(F.linear(h, map_w[i] * (0.01 / math.sqrt(h.shape[1])), map_b[i] * 0.01), 0.2) * math.sqrt(2)
    nl = int(math.log2(res)) - 1
    x, rgb, kprev, i = const, None, C[0], 0
    for l in range(nl):
        for j in range(1 if l == 0 else 2):
            k = max(1, round(C[l] * ratio))
            x = mconv_fwd(convs[i], x, h, kprev, k, l > 0 and j == 0, noises[i])
            kprev, i = k, i + 1
        t = mconv_fwd(torgbs[l], x, h, kprev, a.channels, False, None)
        rgb = t if rgb is None else F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) + t
    return rgb


configs = [(r, res) for res in [R >> s for s in range(levels - 1)] for r in (1.0, 0.75, 0.5, 0.25)]
times = {c: [] for c in configs}
z = torch.randn(16, a.nz)
with torch.no_grad():
    for rep in range(-3, a.reps):
        for c in configs:
            zi = z[(rep + 3) % 16:(rep + 3) % 16 + 1]
            t0 = time.perf_counter()
            generate(zi, *c)
            if rep >= 0:
                times[c].append((time.perf_counter() - t0) * 1e3)
full = statistics.median(times[configs[0]])
print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, batch 1, median of {a.reps}")
for c in configs:
    m = statistics.median(times[c])
    print(f"{c[0]:g}@{c[1]}\t{m:.3f} ms\t{full / m:.2f}x")
