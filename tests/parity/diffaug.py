"""DiffAugment golden values: each transform of DiffAugment_pytorch.py (mit-han-lab/data-efficient-gans)
with its random draws taken from the C test instead of torch.rand / torch.randint, applied to x, and
the gradient of sum(y * w) with respect to x (torch.autograd.grad).
usage: diffaug.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
inp = gtb.load(sys.argv[2])
x0 = torch.tensor(inp["x"])
w = torch.tensor(inp["w"])
N = x0.size(0)


def col(u):  # (N,) draws -> (N, 1, 1, 1), as torch.rand(N, 1, 1, 1)
    return torch.tensor(u).reshape(N, 1, 1, 1)


def brightness(x, u):
    return x + (col(u) - 0.5)


def saturation(x, u):
    m = x.mean(dim=1, keepdim=True)
    return (x - m) * (col(u) * 2) + m


def contrast(x, u):
    m = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - m) * (col(u) + 0.5) + m


def translation(x, tx, ty):  # the reference's pad + gather, with given integer shifts
    tx = torch.tensor(tx).long().reshape(N, 1, 1)
    ty = torch.tensor(ty).long().reshape(N, 1, 1)
    gb, gx, gy = torch.meshgrid(torch.arange(N), torch.arange(x.size(2)), torch.arange(x.size(3)), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, x.size(2) + 1)
    gy = torch.clamp(gy + ty + 1, 0, x.size(3) + 1)
    xp = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return xp.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2).contiguous()


def cutout(x, ox, oy, ratio=0.5):
    size = int(x.size(2) * ratio + 0.5), int(x.size(3) * ratio + 0.5)
    ox = torch.tensor(ox).long().reshape(N, 1, 1)
    oy = torch.tensor(oy).long().reshape(N, 1, 1)
    gb, gx, gy = torch.meshgrid(torch.arange(N), torch.arange(size[0]), torch.arange(size[1]), indexing="ij")
    gx = torch.clamp(gx + ox - size[0] // 2, min=0, max=x.size(2) - 1)
    gy = torch.clamp(gy + oy - size[1] // 2, min=0, max=x.size(3) - 1)
    mask = torch.ones(N, x.size(2), x.size(3), dtype=x.dtype)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


fns = {
    "brightness": lambda x: brightness(x, inp["u_b"]),
    "saturation": lambda x: saturation(x, inp["u_s"]),
    "contrast": lambda x: contrast(x, inp["u_c"]),
    "translation": lambda x: translation(x, inp["tx"], inp["ty"]),
    "cutout": lambda x: cutout(x, inp["ox"], inp["oy"]),
}
fns["pipeline"] = lambda x: fns["cutout"](fns["translation"](fns["contrast"](fns["saturation"](fns["brightness"](x)))))
out = {}
for name, f in fns.items():
    x = x0.clone().requires_grad_(True)
    y = f(x)
    (g,) = torch.autograd.grad((y * w).sum(), x)
    out["y." + name] = y
    out["g." + name] = g
gtb.save(sys.argv[1], out)
