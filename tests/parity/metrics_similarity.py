"""PSNR and SSIM golden values for tests/metrics/test_similarity.c, computed here in float64
with torch (skimage is not installed): the same definitions as skimage's
peak_signal_noise_ratio(data_range=1) and structural_similarity(gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=0) on images mapped from
[-1, 1] to [0, 1]. The window is built as scipy.ndimage.gaussian_filter builds it (radius
int(truncate * sigma + 0.5) = 5 with truncate 3.5, weights exp(-x^2 / (2 sigma^2)) normalised),
applied here as one 2-D 11 x 11 kernel (the outer product) with a 'valid' convolution, which
is exactly the region skimage keeps after cropping (win_size - 1) // 2 pixels at each border.
usage: metrics_similarity.py OUT IN   (IN: cK.a, cK.b (n, c, h, w); OUT: cK.psnr, cK.ssim (n, 2) hi/lo)
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from metrics_common import cases, f64  # noqa: E402

torch.set_num_threads(1)


def window(sigma=1.5, truncate=3.5):
    r = int(truncate * sigma + 0.5)
    x = torch.arange(-r, r + 1, dtype=torch.float64)
    g = torch.exp(-0.5 * x * x / (sigma * sigma))
    g = g / g.sum()
    return torch.outer(g, g)


def psnr(a, b):
    mse = ((a - b) ** 2).flatten(1).mean(1)
    return torch.where(mse == 0, torch.full_like(mse, float("inf")), 10 * torch.log10(1.0 / mse))


def ssim(a, b):
    n, c, h, w = a.shape
    k = window()[None, None].repeat(c, 1, 1, 1)

    def filt(x):
        return F.conv2d(x, k, groups=c)

    ux, uy = filt(a), filt(b)
    vx = filt(a * a) - ux * ux
    vy = filt(b * b) - uy * uy
    vxy = filt(a * b) - ux * uy
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    return s.mean(dim=(2, 3)).mean(1)  # per channel over the valid map, then over the channels


inp = gtb.load(sys.argv[2])
out = {}
for cs in cases(inp):
    a = (torch.tensor(inp[cs + ".a"], dtype=torch.float64) + 1) / 2
    b = (torch.tensor(inp[cs + ".b"], dtype=torch.float64) + 1) / 2
    out[cs + ".psnr"] = f64(psnr(a, b).numpy())
    out[cs + ".ssim"] = f64(ssim(a, b).numpy())
gtb.save(sys.argv[1], out)
