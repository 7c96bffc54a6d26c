"""Reference sample grids: torchvision.utils.make_grid(x, nrow, padding,
normalize=True, value_range=(-1, 1)) followed by save_image's conversion to
uint8, written out with torch ops (torchvision itself is not installed here),
and the PNG that gantry wrote, read back with PIL when python3-pil is installed.

Input: <case>.x (N, C, H, W), <case>.cfg = [nrow, padding]; <case>.png names are
given on the command line as CASE=PATH. Output: <case>.ref (H', W', C) uint8 as
int32 (gray stays one channel), <case>.pil (the PNG's pixels) and have_pil.
usage: data_grid.py OUT IN CASE=PATH ...
"""
import math
import sys

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402


def make_grid(t, nrow, padding, pad_value=0.0):
    t = t.clone()
    t.clamp_(min=-1, max=1)            # normalize=True, value_range=(-1, 1)
    t.sub_(-1).div_(max(1 - (-1), 1e-5))
    nmaps = t.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(t.size(2) + padding), int(t.size(3) + padding)
    grid = t.new_full((t.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    k = 0
    for y in range(ymaps):
        for x in range(xmaps):
            if k >= nmaps:
                break
            grid.narrow(1, y * height + padding, height - padding).narrow(
                2, x * width + padding, width - padding).copy_(t[k])
            k += 1
    return grid


inp = gtb.load(sys.argv[2])
paths = dict(a.split("=", 1) for a in sys.argv[3:])
try:
    from PIL import Image
except ImportError:
    Image = None
out = {"have_pil": np.array([1 if Image else 0], np.int32)}
for key in inp:
    if not key.endswith(".cfg"):
        continue
    name = key[:-4]
    nrow, padding = [int(v) for v in inp[key]]
    g = make_grid(torch.tensor(inp[f"{name}.x"]), nrow, padding)
    u8 = g.mul(255).add_(0.5).clamp_(0, 255).to(torch.uint8)   # save_image
    out[f"{name}.ref"] = u8.permute(1, 2, 0).numpy().astype(np.int32)
    if Image is not None and name in paths:
        out[f"{name}.pil"] = np.asarray(Image.open(paths[name])).astype(np.int32).reshape(u8.shape[1], u8.shape[2], -1)
gtb.save(sys.argv[1], out)
