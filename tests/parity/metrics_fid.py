"""NumPy references for FID on the features the C test wrote.

For each case cK (features cK.a (n1, d), cK.b (n2, d) float32, flags cK.flags
= [run torch-fidelity's formula, run the symmetric eigh formula]) writes, as
float64 (hi, lo) pairs:
  cK.mu_a, cK.sigma_a, cK.mu_b, cK.sigma_b   np.mean / np.cov(rowvar=False) in float64
  cK.fid_exact   tr sqrt(s1 s2) = nuclear norm of A_c B_c^T / sqrt((n1-1)(n2-1))
                 (A_c, B_c the centred features): exact, no square root of noise
  cK.fid_tf      torch-fidelity's fid_statistics_to_metric:
                 sum(sqrt(eigvals(s1 @ s2) as complex128).real)
  cK.fid_eigh    symmetric form: sqrt(s1) = V sqrt(max(w, 0)) V^T (eigh),
                 eigvalsh(sqrt(s1) s2 sqrt(s1)) clamped at 0, sum of roots
usage: metrics_fid.py OUT IN
"""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from metrics_common import cases, f64  # noqa: E402


def fid_from(mu1, s1, mu2, s2, tr):
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * tr)


inp = gtb.load(sys.argv[2])
out = {}
for c in cases(inp):
    a = inp[c + ".a"].astype(np.float64)
    b = inp[c + ".b"].astype(np.float64)
    flags = inp[c + ".flags"]
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    out[c + ".mu_a"], out[c + ".sigma_a"] = f64(mu1), f64(s1)
    out[c + ".mu_b"], out[c + ".sigma_b"] = f64(mu2), f64(s2)
    sv = np.linalg.svd((a - mu1) @ (b - mu2).T, compute_uv=False)
    tr_exact = sv.sum() / np.sqrt((len(a) - 1) * (len(b) - 1))
    out[c + ".fid_exact"] = f64(fid_from(mu1, s1, mu2, s2, tr_exact))
    if flags[0]:
        tr_tf = np.sum(np.sqrt(np.linalg.eigvals(s1.dot(s2)).astype("complex128")).real)
        out[c + ".fid_tf"] = f64(fid_from(mu1, s1, mu2, s2, tr_tf))
    if flags[1]:
        w, v = np.linalg.eigh(s1)
        r1 = (v * np.sqrt(np.maximum(w, 0))) @ v.T
        m = r1 @ s2 @ r1
        tr_eigh = np.sqrt(np.maximum(np.linalg.eigvalsh((m + m.T) / 2), 0)).sum()
        out[c + ".fid_eigh"] = f64(fid_from(mu1, s1, mu2, s2, tr_eigh))
gtb.save(sys.argv[1], out)
