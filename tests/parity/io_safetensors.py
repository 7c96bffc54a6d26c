"""safetensors parity without PyTorch: the format parsed with struct + json + numpy.

usage:
  io_safetensors.py OUT check FILE   parse FILE (written by gantry) strictly by the spec,
                                     return its tensors and metadata in OUT (GTB1)
  io_safetensors.py OUT write FILE   write FILE by hand (valid, but laid out differently
                                     from gantry: shuffled keys, indented JSON, metadata
                                     last, scalars, empty tensors) and its values in OUT

In OUT: f32 tensors as "t.<name>" (float32), integer tensors as int32 "t.<name>"
(I64/U64 as "lo.<name>" / "hi.<name>", the 32-bit halves), F64 as float32 "t.<name>"
(the writer only uses values exact in float32), metadata values as "meta.<key>"
(int32 array of their UTF-8 bytes). Any violation of the spec exits non-zero.
If the python3 `safetensors` package is installed, it must agree.
"""
import json
import struct
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402

DT = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
      "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?"}


def fail(msg):
    print("io_safetensors.py:", msg, file=sys.stderr)
    sys.exit(1)


def parse(path, aligned=True):
    raw = open(path, "rb").read()
    if len(raw) < 8:
        fail("file too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if n > len(raw) - 8:
        fail(f"header length {n} > file")
    if (8 + n) % 8:
        fail(f"header not padded to 8 bytes: {n}")
    hb = raw[8:8 + n]
    if not hb.startswith(b"{"):
        fail("header does not start with {")
    text = hb.decode("utf-8")
    if text.rstrip(" ") != text.rstrip():
        fail("padding is not spaces")
    header = json.loads(text)
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        fail("metadata not str->str")
    spans = []
    out = {}
    for name, e in header.items():
        if set(e) != {"dtype", "shape", "data_offsets"}:
            fail(f"{name}: keys {sorted(e)}")
        dt = np.dtype(DT[e["dtype"]])
        shape = tuple(e["shape"])
        b, en = e["data_offsets"]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if en - b != count * dt.itemsize:
            fail(f"{name}: offsets {b},{en} vs shape {shape} {e['dtype']}")
        if aligned and b % dt.itemsize:
            fail(f"{name}: data at {b} not aligned to {dt.itemsize}")
        spans.append((b, en, name))
        out[name] = (e["dtype"], np.frombuffer(data, dtype=dt, count=count, offset=b).reshape(shape))
    spans.sort()
    pos = 0
    for b, en, name in spans:
        if b != pos:
            fail(f"{name}: starts at {b}, expected {pos}")
        pos = en
    if pos != len(data):
        fail(f"tensors cover {pos} of {len(data)} bytes")
    return out, meta


def to_gtb(tensors, meta):
    res = {}
    for name, (dt, a) in tensors.items():
        if dt in ("F32", "F64"):
            res["t." + name] = a.astype(np.float32)
        elif dt in ("I64", "U64"):
            u = a.astype(np.uint64) if dt == "U64" else a.view(np.uint64)
            res["lo." + name] = (u & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)
            res["hi." + name] = (u >> np.uint64(32)).astype(np.uint32).view(np.int32)
        else:
            res["t." + name] = a.astype(np.int32)
    for k, v in meta.items():
        res["meta." + k] = np.frombuffer(v.encode(), dtype=np.uint8).astype(np.int32)
    return res


def check_with_package(path, tensors, meta):
    try:
        from safetensors import safe_open
    except ImportError:
        return
    with safe_open(path, framework="numpy") as f:
        if (f.metadata() or {}) != meta:
            fail("safetensors package: metadata differs")
        if set(f.keys()) != set(tensors):
            fail("safetensors package: names differ")
        for k in f.keys():
            if not np.array_equal(f.get_tensor(k), tensors[k][1]):
                fail(f"safetensors package: {k} differs")


def write(path):
    rng = np.random.default_rng(1234)
    arrays = {
        "w": ("F32", rng.standard_normal((3, 5)).astype("<f4")),
        "scalar": ("F32", np.array(2.5, dtype="<f4")),
        "empty": ("F32", np.zeros((0, 4), dtype="<f4")),
        "b": ("F64", rng.standard_normal(7).astype(np.float32).astype("<f8")),
        "step": ("I64", np.array([-3, 1 << 40], dtype="<i8")),
        "rng": ("U64", np.array([0xDEADBEEFCAFEF00D, 12345], dtype="<u8")),
        "bytes": ("U8", np.arange(11, dtype=np.uint8) * 23),
        "idx": ("I32", np.array([[1, -2], [3, 2147483647]], dtype="<i4")),
    }
    meta = {"note": "written by python, \u00e9t\u00e9 \"quoted\"", "format": "np"}
    # data in an order of its own (not by name), keys shuffled in the JSON
    order = ["bytes", "w", "scalar", "step", "empty", "idx", "b", "rng"]
    header, blobs, pos = {}, [], 0
    for k in order:
        dt, a = arrays[k]
        buf = a.tobytes()
        header[k] = {"shape": list(a.shape), "data_offsets": [pos, pos + len(buf)], "dtype": dt}
        blobs.append(buf)
        pos += len(buf)
    keys = list(header)
    rng.shuffle(keys)
    doc = {k: header[k] for k in keys}
    doc["__metadata__"] = meta
    hb = json.dumps(doc, indent=1, ensure_ascii=False).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb + b"".join(blobs))
    return {k: v for k, v in arrays.items()}, meta


if __name__ == "__main__":
    out, mode, path = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "check":
        tensors, meta = parse(path)
        check_with_package(path, tensors, meta)
    else:
        tensors, meta = write(path)
        t2, m2 = parse(path, aligned=False)
        assert set(t2) == set(tensors) and m2 == meta
    gtb.save(out, to_gtb(tensors, meta))
