"""Reference for the Fashion-MNIST classifier (src/metrics/fmnist.c): the same
CNN in PyTorch, its weights read from our safetensors file by parsing the format
with struct/json/numpy (no safetensors package), run on the images the C test
wrote.

Inputs (GTB): for each group g listed in "groups" (names joined by ','):
  g.u8    int32 (N, C, H, W): raw uint8 images (C 1 or 3, any size)
  g.pre   int32 (N, 1, 28, 28): our preprocessed pixels (v * 255)
Optional "train.x" (N, 1, 28, 28) float and "train.y" (N) int32: a batch for a
training-mode forward + backward (BatchNorm with batch statistics, no dropout
in the architecture).

Outputs:
  g.pre_f   float (N, 1, 28, 28): the torch preprocessing before rounding
            (luma as PIL's integer formula, then F.interpolate bilinear with
            antialias on the float plane; 28x28 input untouched)
  g.pre_t   int32: that rounded (floor(v + 0.5), clamped)
  g.feat    (N, 128) relu(fc1) on OUR preprocessed pixels / 255
  g.logits  (N, 10)
  train.loss, train.feat, train.logits, train.grad.<name> for every parameter,
  train.running_mean.<bn>, train.running_var.<bn> after the step's forward
usage: metrics_fmnist.py OUT IN WEIGHTS
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

torch.set_num_threads(2)

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}


def load_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + hlen].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + hlen
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        a = np.frombuffer(raw[base + b:base + end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.tensor(a.copy())
    return out, meta


class FmnistCNN(nn.Module):
    """fmnist-cnn-v1 (include/gantry/fmnist.h)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 4, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 4, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.conv3 = nn.Conv2d(64, 64, 3, stride=2, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 4 * 4, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = F.relu(self.bn2(self.conv2(h)))
        h = F.relu(self.bn3(self.conv3(h)))
        f = F.relu(self.fc1(h.flatten(1)))
        return f, self.fc2(f)


def preprocess(u8):
    """(N, C, H, W) uint8 values -> (float before rounding, rounded) (N, 1, 28, 28)."""
    u = u8.astype(np.int64)
    if u.shape[1] == 3:
        g = (19595 * u[:, 0] + 38470 * u[:, 1] + 7471 * u[:, 2] + 32768) >> 16
    else:
        g = u[:, 0]
    g = torch.tensor(g.astype(np.float32))[:, None]
    if g.shape[2:] == (28, 28):
        return g, g.to(torch.int32)
    f = F.interpolate(g, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    return f, torch.clamp(torch.floor(f + 0.5), 0, 255).to(torch.int32)


def main():
    inp = gtb.load(sys.argv[2])
    state, meta = load_safetensors(sys.argv[3])
    net = FmnistCNN()
    missing = net.load_state_dict({k: v for k, v in state.items()}, strict=False)
    assert not missing.unexpected_keys, missing.unexpected_keys
    assert all(k.endswith("num_batches_tracked") for k in missing.missing_keys), missing.missing_keys
    assert meta.get("arch") == "fmnist-cnn-v1", meta
    out = {}
    net.eval()
    groups = [g for g in bytes(inp["groups"].astype(np.uint8)).decode().split(",") if g]
    with torch.no_grad():
        for g in groups:
            pre_f, pre_t = preprocess(inp[g + ".u8"])
            out[g + ".pre_f"] = pre_f
            out[g + ".pre_t"] = pre_t
            x = torch.tensor(inp[g + ".pre"].astype(np.float32)) / 255.0
            f, y = net(x)
            out[g + ".feat"] = f
            out[g + ".logits"] = y
    if "train.x" in inp:
        net.train()
        x = torch.tensor(inp["train.x"])
        t = torch.tensor(inp["train.y"].astype(np.int64))
        f, y = net(x)
        loss = F.cross_entropy(y, t)
        loss.backward()
        out["train.loss"] = loss.detach().reshape(1)
        out["train.feat"] = f
        out["train.logits"] = y
        for name, p in net.named_parameters():
            out["train.grad." + name] = p.grad
        for name, b in net.named_buffers():
            if "running" in name:
                out["train." + name] = b
    gtb.save(sys.argv[1], out)


if __name__ == "__main__":
    main()
