"""Shared driver for the golden scripts of the linalg / misc / loss tests.

For each case name with inputs <name>.x0.. (int32 ones are passed as int64
indices), weights <name>.w and second-order directions <name>.v<i> (one per
differentiated input: a float input without a v<i> is a constant), computes
  <name>.y      the output,
  <name>.g<i>   d sum(y * w) / d x<i>,
  <name>.gg<i>  d [sum_j sum(v_j * g_j)] / d x<i>.
Gradients an expression does not depend on come back as zeros.
"""
import torch


def _grad(out, xs, create_graph):
    gs = torch.autograd.grad(out, xs, create_graph=create_graph, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(xs, gs)]


def run_cases(cases, inp):
    out = {}
    for name, f in cases.items():
        args, floats = [], []
        i = 0
        while f"{name}.x{i}" in inp:
            a = inp[f"{name}.x{i}"]
            if a.dtype.kind == "f":
                diff = f"{name}.v{i}" in inp
                t = torch.tensor(a, dtype=torch.float64, requires_grad=diff)
                if diff:
                    floats.append((i, t))
            else:
                t = torch.tensor(a, dtype=torch.int64)
            args.append(t)
            i += 1
        if not args:
            continue
        y = f(*args)
        out[f"{name}.y"] = y.float()
        xs = [t for _, t in floats]
        if not xs:
            continue
        w = torch.tensor(inp[f"{name}.w"], dtype=torch.float64)
        gs = _grad((y * w).sum(), xs, True)
        for (k, _), g in zip(floats, gs):
            out[f"{name}.g{k}"] = g.float()
        h = sum((g * torch.tensor(inp[f"{name}.v{k}"], dtype=torch.float64)).sum() for (k, _), g in zip(floats, gs))
        if not h.requires_grad:
            ggs = [torch.zeros_like(x) for x in xs]
        else:
            ggs = _grad(h, xs, False)
        for (k, _), g in zip(floats, ggs):
            out[f"{name}.gg{k}"] = g.float()
    return out
