"""Helpers shared by the metrics parity scripts: float64 values travel as two
float32 numbers (hi, lo) with hi + lo == the float64 value to ~1e-14."""
import numpy as np


def f64(x):
    x = np.asarray(x, dtype=np.float64)
    hi = x.astype(np.float32)
    lo = (x - hi.astype(np.float64)).astype(np.float32)
    return np.stack([hi, lo], axis=-1)


def cases(inp):
    """Case prefixes present in the input file: 'c0', 'c1', ... ."""
    out = sorted({k.split(".", 1)[0] for k in inp})
    return out


def sq_dists(a, b, rows=256):
    """Squared float64 distances sum((a_i - b_j)^2), computed block by block."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    out = np.empty((len(a), len(b)))
    for i in range(0, len(a), rows):
        d = a[i:i + rows, None, :] - b[None, :, :]
        out[i:i + rows] = (d * d).sum(-1)
    return out
