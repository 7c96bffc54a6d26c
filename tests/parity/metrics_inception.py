"""The FID Inception-v3 in PyTorch with seeded random weights: golden features.

The network is torchvision's Inception3 (num_classes=1008, aux_logits=False)
with pytorch-fid's patched blocks (written below): FIDInceptionA / C / E_1
average pools with count_include_pad=False, FIDInceptionE_2 with a 3x3 max pool
in its pool branch. Every parameter and BN running statistic gets a seeded
random value (running_var positive); the state_dict (without
num_batches_tracked) is written to WEIGHTS as safetensors with the
converter's writer (scripts/convert_inception.py), and with PTH given also
torch.save'd there, for the converter's own test. The taps are taken as pytorch-fid / torch-fidelity take them:
after the first and second max pool and after Mixed_6e, adaptive-average
pooled to 1x1; then the 2048-d pool, fc with and without its bias.

Input: for each group g, g.img (N, C, H, W) uint8 values and g.mode ([0] tf1,
[1] clean, [2] pytorch-fid). Output per group: g.x (the preprocessed input), g.pool64,
g.pool192, g.pool768, g.pool2048, g.logits, g.logits_unbiased.
usage: metrics_inception.py OUT IN WEIGHTS [PTH]
"""
import sys

import torch
import torch.nn.functional as F
from torchvision.models import inception as tvi

_here = __file__.rsplit("/", 1)[0]
sys.path.insert(0, _here)
sys.path.insert(0, _here + "/../../scripts")
import gtb  # noqa: E402
from convert_inception import write_safetensors  # noqa: E402
from metrics_resize import preprocess  # noqa: E402


def _avg3(x):  # TensorFlow's average pool leaves the padding out of the mean
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class FIDA(tvi.InceptionA):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_avg3(x))
        return torch.cat([b1, b5, b3, bp], 1)


class FIDC(tvi.InceptionC):
    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = m(bd)
        bp = self.branch_pool(_avg3(x))
        return torch.cat([b1, b7, bd, bp], 1)


class FIDE(tvi.InceptionE):
    def __init__(self, in_channels, max_pool):
        super().__init__(in_channels)
        self.max_pool = max_pool

    def forward(self, x):
        b1 = self.branch1x1(x)
        a = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(a), self.branch3x3_2b(a)], 1)
        d = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)
        if self.max_pool:  # FIDInceptionE_2
            p = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:  # FIDInceptionE_1
            p = _avg3(x)
        return torch.cat([b1, b3, bd, self.branch_pool(p)], 1)


def fid_inception():
    net = tvi.Inception3(num_classes=1008, aux_logits=False, init_weights=False)
    net.Mixed_5b = FIDA(192, pool_features=32)
    net.Mixed_5c = FIDA(256, pool_features=64)
    net.Mixed_5d = FIDA(288, pool_features=64)
    net.Mixed_6b = FIDC(768, channels_7x7=128)
    net.Mixed_6c = FIDC(768, channels_7x7=160)
    net.Mixed_6d = FIDC(768, channels_7x7=160)
    net.Mixed_6e = FIDC(768, channels_7x7=192)
    net.Mixed_7b = FIDE(1280, max_pool=False)
    net.Mixed_7c = FIDE(2048, max_pool=True)
    return net.eval()


def randomize(net, seed):
    """Seeded weights that keep activations O(1) through the 94 convs."""
    g = torch.Generator().manual_seed(seed)

    def u(shape, lo, hi):
        return torch.rand(shape, generator=g) * (hi - lo) + lo

    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, tvi.BasicConv2d):
                w = m.conv.weight
                fan_in = w[0].numel()
                w.copy_(torch.randn(w.shape, generator=g) * (2.0 / fan_in) ** 0.5)
                c = w.shape[0]
                var = u(c, 0.5, 2.0)
                m.bn.running_var.copy_(var)
                m.bn.running_mean.copy_(u(c, -0.2, 0.2))
                m.bn.weight.copy_((var + 1e-3).sqrt() * u(c, 0.8, 1.2))
                m.bn.bias.copy_(u(c, -0.2, 0.2))
        net.fc.weight.copy_(torch.randn(net.fc.weight.shape, generator=g) / 2048**0.5)
        net.fc.bias.copy_(u(1008, -0.5, 0.5))


def features(net, x):
    gap = lambda t: F.adaptive_avg_pool2d(t, (1, 1)).flatten(1)  # noqa: E731
    out = {}
    for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"):
        x = getattr(net, name)(x)
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    out["pool64"] = gap(x)
    x = net.Conv2d_4a_3x3(net.Conv2d_3b_1x1(x))
    x = F.max_pool2d(x, kernel_size=3, stride=2)
    out["pool192"] = gap(x)
    for name in ("Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
        x = getattr(net, name)(x)
    out["pool768"] = gap(x)
    for name in ("Mixed_7a", "Mixed_7b", "Mixed_7c"):
        x = getattr(net, name)(x)
    pool = gap(x)
    out["pool2048"] = pool
    out["logits"] = net.fc(pool)
    out["logits_unbiased"] = pool.mm(net.fc.weight.T)
    return out


def main():
    torch.set_num_threads(1)  # one thread: steady on a busy 2-core machine
    inp = gtb.load(sys.argv[2])
    net = fid_inception()
    randomize(net, 1234)
    sd = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    write_safetensors({k: v.numpy() for k, v in sd.items()}, sys.argv[3], {"format": "pt"})
    if len(sys.argv) > 4:
        torch.save(net.state_dict(), sys.argv[4])
    out, groups, xs = {}, [], []
    with torch.no_grad():
        for key in inp:
            if key.endswith(".img"):
                grp = key[: -len(".img")]
                xs.append(preprocess(inp[key], int(inp[grp + ".mode"][0])))
                out[grp + ".x"] = xs[-1]
                groups.append((grp, len(xs[-1])))
        feats = features(net, torch.cat(xs))  # one batch for every group
    start = 0
    for grp, n in groups:
        for k, v in feats.items():
            out[grp + "." + k] = v[start:start + n]
        start += n
    gtb.save(sys.argv[1], out)


if __name__ == "__main__":
    main()
