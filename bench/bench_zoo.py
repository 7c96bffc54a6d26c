"""PyTorch side of bench_zoo: SNGAN and SAGAN at 32 px with gantry's architectures
(src/models/resnet_gan.c, StudioGAN's resnet backbone: linear -> 3 GenBlocks -> BN, ReLU,
conv3x3, tanh; D: opt block, 3 blocks, ReLU, sum, linear; spectral norm on D, and on G for SAGAN;
SAGAN's self-attention after the 16 x 16 blocks), one D step (real + fake) and one G step, hinge
loss, Adam, batch 64, on fixed random batches. Prints MODEL, img/s, s/iter, peak RSS MiB, G and D
parameter counts (tab separated).
usage: bench_zoo.py MODEL [iters] [warmup] [width]
"""
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

torch.set_num_threads(2)
model = sys.argv[1] if len(sys.argv) > 1 else "sngan"
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 5
warm = int(sys.argv[3]) if len(sys.argv) > 3 else 1
width = int(sys.argv[4]) if len(sys.argv) > 4 else 128
sa = model == "sagan"
B, nz = 64, 128


def sn(m, on=True):
    return spectral_norm(m) if on else m


class GenBlock(nn.Module):
    def __init__(self, c, gsn):
        super().__init__()
        self.bn1, self.bn2 = nn.BatchNorm2d(c), nn.BatchNorm2d(c)
        self.c1, self.c2 = sn(nn.Conv2d(c, c, 3, padding=1), gsn), sn(nn.Conv2d(c, c, 3, padding=1), gsn)
        self.c0 = sn(nn.Conv2d(c, c, 1), gsn)

    def forward(self, x):
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2)
        h = self.c2(F.relu(self.bn2(self.c1(h))))
        return h + self.c0(F.interpolate(x, scale_factor=2))


class DBlock(nn.Module):
    def __init__(self, cin, c, down, first):
        super().__init__()
        self.first, self.down = first, down
        self.c1, self.c2 = sn(nn.Conv2d(cin, c, 3, padding=1)), sn(nn.Conv2d(c, c, 3, padding=1))
        self.c0 = sn(nn.Conv2d(cin, c, 1)) if (down or cin != c) else None

    def forward(self, x):
        h = x if self.first else F.relu(x)
        h = self.c2(F.relu(self.c1(h)))
        if self.down:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.first:
            s = self.c0(F.avg_pool2d(x, 2))
        elif self.c0 is not None:
            s = self.c0(x)
            if self.down:
                s = F.avg_pool2d(s, 2)
        return h + s


class Attn(nn.Module):
    def __init__(self, c, on):
        super().__init__()
        self.theta, self.phi = sn(nn.Conv2d(c, c // 8, 1, bias=False), on), sn(nn.Conv2d(c, c // 8, 1, bias=False), on)
        self.g, self.o = sn(nn.Conv2d(c, c // 2, 1, bias=False), on), sn(nn.Conv2d(c // 2, c, 1, bias=False), on)
        self.gamma = nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        n, c, h, w = x.shape
        th = self.theta(x).view(n, c // 8, h * w)
        ph = F.max_pool2d(self.phi(x), 2).view(n, c // 8, h * w // 4)
        g = F.max_pool2d(self.g(x), 2).view(n, c // 2, h * w // 4)
        beta = F.softmax(torch.bmm(th.transpose(1, 2), ph), -1)
        o = self.o(torch.bmm(g, beta.transpose(1, 2)).view(n, c // 2, h, w))
        return x + self.gamma * o


class G(nn.Module):
    def __init__(self):
        super().__init__()
        self.l0 = sn(nn.Linear(nz, width * 16), sa)
        mods = []
        for i in range(3):
            mods.append(GenBlock(width, sa))
            if sa and 8 << i == 16:
                mods.append(Attn(width, True))
        self.blocks = nn.Sequential(*mods)
        self.bn, self.out = nn.BatchNorm2d(width), sn(nn.Conv2d(width, 3, 3, padding=1), sa)

    def forward(self, z):
        return torch.tanh(self.out(F.relu(self.bn(self.blocks(self.l0(z).view(-1, width, 4, 4))))))


class D(nn.Module):
    def __init__(self):
        super().__init__()
        mods = [DBlock(3, width, True, True)]
        if sa:
            mods.append(Attn(width, True))
        mods += [DBlock(width, width, True, False), DBlock(width, width, False, False), DBlock(width, width, False, False)]
        self.blocks = nn.Sequential(*mods)
        self.lin = sn(nn.Linear(width, 1))

    def forward(self, x):
        return self.lin(torch.sum(F.relu(self.blocks(x)), dim=[2, 3])).view(-1)


g, d = G(), D()


def main():
    og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    real, z = torch.rand(B, 3, 32, 32) * 2 - 1, torch.randn(B, nz)
    ts = []
    for i in range(warm + iters):
        a = time.perf_counter()
        d.zero_grad()
        F.relu(1 - d(real)).mean().backward()
        fake = g(z)
        F.relu(1 + d(fake.detach())).mean().backward()
        od.step()
        g.zero_grad()
        (-d(fake).mean()).backward()
        og.step()
        if i >= warm:
            ts.append(time.perf_counter() - a)
    ts.sort()
    med = ts[len(ts) // 2]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    npg, npd = sum(p.numel() for p in g.parameters()), sum(p.numel() for p in d.parameters())
    print(f"{model}\t{B / med:.2f}\t{med:.4f}\t{rss:.0f}\t{npg}\t{npd}")


if __name__ == "__main__":  # bench_zoo_flops.py imports the modules only
    main()
