"""PyTorch side of bench_inception: the FID Inception-v3 (torchvision blocks with
pytorch-fid's changes, tests/parity/metrics_inception.py) with the weights
bench_inception.c loads, timed on the same uint8 images.

  bench_inception.py weights OUT.safetensors
      seeded random weights (the parity test's), written as safetensors
  bench_inception.py time WEIGHTS IMAGES N C H W REPS THREADS FEATS_OUT
      IMAGES: raw uint8 (N, C, H, W); TF1 resize to 299, (x - 128) / 128, the
      network; prints "torch_img_s=<best of REPS>" and writes the pool2048
      features (N, 2048) float32 to FEATS_OUT
"""
import json
import struct
import sys
import time

import numpy as np
import torch

_here = __file__.rsplit("/", 1)[0]
sys.path.insert(0, _here + "/../tests/parity")
sys.path.insert(0, _here + "/../scripts")
from convert_inception import write_safetensors  # noqa: E402
from metrics_inception import features, fid_inception, randomize  # noqa: E402
from metrics_resize import preprocess  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", name
        b, end = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:end], dtype="<f4").reshape(e["shape"]).copy())
    return out


def main():
    if sys.argv[1] == "weights":
        net = fid_inception()
        randomize(net, 1234)
        sd = {k: v.numpy() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
        write_safetensors(sd, sys.argv[2], {"format": "pt"})
        return
    wpath, ipath = sys.argv[2], sys.argv[3]
    n, c, h, w, reps, threads = (int(v) for v in sys.argv[4:10])
    torch.set_num_threads(threads)
    net = fid_inception()
    missing, unexpected = net.load_state_dict(read_safetensors(wpath), strict=False)
    assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing), (missing, unexpected)
    imgs = np.fromfile(ipath, dtype=np.uint8).reshape(n, c, h, w)
    best, pool = float("inf"), None
    with torch.no_grad():
        features(net, preprocess(imgs[:2], 0))  # load and warm up
        for _ in range(reps):
            t = time.perf_counter()
            f = features(net, preprocess(imgs, 0))
            best = min(best, time.perf_counter() - t)
            pool = f["pool2048"]
    pool.numpy().astype("<f4").tofile(sys.argv[10])
    print(f"torch_img_s={n / best:.4f}")


if __name__ == "__main__":
    main()
