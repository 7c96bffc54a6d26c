"""Golden values for torch.nn.functional.grid_sample (float32, as the C op).

Reads the cases the C test wrote: <case>.cfg = [bilinear (1) or nearest (0), padding (0 zeros,
1 border, 2 reflection), align_corners (0/1)], <case>.x (N, C, H, W), <case>.grid (N, Ho, Wo, 2)
and <case>.wout (N, C, Ho, Wo). Writes <case>.y = grid_sample(x, grid) and
<case>.gx = d sum(y * wout) / dx (torch.autograd.grad).
usage: grid_sample.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(1)
PAD = ("zeros", "border", "reflection")
inp = gtb.load(sys.argv[2])
out = {}
for key in inp:
    if not key.endswith(".cfg"):
        continue
    name = key[: -len(".cfg")]
    bilinear, pad, align = [int(v) for v in inp[key]]
    x = torch.tensor(inp[f"{name}.x"], dtype=torch.float32, requires_grad=True)
    grid = torch.tensor(inp[f"{name}.grid"], dtype=torch.float32)
    y = F.grid_sample(x, grid, mode="bilinear" if bilinear else "nearest", padding_mode=PAD[pad],
                      align_corners=bool(align))
    w = torch.tensor(inp[f"{name}.wout"], dtype=torch.float32)
    (gx,) = torch.autograd.grad((y * w).sum(), [x])
    out[f"{name}.y"] = y.detach()
    out[f"{name}.gx"] = gx
gtb.save(sys.argv[1], out)
