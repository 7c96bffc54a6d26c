"""NumPy reference for the Inception Score, following torch-fidelity's
isc_features_to_metric: optional shuffle with RandomState(seed).permutation,
float64 softmax / log-softmax, splits [i*N//s, (i+1)*N//s), per split
exp(mean(sum(p * (log p - log mean p)))), np.mean / np.std of the splits.

Input: cK.logits (n, classes) float32, cK.opts = [splits, shuffle, seed] int32;
perm.n = [n0, n1, ...], perm.seed = [s0, s1, ...]: RandomState(s).permutation(n)
goes out as perm.K (int32) to check our MT19937 against NumPy's.
Output: cK.mean, cK.std as float64 (hi, lo) pairs.
usage: metrics_is.py OUT IN
"""
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from metrics_common import f64  # noqa: E402


def log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def inception_score(logits, splits, shuffle, seed):
    n = logits.shape[0]
    if shuffle:
        logits = logits[np.random.RandomState(seed).permutation(n), :]
    x = logits.astype(np.float64)
    log_p = log_softmax(x)
    p = np.exp(log_p)
    scores = []
    for i in range(splits):
        a, b = i * n // splits, (i + 1) * n // splits
        q = p[a:b].mean(axis=0, keepdims=True)
        kl = (p[a:b] * (log_p[a:b] - np.log(q))).sum(axis=1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores)), float(np.std(scores))


inp = gtb.load(sys.argv[2])
out = {}
for key in sorted(k for k in inp if k.endswith(".logits")):
    c = key[: -len(".logits")]
    splits, shuffle, seed = (int(v) for v in inp[c + ".opts"])
    mean, std = inception_score(inp[key], splits, bool(shuffle), seed)
    out[c + ".mean"], out[c + ".std"] = f64(mean), f64(std)
for i, (n, s) in enumerate(zip(inp["perm.n"], inp["perm.seed"])):
    out[f"perm.{i}"] = np.random.RandomState(int(s)).permutation(int(n)).astype(np.int32)
gtb.save(sys.argv[1], out)
