"""Whole epochs of GAN Lab's toy GAN (gantry lab, src/lab/) in PyTorch, written from GAN Lab's formulas
(poloclub/ganlab, demo/ganlab_models.ts) independently of gantry:
  nets:   Linear(in, n) ReLU, L x (Linear(n, n) ReLU), Linear(n, out); G ends in tanh, D gives a logit
  log:    D -(0.95 mean log D(x) + mean log(1 - D(G(z))))   G -mean log D(G(z))   (D = sigmoid(logit))
  ls:     D mean (D(x) - 1)^2 + mean D(G(z))^2              G mean (D(G(z)) - 1)^2
  hinge:  D mean relu(1 - l(x)) + mean relu(1 + l(G(z)))    G -mean l(G(z))
  wgan-gp D mean l(G(z)) - mean l(x) + gp mean (|grad l(xh)| - 1)^2, xh = e x + (1 - e) G(z)   G -mean l(G(z))
  r1 > 0: + r1/2 mean |grad_x l(x)|^2 on the reals
  optim:  torch.optim.SGD(lr) or torch.optim.Adam(lr, (0.9, 0.999), eps 1e-8), one per net
  epoch:  d_steps D updates (each: the next B reals, the next B noise rows -> fakes without G's graph),
          then g_steps G updates (each: the next B noise rows).
Each case: the initial weights (safetensors, parsed here by hand) and a GTB1 file with the real rows,
the noise rows, WGAN-GP's e per D update and the config (cfg: loss, optim, lr_g, lr_d, d_steps,
g_steps, epochs, gp, r1, batch, g_layers, d_layers). Writes c<i>.G.<l>.weight / .bias (after the
epochs), c<i>.D..., c<i>.loss_d and c<i>.loss_g (every update's loss, in order).
usage: lab_epoch.py OUT ST0 GTB0 [ST1 GTB1 ...]
   or: lab_epoch.py --ring ST GTB EPOCHS [OUT.npz]   (the long-run experiment: KL every 500 epochs)
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(1)
LOSSES = ["log", "ls", "hinge", "wgan-gp"]
DT = {"F32": "<f4", "F64": "<f8", "I32": "<i4", "I64": "<i8"}


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    head = json.loads(buf[8:8 + n].decode())
    base = 8 + n
    out = {}
    for name, d in head.items():
        if name == "__metadata__":
            continue
        a, b = d["data_offsets"]
        arr = np.frombuffer(buf[base + a:base + b], dtype=DT[d["dtype"]]).reshape(d["shape"])
        out[name] = torch.tensor(arr.astype(np.float32))
    return out, head.get("__metadata__", {})


def net_params(w, prefix):
    ps, i = [], 0
    while f"{prefix}.{i}.weight" in w:
        ps += [w[f"{prefix}.{i}.weight"].clone().requires_grad_(True), w[f"{prefix}.{i}.bias"].clone().requires_grad_(True)]
        i += 1
    return ps


def forward(ps, x, tanh_out):
    n = len(ps) // 2
    for i in range(n):
        x = F.linear(x, ps[2 * i], ps[2 * i + 1])
        if i < n - 1:
            x = F.relu(x)
    return torch.tanh(x) if tanh_out else x


def d_loss(loss, Dp, xr, xf, e, gp, r1):
    lr, lf = forward(Dp, xr, False), forward(Dp, xf, False)
    if loss == "log":
        v = -(0.95 * F.logsigmoid(lr).mean() + F.logsigmoid(-lf).mean())
    elif loss == "ls":
        v = ((torch.sigmoid(lr) - 1) ** 2).mean() + (torch.sigmoid(lf) ** 2).mean()
    elif loss == "hinge":
        v = F.relu(1 - lr).mean() + F.relu(1 + lf).mean()
    else:
        v = lf.mean() - lr.mean()
        if gp > 0:
            xh = (e[:, None] * xr + (1 - e[:, None]) * xf).detach().requires_grad_(True)
            (g,) = torch.autograd.grad(forward(Dp, xh, False).sum(), xh, create_graph=True)
            v = v + gp * ((g.norm(dim=1) - 1) ** 2).mean()
    if r1 > 0:
        x = xr.detach().clone().requires_grad_(True)
        (g,) = torch.autograd.grad(forward(Dp, x, False).sum(), x, create_graph=True)
        v = v + 0.5 * r1 * (g ** 2).sum(dim=1).mean()
    return v


def g_loss(loss, Dp, xf):
    lf = forward(Dp, xf, False)
    if loss == "log":
        return -F.logsigmoid(lf).mean()
    if loss == "ls":
        return ((torch.sigmoid(lf) - 1) ** 2).mean()
    return -lf.mean()


class Run:
    def __init__(self, w, cfg):
        self.loss = LOSSES[int(cfg[0])]
        self.Gp, self.Dp = net_params(w, "G"), net_params(w, "D")
        adam = int(cfg[1]) == 1
        self.d_steps, self.g_steps = int(cfg[4]), int(cfg[5])
        self.gp, self.r1, self.B = float(cfg[7]), float(cfg[8]), int(cfg[9])
        mk = (lambda p, lr: torch.optim.Adam(p, lr=lr, betas=(0.9, 0.999), eps=1e-8)) if adam else (
            lambda p, lr: torch.optim.SGD(p, lr=lr))
        self.og, self.od = mk(self.Gp, float(cfg[2])), mk(self.Dp, float(cfg[3]))
        self.rp = self.np = self.dk = 0

    def take(self, atlas, pos):
        B, n = self.B, atlas.shape[0]
        idx = (np.arange(B) + pos) % n
        return torch.tensor(atlas[idx]), (pos + B) % n

    def epoch(self, real, noise, e):
        ld, lg = [], []
        for _ in range(self.d_steps):
            xr, self.rp = self.take(real, self.rp)
            z, self.np = self.take(noise, self.np)
            with torch.no_grad():
                xf = forward(self.Gp, z, True)
            ek = torch.tensor(e[self.dk % e.shape[0]]) if e is not None else None
            self.dk += 1
            self.od.zero_grad()
            v = d_loss(self.loss, self.Dp, xr, xf, ek, self.gp, self.r1)
            v.backward()
            self.od.step()
            ld.append(v.item())
        for _ in range(self.g_steps):
            z, self.np = self.take(noise, self.np)
            self.og.zero_grad()
            v = g_loss(self.loss, self.Dp, forward(self.Gp, z, True))
            grads = torch.autograd.grad(v, self.Gp)  # D's weights get no gradient from G's step
            for p, g in zip(self.Gp, grads):
                p.grad = g
            self.og.step()
            lg.append(v.item())
        return ld, lg


def grid_kl(real, fake, n=30, eps=1e-4):
    """KL(real || fake) in nats on GAN Lab's n x n grid over [0,1]^2 (demo/ganlab_evaluators.ts):
    points outside in the border cells, each histogram over its count, eps on every cell."""
    def hist(p):
        ij = np.clip(np.floor(np.asarray(p, dtype=np.float64) * n).astype(int), 0, n - 1)
        h = np.zeros((n, n))
        np.add.at(h, (ij[:, 1], ij[:, 0]), 1)
        return h / len(p)
    P, Q = hist(real) + eps, hist(fake) + eps
    return float((P * np.log(P / Q)).sum())


def ring(argv):
    w, _ = read_safetensors(argv[0])
    inp = gtb.load(argv[1])
    n_ep = int(argv[2])
    r = Run(w, inp["cfg"])
    real, noise = inp["real"], inp["noise"]
    out = {}
    for ep in range(1, n_ep + 1):
        r.epoch(real, noise, None)
        if ep % 500 == 0 or ep == n_ep:
            with torch.no_grad():
                f = forward(r.Gp, torch.tensor(noise[:1500]), True).numpy()
            print(f"epoch {ep}: KL {grid_kl(real, f):.4f}  fake mean {f.mean(0)}  std {f.std(0)}", flush=True)
    if len(argv) > 3:
        np.savez(argv[3], **{f"G{i}": p.detach().numpy() for i, p in enumerate(r.Gp)})


def main():
    if sys.argv[1] == "--ring":
        return ring(sys.argv[2:])
    out = {}
    args = sys.argv[2:]
    for c in range(len(args) // 2):
        w, _ = read_safetensors(args[2 * c])
        inp = gtb.load(args[2 * c + 1])
        cfg = inp["cfg"]
        r = Run(w, cfg)
        e = inp["e"] if int(cfg[0]) == 3 else None
        ld, lg = [], []
        for _ in range(int(cfg[6])):
            a, b = r.epoch(inp["real"], inp["noise"], e)
            ld += a
            lg += b
        for net, ps in (("G", r.Gp), ("D", r.Dp)):
            for i in range(len(ps) // 2):
                out[f"c{c}.{net}.{i}.weight"] = ps[2 * i]
                out[f"c{c}.{net}.{i}.bias"] = ps[2 * i + 1]
        out[f"c{c}.loss_d"] = np.array(ld, dtype=np.float32)
        out[f"c{c}.loss_g"] = np.array(lg, dtype=np.float32)
    gtb.save(sys.argv[1], out)


main()
