"""Consistency regularization golden values (tests/train/test_consistency.c): StudioGAN's CR transform
(x-flip, then an integer translation with reflection padding) on given draws, CR / bCR, zCR (D's and
G's sides) and LeCam (with relu, as StudioGAN's lecam_reg), values and gradients w.r.t. a tiny D's
and G's parameters. Inputs come from the C test.
usage: consistency.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
inp = gtb.load(sys.argv[2])
t = {k: torch.tensor(v) for k, v in inp.items()}
D_names = ["w1", "b1", "w2", "b2"]
G_names = ["gw", "gb"]
sigma, ema_real, ema_fake = float(t["consts"][0]), float(t["consts"][1]), float(t["consts"][2])


def T(x, flip, tx, ty):
    n, c, h, w = x.shape
    x = torch.where(flip.view(n, 1, 1, 1) > 0.5, torch.flip(x, [3]), x)
    s, r = h // 8, w // 8
    xp = F.pad(x, [r, r, s, s], mode="reflect")
    out = torch.empty_like(x)
    for k in range(n):
        a, b = int(tx[k]) + s, int(ty[k]) + r
        out[k] = xp[k, :, a:a + h, b:b + w]
    return out


def run():
    p = {k: t[k].clone().requires_grad_(True) for k in D_names + G_names}

    def D(x):
        h = F.leaky_relu(F.conv2d(x, p["w1"], p["b1"], stride=2, padding=1), 0.2)
        return F.linear(h.flatten(1), p["w2"], p["b2"]).flatten()

    def G(z):
        return torch.tanh(F.linear(z, p["gw"], p["gb"])).view(-1, 1, 8, 8)

    def l2(a, b):
        return ((a - b) ** 2).mean()

    x, z, e = t["x"], t["z"], t["e"]
    out = {"tx": T(x, t["flip"], t["tx"], t["ty"])}
    f = G(z).detach()
    vals = {
        "cr": l2(D(x), D(T(x, t["flip"], t["tx"], t["ty"]))),
        "bcr_fake": l2(D(f), D(T(f, t["flip2"], t["tx2"], t["ty2"]))),
        "zcr_dis": l2(D(f), D(G(z + sigma * e).detach())),
        "zcr_gen": -l2(G(z), G(z + sigma * e)),
        "lecam": torch.mean(F.relu(D(x) - ema_fake) ** 2) + torch.mean(F.relu(ema_real - D(f)) ** 2),
    }
    for k, v in vals.items():
        names = G_names if k == "zcr_gen" else D_names
        gs = torch.autograd.grad(v, [p[n] for n in names], allow_unused=True, retain_graph=True)
        out[k] = v.detach().reshape(1)
        for n, g in zip(names, gs):
            out[f"{k}.d{n}"] = torch.zeros_like(p[n]) if g is None else g
    return out


gtb.save(sys.argv[1], run())
