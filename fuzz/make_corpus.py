#!/usr/bin/env python3
"""fuzz/make_corpus.py: regenerates the seed corpus fuzz/corpus/<harness>/ (valid files of each
format, written with NumPy, PIL, zlib and the standard library, plus the repository's configs).
Run: /usr/bin/python3 fuzz/make_corpus.py  (deterministic: the same bytes each time). Inputs that
reproduced a fixed crash live in fuzz/corpus/<harness>/regress-* and are kept (not regenerated)."""
import glob, gzip, io, json, os, shutil, struct, sys, zipfile, zlib

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
rng = np.random.default_rng(18)


def put(h, name, data):
    d = os.path.join(OUT, h)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def clean(h):
    d = os.path.join(OUT, h)
    for p in glob.glob(os.path.join(d, "*")):
        if not os.path.basename(p).startswith("regress-"):
            os.remove(p)


# ---- safetensors: header JSON padded to 8 bytes, data back to back ----
ST = {"BOOL": ("?", 1), "U8": ("u1", 1), "I8": ("i1", 1), "I16": ("<i2", 2), "U16": ("<u2", 2), "F16": ("<f2", 2),
      "BF16": ("<u2", 2), "I32": ("<i4", 4), "U32": ("<u4", 4), "F32": ("<f4", 4), "F64": ("<f8", 8),
      "I64": ("<i8", 8), "U64": ("<u8", 8)}


