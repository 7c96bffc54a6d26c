"""Distillation losses' golden values and gradients (tests/train/test_distill.c).

feature  : mse(conv1x1(s; w, b), t)                  (GAN Compression's netA + MSE)
recon    : l1(s_out, t_out)
dcd      : sum_i l1(D features of the student's output, of the teacher's)   (DCD-official)
crd_dist : relational KD's distance loss, crd_angle : its angle loss, crd = dist + 2 angle
Each with its gradient w.r.t. the student's inputs (and w, b for the feature loss); inputs come from
the C test. usage: distill_losses.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)
inp = gtb.load(sys.argv[2])
T = {k: torch.tensor(v, dtype=torch.float64) for k, v in inp.items()}
out = {}


def leaf(name):
    return T[name].clone().requires_grad_(True)


# feature distillation
s, w, b = leaf("feat.s"), leaf("feat.w"), leaf("feat.b")
loss = F.mse_loss(F.conv2d(s, w, b), T["feat.t"])
gs, gw, gb = torch.autograd.grad(loss, [s, w, b])
out.update({"feat.loss": loss.reshape(1), "feat.ds": gs, "feat.dw": gw, "feat.db": gb})

# reconstruction
s = leaf("recon.s")
loss = F.l1_loss(s, T["recon.t"])
(gs,) = torch.autograd.grad(loss, [s])
out.update({"recon.loss": loss.reshape(1), "recon.ds": gs})

# DCD through a small D: two conv + leaky ReLU layers whose outputs are compared
s = leaf("dcd.s")
dw1, dw2 = T["dcd.w1"], T["dcd.w2"]


def dfeats(x):
    h1 = F.leaky_relu(F.conv2d(x, dw1, stride=2, padding=1), 0.2)
    h2 = F.leaky_relu(F.conv2d(h1, dw2, stride=2, padding=1), 0.2)
    return [h1, h2]


fs, ft = dfeats(s), dfeats(T["dcd.t"])
loss = sum(F.l1_loss(a, c) for a, c in zip(fs, ft))
(gs,) = torch.autograd.grad(loss, [s])
out.update({"dcd.loss": loss.reshape(1), "dcd.ds": gs})


# relational KD (Park et al. 2019), as its reference code
def pdist(e, eps=1e-12):
    e_square = e.pow(2).sum(dim=1)
    prod = e @ e.t()
    res = (e_square.unsqueeze(1) + e_square.unsqueeze(0) - 2 * prod).clamp(min=eps).sqrt()
    res = res.clone()
    res[range(len(e)), range(len(e))] = 0
    return res


def rkd_dist(student, teacher):
    with torch.no_grad():
        t_d = pdist(teacher)
        t_d = t_d / t_d[t_d > 0].mean()
    d = pdist(student)
    d = d / d[d > 0].mean()
    return F.smooth_l1_loss(d, t_d)


def rkd_angle(student, teacher):
    with torch.no_grad():
        td = teacher.unsqueeze(0) - teacher.unsqueeze(1)
        norm_td = F.normalize(td, p=2, dim=2)
        t_angle = torch.bmm(norm_td, norm_td.transpose(1, 2)).view(-1)
    sd = student.unsqueeze(0) - student.unsqueeze(1)
    norm_sd = F.normalize(sd, p=2, dim=2)
    s_angle = torch.bmm(norm_sd, norm_sd.transpose(1, 2)).view(-1)
    return F.smooth_l1_loss(s_angle, t_angle)


for name, fn in (("crd_dist", rkd_dist), ("crd_angle", rkd_angle),
                 ("crd", lambda a, c: rkd_dist(a, c) + 2 * rkd_angle(a, c))):
    s = leaf("crd.s")
    loss = fn(s.flatten(1), T["crd.t"].flatten(1))
    (gs,) = torch.autograd.grad(loss, [s])
    out.update({f"{name}.loss": loss.reshape(1), f"{name}.ds": gs})

gtb.save(sys.argv[1], {k: v.float() for k, v in out.items()})
