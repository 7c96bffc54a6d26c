"""Golden values for the elementwise / reduction / view ops.

Reads the inputs the C test wrote (<op>.x0, <op>.x1, ..., <op>.w), runs the
same op in PyTorch, writes <op>.y and <op>.g<i> = d sum(y * w) / d x<i>.
usage: ops_elementwise.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: torch.pow(a, b),
    "add_scalar": lambda a: a + 1.5,
    "mul_scalar": lambda a: a * -2.5,
    "rsub_scalar": lambda a: 3.0 - a,
    "pow_scalar": lambda a: a ** 3.0,
    "neg": lambda a: -a,
    "exp": torch.exp,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "clamp": lambda a: torch.clamp(a, -0.5, 0.7),
    "relu": F.relu,
    "leaky_relu": lambda a: F.leaky_relu(a, 0.2),
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "softplus": lambda a: F.softplus(a, 2.0, 3.0),
    "elu": lambda a: F.elu(a, 0.7),
    "sum_dims": lambda a: a.sum(dim=(0, 2)),
    "mean_keep": lambda a: a.mean(dim=(1, 3), keepdim=True),
    "sum_all": lambda a: a.sum(),
    "max_dim": lambda a: a.max(dim=1)[0],
    "logsumexp": lambda a: torch.logsumexp(a, dim=-1),
    "log_softmax": lambda a: F.log_softmax(a, dim=1),
    "softmax": lambda a: F.softmax(a, dim=0),
    "permute_reshape": lambda a: a.permute(2, 0, 1).reshape(-1, 6),
    "slice_step": lambda a: a[:, 1:5:2],
    "concat": lambda a, b: torch.cat([a, b], dim=1),
    "expand_mul": lambda a, b: a.expand(3, 4, 5) * b,
}

inp = gtb.load(sys.argv[2])
out = {}
for name, f in OPS.items():
    xs = []
    i = 0
    while f"{name}.x{i}" in inp:
        xs.append(torch.tensor(inp[f"{name}.x{i}"], requires_grad=True))
        i += 1
    if not xs:
        continue
    y = f(*xs)
    w = torch.tensor(inp[f"{name}.w"])
    gs = torch.autograd.grad((y * w).sum(), xs)
    out[f"{name}.y"] = y
    for i, g in enumerate(gs):
        out[f"{name}.g{i}"] = g
gtb.save(sys.argv[1], out)
