"""Golden forwards of the GAN layers (include/gantry/layers.h) in PyTorch,
loaded with gantry's own weights.

usage: nn_layers.py OUT CASE IN

The C test writes every registry entry (all under "m.<tag>.", tag = one
module of the case) and the inputs. Loading the entries into an
nn.ModuleDict({"m": {tag: module}}) checks that the names and shapes are
PyTorch's state_dict keys (names_ok).

CASE sn: spectral_norm'd Conv2d / Linear / Embedding (tags conv, lin, emb;
lin2: two power iterations per forward, eps 1e-6):
three training forwards on x.<tag>.1..3 (y.<tag>.<k>), then u, v, sigma and
the normalized weight (u.<tag>, v.<tag>, sigma.<tag>, weight.<tag>), the
gradients of sum((y2 + y3) * w.<tag>) (gx2.<tag>, gx.<tag>, grad.<tag>.<param>), an eval
forward on x.<tag>.1 (yeval.<tag>) and a fourth training forward on x.<tag>.4
(y.<tag>.4, u4.<tag>, v4.<tag>).

Other cases: per tag, inputs in0.<tag>, in1.<tag>, ... (float ones get
gradients, int ones are labels) and w.<tag>; one training forward and the
gradients of sum(y * w): y.<tag>, gin<i>.<tag>, grad.<tag>.<param>,
buf.<tag>.<buffer> (after the forward), then yeval.<tag> in eval mode.
"""
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402


def maybe_sn(m, sn):
    return spectral_norm(m) if sn else m


