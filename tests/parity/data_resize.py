"""References for the image transforms (src/data/transform.c).

For each case the C test wrote <case>.cfg = [c, sh, sw, dh, dw, crop], <case>.x
(c, sh, sw) float in [0, 1] and <case>.u (the same as uint8 in int32), this writes
<case>.torch = F.interpolate(x, (dh, dw), mode="bilinear", antialias=True,
align_corners=False) (crop == 0 only) and, with python3-pil, <case>.pil = each
plane of u (centre-cropped to the aspect dh:dw when crop == 1) resized by
PIL Image.resize((dw, dh), BILINEAR); and for 3-channel cases <case>.luma =
PIL convert("L") of u. have_pil says whether PIL was there.
usage: data_resize.py OUT IN
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

try:
    from PIL import Image
except ImportError:
    Image = None

inp = gtb.load(sys.argv[2])
out = {"have_pil": np.array([1 if Image else 0], np.int32)}
for key in inp:
    if not key.endswith(".cfg"):
        continue
    name = key[:-4]
    c, sh, sw, dh, dw, crop = [int(v) for v in inp[key]]
    x = torch.tensor(inp[f"{name}.x"])
    if not crop:
        out[f"{name}.torch"] = F.interpolate(x[None], size=(dh, dw), mode="bilinear", antialias=True,
                                             align_corners=False)[0]
    if Image is None:
        continue
    u = inp[f"{name}.u"].astype(np.uint8)
    box = (0, 0, sw, sh)
    if crop:
        if sw * dh > sh * dw:
            cw = sh * dw // dh
            box = ((sw - cw) // 2, 0, (sw - cw) // 2 + cw, sh)
        else:
            ch = sw * dh // dw
            box = (0, (sh - ch) // 2, sw, (sh - ch) // 2 + ch)
    out[f"{name}.pil"] = np.stack(
        [np.asarray(Image.fromarray(u[p]).crop(box).resize((dw, dh), Image.BILINEAR)) for p in range(c)]
    ).astype(np.int32)
    if c == 3:
        rgb = Image.fromarray(np.ascontiguousarray(u.transpose(1, 2, 0)), "RGB")
        out[f"{name}.luma"] = np.asarray(rgb.convert("L")).astype(np.int32)
gtb.save(sys.argv[1], out)
