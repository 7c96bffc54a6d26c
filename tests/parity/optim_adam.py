"""Golden optimizer trajectories: torch.optim.Adam and torch.optim.SGD.

Reads the initial parameters (p.<name>, in registry order) and the gradient of
every step (g.<t>.<name>) that the C test wrote, runs each configuration given
on the command line from the same start with the same gradients, and writes
<cfg>.<name> (final parameters) and the optimizer state:
<cfg>.<name>.exp_avg / .exp_avg_sq / .max_exp_avg_sq (Adam) or
<cfg>.<name>.momentum_buffer (SGD).

usage: optim_adam.py OUT IN CFG...
  CFG = adam:NAME:lr:beta1:beta2:eps:weight_decay:amsgrad
      | sgd:NAME:lr:momentum:dampening:weight_decay:nesterov
"""
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

inp = gtb.load(sys.argv[2])
names = [k[2:] for k in inp if k.startswith("p.")]
steps = 0
while f"g.{steps}.{names[0]}" in inp:
    steps += 1

out = {}
for spec in sys.argv[3:]:
    kind, cfg, *args = spec.split(":")
    params = [torch.tensor(inp["p." + n], requires_grad=True) for n in names]
    if kind == "adam":
        lr, b1, b2, eps, wd, ams = (float(a) for a in args)
        opt = torch.optim.Adam(params, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd, amsgrad=bool(ams))
    else:
        lr, mom, damp, wd, nest = (float(a) for a in args)
        opt = torch.optim.SGD(params, lr=lr, momentum=mom, dampening=damp, weight_decay=wd, nesterov=bool(nest))
    for t in range(steps):
        opt.zero_grad()
        for n, p in zip(names, params):
            p.grad = torch.tensor(inp[f"g.{t}.{n}"])
        opt.step()
    for n, p in zip(names, params):
        out[f"{cfg}.{n}"] = p
        for key, val in opt.state[p].items():
            if torch.is_tensor(val) and val.shape == p.shape:
                out[f"{cfg}.{n}.{key}"] = val
gtb.save(sys.argv[1], out)