class Attention(nn.Module):
    """BigGAN-PyTorch's Attention (SAGAN)."""

    def __init__(self, ch, sn):
        super().__init__()
        self.ch = ch
        self.theta = maybe_sn(nn.Conv2d(ch, ch // 8, 1, bias=False), sn)
        self.phi = maybe_sn(nn.Conv2d(ch, ch // 8, 1, bias=False), sn)
        self.g = maybe_sn(nn.Conv2d(ch, ch // 2, 1, bias=False), sn)
        self.o = maybe_sn(nn.Conv2d(ch // 2, ch, 1, bias=False), sn)
        self.gamma = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        ch, h, w = self.ch, x.shape[2], x.shape[3]
        theta = self.theta(x).view(-1, ch // 8, h * w)
        phi = F.max_pool2d(self.phi(x), [2, 2]).view(-1, ch // 8, h * w // 4)
        g = F.max_pool2d(self.g(x), [2, 2]).view(-1, ch // 2, h * w // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)
        o = self.o(torch.bmm(g, beta.transpose(1, 2)).view(-1, ch // 2, h, w))
        return self.gamma * o + x


class ClassBN(nn.Module):
    """BatchNorm2d(affine=False), gain and bias embeddings of the class."""

    def __init__(self, c, k):
        super().__init__()
        self.bn = nn.BatchNorm2d(c, affine=False)
        self.gain = nn.Embedding(k, c)
        self.bias = nn.Embedding(k, c)

    def forward(self, x, y):
        return self.bn(x) * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]


class CondBN(nn.Module):
    """BigGAN's ccbn: gain = 1 + Linear(v), bias = Linear(v)."""

    def __init__(self, c, i, sn):
        super().__init__()
        self.bn = nn.BatchNorm2d(c, affine=False)
        self.gain = maybe_sn(nn.Linear(i, c, bias=False), sn)
        self.bias = maybe_sn(nn.Linear(i, c, bias=False), sn)

    def forward(self, x, v):
        return self.bn(x) * (1 + self.gain(v))[:, :, None, None] + self.bias(v)[:, :, None, None]


class MinibatchStd(nn.Module):
    """StyleGAN2's MinibatchStdLayer."""

    def __init__(self, group_size, num_channels):
        super().__init__()
        self.group_size, self.num_channels = group_size, num_channels

    def forward(self, x):
        N, C, H, W = x.shape
        G = min(self.group_size, N)
        Fc = self.num_channels
        c = C // Fc
        y = x.reshape(G, -1, Fc, c, H, W)
        y = y - y.mean(dim=0)
        y = y.square().mean(dim=0)
        y = (y + 1e-8).sqrt()
        y = y.mean(dim=[2, 3, 4])
        y = y.reshape(-1, Fc, 1, 1)
        y = y.repeat(G, 1, H, W)
        return torch.cat([x, y], dim=1)


class ProjHead(nn.Module):
    def __init__(self, i, k, sn):
        super().__init__()
        self.linear = maybe_sn(nn.Linear(i, 1), sn)
        self.embed = maybe_sn(nn.Embedding(k, i), sn)

    def forward(self, h, y):
        return self.linear(h).squeeze(1) + torch.sum(self.embed(y) * h, 1)


class ACHead(nn.Module):
    def __init__(self, i, k, sn):
        super().__init__()
        self.linear = maybe_sn(nn.Linear(i, k), sn)

    def forward(self, h):
        return self.linear(h)


class GenBlock(nn.Module):
    """StudioGAN's resnet GenBlock."""

    def __init__(self, cin, cout, norm, cond, sn):
        super().__init__()
        self.norm = norm

        def mk(c):
            if norm == "bn":
                return nn.BatchNorm2d(c)
            if norm == "class":
                return ClassBN(c, cond)
            return CondBN(c, cond, sn)
        self.bn1, self.bn2 = mk(cin), mk(cout)
        self.conv2d0 = maybe_sn(nn.Conv2d(cin, cout, 1), sn)
        self.conv2d1 = maybe_sn(nn.Conv2d(cin, cout, 3, padding=1), sn)
        self.conv2d2 = maybe_sn(nn.Conv2d(cout, cout, 3, padding=1), sn)

    def forward(self, x, y=None):
        def nrm(bn, t):
            return bn(t) if self.norm == "bn" else bn(t, y)
        x0 = x
        x = F.relu(nrm(self.bn1, x))
        x = self.conv2d1(F.interpolate(x, scale_factor=2, mode="nearest"))
        x = self.conv2d2(F.relu(nrm(self.bn2, x)))
        x0 = self.conv2d0(F.interpolate(x0, scale_factor=2, mode="nearest"))
        return x + x0


class DiscOptBlock(nn.Module):
    def __init__(self, cin, cout, sn):
        super().__init__()
        self.conv2d0 = maybe_sn(nn.Conv2d(cin, cout, 1), sn)
        self.conv2d1 = maybe_sn(nn.Conv2d(cin, cout, 3, padding=1), sn)
        self.conv2d2 = maybe_sn(nn.Conv2d(cout, cout, 3, padding=1), sn)
        self.average_pooling = nn.AvgPool2d(2)

    def forward(self, x):
        x0 = x
        x = self.average_pooling(self.conv2d2(F.relu(self.conv2d1(x))))
        x0 = self.conv2d0(self.average_pooling(x0))
        return x + x0


class DiscBlock(nn.Module):
    def __init__(self, cin, cout, downsample, sn):
        super().__init__()
        self.downsample = downsample
        self.ch_mismatch = cin != cout
        if self.ch_mismatch or downsample:
            self.conv2d0 = maybe_sn(nn.Conv2d(cin, cout, 1), sn)
        self.conv2d1 = maybe_sn(nn.Conv2d(cin, cout, 3, padding=1), sn)
        self.conv2d2 = maybe_sn(nn.Conv2d(cout, cout, 3, padding=1), sn)
        self.average_pooling = nn.AvgPool2d(2)

    def forward(self, x):
        x0 = x
        x = self.conv2d2(F.relu(self.conv2d1(F.relu(x))))
        if self.downsample:
            x = self.average_pooling(x)
        if self.downsample or self.ch_mismatch:
            x0 = self.conv2d0(x0)
            if self.downsample:
                x0 = self.average_pooling(x0)
        return x + x0


# every case's modules; shapes and flags as tests/nn/test_layers.c builds them
CASES = {
    "sn": lambda: {"conv": spectral_norm(nn.Conv2d(3, 4, 3, padding=1)), "lin": spectral_norm(nn.Linear(6, 5)),
                   "emb": spectral_norm(nn.Embedding(7, 4)),
                   "lin2": spectral_norm(nn.Linear(6, 5), n_power_iterations=2, eps=1e-6)},
    "attn": lambda: {"sn": Attention(16, True), "plain": Attention(16, False)},
    "cbn": lambda: {"cls": ClassBN(4, 5), "vec": CondBN(4, 6, False), "vecsn": CondBN(4, 6, True)},
    "mbstd": lambda: {"g4": MinibatchStd(4, 1), "g2f2": MinibatchStd(2, 2), "small": MinibatchStd(4, 1)},
    "heads": lambda: {"proj": ProjHead(8, 5, True), "projplain": ProjHead(8, 5, False), "ac": ACHead(8, 5, True)},
    "blocks": lambda: {"gbn": GenBlock(4, 6, "bn", 0, True), "gcls": GenBlock(4, 6, "class", 3, True),
                       "gvec": GenBlock(4, 6, "vec", 5, True), "dopt": DiscOptBlock(3, 4, True),
                       "dblk": DiscBlock(4, 6, True, True), "dsame": DiscBlock(4, 4, False, False)},
}


def load(root, inp, out):
    sd = root.state_dict()
    ours = {k for k in inp if k.startswith("m.")}
    theirs = {k for k in sd if not k.endswith("num_batches_tracked")}
    out["names_ok"] = torch.tensor(float(ours == theirs))
    if ours != theirs:
        print("names differ: only gantry", sorted(ours - theirs), "only torch", sorted(theirs - ours),
              file=sys.stderr)
    root.load_state_dict({k: torch.tensor(inp[k]) for k in ours & theirs}, strict=False)


def t(a, grad=False):
    x = torch.tensor(a)
    if not x.is_floating_point():
        return x.long()
    return x.requires_grad_(grad)


def sn_case(mods, inp, out):
    for tag, m in mods.items():
        m.train()
        ys = []
        for k in (1, 2, 3):
            x = t(inp[f"x.{tag}.{k}"], True)
            ys.append((x, m(x)))
            out[f"y.{tag}.{k}"] = ys[-1][1]
        with torch.no_grad():
            wm = m.weight_orig.reshape(m.weight_orig.shape[0], -1)
            out[f"u.{tag}"] = m.weight_u.clone()
            out[f"v.{tag}"] = m.weight_v.clone()
            out[f"sigma.{tag}"] = torch.dot(m.weight_u, wm @ m.weight_v)
            out[f"weight.{tag}"] = m.weight.detach().clone()
        # two graphs made before one backward (D(real), D(fake)): each keeps
        # the u, v of its own forward
        (x2, y2), (x3, y3) = ys[1], ys[2]
        ((y2 + y3) * t(inp[f"w.{tag}"])).sum().backward()
        if x3.is_floating_point():
            out[f"gx2.{tag}"] = x2.grad
            out[f"gx.{tag}"] = x3.grad
        for n, p in m.named_parameters():
            out[f"grad.{tag}.{n}"] = p.grad.clone()
        m.eval()
        with torch.no_grad():
            out[f"yeval.{tag}"] = m(t(inp[f"x.{tag}.1"]))
        m.train()
        with torch.no_grad():
            out[f"y.{tag}.4"] = m(t(inp[f"x.{tag}.4"]))
            out[f"u4.{tag}"] = m.weight_u.clone()
            out[f"v4.{tag}"] = m.weight_v.clone()


def generic_case(mods, inp, out):
    for tag, m in mods.items():
        m.train()
        args, i = [], 0
        while f"in{i}.{tag}" in inp:
            args.append(t(inp[f"in{i}.{tag}"], True))
            i += 1
        y = m(*args)
        (y * t(inp[f"w.{tag}"])).sum().backward()
        out[f"y.{tag}"] = y
        for i, a in enumerate(args):
            if a.is_floating_point():
                out[f"gin{i}.{tag}"] = a.grad
        for n, p in m.named_parameters():
            out[f"grad.{tag}.{n}"] = p.grad.clone()
        for n, b in m.named_buffers():
            if not n.endswith("num_batches_tracked"):
                out[f"buf.{tag}.{n}"] = b.clone()
        m.eval()
        with torch.no_grad():
            out[f"yeval.{tag}"] = m(*[a.detach() for a in args])


def main():
    path_out, case, path_in = sys.argv[1], sys.argv[2], sys.argv[3]
    inp = gtb.load(path_in)
    mods = nn.ModuleDict(CASES[case]())
    root = nn.ModuleDict({"m": mods})
    out = {}
    load(root, inp, out)
    (sn_case if case == "sn" else generic_case)(mods, inp, out)
    gtb.save(path_out, out)


main()
