"""Golden AC-GAN, InfoGAN, BEGAN and EBGAN training steps: PyTorch-GAN's architectures (written here with torch,
as gantry's src/models/aux_gans.c describes them: no dropout, BN eps 1e-5, logit outputs), from
gantry's initial weights, on gantry's batches, latents and labels, with the BCE (ns) loss and Adam.
Per step: D: zero_grad; [BCE(adv(real), 1) + aux(real)] + [BCE(adv(fake.detach()), 0) + aux(fake)];
backward; optD.step(); G: zero_grad; BCE(adv(fake), 1) + aux(fake); backward; optG.step().
aux: AC-GAN w * CE(class logits, labels) on reals and fakes; InfoGAN (fakes only) lambda_cat *
CE(Q's category logits, the code's index) + lambda_cont * MSE(Q's continuous outputs, the codes).
BEGAN / EBGAN (PyTorch-GAN's began / ebgan): D an autoencoder, energies E = mean |D(x) - x| (BEGAN) or
mean (D(x) - x)^2 (EBGAN) per batch; BEGAN: D E(x) - k E(G(z)), G E(G(z)), then k += 0.001 (0.75 E(x)
- E(G(z))) clamped to [0, 1], M = E(x) + |0.75 E(x) - E(G(z))|; EBGAN: D E(x) + relu(m - E(G(z)))
with m = max(1, B / 64), G E(G(z)) + lambda_pt * pullaway(embeddings of the fakes) (the energy's
target not detached in G's loss, as the paper; ndf = the code size, w = lambda_pt).
The energy models run in float64 (the gradient G gets through an autoencoder's energy is so
ill-conditioned at this size that PyTorch's own float32 result differs from its float64 one by
~4% of the largest G gradient; the C test states its tolerance from that).
usage: train_aux_gans.py OUT IN model res nc nz ngf ndf n_classes n_cat n_cont w lambda_cat lambda_cont steps
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
out_path, in_path, model = sys.argv[1], sys.argv[2], sys.argv[3]
res, nc, nz, ngf, ndf, K, n_cat, n_cont = (int(v) for v in sys.argv[4:12])
w, lam_cat, lam_cont = (float(v) for v in sys.argv[12:15])
steps = int(sys.argv[15])
ac = model == "acgan"
energy = model in ("began", "ebgan")
if energy:
    torch.set_default_dtype(torch.float64)
inp = gtb.load(in_path)


class G(nn.Module):
    def __init__(self):
        super().__init__()
        self.s = res // 4
        if ac:
            self.label_emb = nn.Embedding(K, nz)
        self.l1 = nn.Sequential(nn.Linear(nz, ngf * self.s * self.s))
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(ngf), nn.Upsample(scale_factor=2), nn.Conv2d(ngf, ngf, 3, 1, 1), nn.BatchNorm2d(ngf),
            nn.LeakyReLU(0.2), nn.Upsample(scale_factor=2), nn.Conv2d(ngf, ngf // 2, 3, 1, 1), nn.BatchNorm2d(ngf // 2),
            nn.LeakyReLU(0.2), nn.Conv2d(ngf // 2, nc, 3, 1, 1), nn.Tanh())

    def forward(self, z, y):
        h = self.label_emb(y) * z if ac else z
        return self.conv_blocks(self.l1(h).view(z.shape[0], -1, self.s, self.s))


class D(nn.Module):
    def __init__(self):
        super().__init__()
        layers, cin = [], nc
        for i in range(4):
            cout = ndf << i
            layers += [nn.Conv2d(cin, cout, 3, 2, 1), nn.LeakyReLU(0.2)]
            if i > 0:
                layers += [nn.Identity(), nn.BatchNorm2d(cout)]  # the reference's Dropout2d sits at the Identity
            else:
                layers += [nn.Identity()]
            cin = cout
        self.conv_blocks = nn.Sequential(*layers)
        feat = (ndf << 3) * 4
        self.adv_layer = nn.Sequential(nn.Linear(feat, 1))
        if ac:
            self.aux_layer = nn.Sequential(nn.Linear(feat, K))
        else:
            if n_cat:
                self.aux_layer = nn.Sequential(nn.Linear(feat, n_cat))
            if n_cont:
                self.latent_layer = nn.Sequential(nn.Linear(feat, n_cont))

    def forward(self, x):
        h = self.conv_blocks(x).flatten(1)
        if ac:
            aux = self.aux_layer(h)
        else:
            parts = ([self.aux_layer(h)] if n_cat else []) + ([self.latent_layer(h)] if n_cont else [])
            aux = torch.cat(parts, 1)
        return self.adv_layer(h).view(-1), aux


class AE(nn.Module):
    """BEGAN's / EBGAN's autoencoder D; forward gives per-image energies and (EBGAN) the embedding."""

    def __init__(self):
        super().__init__()
        s = res // 2
        self.s, down = s, 64 * s * s
        self.down = nn.Sequential(nn.Conv2d(nc, 64, 3, 2, 1), nn.ReLU())
        if model == "ebgan":
            self.embedding = nn.Linear(down, ndf)
            self.fc = nn.Sequential(nn.BatchNorm1d(ndf), nn.ReLU(), nn.Linear(ndf, down), nn.BatchNorm1d(down), nn.ReLU())
        else:
            self.fc = nn.Sequential(nn.Linear(down, ndf), nn.BatchNorm1d(ndf), nn.ReLU(), nn.Linear(ndf, down),
                                    nn.BatchNorm1d(down), nn.ReLU())
        self.up = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(64, nc, 3, 1, 1))

    def forward(self, x):
        h = self.down(x).flatten(1)
        emb = self.embedding(h) if model == "ebgan" else None
        h = self.fc(emb if emb is not None else h)
        r = self.up(h.view(x.shape[0], 64, self.s, self.s))
        e = ((r - x) ** 2) if model == "ebgan" else (r - x).abs()
        return e.flatten(1).mean(1), emb


def pullaway(emb):
    n = emb / torch.sqrt(torch.sum(emb ** 2, -1, keepdim=True))
    sim = n @ n.t()
    b = emb.shape[0]
    return (sim.sum() - b) / (b * (b - 1))


g, d = G(), (AE() if energy else D())
ok = 1.0
for net, tag in ((g, "G"), (d, "D")):
    sd = net.state_dict()
    for k in sd:
        if k.endswith("num_batches_tracked"):
            continue
        key = f"{tag}.{k}"
        if key not in inp or tuple(inp[key].shape) != tuple(sd[k].shape):
            ok = 0.0
            continue
        sd[k].copy_(torch.tensor(inp[key]).to(sd[k].dtype))
nn_ = nz - n_cat - n_cont


def aux_loss(a, y, z, real):
    if ac:
        return w * F.cross_entropy(a, y)
    if real:
        return torch.zeros(())
    loss = torch.zeros(())
    if n_cat:
        loss = loss + lam_cat * F.cross_entropy(a[:, :n_cat], z[:, nn_:nn_ + n_cat].argmax(1))
    if n_cont:
        loss = loss + lam_cont * F.mse_loss(a[:, n_cat:], z[:, nn_ + n_cat:])
    return loss


k_state = 0.0
opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
out = {"names_ok": torch.tensor([ok])}
for t in range(steps):
    real, z = torch.tensor(inp[f"real.{t}"]).to(torch.get_default_dtype()), torch.tensor(inp[f"z.{t}"]).to(torch.get_default_dtype())
    ry = torch.tensor(inp[f"ry.{t}"]).long() if ac else None
    fy = torch.tensor(inp[f"fy.{t}"]).long() if ac else None
    if energy:
        margin = max(1.0, real.shape[0] / 64.0)
        d.zero_grad()
        er, _ = d(real)
        ld = er.mean()
        ld.backward()
        fake = g(z, None)
        ef, _ = d(fake.detach())
        lf = -k_state * ef.mean() if model == "began" else F.relu(margin - ef.mean())
        lf.backward()
        opt_d.step()
        if model == "began":
            k_state = min(max(k_state + 0.001 * (0.75 * er.mean().item() - ef.mean().item()), 0.0), 1.0)
            out[f"k.{t}"] = torch.tensor([k_state])
            out[f"M.{t}"] = torch.tensor([er.mean().item() + abs(0.75 * er.mean().item() - ef.mean().item())])
        g.zero_grad()
        for p in d.parameters():
            p.requires_grad_(False)
        eg, emb = d(fake)
        lg = eg.mean() + (w * pullaway(emb) if model == "ebgan" else 0)
        lg.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
        out[f"loss_d.{t}"] = (ld + lf).detach().reshape(1)
        out[f"loss_g.{t}"] = lg.detach().reshape(1)
        continue
    d.zero_grad()
    adv, a = d(real)
    ld = F.binary_cross_entropy_with_logits(adv, torch.ones_like(adv)) + aux_loss(a, ry, None, True)
    ld.backward()
    fake = g(z, fy)
    adv, a = d(fake.detach())
    lf = F.binary_cross_entropy_with_logits(adv, torch.zeros_like(adv)) + aux_loss(a, fy, z, False)
    lf.backward()
    opt_d.step()
    g.zero_grad()
    for p in d.parameters():
        p.requires_grad_(False)
    adv, a = d(fake)
    lg = F.binary_cross_entropy_with_logits(adv, torch.ones_like(adv)) + aux_loss(a, fy, z, False)
    lg.backward()
    opt_g.step()
    for p in d.parameters():
        p.requires_grad_(True)
    out[f"loss_d.{t}"] = (ld + lf).detach().reshape(1)
    out[f"loss_g.{t}"] = lg.detach().reshape(1)
for net, tag in ((g, "G"), (d, "D")):
    for k, v in net.state_dict().items():
        if not k.endswith("num_batches_tracked"):
            out[f"{tag}.{k}"] = v
    for k, p in net.named_parameters():  # the last step's gradients (D's from its step, G's from its)
        out[f"grad.{tag}.{k}"] = p.grad
gtb.save(out_path, out)
