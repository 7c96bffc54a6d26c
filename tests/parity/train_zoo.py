"""Golden forwards and training steps of the ResNet families of the model zoo
(src/models/resnet_gan.c: sngan, sagan, cgan; biggan.c; r3gan.c), written as
torch modules from the layers of tests/parity/nn_layers.py, loaded with
gantry's own initial weights.

The C test (tests/train/test_zoo.c) writes every registry entry as G.<name> /
D.<name> (checked here against the modules' state_dict keys: names_ok), the
fixed forward inputs gz, gy (G) and dx, dy (D), and per step real.<t>,
real_y.<t>, z.<t>, fake_y.<t> (labels only for a conditional family).

Writes: gfwd / dfwd (a training-mode forward of copies of the nets: batch
statistics, one power iteration), gfwd_eval / dfwd_eval (then in eval mode);
after the steps of gantry's trainer (n_critic 1: D's loss terms, its
regularizers r1 / r2, Adam; G's step; the EMA of G with gantry's warm-up),
G.<name>, D.<name>, G_ema.<name>, loss_d.<t>, loss_g.<t>, and the last step's
gradients gradG.<name>, gradD.<name> (of the trainable parameters, before Adam's step), and
kink: the smallest |input| of any ReLU in the steps (the test's data must keep it off rounding level).

usage: train_zoo.py OUT IN key=value ...  (family, nc, nz, ngf, ndf, classes, d_sn, g_sn, attn,
shared, blocks, loss, r1, r2, lr_g, lr_d, b1, b2, ema, steps)
"""
import copy
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

_dir = __file__.rsplit("/", 1)[0]
sys.path.insert(0, _dir)
import gtb  # noqa: E402

# the layers (Attention, GenBlock, DiscOptBlock, DiscBlock, maybe_sn, ...) of nn_layers.py, without its main()
_src = open(_dir + "/nn_layers.py").read().rsplit("\nmain()", 1)[0]
exec(compile(_src, _dir + "/nn_layers.py", "exec"))  # noqa: S102

torch.set_num_threads(2)
out_path, in_path = sys.argv[1], sys.argv[2]
A = dict(a.split("=", 1) for a in sys.argv[3:])
fam = A["family"]
nc, nz, ngf, ndf = int(A["nc"]), int(A["nz"]), int(A["ngf"]), int(A["ndf"])
classes = int(A.get("classes", 0))
d_sn, g_sn = A.get("d_sn", "1") == "1", A.get("g_sn", "0") == "1"
attn = int(A.get("attn", 0))
shared = int(A.get("shared", 0))
nblocks = int(A.get("blocks", 1))
loss = A.get("loss", "hinge")
r1, r2 = float(A.get("r1", 0)), float(A.get("r2", 0))
lr_g, lr_d, b1, b2, ema_decay = (float(A[k]) for k in ("lr_g", "lr_d", "b1", "b2", "ema"))
steps = int(A.get("steps", 1))


class ResG(nn.Module):
    """StudioGAN's resnet G for 32 px; biggan: BigGAN's shared embedding and hierarchical z."""

    def __init__(self):
        super().__init__()
        self.big = fam == "biggan"
        self.chunk = nz // 4 if self.big else nz
        self.linear0 = maybe_sn(nn.Linear(self.chunk, ngf * 16), g_sn)
        if self.big:
            self.shared = nn.Embedding(classes, shared)
        norm = "vec" if self.big else "class" if fam == "cgan" else "bn"
        cond = shared + self.chunk if self.big else classes
        blocks = []
        for i in range(3):
            blocks.append(nn.ModuleList([GenBlock(ngf, ngf, norm, cond, g_sn)]))
            if attn and 8 << i == attn:
                blocks.append(nn.ModuleList([Attention(ngf, g_sn)]))
        self.blocks = nn.ModuleList(blocks)
        self.bn4 = nn.BatchNorm2d(ngf)
        self.conv2d5 = maybe_sn(nn.Conv2d(ngf, nc, 3, padding=1), g_sn)

    def forward(self, z, y):
        if self.big:
            zs = torch.split(z, self.chunk, 1)
            e = self.shared(y)
            conds = [torch.cat([e, c], 1) for c in zs[1:]]
            z = zs[0]
        h = self.linear0(z).view(-1, ngf, 4, 4)
        k = 0
        for bl in self.blocks:
            b = bl[0]
            if isinstance(b, Attention):
                h = b(h)
            else:
                h = b(h, conds[k] if self.big else y)
                k += 1
        return torch.tanh(self.conv2d5(F.relu(self.bn4(h))))


