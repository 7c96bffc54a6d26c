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

Statistics files (usage: metrics_fid.py OUT --npz OURS.npz DIR): loads our
OURS.npz with np.load (out: ours.mu_bits, ours.sigma_bits = the float64 bits
as int32 pairs, ours.n_members, ours.dtypes_f64); writes what pytorch-fid
(np.savez_compressed) and np.savez write into DIR: np_comp.npz, np_savez.npz
(d = 64, values from RandomState(5), bits out as np.mu_bits / np.sigma_bits),
np_f32.npz (float32 members), and broken ones: np_dims.npz (sigma (64, 63)),
np_nosigma.npz, np_3d.npz (sigma (4, 4, 4)), np_nan.npz (a NaN in sigma).
"""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from metrics_common import cases, f64  # noqa: E402


def fid_from(mu1, s1, mu2, s2, tr):
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * tr)


def npz_files(ours, folder):
    out = {}
    f = np.load(ours)
    out["ours.n_members"] = np.array([len(f.files)], np.int32)
    out["ours.dtypes_f64"] = np.array([f["mu"].dtype == np.float64 and f["sigma"].dtype == np.float64], np.int32)
    out["ours.mu_bits"] = np.ascontiguousarray(f["mu"]).view(np.int32)
    out["ours.sigma_bits"] = np.ascontiguousarray(f["sigma"]).view(np.int32).reshape(-1)
    rs = np.random.RandomState(5)
    a = rs.standard_normal((200, 64))
    mu, sigma = a.mean(axis=0), np.cov(a, rowvar=False)
    np.savez_compressed(folder + "/np_comp.npz", mu=mu, sigma=sigma)
    np.savez(folder + "/np_savez.npz", mu=mu, sigma=sigma)
    np.savez(folder + "/np_f32.npz", mu=mu.astype(np.float32), sigma=sigma.astype(np.float32))
    np.savez(folder + "/np_dims.npz", mu=mu, sigma=sigma[:, :63])
    np.savez(folder + "/np_nosigma.npz", mu=mu)
    np.savez(folder + "/np_3d.npz", mu=mu[:4], sigma=np.zeros((4, 4, 4)))
    bad = sigma.copy()
    bad[2, 3] = np.nan
    np.savez(folder + "/np_nan.npz", mu=mu, sigma=bad)
    out["np.mu_bits"] = mu.view(np.int32)
    out["np.sigma_bits"] = sigma.view(np.int32).reshape(-1)
    out["np.mu_f32"] = mu.astype(np.float32)
    out["np.sigma_f32"] = sigma.astype(np.float32)
    return out


if sys.argv[2] == "--npz":
    gtb.save(sys.argv[1], npz_files(sys.argv[3], sys.argv[4]))
    sys.exit(0)

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
