"""Golden values for conv2d, conv_transpose2d and conv2d's weight gradient.

The C test writes, per case <c>:
  <c>.p   int32 [kind, sh, sw, ph, pw, dh, dw, oph, opw, groups, kh, kw]
          kind 0 = conv2d(a, b, bias), 1 = conv_transpose2d(a, b, bias),
          2 = conv2d_weight_grad(a, b) (a = x, b = gy; kh, kw the kernel)
  <c>.a, <c>.b, optionally <c>.bias: the inputs
  <c>.w   weights for the loss L = sum(y * w)
  <c>.v0, <c>.v1: directions for the second-order check
and this script writes
  <c>.y            the op's output
  <c>.g0, .g1, .g2 dL/da, dL/db, dL/dbias
  <c>.h0, .h1      d h / da, d h / db for h = sum(g0 * v0) + sum(g1 * v1)
usage: ops_conv.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(1)
inp = gtb.load(sys.argv[2])
out = {}


def t(a, grad=True):
    return torch.tensor(a, dtype=torch.float32, requires_grad=grad)


for key in sorted(k for k in inp if k.endswith(".p")):
    c = key[:-2]
    kind, sh, sw, ph, pw, dh, dw, oph, opw, groups, kh, kw = (int(v) for v in inp[key])
    a, b = t(inp[c + ".a"]), t(inp[c + ".b"])
    bias = t(inp[c + ".bias"]) if c + ".bias" in inp else None
    ins = [a, b] + ([bias] if bias is not None else [])
    if kind == 0:
        y = F.conv2d(a, b, bias, (sh, sw), (ph, pw), (dh, dw), groups)
    elif kind == 1:
        y = F.conv_transpose2d(a, b, bias, (sh, sw), (ph, pw), (oph, opw), groups, (dh, dw))
    else:
        # the weight gradient of conv2d(x=a) for output gradient gy=b, as a
        # differentiable function of (a, b): conv2d is linear in its weight
        w0 = torch.zeros(b.shape[1], a.shape[1] // groups, kh, kw, requires_grad=True)
        y0 = F.conv2d(a, w0, None, (sh, sw), (ph, pw), (dh, dw), groups)
        (y,) = torch.autograd.grad(y0, w0, b, create_graph=True)
    wl = torch.tensor(inp[c + ".w"])
    gs = torch.autograd.grad((y * wl).sum(), ins, create_graph=True)
    out[c + ".y"] = y
    for i, g in enumerate(gs):
        out[c + ".g%d" % i] = g
    h = (gs[0] * torch.tensor(inp[c + ".v0"])).sum() + (gs[1] * torch.tensor(inp[c + ".v1"])).sum()
    hs = torch.autograd.grad(h, [a, b], allow_unused=True)
    for i, g in enumerate(hs):
        out[c + ".h%d" % i] = g if g is not None else torch.zeros_like(ins[i])
gtb.save(sys.argv[1], out)
