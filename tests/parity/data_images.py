"""Reference decodes and resizes for the image-folder reader, with PIL.

Adds images of the kinds the C writers do not make to ROOT (palette, RGBA,
gray+alpha, 1-bit, 16-bit gray, interlaced RGB PNGs; progressive and grayscale
JPEGs), then lists ROOT the way the reader does (recursive, hidden names
skipped, .png/.jpg/.jpeg in any case, sorted by relative path) and writes for
image i: img{i}.dec = the decoded pixels (H, W) or (H, W, 3) (gray kinds stay
gray, alpha dropped, 16-bit -> round(v / 257)), img{i}.rgb = (3, R, R): PIL
convert("RGB"), centre crop to a square, resize((R, R), BILINEAR); img{i}.gray
= that resized RGB image convert("L"); count; have_pil (0: nothing else).
usage: data_images.py OUT ROOT R
"""
import os
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

out = {}
try:
    from PIL import Image
except ImportError:
    gtb.save(sys.argv[1], {"have_pil": np.zeros(1, np.int32)})
    sys.exit(0)
root, R = sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(5)


def smooth(h, w, c):
    yy, xx = np.mgrid[0:h, 0:w]
    planes = [(128 + 100 * np.sin(xx / (3 + k) + yy / (5 + 2 * k))) for k in range(c)]
    a = np.stack(planes, -1) + rng.integers(-20, 20, (h, w, c))
    return np.clip(a, 0, 255).astype(np.uint8)


os.makedirs(f"{root}/cat", exist_ok=True)
os.makedirs(f"{root}/dog/sub", exist_ok=True)
Image.fromarray(smooth(13, 17, 3)).quantize(colors=16).save(f"{root}/dog/e_palette.png")
rgba = np.concatenate([smooth(21, 18, 3), rng.integers(0, 256, (21, 18, 1), dtype=np.uint8)], -1)
Image.fromarray(rgba, "RGBA").save(f"{root}/cat/f_rgba.png")
g16 = (smooth(19, 23, 1)[..., 0].astype(np.uint16) * 257 + rng.integers(0, 257, (19, 23))).astype(np.uint16)
Image.fromarray(g16, "I;16").save(f"{root}/cat/g_gray16.png")
Image.fromarray(smooth(25, 31, 3)).save(f"{root}/cat/h_interlaced.png", interlace=1)
Image.fromarray(smooth(33, 27, 3)).save(f"{root}/dog/i_progressive.jpg", progressive=True, quality=85)
Image.fromarray(smooth(14, 22, 1)[..., 0]).save(f"{root}/dog/sub/j_gray.JPG", quality=90)
la = np.stack([smooth(12, 12, 1)[..., 0], rng.integers(0, 256, (12, 12), dtype=np.uint8)], -1)
Image.fromarray(la, "LA").save(f"{root}/dog/k_la.png")
Image.fromarray(smooth(16, 9, 1)[..., 0] > 128).save(f"{root}/dog/l_1bit.png")

files = []
for d, dirs, names in os.walk(root):
    dirs[:] = [x for x in dirs if not x.startswith(".")]
    for n in names:
        if not n.startswith(".") and os.path.splitext(n)[1].lower() in (".png", ".jpg", ".jpeg"):
            files.append(os.path.relpath(os.path.join(d, n), root))
files.sort(key=lambda s: s.encode())
for i, rel in enumerate(files):
    im = Image.open(os.path.join(root, rel))
    im.load()
    a = np.asarray(im)
    if im.mode in ("I;16", "I;16B", "I"):
        dec = np.round(a.astype(np.float64) / 257).astype(np.int32)
        im8 = Image.fromarray(dec.astype(np.uint8), "L")
    elif im.mode in ("1", "L", "LA"):
        im8 = im.convert("L")
        dec = np.asarray(im8).astype(np.int32)
    else:
        im8 = im.convert("RGB")
        dec = np.asarray(im8).astype(np.int32)
    out[f"img{i}.dec"] = dec
    rgb = im8.convert("RGB")
    w, h = rgb.size
    s = min(w, h)
    box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
    planes = [np.asarray(Image.fromarray(np.asarray(rgb)[..., p]).crop(box).resize((R, R), Image.BILINEAR))
              for p in range(3)]
    res = np.stack(planes)
    out[f"img{i}.rgb"] = res.astype(np.int32)
    out[f"img{i}.gray"] = np.asarray(Image.fromarray(np.ascontiguousarray(res.transpose(1, 2, 0)), "RGB")
                                     .convert("L")).astype(np.int32)
    print(i, rel, im.mode, im.size, file=sys.stderr) if os.environ.get("GT_VERBOSE") else None
out["count"] = np.array([len(files)], np.int32)
out["have_pil"] = np.ones(1, np.int32)
gtb.save(sys.argv[1], out)
