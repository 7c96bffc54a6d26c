"""ADA golden values: the per-sample matrices of stylegan2-ada-pytorch training/augment.py (its default
strengths, its probability rules: p per transform, 1 - sqrt(1 - p) per rotation), built from draws
given by the C test (instead of torch.rand / torch.randn), applied as gantry does: the geometric
matrix with affine_grid + grid_sample (bilinear, reflection padding, align_corners False; no wavelet
up/down-sampling; K.*.aa with it), the colour matrix with the reference's matmul (RGB) or luma rule (1 channel);
and the gradient of sum(y * w) with respect to x; K.y.aa, K.g.aa: the same with the reference's
anti-aliased execution of the geometric matrix (margin, reflect pad, sym6 2x upsampling,
grid_sample, filtered 2x downsampling; its upfirdn2d as _upfirdn2d_ref).
usage: ada.py OUT IN     (IN holds, per case K: K.x, K.w, K.draws (N, 28), K.cfg = [p, groups])
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)


def matrix(*rows):
    ref = [x for r in rows for x in r if isinstance(x, torch.Tensor)][0]
    el = [x if isinstance(x, torch.Tensor) else torch.full_like(ref, float(x)) for r in rows for x in r]
    return torch.stack(el, dim=-1).reshape(ref.shape + (len(rows), -1))


def translate2d(tx, ty):
    return matrix([1, 0, tx], [0, 1, ty], [0, 0, 1])


def scale2d(sx, sy):
    return matrix([sx, 0, 0], [0, sy, 0], [0, 0, 1])


def rotate2d(t):
    return matrix([torch.cos(t), torch.sin(-t), 0], [torch.sin(t), torch.cos(t), 0], [0, 0, 1])


def translate3d(tx, ty, tz):
    return matrix([1, 0, 0, tx], [0, 1, 0, ty], [0, 0, 1, tz], [0, 0, 0, 1])


def scale3d(sx, sy, sz):
    return matrix([sx, 0, 0, 0], [0, sy, 0, 0], [0, 0, sz, 0], [0, 0, 0, 1])


def rotate3d(v, t):
    vx, vy, vz = v[0], v[1], v[2]
    s, c = torch.sin(t), torch.cos(t)
    cc = 1 - c
    return matrix([vx * vx * cc + c, vx * vy * cc - vz * s, vx * vz * cc + vy * s, 0],
                  [vy * vx * cc + vz * s, vy * vy * cc + c, vy * vz * cc - vx * s, 0],
                  [vz * vx * cc - vy * s, vz * vy * cc + vx * s, vz * vz * cc + c, 0], [0, 0, 0, 1])


def matrices(d, p, groups, C, H, W):
    N = d.shape[0]
    p = torch.tensor(p, dtype=torch.float32)
    col = lambda k: d[:, k]  # noqa: E731
    G = torch.eye(3).repeat(N, 1, 1)
    if groups & 1:
        i = torch.floor(col(0) * 2)
        i = torch.where(col(1) < p, i, torch.zeros_like(i))
        G = G @ scale2d(1 / (1 - 2 * i), torch.ones_like(i))
        i = torch.floor(col(2) * 4)
        i = torch.where(col(3) < p, i, torch.zeros_like(i))
        G = G @ rotate2d(-(-np.pi / 2 * i))
        t = (d[:, 4:6] * 2 - 1) * 0.125
        t = torch.where(col(6)[:, None] < p, t, torch.zeros_like(t))
        G = G @ translate2d(-torch.round(t[:, 0] * W), -torch.round(t[:, 1] * H))
    if groups & 2:
        s = torch.exp2(col(7) * 0.2)
        s = torch.where(col(8) < p, s, torch.ones_like(s))
        G = G @ scale2d(1 / s, 1 / s)
        p_rot = 1 - torch.sqrt((1 - p).clamp(0, 1))
        th = (col(9) * 2 - 1) * np.pi
        th = torch.where(col(10) < p_rot, th, torch.zeros_like(th))
        G = G @ rotate2d(th)
        s = torch.exp2(col(11) * 0.2)
        s = torch.where(col(12) < p, s, torch.ones_like(s))
        G = G @ scale2d(1 / s, s)
        th = (col(13) * 2 - 1) * np.pi
        th = torch.where(col(14) < p_rot, th, torch.zeros_like(th))
        G = G @ rotate2d(th)
        t = d[:, 15:17] * 0.125
        t = torch.where(col(17)[:, None] < p, t, torch.zeros_like(t))
        G = G @ translate2d(-t[:, 0] * W, -t[:, 1] * H)
    Cm = torch.eye(4).repeat(N, 1, 1)
    if groups & 4:
        I4 = torch.eye(4)
        b = col(18) * 0.2
        b = torch.where(col(19) < p, b, torch.zeros_like(b))
        Cm = translate3d(b, b, b) @ Cm
        c = torch.exp2(col(20) * 0.5)
        c = torch.where(col(21) < p, c, torch.ones_like(c))
        Cm = scale3d(c, c, c) @ Cm
        v = torch.tensor(np.asarray([1, 1, 1, 0]) / np.sqrt(3), dtype=torch.float32)
        i = torch.floor(col(22) * 2).reshape(N, 1, 1)
        i = torch.where(col(23).reshape(N, 1, 1) < p, i, torch.zeros_like(i))
        Cm = (I4 - 2 * v.ger(v) * i) @ Cm
        if C > 1:
            th = (col(24) * 2 - 1) * np.pi
            th = torch.where(col(25) < p, th, torch.zeros_like(th))
            Cm = rotate3d(v, th) @ Cm
            s = torch.exp2(col(26)).reshape(N, 1, 1)
            s = torch.where(col(27).reshape(N, 1, 1) < p, s, torch.ones_like(s))
            Cm = (v.ger(v) + (I4 - v.ger(v)) * s) @ Cm
    return G, Cm


SYM6 = [0.015404109327027373, 0.0034907120842174702, -0.11799011114819057, -0.048311742585633, 0.4910559419267466,
        0.787641141030194, 0.3379294217276218, -0.07263752278646252, -0.021060292512300564, 0.04472490177066578,
        0.0017677118642428036, -0.007800708325034148]


def upfirdn2d(x, f, up=1, down=1, pad=(0, 0, 0, 0), flip=False, gain=1):
    """the reference's _upfirdn2d_ref for a separable (1-D) filter; pad = x0, x1, y0, y1"""
    N, C, H, W = x.shape
    x = x.reshape(N, C, H, 1, W, 1)
    x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1]).reshape(N, C, H * up, W * up)
    px0, px1, py0, py1 = pad
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    f = f * gain ** 0.5
    if not flip:
        f = f.flip([0])
    f = f[None, None].repeat([C, 1, 1])
    x = F.conv2d(x, f.unsqueeze(2), groups=C)
    x = F.conv2d(x, f.unsqueeze(3), groups=C)
    return x[:, :, ::down, ::down]


