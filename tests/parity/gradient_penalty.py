"""WGAN-GP golden values: ||grad_x D(x)||^2 and its gradient wrt D's parameters,
with PyTorch's create_graph=True. Weights and inputs come from the C test.
usage: gradient_penalty.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
inp = gtb.load(sys.argv[2])
out = {}
for variant in ("leaky", "smooth"):
    p = {k: torch.tensor(inp[f"{variant}.{k}"], requires_grad=True) for k in ("w1", "b1", "w2", "b2", "w3", "b3")}
    x = torch.tensor(inp[f"{variant}.x"], requires_grad=True)

    def D(x):
        h = F.conv2d(x, p["w1"], p["b1"], stride=2, padding=1)
        h = F.leaky_relu(h, 0.2) if variant == "leaky" else F.softplus(h)
        h = F.conv2d(h, p["w2"], p["b2"], stride=2, padding=1)
        h = F.leaky_relu(h, 0.2) if variant == "leaky" else torch.tanh(h)
        return F.linear(h.flatten(1), p["w3"], p["b3"])

    d = D(x)
    (gx,) = torch.autograd.grad(d.sum(), x, create_graph=True)
    gp = (gx.flatten(1).pow(2).sum(1)).mean()
    names = list(p)
    grads = torch.autograd.grad(gp, [p[n] for n in names], allow_unused=True)
    out[f"{variant}.gp"] = gp.reshape(1)
    out[f"{variant}.gx"] = gx
    for n, g in zip(names, grads):
        out[f"{variant}.d{n}"] = torch.zeros_like(p[n]) if g is None else g
gtb.save(sys.argv[1], out)
