"""Golden values for nearest / bilinear resampling (F.interpolate with size=...).

Reads the cases the C test wrote: <case>.cfg = [mode (0 nearest, 1 bilinear
align_corners=False), oh, ow], <case>.x and <case>.wout. Writes <case>.y and
<case>.gx = d sum(y * wout) / dx.
usage: ops_upsample.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

inp = gtb.load(sys.argv[2])
out = {}
for key in inp:
    if not key.endswith(".cfg"):
        continue
    name = key[: -len(".cfg")]
    mode, oh, ow = [int(v) for v in inp[key]]
    x = torch.tensor(inp[f"{name}.x"], requires_grad=True)
    if mode == 0:
        y = F.interpolate(x, size=(oh, ow), mode="nearest")
    else:
        y = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)
    (gx,) = torch.autograd.grad((y * torch.tensor(inp[f"{name}.wout"])).sum(), [x])
    out[f"{name}.y"] = y
    out[f"{name}.gx"] = gx
gtb.save(sys.argv[1], out)
