"""Golden values for avg / max / adaptive-avg pooling.

Reads the cases the C test wrote: <case>.cfg = [kind (0 avg, 1 max,
2 adaptive avg), kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad, oh, ow],
<case>.x and <case>.wout. Writes <case>.y and <case>.gx = d sum(y * wout) / dx.
usage: ops_pool.py OUT IN
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
    kind, kh, kw, sh, sw, ph, pw, ceil, cip, oh, ow = [int(v) for v in inp[key]]
    x = torch.tensor(inp[f"{name}.x"], requires_grad=True)
    if kind == 0:
        y = F.avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=bool(ceil), count_include_pad=bool(cip))
    elif kind == 1:
        y = F.max_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=bool(ceil))
    else:
        y = F.adaptive_avg_pool2d(x, (oh, ow))
    (gx,) = torch.autograd.grad((y * torch.tensor(inp[f"{name}.wout"])).sum(), [x])
    out[f"{name}.y"] = y
    out[f"{name}.gx"] = gx
gtb.save(sys.argv[1], out)