class ResD(nn.Module):
    """SNGAN's D for 32 px: opt block (32 -> 16), block (16 -> 8), two blocks at 8; projection head."""

    def __init__(self):
        super().__init__()
        blocks = [nn.ModuleList([DiscOptBlock(nc, ndf, d_sn)])]
        sides = [16, 8, 8, 8]
        placed = attn == 16
        if placed:
            blocks.append(nn.ModuleList([Attention(ndf, d_sn)]))
        for i in range(1, 4):
            blocks.append(nn.ModuleList([DiscBlock(ndf, ndf, i == 1, d_sn)]))
            if attn and not placed and sides[i] == attn:
                blocks.append(nn.ModuleList([Attention(ndf, d_sn)]))
                placed = True
        self.blocks = nn.ModuleList(blocks)
        self.linear = maybe_sn(nn.Linear(ndf, 1), d_sn)
        if classes and fam != "sngan" and fam != "sagan":
            self.embed = maybe_sn(nn.Embedding(classes, ndf), d_sn)
        else:
            self.embed = None

    def forward(self, x, y):
        h = x
        for bl in self.blocks:
            h = bl[0](h)
        h = torch.sum(F.relu(h), dim=[2, 3])
        out = self.linear(h).squeeze(1)
        if self.embed is not None:
            out = out + torch.sum(self.embed(y) * h, 1)
        return out


class R3Block(nn.Module):
    """x + conv2(lrelu(conv1(x))), conv2 without bias (zero at init)."""

    def __init__(self, ch):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1, bias=False)

    def forward(self, x):
        return x + self.conv2(F.leaky_relu(self.conv1(x), 0.2))


class R3Basis(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(ngf, 4, 4))
        self.linear = nn.Linear(nz, ngf, bias=False)

    def forward(self, z):
        return self.weight.unsqueeze(0) * self.linear(z)[:, :, None, None]


class R3G(nn.Module):
    def __init__(self):
        super().__init__()
        self.basis = R3Basis()
        self.stages = nn.ModuleList([nn.ModuleList([R3Block(ngf) for _ in range(nblocks)]) for _ in range(4)])
        self.out = nn.Conv2d(ngf, nc, 1)

    def forward(self, z, y):
        h = self.basis(z)
        for s, st in enumerate(self.stages):
            if s:
                h = F.interpolate(h, scale_factor=2, mode="nearest")
            for b in st:
                h = b(h)
        return torch.tanh(self.out(h))


class R3D(nn.Module):
    def __init__(self):
        super().__init__()
        self.extract = nn.Conv2d(nc, ndf, 1)
        self.stages = nn.ModuleList([nn.ModuleList([R3Block(ndf) for _ in range(nblocks)]) for _ in range(4)])
        self.basis = nn.Conv2d(ndf, ndf, 4, groups=ndf, bias=False)
        self.linear = nn.Linear(ndf, 1, bias=False)

    def forward(self, x, y):
        h = self.extract(x)
        for s, st in enumerate(self.stages):
            for b in st:
                h = b(h)
            if s < 3:
                h = F.avg_pool2d(h, 2)
        return self.linear(self.basis(h).flatten(1)).squeeze(1)


# the smallest |input| of any ReLU / leaky ReLU (hinge's included) in the training steps: a value
# within rounding of 0 may sit on the other side of the kink in gantry, and change the gradients
KINK = [float("inf")]
_relu, _lrelu = F.relu, F.leaky_relu


def _kink(x):
    KINK[0] = min(KINK[0], float(x.detach().abs().min()))


def _relu_rec(x, *a, **k):
    _kink(x)
    return _relu(x, *a, **k)


def _lrelu_rec(x, *a, **k):
    _kink(x)
    return _lrelu(x, *a, **k)


def t(a):
    x = torch.tensor(a)
    return x if x.is_floating_point() else x.long()