def safetensors(tensors, meta=None):
    head, blobs, off = {}, [], 0
    if meta is not None:
        head["__metadata__"] = meta
    for name, dt, shape in tensors:
        npd, size = ST[dt]
        n = int(np.prod(shape)) if shape else 1
        a = (rng.integers(0, 2, n) if dt == "BOOL" else rng.integers(0, 200, n)).astype(npd)
        b = a.tobytes()
        head[name] = {"dtype": dt, "shape": list(shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(head, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def make_safetensors():
    clean("safetensors")
    put("safetensors", "f32.safetensors", safetensors([("w", "F32", (2, 3)), ("b", "F32", (3,))]))
    put("safetensors", "dtypes.safetensors", safetensors([(f"t_{d}", d, (2, 2)) for d in ST]))
    put("safetensors", "meta.safetensors",
        safetensors([("g.conv.weight", "F32", (4, 1, 3, 3)), ("step", "I64", ())],
                    {"format": "pt", "gantry": "{\"step\": 3}", "": "empty key"}))
    put("safetensors", "empty.safetensors", safetensors([("none", "F32", (0, 5)), ("s", "F64", ())]))
    put("safetensors", "nothing.safetensors", safetensors([], {}))
    put("safetensors", "deep.safetensors", safetensors([("d8", "U8", (1, 2, 1, 2, 1, 2, 1, 2))]))


# ---- npy / npz ----
def npy_bytes(a, version=None):
    f = io.BytesIO()
    if version:
        np.lib.format.write_array(f, a, version=version)
    else:
        np.save(f, a)
    return f.getvalue()


def arrays():
    return {"f8": rng.standard_normal((3, 4)), "f4": rng.standard_normal(5).astype("<f4"),
            "u1": rng.integers(0, 255, (2, 2, 3)).astype("u1"), "i8": np.arange(6, dtype="<i8").reshape(2, 3),
            "i4": np.array(7, dtype="<i4"), "empty": np.zeros((0, 3)), "mu": rng.standard_normal(8)}


def make_npy():
    clean("npy")
    for k, a in arrays().items():
        put("npy", f"{k}.npy", npy_bytes(a))
    put("npy", "v2.npy", npy_bytes(np.ones((2, 2)), (2, 0)))
    put("npy", "v3.npy", npy_bytes(np.ones(3, dtype="<f4"), (3, 0)))


def make_npz():
    clean("npz")
    ar = arrays()
    for name, fn in (("savez", np.savez), ("savez_compressed", np.savez_compressed)):
        f = io.BytesIO()
        fn(f, **ar)
        put("npz", f"{name}.npz", f.getvalue())
    f = io.BytesIO()
    np.savez_compressed(f, mu=ar["mu"], sigma=rng.standard_normal((8, 8)))
    put("npz", "stats.npz", f.getvalue())
    # without ZIP64 extra fields (python's zipfile, small members), stored and deflated
    for comp, tag in ((zipfile.ZIP_STORED, "stored"), (zipfile.ZIP_DEFLATED, "deflated")):
        f = io.BytesIO()
        with zipfile.ZipFile(f, "w", comp) as z:
            for name, a in (("a.npy", ar["f4"]), ("b.npy", ar["u1"])):
                z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), npy_bytes(a), comp)
        put("npz", f"plain_{tag}.npz", f.getvalue())
    # ZIP64 forced on every member and on the central directory's end
    f = io.BytesIO()
    with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as z:
        with z.open("x.npy", "w", force_zip64=True) as m:
            m.write(npy_bytes(ar["f8"]))
    put("npz", "zip64.npz", f.getvalue())


# ---- IDX (fuzz_idx.c: flags, labels length, labels, images) ----
def idx(ndim_dims, data):
    return bytes([0, 0, 8, len(ndim_dims)]) + b"".join(struct.pack(">I", d) for d in ndim_dims) + bytes(data)


def make_idx():
    clean("idx")
    n, h, w = 3, 5, 4
    img = idx((n, h, w), rng.integers(0, 255, n * h * w).astype("u1").tobytes())
    lab = idx((n,), [1, 0, 9])
    for flags, tag in ((0x02, "raw_labels"), (0x03, "gz_labels"), (0x00, "raw"), (0x01 | 0x04 | 0x10, "gz_res8_gray"),
                       (0x02 | 0x08 | 0x20 | 0x40, "res28_rgb_limit"), (0x02 | 0x0C | 0x80, "res5_offset")):
        L = len(lab) if flags & 2 else 0
        put("idx", f"{tag}.bin", bytes([flags]) + struct.pack("<H", L) + (lab if L else b"") + img)
    # a gzip stream as the fuzzer sees it (the harness writes it as it is)
    gz = gzip.compress(img, mtime=0)
    put("idx", "gzip_stream.bin", bytes([0x00]) + struct.pack("<H", 0) + gz)
    lgz = gzip.compress(lab, mtime=0)
    put("idx", "gzip_streams_labels.bin", bytes([0x02]) + struct.pack("<H", len(lgz)) + lgz + gz)


# ---- CIFAR-10 (fuzz_cifar.c: flags, length of batch 1, batch 1, batch 2 or test) ----
def cifar_records(labels):
    return b"".join(bytes([l]) + rng.integers(0, 255, 3072).astype("u1").tobytes() for l in labels)


def make_cifar():
    clean("cifar")
    b1, b2 = cifar_records([3, 7]), cifar_records([9])
    for flags, tag in ((0x00, "dir"), (0x01 | 0x02, "test"), (0x04 | 0x08 | 0x40, "train_res8_limit"),
                       (0x06 | 0x20 | 0x80, "file_gray_offset")):
        put("cifar", f"{tag}.bin", bytes([flags]) + struct.pack("<H", len(b1)) + b1 + b2)


# ---- images: PNG (gray, RGB, RGBA, palette, 16-bit, interlaced) and JPEG (gray, RGB, progressive) ----
def make_image():
    clean("image")
    rgb = Image.fromarray(rng.integers(0, 255, (9, 13, 3)).astype("u1"), "RGB")
    def save(name, im, fmt, **kw):
        f = io.BytesIO()
        im.save(f, fmt, **kw)
        put("image", name, f.getvalue())
    save("rgb.png", rgb, "PNG")
    save("gray.png", rgb.convert("L"), "PNG")
    save("rgba.png", rgb.convert("RGBA"), "PNG")
    save("la.png", rgb.convert("LA"), "PNG")
    save("palette.png", rgb.convert("P"), "PNG")
    save("bits1.png", rgb.convert("1"), "PNG")
    save("gray16.png", Image.fromarray((rng.integers(0, 65535, (6, 7))).astype("<u2")), "PNG")
    save("rgb.jpg", rgb, "JPEG", quality=80)
    save("gray.jpg", rgb.convert("L"), "JPEG", quality=60)
    save("progressive.jpg", rgb, "JPEG", quality=70, progressive=True)
    save("subsample.jpg", rgb.resize((17, 11)), "JPEG", quality=90, subsampling=2)
    save("cmyk.jpg", rgb.convert("CMYK"), "JPEG")


# ---- the run config JSON: the repository's configs ----
def make_config():
    clean("config")
    for p in sorted(glob.glob(os.path.join(ROOT, "configs", "*.json"))):
        put("config", os.path.basename(p), open(p, "rb").read())
    put("config", "minimal.json", b'{"model": {"name": "dcgan", "res": 28}, "steps": 10, "data": "fashion-mnist"}')


# ---- sweep grids (fuzz_sweep.c: grid, seeds, budgets, steps, config [\f sweep.json]) ----
def make_sweep():
    clean("sweep")
    cfg = open(os.path.join(ROOT, "configs", "dcgan.json"), "rb").read()
    put("sweep", "one_axis.txt", b"lr_g=1e-4,2e-4\n0,1,2\n100,200\n300\n" + cfg)
    put("sweep", "two_axes.txt", b"lr_g=1e-4,2e-4;n_critic=1,2\n0\n\n50\n" + cfg)
    put("sweep", "model_key.txt", b"model.ngf=16,32;lr_g+lr_d=1e-4,3e-4\n5,6\n10\n20\n" + cfg)
    put("sweep", "no_grid.txt", b"\n0\n\n10\n" + cfg)
    wgan = open(os.path.join(ROOT, "configs", "wgan_gp.json"), "rb").read()
    put("sweep", "restart.txt", b"lr_g=1e-4,2e-4\n0,1\n\n10\n" + wgan +
        b'\f{"configs":[{"path":"base.json","hash":"0"}],"grid":{"lr_g":["1e-4","2e-4"]},"seeds":[0,1],'
        b'"steps":10,"budgets":[10],"eval_n":2000,"extractor":"fmnist","metrics":"fid"}')


# ---- HTTP requests to the lab server (fuzz_http.c: @SID@ = a live session's id) ----
def req(method, path, body=None, extra=""):
    h = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}"
    if body is not None:
        b = body.encode()
        h += f"Content-Type: application/json\r\nContent-Length: {len(b)}\r\n\r\n"
        return h.encode() + b
    return (h + "\r\n").encode()


