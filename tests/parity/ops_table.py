"""Golden values for tests/ops/test_op_table.c: every row of the op table.

The C test writes, per row r<NNN>:
  .op    int32 ASCII codes of the op's name ("gt_conv2d")
  .ip    int32[12], .fp float32[4]: the row's parameters (their meaning per op
         is the comment above the op's f_<op> in the C file, mirrored in OPS)
  .view  int32 per input: '-' none, 't' transpose the last two dims, 's' every
         other element of the last dim, 'c' (N,H,W,C) memory seen as (N,C,H,W)
  .diff  int32 per input: 1 where the input is differentiated
  .post  int32: 0 the op's output, 1 its square
  .grad  int32: 0 first and second order, 1 first order only, 2 no gradient
  .x<i>  the stored inputs (int32 ones are indices), .w the output weights,
  .v<i>  second-order directions (rows with .grad 0), .mask dropout's mask
and this script computes in float64 and writes
  .y      the output
  .g<i>   d sum(y * w) / d x<i>
  .gg<i>  d [sum_j sum(v_j * g_j)] / d x<i>
usage: ops_table.py OUT IN
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(1)
F32 = lambda v: float(np.float32(v))  # noqa: E731  (parameters as the C side has them)


def red_dims(ip, x):
    keep, n = bool(ip[0]), ip[1]
    dims = tuple(ip[2:2 + n]) if n else tuple(range(x.dim()))
    return dims, keep


def sum_to(x, ip):
    shape = ip[1:1 + ip[0]]
    lead = x.dim() - len(shape)
    if lead:
        x = x.sum(dim=tuple(range(lead)))
    dims = tuple(i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1)
    return x.sum(dim=dims, keepdim=True) if dims else x


def split_rev(x, ip):
    dim, n = ip[0], ip[1]
    parts = torch.split(x, list(ip[2:2 + n]), dim)
    return torch.cat(parts[::-1], dim)


def conv(x, ip, kind):
    sh, sw, ph, pw, dh, dw, oph, opw, g, has_b, kh, kw = ip
    a, b = x[0], x[1]
    bias = x[2] if has_b else None
    if kind == 0:
        return F.conv2d(a, b, bias, (sh, sw), (ph, pw), (dh, dw), g)
    if kind == 1:
        return F.conv_transpose2d(a, b, bias, (sh, sw), (ph, pw), (oph, opw), g, (dh, dw))
    # the weight gradient of conv2d(x=a) for the output gradient b: linear in the weight
    w0 = torch.zeros(b.shape[1], a.shape[1] // g, kh, kw, dtype=a.dtype, requires_grad=True)
    y0 = F.conv2d(a, w0, None, (sh, sw), (ph, pw), (dh, dw), g)
    (y,) = torch.autograd.grad(y0, w0, b, create_graph=True)
    return y


def norm_args(x, ip):
    k = 1
    w = b = rm = rv = None
    if ip[0]:
        w, k = x[k], k + 1
    if ip[1]:
        b, k = x[k], k + 1
    if ip[2]:
        rm, rv = x[k].clone(), x[k + 1].clone()
    if w is None and b is not None:
        # the same function; PyTorch's batch-norm double backward fails on a bias without a weight
        w = torch.ones_like(b)
    return w, b, rm, rv


def batch_norm(x, ip, fp):
    w, b, rm, rv = norm_args(x, ip)
    y = F.batch_norm(x[0], rm, rv, w, b, training=bool(ip[3]), momentum=F32(fp[1]), eps=F32(fp[0]))
    # ip[4]: the output flattened, then the running statistics after the call
    return torch.cat([y.reshape(-1), rm, rv]) if ip[4] else y


def instance_norm(x, ip, fp):
    w, b, _, _ = norm_args(x, ip)
    return F.instance_norm(x[0], weight=w, bias=b, eps=F32(fp[0]))


def layer_norm(x, ip, fp):
    w, b, _, _ = norm_args(x, ip)
    return F.layer_norm(x[0], x[0].shape[x[0].dim() - ip[3]:], w, b, F32(fp[0]))


def dropout(x, ip, fp):
    p = F32(fp[0])
    if not ip[0] or p == 0:
        return x[0]
    return x[0] * (x[1] != 0).to(x[0].dtype) / (1.0 - p)  # x[1]: gantry's mask


GS_PAD = ("zeros", "border", "reflection")


def gs_matrix(g, h, w, ip):
    """F.grid_sample as matrices (N, Ho*Wo, h*w), read off by sampling the unit images: PyTorch has
    no double backward for grid_sample, and a matmul is differentiable to any order."""
    n, ho, wo, _ = g.shape
    eye = torch.eye(h * w, dtype=g.dtype).reshape(h * w, 1, h, w)
    ms = []
    for i in range(n):
        out = F.grid_sample(eye, g[i:i + 1].expand(h * w, ho, wo, 2), mode="bilinear" if ip[0] else "nearest",
                            padding_mode=GS_PAD[ip[1]], align_corners=bool(ip[2]))
        ms.append(out.reshape(h * w, ho * wo).T)
    return torch.stack(ms)


def grid_sample(x, ip, fp, adjoint):
    a, g = x[0], x[1].detach() * F32(fp[0])
    n, c = a.shape[:2]
    if adjoint:
        m = gs_matrix(g, ip[3], ip[4], ip)
        return torch.einsum("nlk,ncl->nck", m, a.reshape(n, c, -1)).reshape(n, c, ip[3], ip[4])
    m = gs_matrix(g, a.shape[2], a.shape[3], ip)
    return torch.einsum("nlk,nck->ncl", m, a.reshape(n, c, -1)).reshape(n, c, g.shape[1], g.shape[2])


def clamp(a, lo, hi):
    return torch.clamp(a, None if np.isinf(lo) else lo, None if np.isinf(hi) else hi)


# op name -> f(inputs, ip, fp); inputs already through their views
OPS = {
    "gt_add": lambda x, ip, fp: x[0] + x[1],
    "gt_sub": lambda x, ip, fp: x[0] - x[1],
    "gt_mul": lambda x, ip, fp: x[0] * x[1],
    "gt_div": lambda x, ip, fp: x[0] / x[1],
    "gt_pow": lambda x, ip, fp: torch.pow(x[0], x[1]),
    "gt_add_scalar": lambda x, ip, fp: x[0] + F32(fp[0]),
    "gt_mul_scalar": lambda x, ip, fp: x[0] * F32(fp[0]),
    "gt_rsub_scalar": lambda x, ip, fp: F32(fp[0]) - x[0],
    "gt_pow_scalar": lambda x, ip, fp: x[0] ** F32(fp[0]),
    "gt_neg": lambda x, ip, fp: -x[0],
    "gt_exp": lambda x, ip, fp: torch.exp(x[0]),
    "gt_log": lambda x, ip, fp: torch.log(x[0]),
    "gt_sqrt": lambda x, ip, fp: torch.sqrt(x[0]),
    "gt_abs": lambda x, ip, fp: torch.abs(x[0]),
    "gt_clamp": lambda x, ip, fp: clamp(x[0], F32(fp[0]), F32(fp[1])),
    "gt_relu": lambda x, ip, fp: F.relu(x[0]),
    "gt_leaky_relu": lambda x, ip, fp: F.leaky_relu(x[0], F32(fp[0])),
    "gt_tanh": lambda x, ip, fp: torch.tanh(x[0]),
    "gt_sigmoid": lambda x, ip, fp: torch.sigmoid(x[0]),
    "gt_softplus": lambda x, ip, fp: F.softplus(x[0], F32(fp[0]), F32(fp[1])),
    "gt_elu": lambda x, ip, fp: F.elu(x[0], F32(fp[0])),
    "gt_gt_scalar": lambda x, ip, fp: (x[0] > F32(fp[0])).to(x[0].dtype),
    "gt_lt_scalar": lambda x, ip, fp: (x[0] < F32(fp[0])).to(x[0].dtype),
    "gt_sum": lambda x, ip, fp: x[0].sum(*red_dims(ip, x[0])),
    "gt_mean": lambda x, ip, fp: x[0].mean(*red_dims(ip, x[0])),
    "gt_sum_all": lambda x, ip, fp: x[0].sum(),
    "gt_mean_all": lambda x, ip, fp: x[0].mean(),
    "gt_sum_to": lambda x, ip, fp: sum_to(x[0], ip),
    "gt_max": lambda x, ip, fp: x[0].max(dim=ip[0], keepdim=bool(ip[1]))[0],
    "gt_logsumexp": lambda x, ip, fp: torch.logsumexp(x[0], dim=ip[0], keepdim=bool(ip[1])),
    "gt_log_softmax": lambda x, ip, fp: F.log_softmax(x[0], dim=ip[0]),
    "gt_softmax": lambda x, ip, fp: F.softmax(x[0], dim=ip[0]),
    "gt_reshape": lambda x, ip, fp: x[0].reshape(ip[1:1 + ip[0]]),
    "gt_flatten": lambda x, ip, fp: torch.flatten(x[0], ip[0]),
    "gt_permute": lambda x, ip, fp: x[0].permute(ip[: x[0].dim()]),
    "gt_transpose": lambda x, ip, fp: x[0].transpose(ip[0], ip[1]),
    "gt_slice": lambda x, ip, fp: x[0][(slice(None),) * (ip[0] % x[0].dim()) + (slice(ip[1], ip[2], ip[3]),)],
    "gt_concat": lambda x, ip, fp: torch.cat(x[: ip[1]], ip[0]),
    "gt_split": lambda x, ip, fp: split_rev(x[0], ip),
    "gt_expand": lambda x, ip, fp: x[0].expand(*ip[1:1 + ip[0]]),
    "gt_contiguous": lambda x, ip, fp: x[0].contiguous(),
    "gt_unsqueeze": lambda x, ip, fp: x[0].unsqueeze(ip[0]),
    "gt_squeeze": lambda x, ip, fp: x[0].squeeze(ip[0]),
    "gt_matmul": lambda x, ip, fp: torch.matmul(x[0], x[1]),
    "gt_linear": lambda x, ip, fp: F.linear(x[0], x[1], x[2] if ip[0] else None),
    "gt_conv2d": lambda x, ip, fp: conv(x, ip, 0),
    "gt_conv_transpose2d": lambda x, ip, fp: conv(x, ip, 1),
    "gt_conv2d_weight_grad": lambda x, ip, fp: conv(x, ip, 2),
    "gt_batch_norm": batch_norm,
    "gt_instance_norm": instance_norm,
    "gt_layer_norm": layer_norm,
    "gt_avg_pool2d": lambda x, ip, fp: F.avg_pool2d(
        x[0], ip[0:2], ip[2:4], ip[4:6], ceil_mode=bool(ip[6]), count_include_pad=bool(ip[7])),
    "gt_max_pool2d": lambda x, ip, fp: F.max_pool2d(x[0], ip[0:2], ip[2:4], ip[4:6], ceil_mode=bool(ip[6])),
    "gt_adaptive_avg_pool2d": lambda x, ip, fp: F.adaptive_avg_pool2d(x[0], ip[0:2]),
    "gt_upsample_nearest2d": lambda x, ip, fp: F.interpolate(x[0], size=ip[0:2], mode="nearest"),
    "gt_upsample_bilinear2d": lambda x, ip, fp: F.interpolate(
        x[0], size=ip[0:2], mode="bilinear", align_corners=False),
    "gt_grid_sample": lambda x, ip, fp: grid_sample(x, ip, fp, False),
    "gt_grid_sample_t": lambda x, ip, fp: grid_sample(x, ip, fp, True),
    "gt_embedding": lambda x, ip, fp: F.embedding(x[1], x[0]),
    "gt_dropout": dropout,
    "gt_bce_with_logits": lambda x, ip, fp: F.binary_cross_entropy_with_logits(x[0], x[1]),
    "gt_mse_loss": lambda x, ip, fp: F.mse_loss(x[0], x[1]),
    "gt_l1_loss": lambda x, ip, fp: F.l1_loss(x[0], x[1]),
    "gt_cross_entropy": lambda x, ip, fp: F.cross_entropy(x[0], x[1]),
}


def view(code, t):
    c = chr(code)
    if c == "t":
        return t.transpose(-1, -2)
    if c == "s":
        return t[..., ::2]
    if c == "c":
        return t.permute(0, 3, 1, 2)
    return t


def grad(out, xs, create_graph):
    gs = torch.autograd.grad(out, xs, create_graph=create_graph, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(xs, gs)]


def run_row(inp, out, r, op):
    """Computes row r (its inputs in inp) into out."""
    ip = [int(v) for v in inp[r + ".ip"]]
    fp = [float(v) for v in inp[r + ".fp"]]
    views, diffs = inp[r + ".view"], inp[r + ".diff"]
    post, order = int(inp[r + ".post"][0]), int(inp[r + ".grad"][0])
    stored, diff = [], []
    for i in range(len(views)):
        a = inp[f"{r}.x{i}"]
        if a.dtype.kind == "f":
            t = torch.tensor(a, dtype=torch.float64, requires_grad=bool(diffs[i]))
            if diffs[i]:
                diff.append((i, t))
        else:
            t = torch.tensor(a, dtype=torch.int64)
        stored.append(t)
    xs = [view(c, t) for c, t in zip(views, stored)]
    if r + ".mask" in inp:  # dropout's mask, drawn by gantry (the generators differ)
        xs.append(torch.tensor(inp[r + ".mask"], dtype=torch.float64))
    y = OPS[op](xs, ip, fp)
    if post == 1:
        y = y * y
    out[r + ".y"] = y.float()
    if order == 2 or not diff:
        return
    ts = [t for _, t in diff]
    w = torch.tensor(inp[r + ".w"], dtype=torch.float64)
    gs = grad((y * w).sum(), ts, order == 0)
    for (i, _), g in zip(diff, gs):
        out[f"{r}.g{i}"] = g.float()
    if order != 0:
        return
    h = sum((g * torch.tensor(inp[f"{r}.v{i}"], dtype=torch.float64)).sum() for (i, _), g in zip(diff, gs))
    ggs = grad(h, ts, False) if h.requires_grad else [torch.zeros_like(t) for t in ts]
    for (i, _), g in zip(diff, ggs):
        out[f"{r}.gg{i}"] = g.float()


def main():
    inp = gtb.load(sys.argv[2])
    out = {}
    unknown = []
    for key in sorted(k for k in inp if k.endswith(".op")):
        r = key[:-3]
        op = "".join(chr(c) for c in inp[key])
        if op not in OPS:
            unknown.append(op)
            continue
        try:
            run_row(inp, out, r, op)
        except Exception as e:  # name the row, not just the line of this script
            sys.exit(f"ops_table.py: row {r} ({op}): {type(e).__name__}: {e}")
    if unknown:
        sys.exit("ops_table.py: no PyTorch counterpart for " + ", ".join(sorted(set(unknown))))
    gtb.save(sys.argv[1], out)


if __name__ == "__main__":
    main()
