"""PyTorch side of bench/bench_dcgan.c: the PyTorch DCGAN example's training
step (D on real, G(z), D on fake.detach(), optD; D on fake, optG; BCE-with-
logits, Adam(2e-4, (0.5, 0.999))) at batch 64, 3 channels, ngf = ndf = 64,
nz = 100, 2 threads, fixed random batches. Same output line as the C side:
  dcgan<TAB>res<TAB>img_s<TAB>s_per_iter<TAB>peak_rss_mb
usage: /usr/bin/python3 bench/bench_dcgan.py RES [iters] [warmup]
"""
import resource
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(2)
res = int(sys.argv[1]) if len(sys.argv) > 1 else 32
iters = int(sys.argv[2]) if len(sys.argv) > 2 else 5
warm = int(sys.argv[3]) if len(sys.argv) > 3 else 1
nz, ngf, ndf, nc, B = 100, 64, 64, 3, 64
L = 4 if res == 64 else 3


def generator():
    layers = []
    for i in range(L + 1):
        cin = nz if i == 0 else ngf << (L - i)
        cout = nc if i == L else ngf << (L - 1 - i)
        layers.append(nn.ConvTranspose2d(cin, cout, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False))
        layers += [nn.BatchNorm2d(cout), nn.ReLU(True)] if i < L else [nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator():
    layers = []
    for i in range(L + 1):
        cin = nc if i == 0 else ndf << (i - 1)
        cout = 1 if i == L else ndf << i
        layers.append(nn.Conv2d(cin, cout, 4, 1 if i == L else 2, 0 if i == L else 1, bias=False))
        if 0 < i < L:
            layers.append(nn.BatchNorm2d(cout))
        if i < L:
            layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def init(m):
    if "Conv" in type(m).__name__:
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif "BatchNorm" in type(m).__name__:
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


torch.manual_seed(0)
netG, netD = generator(), discriminator()
netG.apply(init)
netD.apply(init)
crit = nn.BCEWithLogitsLoss()
optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
real = torch.rand(B, nc, res, res) * 2 - 1
z = torch.randn(B, nz, 1, 1)
ones, zeros = torch.ones(B), torch.zeros(B)


def step():
    netD.zero_grad()
    crit(netD(real).view(-1), ones).backward()
    fake = netG(z)
    crit(netD(fake.detach()).view(-1), zeros).backward()
    optD.step()
    netG.zero_grad()
    crit(netD(fake).view(-1), ones).backward()
    optG.step()


ts = []
for i in range(warm + iters):
    t0 = time.perf_counter()
    step()
    if i >= warm:
        ts.append(time.perf_counter() - t0)
ts.sort()
n = len(ts)
med = ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
print("dcgan\t%d\t%.2f\t%.4f\t%.1f" % (res, B / med, med, rss), flush=True)
