"""Reference resizes for the Inception input pipeline.

tf1:   torch-fidelity's interpolate_bilinear_2d_like_tensorflow1x (align_corners=False,
       method 'slow'), re-implemented here with the same float32 steps:
       grid = arange(out) * float32(in / out); lo = trunc(grid); hi = min(lo + 1, in - 1);
       d = grid - lo; top = a + (b - a) * dx; bottom = c + (e - c) * dx; top + (bottom - top) * dy.
clean: clean-fid's "clean" resize: PIL Image.resize(BICUBIC) of each channel as a mode "F" image.
pytorch-fid: what pytorch-fid's InceptionV3 runs with resize_input=True: F.interpolate(x,
       size, mode="bilinear", align_corners=False) itself, on x / 255 (torchvision's ToTensor);
       then 2x - 1.

As a script: reads <case>.x (planes, h, w as float32 holding uint8 values) and
<case>.size ([oh, ow]) and writes <case>.tf1, <case>.clean and <case>.torch (F.interpolate of
x / 255).
usage: metrics_resize.py OUT IN
"""
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402


def _axis(n_in, n_out):
    scale = torch.tensor(n_in / n_out, dtype=torch.float32)
    g = torch.arange(n_out, dtype=torch.float32) * scale
    lo = g.long()
    hi = (lo + 1).clamp_max(n_in - 1)
    return lo, hi, g - lo.float()


def resize_tf1(x, oh, ow):
    """x: float32 (N, C, H, W) -> (N, C, oh, ow)."""
    ylo, yhi, dy = _axis(x.shape[2], oh)
    xlo, xhi, dx = _axis(x.shape[3], ow)
    rows0, rows1 = x[:, :, ylo, :], x[:, :, yhi, :]
    a, b = rows0[:, :, :, xlo], rows0[:, :, :, xhi]
    c, e = rows1[:, :, :, xlo], rows1[:, :, :, xhi]
    dx = dx.view(1, 1, 1, ow)
    top = a + (b - a) * dx
    bottom = c + (e - c) * dx
    return top + (bottom - top) * dy.view(1, 1, oh, 1)


def resize_clean(x, oh, ow):
    """x: float32 array (..., H, W) -> (..., oh, ow), PIL bicubic per plane."""
    x = np.asarray(x, dtype=np.float32)
    planes = x.reshape(-1, x.shape[-2], x.shape[-1])
    out = np.empty((planes.shape[0], oh, ow), dtype=np.float32)
    for i, p in enumerate(planes):
        img = Image.fromarray(p, mode="F").resize((ow, oh), resample=Image.BICUBIC)
        out[i] = np.asarray(img, dtype=np.float32)
    return out.reshape(x.shape[:-2] + (oh, ow))


def resize_torch(x, oh, ow):
    """x: float32 (N, C, H, W) -> (N, C, oh, ow), pytorch-fid's F.interpolate call."""
    return torch.nn.functional.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False)


def preprocess(img_u8, mode):
    """uint8-valued (N, C, H, W), C in {1, 3} -> the FID Inception input (N, 3, 299, 299)."""
    x = torch.tensor(np.asarray(img_u8), dtype=torch.float32)
    if x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    if mode == 2:  # pytorch-fid: ToTensor's / 255, F.interpolate, 2x - 1
        return 2 * resize_torch(x / 255, 299, 299) - 1
    if mode == 0:
        x = resize_tf1(x, 299, 299)
    else:
        x = torch.tensor(resize_clean(x.numpy(), 299, 299))
    return (x - 128) / 128


if __name__ == "__main__":
    inp = gtb.load(sys.argv[2])
    out = {}
    for key in inp:
        if not key.endswith(".size"):
            continue
        name = key[: -len(".size")]
        oh, ow = [int(v) for v in inp[key]]
        x = inp[name + ".x"].astype(np.float32)
        out[name + ".tf1"] = resize_tf1(torch.tensor(x)[None], oh, ow)[0]
        out[name + ".clean"] = resize_clean(x, oh, ow)
        out[name + ".torch"] = resize_torch(torch.tensor(x / np.float32(255))[None], oh, ow)[0]
    gtb.save(sys.argv[1], out)
