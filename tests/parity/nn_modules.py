"""Golden module forwards: torch.nn modules loaded with gantry's weights.

The C test writes every registry entry under its name (lin.weight,
bn2d.running_var, ...), and per case c: x.<c> (or idx.<c>) and w.<c>. Loading
the entries into an nn.ModuleDict with the same keys checks that the names and
shapes are PyTorch's state_dict ones. Per case writes y.<c>, gx.<c>
(d sum(y*w) / dx), grad.<c>.<param> and, for batch norm, the running
statistics after the training forward (rs.<c>.running_mean / running_var) and
the eval-mode output yeval.<c>.
usage: nn_modules.py OUT IN
"""
import sys

import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

mods = nn.ModuleDict({
    "lin": nn.Linear(6, 5),
    "lin_nb": nn.Linear(6, 4, bias=False),
    "conv": nn.Conv2d(3, 4, 3, padding=1),
    "conv_g": nn.Conv2d(4, 6, 4, stride=2, padding=1, groups=2, bias=False),
    "conv_d": nn.Conv2d(3, 2, 3, padding=2, dilation=2),
    "convt": nn.ConvTranspose2d(4, 3, 4, stride=2, padding=1),
    "convt_g": nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
    "bn2d": nn.BatchNorm2d(4),
    "bn1d": nn.BatchNorm1d(5),
    "bn_na": nn.BatchNorm2d(3, affine=False),
    "emb": nn.Embedding(10, 4),
})
# case -> module
CASES = {"lin": "lin", "lin3": "lin", "lin_nb": "lin_nb", "conv": "conv", "conv_g": "conv_g", "conv_d": "conv_d",
         "convt": "convt", "convt_g": "convt_g", "bn2d": "bn2d", "bn1d": "bn1d", "bn_na": "bn_na", "emb": "emb"}

inp = gtb.load(sys.argv[2])
sd = mods.state_dict()
ours = {k for k in inp if not k.split(".")[0] in ("x", "w", "idx")}
theirs = {k for k in sd if not k.endswith("num_batches_tracked")}
out = {"names_ok": torch.tensor(float(ours == theirs))}
if ours != theirs:
    print("names differ: only gantry", sorted(ours - theirs), "only torch", sorted(theirs - ours), file=sys.stderr)
mods.load_state_dict({k: torch.tensor(inp[k]) for k in ours & theirs}, strict=False)

for case, key in CASES.items():
    m = mods[key]
    mods.zero_grad()
    m.train()
    if f"idx.{case}" in inp:
        x = torch.tensor(inp[f"idx.{case}"]).long()
    else:
        x = torch.tensor(inp[f"x.{case}"], requires_grad=True)
    y = m(x)
    (y * torch.tensor(inp[f"w.{case}"])).sum().backward()
    out[f"y.{case}"] = y
    if x.is_floating_point():
        out[f"gx.{case}"] = x.grad
    for pname, p in m.named_parameters():
        out[f"grad.{case}.{pname}"] = p.grad.clone()  # zero_grad zeroes in place later
    if isinstance(m, nn.BatchNorm2d) or isinstance(m, nn.BatchNorm1d):
        out[f"rs.{case}.running_mean"] = m.running_mean.clone()
        out[f"rs.{case}.running_var"] = m.running_var.clone()
        m.eval()
        with torch.no_grad():
            out[f"yeval.{case}"] = m(x)
gtb.save(sys.argv[1], out)
