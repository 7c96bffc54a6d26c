"""PyTorch's mixed precision for tests/ops/test_bf16.c: one conv2d (k4 s2 p1) + linear under
torch.autocast('cpu', dtype=torch.bfloat16), forward and backward of L = sum(y * wl).

Inputs (GTB1): x (2,3,8,8), w (6,3,4,4), b (6), lw (5,96), lb (5), wl (2,5).
Outputs: h (the conv's output), y, and the gradients gx, gw, gb, glw, glb (autocast's bf16 values
widened to float), and the same computed the way gantry's bf16 mode does, in float64: the operands
of the conv and the linear (forward and backward) rounded to bf16, products and sums exact, the
results kept (not rounded): e_h, e_y, e_gx, e_gw, e_gb, e_glw, e_glb.
usage: ops_bf16.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(1)
inp = gtb.load(sys.argv[2])


def t(name):
    return torch.tensor(inp[name], dtype=torch.float32, requires_grad=True)


x, w, b, lw, lb = t("x"), t("w"), t("b"), t("lw"), t("lb")
wl = torch.tensor(inp["wl"], dtype=torch.float32)
with torch.autocast("cpu", dtype=torch.bfloat16):
    h = F.conv2d(x, w, b, stride=2, padding=1)
    y = F.linear(h.reshape(2, -1), lw, lb)
assert h.dtype == torch.bfloat16 and y.dtype == torch.bfloat16, "autocast did not run in bf16"
(y.float() * wl).sum().backward()
out = {"h": h.float(), "y": y.float(), "gx": x.grad, "gw": w.grad, "gb": b.grad, "glw": lw.grad, "glb": lb.grad}


def r(a):
    """a's float32 value rounded to bf16 (nearest even), as float64"""
    return a.float().bfloat16().double()


with torch.no_grad():
    xd, wd, bd, lwd, lbd, wld = (v.detach().double() for v in (x, w, b, lw, lb, wl))
    eh = F.conv2d(r(xd), r(wd), bd, stride=2, padding=1).float().double()
    eh2 = eh.reshape(2, -1)
    ey = F.linear(r(eh2), r(lwd), lbd)
    gy = wld  # dL/dy
    eglw = r(gy).t() @ r(eh2)
    eglb = gy.sum(0)
    egh = (r(gy) @ r(lwd)).float().double().reshape(eh.shape)
    egx = F.conv_transpose2d(r(egh), r(wd), stride=2, padding=1)
    egw = torch.nn.grad.conv2d_weight(r(xd), wd.shape, r(egh), stride=2, padding=1)
    egb = egh.sum((0, 2, 3))
emu = {"h": eh, "y": ey, "gx": egx, "gw": egw, "gb": egb, "glw": eglw, "glb": eglb}
out.update({"e_" + k: v.float() for k, v in emu.items()})
gtb.save(sys.argv[1], {k: v.detach().numpy() for k, v in out.items()})
