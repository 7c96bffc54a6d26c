"""pix2pix golden values: the ResnetGenerator and NLayerDiscriminator of
junyanz/pytorch-CycleGAN-and-pix2pix (2 down-samplings, no dropout), rebuilt here with torch.nn
(the same Sequential layout, so the same state_dict names), weights and inputs from the C test.
For each variant: fake = G(a), d = D(cat(a, fake)), loss = BCE(d, 1) + 100 L1(fake, b) (the
generator's pix2pix loss), and its gradients w.r.t. every parameter of G and D; the edges of a.
usage: pix2pix.py OUT IN
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)


class ResnetBlock(nn.Module):
    def __init__(self, dim, mid, norm, bias):
        super().__init__()
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, mid, 3, padding=0, bias=bias), norm(mid), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(mid, dim, 3, padding=0, bias=bias), norm(dim))

    def forward(self, x):
        return x + self.conv_block(x)


class Wrap(nn.Module):
    def __init__(self, seq):
        super().__init__()
        self.model = seq

    def forward(self, x):
        return self.model(x)


def make_norm(kind):
    if kind == 0:
        return lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)
    return lambda c: nn.BatchNorm2d(c)


def resnet_g(C, w, nb, kind):
    """w: stem, down1, down2, blocks..., up1, up2"""
    norm, bias = make_norm(kind), kind == 0
    ws, w1, w2, wb, u1, u2 = w[0], w[1], w[2], w[3:3 + nb], w[3 + nb], w[4 + nb]
    m = [nn.ReflectionPad2d(3), nn.Conv2d(C, ws, 7, padding=0, bias=bias), norm(ws), nn.ReLU(True),
         nn.Conv2d(ws, w1, 3, stride=2, padding=1, bias=bias), norm(w1), nn.ReLU(True),
         nn.Conv2d(w1, w2, 3, stride=2, padding=1, bias=bias), norm(w2), nn.ReLU(True)]
    m += [ResnetBlock(w2, wb[i], norm, bias) for i in range(nb)]
    m += [nn.ConvTranspose2d(w2, u1, 3, stride=2, padding=1, output_padding=1, bias=bias), norm(u1), nn.ReLU(True),
          nn.ConvTranspose2d(u1, u2, 3, stride=2, padding=1, output_padding=1, bias=bias), norm(u2), nn.ReLU(True),
          nn.ReflectionPad2d(3), nn.Conv2d(u2, C, 7, padding=0), nn.Tanh()]
    return Wrap(nn.Sequential(*m))


def patch_d(C2, ndf, nl, kind):
    norm, bias = make_norm(kind), kind == 0
    seq = [nn.Conv2d(C2, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
    mult = 1
    for n in range(1, nl):
        prev, mult = mult, min(2 ** n, 8)
        seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1, bias=bias), norm(ndf * mult),
                nn.LeakyReLU(0.2, True)]
    prev, mult = mult, min(2 ** nl, 8)
    seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=bias), norm(ndf * mult),
            nn.LeakyReLU(0.2, True)]
    seq += [nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1)]
    return Wrap(nn.Sequential(*seq))


def load_into(module, inp, prefix):
    sd = module.state_dict()
    new = {}
    for k in sd:
        if k.endswith("num_batches_tracked"):
            new[k] = sd[k]
            continue
        new[k] = torch.tensor(inp[prefix + k]).reshape(sd[k].shape)
    module.load_state_dict(new)


def sobel_edges(x, thr):
    g = x.mean(1, keepdim=True)
    gp = F.pad(g, (1, 1, 1, 1), mode="replicate")
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).reshape(1, 1, 3, 3)
    gx = F.conv2d(gp, kx)
    gy = F.conv2d(gp, kx.transpose(2, 3))
    e = (torch.sqrt(gx * gx + gy * gy) > thr).float() * 2 - 1
    return e.expand_as(x).contiguous()


inp = gtb.load(sys.argv[2])
out = {}
for v in ("in", "bn"):
    cfg = [int(c) for c in inp[v + ".cfg"]]  # C, nb, nl, ndf, kind, widths...
    C, nb, nl, ndf, kind = cfg[:5]
    widths = cfg[5:]
    G, D = resnet_g(C, widths, nb, kind), patch_d(2 * C, ndf, nl, kind)
    load_into(G, inp, v + ".G.")
    load_into(D, inp, v + ".D.")
    G.train(), D.train()
    a = torch.tensor(inp[v + ".a"])
    b = torch.tensor(inp[v + ".b"])
    fake = G(a)
    d = D(torch.cat([a, fake], 1)).flatten(1)
    loss = F.binary_cross_entropy_with_logits(d, torch.ones_like(d)) + 100.0 * F.l1_loss(fake, b)
    names = [n for n, _ in G.named_parameters()] + [n for n, _ in D.named_parameters()]
    params = [p for _, p in G.named_parameters()] + [p for _, p in D.named_parameters()]
    grads = torch.autograd.grad(loss, params)
    out[v + ".fake"] = fake
    out[v + ".d"] = d
    out[v + ".loss"] = loss.reshape(1)
    ng = len(list(G.parameters()))
    for i, (n, g) in enumerate(zip(names, grads)):
        out[v + (".gG." if i < ng else ".gD.") + n] = g
    if kind == 1:  # the running statistics after one training forward
        for k, t in G.state_dict().items():
            if "running" in k:
                out[v + ".sG." + k] = t
    G.eval()
    with torch.no_grad():
        out[v + ".eval"] = G(a)
out["edges"] = sobel_edges(torch.tensor(inp["edges.x"]), float(inp["edges.thr"][0]))
gtb.save(sys.argv[1], out)