inp = gtb.load(in_path)
netG, netD = (R3G(), R3D()) if fam == "r3gan" else (ResG(), ResD())
out = {}
ok = True
for tag, net in (("G", netG), ("D", netD)):
    sd = net.state_dict()
    ours = {k[len(tag) + 1:] for k in inp if k.startswith(tag + ".")}
    theirs = {k for k in sd if not k.endswith("num_batches_tracked")}
    if ours != theirs:
        ok = False
        print(tag, "names differ: only gantry", sorted(ours - theirs), "only torch", sorted(theirs - ours),
              file=sys.stderr)
    for k in ours & theirs:
        if tuple(sd[k].shape) != inp[f"{tag}.{k}"].shape:
            ok = False
            print(tag, k, "shape", tuple(sd[k].shape), "vs gantry", inp[f"{tag}.{k}"].shape, file=sys.stderr)
    net.load_state_dict({k: t(inp[f"{tag}.{k}"]).reshape(sd[k].shape) for k in ours & theirs}, strict=False)
out["names_ok"] = torch.tensor(float(ok))


def lab(name):
    return t(inp[name]) if name in inp else None


# fixed forwards of copies: training mode, then eval mode
with torch.no_grad():
    g2, d2 = copy.deepcopy(netG).train(), copy.deepcopy(netD).train()
    gz, gy, dx, dy = t(inp["gz"]), lab("gy"), t(inp["dx"]), lab("dy")
    out["gfwd"] = g2(gz, gy)
    out["dfwd"] = d2(dx, dy)
    g2.eval(), d2.eval()
    out["gfwd_eval"] = g2(gz, gy)
    out["dfwd_eval"] = d2(dx, dy)

ema = {k: v.detach().clone() for k, v in netG.state_dict().items()}
F.relu, F.leaky_relu = _relu_rec, _lrelu_rec
optD = torch.optim.Adam(netD.parameters(), lr=lr_d, betas=(b1, b2))
optG = torch.optim.Adam(netG.parameters(), lr=lr_g, betas=(b1, b2))
netG.train()
netD.train()


def penalty(x, y):
    xh = x.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(netD(xh, y).sum(), xh, create_graph=True)
    return g.pow(2).flatten(1).sum(1).mean()


for s in range(steps):
    real, ry = t(inp[f"real.{s}"]), lab(f"real_y.{s}")
    z, fy = t(inp[f"z.{s}"]), lab(f"fake_y.{s}")
    netD.zero_grad()
    fake = netG(z, fy)
    if loss == "hinge":
        e_real = F.relu(1 - netD(real, ry)).mean()
        e_real.backward()
        e_fake = F.relu(1 + netD(fake.detach(), fy)).mean()
        e_fake.backward()
        err_d = e_real.detach() + e_fake.detach()
    else:  # rpgan: both logits, one backward
        lr_ = netD(real, ry)  # gantry's order: the reals' forward first
        e = F.softplus(netD(fake.detach(), fy) - lr_).mean()
        e.backward()
        err_d = e.detach()
    for w, x, y in ((r1, real, ry), (r2, fake.detach(), fy)):
        if w > 0:
            p = w * 0.5 * penalty(x, y)
            p.backward()
            err_d = err_d + p.detach()
    if s == steps - 1:
        for k, p in netD.named_parameters():
            out[f"gradD.{k}"] = p.grad.clone()
    optD.step()
    netG.zero_grad()
    for p in netD.parameters():
        p.requires_grad_(False)
    if loss == "hinge":
        err_g = -netD(fake, fy).mean()
    else:
        with torch.no_grad():
            lr_ = netD(real, ry)
        err_g = F.softplus(lr_ - netD(fake, fy)).mean()
    err_g.backward()
    if s == steps - 1:
        for k, p in netG.named_parameters():
            out[f"gradG.{k}"] = p.grad.clone()
    for p in netD.parameters():
        p.requires_grad_(True)
    optG.step()
    d = min(ema_decay, (1.0 + s) / (10.0 + s))
    with torch.no_grad():
        params = dict(netG.named_parameters())
        for k, v in netG.state_dict().items():
            if k.endswith("num_batches_tracked"):
                continue
            if k in params:
                ema[k].mul_(d).add_(v, alpha=1 - d)
            else:
                ema[k].copy_(v)
    out[f"loss_d.{s}"] = err_d
    out[f"loss_g.{s}"] = err_g.detach()

out["kink"] = torch.tensor(KINK[0])
for tag, net in (("G", netG), ("D", netD)):
    for k, v in net.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            out[f"{tag}.{k}"] = v
for k, v in ema.items():
    if not k.endswith("num_batches_tracked"):
        out[f"G_ema.{k}"] = v
gtb.save(out_path, out)