def make_http():
    clean("http")
    cfg = json.dumps({"data": "ring", "loss": "log", "optim": "adam", "lr_d": 0.01, "lr_g": 0.01, "noise": "gaussian",
                      "noise_dim": 2, "g_layers": 1, "g_neurons": 8, "d_layers": 1, "d_neurons": 8, "d_steps": 1,
                      "g_steps": 1, "seed": 3})
    seeds = {
        "options": req("GET", "/api/options"),
        "index": req("GET", "/"),
        "static": req("GET", "/sub/page.css"),
        "traversal": req("GET", "/../secret.txt"),
        "create": req("POST", "/api/sessions", cfg),
        "create_empty": req("POST", "/api/sessions", "{}"),
        "session": req("GET", "/api/sessions/@SID@"),
        "config": req("POST", "/api/sessions/@SID@/config", cfg),
        "control_step": req("POST", "/api/sessions/@SID@/control", '{"action":"step","which":"d","epochs":3}'),
        "control_play": req("POST", "/api/sessions/@SID@/control", '{"action":"play","slow":true}'),
        "control_reset": req("POST", "/api/sessions/@SID@/control", '{"action":"reset"}'),
        "frame": req("GET", "/api/sessions/@SID@/frame"),
        "history": req("GET", "/api/sessions/@SID@/history"),
        "events": req("GET", "/api/sessions/@SID@/events", extra="Accept: text/event-stream\r\n"),
        "trace": req("POST", "/api/sessions/@SID@/trace", "{}"),
        "export": req("GET", "/api/sessions/@SID@/export"),
        "delete": req("DELETE", "/api/sessions/@SID@"),
        "runs": req("GET", "/api/runs"),
        "runs_events": req("GET", "/api/runs/events"),
        "run": req("GET", "/api/runs/r1"),
        "run_metrics": req("GET", "/api/runs/r1/metrics"),
        "run_events": req("GET", "/api/runs/r1/events"),
        "run_grids": req("GET", "/api/runs/r1/grids"),
        "run_file": req("GET", "/api/runs/r1/file/samples/step_000040.png"),
        "run2": req("GET", "/api/runs/r2"),
        "explore": req("GET", "/api/explore"),
        "explore_post": req("POST", "/api/explore", '{"runs":["r1","r2"],"metric":"fid"}'),
        "anycost": req("GET", "/api/anycost"),
        "anycost_post": req("POST", "/api/anycost", '{"op":"open","run":"r1"}'),
        "pipelined": req("GET", "/api/options") + req("GET", "/api/runs"),
        "chunked": b"POST /api/sessions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
        "http10": b"GET /api/options HTTP/1.0\r\n\r\n",
    }
    for k, v in seeds.items():
        put("http", k + ".http", v)


if __name__ == "__main__":
    which = sys.argv[1:] or ["safetensors", "npy", "npz", "idx", "cifar", "image", "config", "sweep", "http"]
    for h in which:
        rng = np.random.default_rng(18)  # each harness's files from the same seed, whichever are made
        globals()["make_" + h]()
    total = sum(os.path.getsize(p) for p in glob.glob(os.path.join(OUT, "*", "*")))
    print(f"fuzz/corpus: {len(glob.glob(os.path.join(OUT, '*', '*')))} files, {total} bytes")
