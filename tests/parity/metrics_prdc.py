"""NumPy reference for precision/recall (torch-fidelity's prc:
calculate_precision_recall_full) and density/coverage (the prdc package's
compute_prdc), with every distance a float64 sum of squared differences
(squared distances compare like distances).

  radius r_i = the (k+1)-th smallest distance from i to its own set (itself included)
  precision = mean over fake of any(d(fake, real_i) <= r_real_i)     [k = k_pr]
  recall    = mean over real of any(d(real, fake_j) <= r_fake_j)     [k = k_pr]
  density   = (1/k) mean over fake of #{i: d(fake, real_i) < r_real_i}  [k = k_dc]
  coverage  = mean over real i of (min_j d(real_i, fake_j) < r_real_i)  [k = k_dc]

Input: cK.real (n_r, d), cK.fake (n_f, d) float32, cK.k = [k_pr, k_dc] int32.
Output: cK.counts = [precision, recall, density, coverage counts] int32 and
cK.values = [precision, recall, f_score, density, coverage] as (hi, lo) pairs.
usage: metrics_prdc.py OUT IN
"""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from metrics_common import f64, sq_dists  # noqa: E402


def radii(x, k):
    d = sq_dists(x, x)
    return np.sort(d, axis=1)[:, k]  # kthvalue(k + 1): the k+1 smallest, self included


inp = gtb.load(sys.argv[2])
out = {}
for key in sorted(k for k in inp if k.endswith(".real")):
    c = key[: -len(".real")]
    real, fake = inp[c + ".real"], inp[c + ".fake"]
    k_pr, k_dc = (int(v) for v in inp[c + ".k"])
    d_rf = sq_dists(real, fake)  # (n_r, n_f)
    r_real_pr, r_fake_pr, r_real_dc = radii(real, k_pr), radii(fake, k_pr), radii(real, k_dc)
    prec = (d_rf <= r_real_pr[:, None]).any(axis=0)
    rec = (d_rf <= r_fake_pr[None, :]).any(axis=1)
    dens = (d_rf < r_real_dc[:, None]).sum(axis=0)
    cov = d_rf.min(axis=1) < r_real_dc
    p, r = prec.mean(), rec.mean()
    f = 2 * p * r / max(1e-5, p + r)
    density = (1.0 / float(k_dc)) * dens.mean()
    out[c + ".counts"] = np.array([prec.sum(), rec.sum(), dens.sum(), cov.sum()], dtype=np.int32)
    out[c + ".values"] = f64(np.array([p, r, f, density, cov.mean()]))
gtb.save(sys.argv[1], out)
