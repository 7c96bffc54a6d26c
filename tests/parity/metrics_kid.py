"""NumPy reference for KID, following torch-fidelity's kid_features_to_metric:
rng = RandomState(seed); per subset f1 = x1[rng.choice(n1, m, replace=False)],
f2 = x2[rng.choice(n2, m, replace=False)]; polynomial kernel
(gamma x.y + coef0)^degree (gamma None -> 1/d); unbiased MMD^2; np.mean, np.std.
Computed in float64 (cK.mean, cK.std) and, for information, exactly as
torch-fidelity does it with float32 features (cK.mean32).

Input: cK.x1 (n1, d), cK.x2 (n2, d) float32; cK.opts = [subsets, m, seed,
degree] int32; cK.kern = [gamma (0 = 1/d), coef0] float32.
usage: metrics_kid.py OUT IN
"""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from metrics_common import f64  # noqa: E402


def mmd2_unbiased(kxx, kxy, kyy):
    m = kxx.shape[0]
    kt_xx = kxx.sum() - np.trace(kxx)
    kt_yy = kyy.sum() - np.trace(kyy)
    return (kt_xx + kt_yy) / (m * (m - 1)) - 2 * kxy.sum() / (m * m)


def kid(x1, x2, subsets, m, seed, degree, gamma, coef0):
    rng = np.random.RandomState(seed)
    gamma = gamma if gamma > 0 else 1.0 / x1.shape[1]
    k = lambda a, b: (a @ b.T * gamma + coef0) ** degree  # noqa: E731
    mmds = np.zeros(subsets)
    for i in range(subsets):
        f1 = x1[rng.choice(len(x1), m, replace=False)]
        f2 = x2[rng.choice(len(x2), m, replace=False)]
        mmds[i] = mmd2_unbiased(k(f1, f1), k(f1, f2), k(f2, f2))
    return float(np.mean(mmds)), float(np.std(mmds))


inp = gtb.load(sys.argv[2])
out = {}
for key in sorted(k for k in inp if k.endswith(".x1")):
    c = key[:-3]
    subsets, m, seed, degree = (int(v) for v in inp[c + ".opts"])
    gamma, coef0 = (float(v) for v in inp[c + ".kern"])
    x1, x2 = inp[c + ".x1"], inp[c + ".x2"]
    mean, std = kid(x1.astype(np.float64), x2.astype(np.float64), subsets, m, seed, degree, gamma, coef0)
    out[c + ".mean"], out[c + ".std"] = f64(mean), f64(std)
    mean32, _ = kid(x1, x2, subsets, m, seed, degree, gamma, coef0)
    out[c + ".mean32"] = f64(mean32)
gtb.save(sys.argv[1], out)
