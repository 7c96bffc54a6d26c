"""Golden values for the program runner's ops (gantry/compress.h), from PyTorch's modules:
nn.ReflectionPad2d + Conv2d (stride 1 and 2), ConvTranspose2d with output_padding,
InstanceNorm2d (affine and not), nearest upsampling. Inputs and weights are drawn here.
usage: prog_ops.py OUT
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
torch.manual_seed(15)
out = {}
for name, (cin, cout, k, s, pad, h, w) in {"r1": (3, 4, 3, 1, 1, 7, 6), "r2": (2, 5, 5, 2, 2, 9, 8)}.items():
    x = torch.randn(2, cin, h, w)
    conv = nn.Conv2d(cin, cout, k, stride=s, padding=0, bias=True)
    out[f"{name}.x"], out[f"{name}.w"], out[f"{name}.b"] = x, conv.weight.detach(), conv.bias.detach()
    out[f"{name}.y"] = conv(nn.ReflectionPad2d(pad)(x)).detach()
x = torch.randn(2, 5, 4, 5)
ct = nn.ConvTranspose2d(5, 3, 3, stride=2, padding=1, output_padding=1, bias=True)
out["ct.x"], out["ct.w"], out["ct.b"], out["ct.y"] = x, ct.weight.detach(), ct.bias.detach(), ct(x).detach()
x = torch.randn(2, 5, 6, 7) * 2 + 0.5
inorm = nn.InstanceNorm2d(5, affine=True)
with torch.no_grad():
    inorm.weight.copy_(torch.rand(5) + 0.5)
    inorm.bias.copy_(torch.randn(5))
out["in.x"], out["in.w"], out["in.b"] = x, inorm.weight.detach(), inorm.bias.detach()
out["in.y"] = inorm(x).detach()
out["in.y0"] = nn.InstanceNorm2d(5)(x).detach()
out["up.y"] = F.interpolate(x, scale_factor=2, mode="nearest")
gtb.save(sys.argv[1], out)
