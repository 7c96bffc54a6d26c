"""PyTorch + NumPy baseline for `gantry eval --extractor fmnist`: FID of the
first N Fashion-MNIST training images against the first N test images, with the
same classifier (assets/fmnist_classifier.safetensors) run by PyTorch on the
same threads, statistics in float64, and the trace of the matrix square root
from eigenvalues (no scipy here) as pytorch-fid's formula:
  FID = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2)).
Decoding the IDX files, the forward and the statistics are all timed.

  bench_fid_fmnist.py N THREADS   prints "torch_fid_s=<seconds> fid=<value>"
"""
import gzip
import sys
import time

import numpy as np
import torch

_here = __file__.rsplit("/", 1)[0]
sys.path.insert(0, _here + "/../tests/parity")
from metrics_fmnist import FmnistCNN, load_safetensors  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"


def images(name, n):
    with gzip.open(f"{DATA}/{name}-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 1, 28, 28)[:n]


def stats(net, u8, batch=500):
    feats = []
    with torch.no_grad():
        for i in range(0, len(u8), batch):
            x = torch.from_numpy(u8[i:i + batch].astype(np.float32)) / 255.0
            feats.append(net(x)[0].numpy())
    f = np.concatenate(feats).astype(np.float64)
    return f.mean(0), np.cov(f, rowvar=False)


def sqrtm_psd(s):
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def fid(mu1, s1, mu2, s2):
    r = sqrtm_psd(s1)
    ev = np.linalg.eigvalsh(r @ s2 @ r)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(ev, 0, None)).sum())


def main():
    n, threads = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    state, _ = load_safetensors(_here + "/../assets/fmnist_classifier.safetensors")
    net = FmnistCNN()
    net.load_state_dict(state, strict=False)
    net.eval()
    t = time.perf_counter()
    mu1, s1 = stats(net, images("train", n))
    mu2, s2 = stats(net, images("t10k", n))
    value = fid(mu1, s1, mu2, s2)
    print(f"torch_fid_s={time.perf_counter() - t:.3f} fid={value:.6f}")


if __name__ == "__main__":
    main()
