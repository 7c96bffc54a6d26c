"""Golden DCGAN training steps: the PyTorch DCGAN example's loop, from gantry's
initial weights and on gantry's batches and latents.

Per step: netD.zero_grad(); BCE(D(real), 1).backward(); fake = G(z);
BCE(D(fake.detach()), 0).backward(); optD.step(); netG.zero_grad();
BCE(D(fake), 1).backward(); optG.step(); then the EMA of G's parameters
(buffers copied), with gantry's warm-up: decay min(ema, (1+t)/(10+t)). The loss is BCE-with-logits (D ends in a logit).
With loss wgan: -mean(D(real)), mean(D(fake)), G: -mean(D(fake)); gp > 0 adds
gp * mean((||d D(x_hat) / d x_hat||_2 - 1)^2), x_hat = fake + eps * (real - fake)
with gantry's eps.<t>; clip > 0 clamps every D parameter after optD.step().
d_norm: batch (BatchNorm2d), layer (GroupNorm(1, C)) or none between D's convs.

The C test writes every registry entry as G.<name> / D.<name> (names as
torch's state_dict: checked here), real.<t> and z.<t>. Writes G.<name>,
D.<name>, G_ema.<name> after the steps, loss_d.<t>, loss_g.<t>, names_ok.
usage: train_dcgan_step.py OUT IN res channels nz ngf ndf steps lr_g lr_d beta1 beta2 ema [loss gp clip d_norm]
"""
import sys

import torch
import torch.nn as nn

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
out_path, in_path = sys.argv[1], sys.argv[2]
res, nc, nz, ngf, ndf, steps = (int(v) for v in sys.argv[3:9])
lr_g, lr_d, b1, b2, ema_decay = (float(v) for v in sys.argv[9:14])
loss, gp_w, clip, d_norm = "ns", 0.0, 0.0, "batch"
if len(sys.argv) > 14:
    loss, gp_w, clip, d_norm = sys.argv[14], float(sys.argv[15]), float(sys.argv[16]), sys.argv[17]


def generator():
    L = 4 if res == 64 else 3
    layers = []
    for i in range(L + 1):
        cin = nz if i == 0 else ngf << (L - i)
        cout = nc if i == L else ngf << (L - 1 - i)
        k, s, p = (4, 1, 0) if i == 0 else (4, 2, 1)
        if res == 28 and i <= 1:
            k, p = 3, 0
        layers.append(nn.ConvTranspose2d(cin, cout, k, s, p, bias=False))
        if i < L:
            layers += [nn.BatchNorm2d(cout), nn.ReLU(True)]
        else:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


def discriminator():
    L = 4 if res == 64 else 3
    layers = []
    for i in range(L + 1):
        cin = nc if i == 0 else ndf << (i - 1)
        cout = 1 if i == L else ndf << i
        k, s, p = (4, 1, 0) if i == L else (4, 2, 1)
        if res == 28 and i >= L - 1:
            k, p = 3, 0
        layers.append(nn.Conv2d(cin, cout, k, s, p, bias=False))
        if 0 < i < L and d_norm == "batch":
            layers.append(nn.BatchNorm2d(cout))
        elif 0 < i < L and d_norm == "layer":
            layers.append(nn.GroupNorm(1, cout))
        if i < L:
            layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


class Net(nn.Module):
    def __init__(self, main):
        super().__init__()
        self.main = main

    def forward(self, x):
        return self.main(x)


inp = gtb.load(in_path)
netG, netD = Net(generator()), Net(discriminator())
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
    net.load_state_dict({k: torch.tensor(inp[f"{tag}.{k}"]) for k in ours & theirs}, strict=False)
out["names_ok"] = torch.tensor(float(ok))

ema = {k: v.detach().clone() for k, v in netG.state_dict().items()}
crit = nn.BCEWithLogitsLoss()
optD = torch.optim.Adam(netD.parameters(), lr=lr_d, betas=(b1, b2))
optG = torch.optim.Adam(netG.parameters(), lr=lr_g, betas=(b1, b2))
netG.train()
netD.train()
def d_part(o, real):
    if loss == "wgan":
        return -o.mean() if real else o.mean()
    return crit(o, torch.ones_like(o) if real else torch.zeros_like(o))


def penalty(real, fake, e):
    xh = (fake + e * (real - fake)).detach().requires_grad_(True)
    (g,) = torch.autograd.grad(netD(xh).view(-1).sum(), xh, create_graph=True)
    norm = torch.sqrt((g * g).sum(dim=(1, 2, 3)) + 1e-12)
    return ((norm - 1) ** 2).mean()


for t in range(steps):
    real = torch.tensor(inp[f"real.{t}"])
    z = torch.tensor(inp[f"z.{t}"]).view(-1, nz, 1, 1)
    netD.zero_grad()
    err_real = d_part(netD(real).view(-1), True)
    err_real.backward()
    fake = netG(z)
    err_fake = d_part(netD(fake.detach()).view(-1), False)
    err_fake.backward()
    err_gp = torch.zeros(())
    if gp_w > 0:
        err_gp = gp_w * penalty(real, fake.detach(), torch.tensor(inp[f"eps.{t}"]))
        err_gp.backward()
    optD.step()
    if clip > 0:
        with torch.no_grad():
            for p in netD.parameters():
                p.clamp_(-clip, clip)
    netG.zero_grad()
    o = netD(fake).view(-1)
    err_g = -o.mean() if loss == "wgan" else crit(o, torch.ones_like(o))
    err_g.backward()
    optG.step()
    d = min(ema_decay, (1.0 + t) / (10.0 + t))  # gantry's EMA warm-up
    with torch.no_grad():
        for k, v in netG.state_dict().items():
            if k.endswith("num_batches_tracked"):
                continue
            if v.dtype.is_floating_point and k in dict(netG.named_parameters()):
                ema[k].mul_(d).add_(v, alpha=1 - d)
            else:
                ema[k].copy_(v)
    out[f"loss_d.{t}"] = (err_real + err_fake + err_gp).detach()
    out[f"loss_g.{t}"] = err_g.detach()

for tag, net in (("G", netG), ("D", netD)):
    for k, v in net.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            out[f"{tag}.{k}"] = v
for k, v in ema.items():
    if not k.endswith("num_batches_tracked"):
        out[f"G_ema.{k}"] = v
gtb.save(out_path, out)