def geometric_aa(x, G):
    """augment.py's execution of G_inv: margin, reflect pad, upsample, grid_sample, downsample"""
    N, C, H, W = x.shape
    f = torch.tensor(SYM6, dtype=torch.float32)
    f = f / f.sum()
    cx, cy = (W - 1) / 2, (H - 1) / 2
    cp = torch.tensor([[-cx, -cy, 1], [cx, -cy, 1], [cx, cy, 1], [-cx, cy, 1]], dtype=torch.float32)
    cp = G @ cp.t()
    hz = 12 // 4
    margin = cp[:, :2, :].permute(1, 0, 2).flatten(1)
    margin = torch.cat([-margin, margin]).max(dim=1).values
    margin = margin + torch.tensor([hz * 2 - cx, hz * 2 - cy] * 2)
    margin = margin.max(torch.tensor([0, 0] * 2, dtype=torch.float32))
    margin = margin.min(torch.tensor([W - 1, H - 1] * 2, dtype=torch.float32))
    mx0, my0, mx1, my1 = [int(v) for v in margin.ceil().to(torch.int32)]
    x = F.pad(x, [mx0, mx1, my0, my1], mode="reflect")
    G = translate2d(torch.full([N], (mx0 - mx1) / 2), torch.full([N], (my0 - my1) / 2)) @ G
    x = upfirdn2d(x, f, up=2, pad=(6, 5, 6, 5), gain=4)
    one = torch.ones([N])
    G = scale2d(2 * one, 2 * one) @ G @ scale2d(0.5 * one, 0.5 * one)
    G = translate2d(-0.5 * one, -0.5 * one) @ G @ translate2d(0.5 * one, 0.5 * one)
    shape = [N, C, (H + hz * 2) * 2, (W + hz * 2) * 2]
    G = scale2d(2 / x.shape[3] * one, 2 / x.shape[2] * one) @ G @ scale2d(shape[3] / 2 * one, shape[2] / 2 * one)
    grid = F.affine_grid(G[:, :2, :], shape, align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return upfirdn2d(x, f, down=2, pad=(-1, -1, -1, -1), flip=True)


def apply(x, G, Cm, groups, aa=False):
    N, C, H, W = x.shape
    if groups & 3 and aa:
        x = geometric_aa(x, G)
    elif groups & 3:
        Gn = scale2d(torch.full([N], 2 / W), torch.full([N], 2 / H)) @ G @ scale2d(torch.full([N], W / 2),
                                                                                    torch.full([N], H / 2))
        grid = F.affine_grid(Gn[:, :2, :], [N, C, H, W], align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    if groups & 4:
        x = x.reshape(N, C, H * W)
        if C == 3:
            x = Cm[:, :3, :3] @ x + Cm[:, :3, 3:]
        else:
            c = Cm[:, :3, :].mean(dim=1, keepdim=True)
            x = x * c[:, :, :3].sum(dim=2, keepdim=True) + c[:, :, 3:]
        x = x.reshape(N, C, H, W)
    return x


inp = gtb.load(sys.argv[2])
out = {}
for key in sorted({k.split(".")[0] for k in inp}):
    d = torch.tensor(inp[key + ".draws"])
    p, groups = float(inp[key + ".cfg"][0]), int(inp[key + ".cfg"][1])
    x = torch.tensor(inp[key + ".x"]).requires_grad_(True)
    N, C, H, W = x.shape
    G, Cm = matrices(d, p, groups, C, H, W)
    out[key + ".G"], out[key + ".C"] = G, Cm
    for suf, aa in (("", False), (".aa", True)):
        y = apply(x, G, Cm, groups, aa)
        (g,) = torch.autograd.grad((y * torch.tensor(inp[key + ".w"])).sum(), x)
        out[key + ".y" + suf], out[key + ".g" + suf] = y, g
gtb.save(sys.argv[1], out)
