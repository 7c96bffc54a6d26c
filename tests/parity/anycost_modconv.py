"""Anycost golden values, written from the formulas of include/gantry/anycost.h (StyleGAN2's
modulated convolution with per-sample weights, as the paper's code computes it), not from gantry's
code: one modulated 3x3 conv (demodulation, noise, bias, leaky ReLU * sqrt 2), one that upsamples
first, and a torgb (1x1, no demodulation) on the first conv's output; their forward, the
gradients of L = sum(y vy) + sum(yu vu) + sum(rgb vr) w.r.t. the inputs, the style input w and the
weights, and the second order: gp = |dL/dx8|^2 + |dL/dx4|^2 differentiated w.r.t. w and the weights
(create_graph). Then a tiny whole generator (mapping, synthesis at 8 and 32 px, full and sliced).
Weights and inputs come from the C test (tests/models/test_anycost_parity.c).
usage: anycost_modconv.py OUT IN
"""
import math
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
torch.set_default_dtype(torch.float64)  # the reference in float64; gantry's float32 is compared to it
inp = gtb.load(sys.argv[2])
T = {k: torch.tensor(v, dtype=torch.float64) if v.dtype.kind == "f" else torch.tensor(v) for k, v in inp.items()}
cfg = {k[4:]: int(v.reshape(-1)[0]) for k, v in T.items() if k.startswith("cfg.")}
W_DIM, N_MLP, NZ = cfg["w_dim"], cfg["n_mlp"], cfg["nz"]
LR_MUL = 0.01
SQ2 = math.sqrt(2.0)


def P(name):
    return T["G." + name]


def modconv(x, w, prefix, k_in, k_out, up=False, noise=None, torgb=False):
    """StyleGAN2's modulated conv with per-sample weights W[o, i] * s[i] / sqrt(fan_in), demodulated."""
    W = P(prefix + ".conv.weight")
    c_in, k = W.shape[1], W.shape[2]
    A, Ab = P(prefix + ".conv.modulation.weight"), P(prefix + ".conv.modulation.bias")
    W, A, Ab = W[:k_out, :k_in], A[:k_in], Ab[:k_in]
    x = x[:, :k_in]
    s = F.linear(w, A / math.sqrt(W_DIM), Ab)  # the style (N, k_in), equalized lr
    Wm = W[None] * s[:, None, :, None, None] / math.sqrt(c_in * k * k)  # (N, k_out, k_in, k, k)
    if not torgb:
        Wm = Wm * torch.rsqrt(Wm.pow(2).sum(dim=(2, 3, 4), keepdim=True) + 1e-8)
    if up:
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    n, _, h, wd = x.shape
    y = F.conv2d(x.reshape(1, n * k_in, h, wd), Wm.reshape(n * k_out, k_in, k, k), padding=k // 2, groups=n)
    y = y.reshape(n, k_out, h, wd)
    if torgb:
        return y + P(prefix + ".bias").reshape(1, -1, 1, 1)
    y = y + P(prefix + ".noise.weight") * noise
    y = y + P(prefix + ".activate.bias")[:k_out].reshape(1, -1, 1, 1)
    return F.leaky_relu(y, 0.2) * SQ2


out = {}
# --- one layer: forward, gradients, the gradient penalty's second order ----------------------------
x8 = T["x8"].clone().requires_grad_(True)
x4 = T["x4"].clone().requires_grad_(True)
w = T["w"].clone().requires_grad_(True)
pnames = [
    "convs.1.conv.weight", "convs.1.conv.modulation.weight", "convs.1.conv.modulation.bias", "convs.1.noise.weight",
    "convs.1.activate.bias", "convs.0.conv.weight", "convs.0.conv.modulation.weight", "convs.0.noise.weight",
    "to_rgbs.0.conv.weight", "to_rgbs.0.conv.modulation.weight", "to_rgbs.0.bias",
]
for n in pnames:
    T["G." + n].requires_grad_(True)
y = modconv(x8, w, "convs.1", 8, 8, noise=P("noises.noise_2"))
yu = modconv(x4, w, "convs.0", 8, 8, up=True, noise=P("noises.noise_1"))
rgb = modconv(y, w, "to_rgbs.0", 8, 1, torgb=True)
L = (y * T["vy"]).sum() + (yu * T["vu"]).sum() + (rgb * T["vr"]).sum()
out["layer.y"], out["layer.yu"], out["layer.rgb"] = y, yu, rgb
wrt = [x8, x4, w] + [P(n) for n in pnames]
names = ["x8", "x4", "w"] + pnames
grads = torch.autograd.grad(L, wrt, create_graph=True)
for n, g in zip(names, grads):
    out["grad." + n] = g
gp = grads[0].pow(2).sum() + grads[1].pow(2).sum()
out["gp"] = gp.reshape(1)
gg = torch.autograd.grad(gp, wrt[2:], allow_unused=True)
for n, g in zip(names[2:], gg):
    out["gp." + n] = torch.zeros_like(T["w"] if n == "w" else P(n)) if g is None else g


# --- the whole tiny generator -----------------------------------------------------------------------
def mapping(z):
    h = z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8)
    for i in range(N_MLP):
        Wl, bl = P(f"style.{i + 1}.weight"), P(f"style.{i + 1}.bias")
        h = F.leaky_relu(F.linear(h, Wl * (LR_MUL / math.sqrt(Wl.shape[1])), bl * LR_MUL), 0.2) * SQ2
    return h


def synthesis(w, ratio, res):
    levels = int(math.log2(res)) - 1
    x = P("input.input")
    rgb = None
    k_prev = x.shape[1]

    def width(prefix):
        return P(prefix + ".conv.weight").shape[0]

    for lv in range(levels):
        convs = [0] if lv == 0 else [2 * lv - 1, 2 * lv]
        for i in convs:
            prefix = "conv1" if i == 0 else f"convs.{i - 1}"
            k = max(1, int(math.floor(width(prefix) * ratio + 0.5)))
            x = modconv(x.expand(w.shape[0], -1, -1, -1), w, prefix, k_prev, k, up=(lv > 0 and i == convs[0]),
                        noise=P(f"noises.noise_{i}"))
            k_prev = k
        t = modconv(x, w, "to_rgb1" if lv == 0 else f"to_rgbs.{lv - 1}", k_prev, P("to_rgb1.bias").shape[0],
                    torgb=True)
        rgb = t if rgb is None else F.interpolate(rgb, scale_factor=2, mode="bilinear", align_corners=False) + t
    return rgb


with torch.no_grad():
    wz = mapping(T["z"])
    out["G.w"] = wz
    for ratio, res in ((1.0, 8), (0.5, 8), (1.0, 32), (0.25, 32), (0.75, 16)):
        out[f"G.{ratio:g}@{res}"] = synthesis(wz, ratio, res)
gtb.save(sys.argv[1], out)
