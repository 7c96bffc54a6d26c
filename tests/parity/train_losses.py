"""Golden values of the GAN losses and D's regularizers, written from the papers' formulas with
torch ops (independently of gantry's rows): each loss's D and G value and their gradients w.r.t.
the logits; each regularizer's penalty through a small conv D and its gradient w.r.t. D's
parameters (create_graph=True). Inputs come from the C test.
usage: train_losses.py OUT IN LOSS,LOSS,...
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
inp = gtb.load(sys.argv[2])
out = {}


def losses(name, r, f, t):
    ones, zeros = torch.ones_like(r), torch.zeros_like(f)
    if name in ("ns", "minimax"):
        d = F.binary_cross_entropy_with_logits(r, t * ones) + F.binary_cross_entropy_with_logits(f, zeros)
        g = F.binary_cross_entropy_with_logits(f, torch.ones_like(f)) if name == "ns" else torch.log(1 - torch.sigmoid(f)).mean()
    elif name == "ls":
        d = 0.5 * ((r - 1) ** 2).mean() + 0.5 * (f ** 2).mean()
        g = 0.5 * ((f - 1) ** 2).mean()
    elif name == "hinge":
        d = F.relu(1 - r).mean() + F.relu(1 + f).mean()
        g = -f.mean()
    elif name == "wgan":
        d = f.mean() - r.mean()
        g = -f.mean()
    elif name == "rpgan":
        d = F.softplus(-(r - f)).mean()
        g = F.softplus(-(f - r)).mean()
    elif name == "ebgan":  # energies: D E(x) + relu(m - E(G(z))), m = max(1, N / 64)
        d = r.mean() + F.relu(max(1.0, r.shape[0] / 64.0) - f.mean())
        g = f.mean()
    elif name == "began":  # energies: D L(x) - k L(G(z)) with k = t here
        d = r.mean() - t * f.mean()
        g = f.mean()
    else:
        raise SystemExit("unknown loss " + name)
    return d, g


names = sys.argv[3].split(",")
for name in names:
    for ti, t in enumerate((1.0, 0.9)):
        r = torch.tensor(inp["real"], requires_grad=True)
        f = torch.tensor(inp["fake"], requires_grad=True)
        d, g = losses(name, r, f, t)
        dr, df = torch.autograd.grad(d, (r, f))
        (gf,) = torch.autograd.grad(g, f, retain_graph=True)
        gr = torch.autograd.grad(g, r, allow_unused=True)[0]
        k = f"{name}.{ti}"
        out[k + ".d"] = d.reshape(1)
        out[k + ".g"] = g.reshape(1)
        out[k + ".d_dr"], out[k + ".d_df"] = dr, df
        out[k + ".g_df"] = gf
        out[k + ".g_dr"] = torch.zeros_like(r) if gr is None else gr

# regularizers through a small conv D
p = {k: torch.tensor(inp[k], requires_grad=True) for k in ("w1", "b1", "w2", "b2", "w3", "b3")}


def D(x):
    h = F.leaky_relu(F.conv2d(x, p["w1"], p["b1"], stride=2, padding=1), 0.2)
    h = F.leaky_relu(F.conv2d(h, p["w2"], p["b2"], stride=2, padding=1), 0.2)
    return F.linear(h.flatten(1), p["w3"], p["b3"]).view(-1)


real, fake = torch.tensor(inp["x_real"]), torch.tensor(inp["x_fake"])
e, u = torch.tensor(inp["e"]), torch.tensor(inp["u"])
for reg in ("gp", "dragan", "r1", "r2"):
    if reg == "gp":  # Gulrajani et al.: between reals and fakes
        x = e * real + (1 - e) * fake
    elif reg == "dragan":  # StudioGAN's cal_dra_penalty: around the reals, 0.5 * std of the whole batch
        x = real + e * (0.5 * real.std() * u)
    elif reg == "r1":
        x = real.clone()
    else:
        x = fake.clone()
    x.requires_grad_(True)
    (gx,) = torch.autograd.grad(D(x).sum(), x, create_graph=True)
    if reg in ("gp", "dragan"):
        pen = ((gx.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    else:
        pen = gx.flatten(1).pow(2).sum(1).mean()
    grads = torch.autograd.grad(pen, [p[n] for n in p], allow_unused=True)  # b3 does not move the input gradient
    out[reg + ".pen"] = pen.reshape(1)
    out[reg + ".x"] = x.detach()
    for n, g in zip(p, grads):
        out[f"{reg}.d{n}"] = torch.zeros_like(p[n]) if g is None else g
gtb.save(sys.argv[1], out)
