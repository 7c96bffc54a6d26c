"""Reference values for the IDX reader on Debian's Fashion-MNIST, computed with
gzip + numpy (and PIL for resizing, when python3-pil is installed).

Writes: train_sums / test_sums (per-image pixel sums), train_labels / test_labels,
test_first (16, 28, 28) pixels, and when PIL is there test_r{20,32,64} = the first
8 test images resized with PIL's Image.resize(BILINEAR) (uint8), have_pil.
usage: data_idx.py OUT DIR
"""
import gzip
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402


def idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 8
    nd = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(nd)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * nd).reshape(dims)


d = sys.argv[2]
out = {}
for split, stem in (("train", "train"), ("test", "t10k")):
    x = idx(f"{d}/{stem}-images-idx3-ubyte.gz")
    y = idx(f"{d}/{stem}-labels-idx1-ubyte.gz")
    out[f"{split}_sums"] = x.reshape(len(x), -1).astype(np.int64).sum(1).astype(np.int32)
    out[f"{split}_labels"] = y.astype(np.int32)
    if split == "test":
        out["test_first"] = x[:16].astype(np.int32)
        try:
            from PIL import Image
        except ImportError:
            out["have_pil"] = np.zeros(1, np.int32)
        else:
            out["have_pil"] = np.ones(1, np.int32)
            for r in (20, 32, 64):
                out[f"test_r{r}"] = np.stack(
                    [np.asarray(Image.fromarray(x[i]).resize((r, r), Image.BILINEAR)) for i in range(8)]
                ).astype(np.int32)
gtb.save(sys.argv[1], out)
