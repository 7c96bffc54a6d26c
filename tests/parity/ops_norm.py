"""Golden values for batch / instance / layer norm.

Reads the cases the C test wrote: <case>.cfg = [kind (0 batch, 1 instance,
2 layer), training, momentum, eps, n_norm], <case>.x, optional <case>.w,
<case>.b, <case>.rm, <case>.rv, and <case>.wout. Writes <case>.y, the
gradients <case>.gx / .gw / .gb of sum(y * wout), and for batch norm with
running statistics their values after the call, <case>.rm_after / .rv_after.
usage: ops_norm.py OUT IN
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
    kind, training, momentum, eps, n_norm = [float(v) for v in inp[key]]
    eps = float(torch.tensor(eps, dtype=torch.float32))

    def get(s, grad=True):
        k = f"{name}.{s}"
        return torch.tensor(inp[k], requires_grad=grad) if k in inp else None

    x, w, b = get("x"), get("w"), get("b")
    rm, rv = get("rm", False), get("rv", False)
    if kind == 0:
        y = F.batch_norm(x, rm, rv, w, b, training=bool(training), momentum=momentum, eps=eps)
    elif kind == 1:
        y = F.instance_norm(x, weight=w, bias=b, eps=eps)
    else:
        y = F.layer_norm(x, x.shape[x.dim() - int(n_norm):], w, b, eps)
    wants = [t for t in (x, w, b) if t is not None]
    gs = torch.autograd.grad((y * torch.tensor(inp[f"{name}.wout"])).sum(), wants)
    out[f"{name}.y"] = y
    for tag, t, g in zip(["gx", "gw" if w is not None else "gb", "gb"], wants, gs):
        out[f"{name}.{tag}"] = g
    if rm is not None:
        out[f"{name}.rm_after"] = rm
        out[f"{name}.rv_after"] = rv
gtb.save(sys.argv[1], out)
