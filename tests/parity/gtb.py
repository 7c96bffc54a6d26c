"""GTB1: the tiny tensor file the C tests and the PyTorch scripts trade.

magic b"GTB1", u32 count, then per tensor: u32 name length, name (utf-8),
u32 dtype (0 float32, 1 int32), u32 ndim, i64 shape[ndim], raw little-endian data.
"""
import struct

import numpy as np


def save(path, tensors):
    with open(path, "wb") as f:
        f.write(b"GTB1")
        f.write(struct.pack("<I", len(tensors)))
        for name, t in tensors.items():
            if hasattr(t, "detach"):
                t = t.detach().cpu().numpy()
            a = np.ascontiguousarray(np.asarray(t))
            if a.dtype.kind in "iub":
                a, code = a.astype("<i4"), 1
            else:
                a, code = a.astype("<f4"), 0
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)) + nb)
            f.write(struct.pack("<II", code, a.ndim))
            f.write(struct.pack("<%dq" % a.ndim, *a.shape))
            f.write(a.tobytes())


def load(path):
    out = {}
    with open(path, "rb") as f:
        assert f.read(4) == b"GTB1"
        (n,) = struct.unpack("<I", f.read(4))
        for _ in range(n):
            (ln,) = struct.unpack("<I", f.read(4))
            name = f.read(ln).decode()
            code, nd = struct.unpack("<II", f.read(8))
            shape = struct.unpack("<%dq" % nd, f.read(8 * nd))
            dt = "<f4" if code == 0 else "<i4"
            cnt = int(np.prod(shape)) if nd else 1
            out[name] = np.frombuffer(f.read(4 * cnt), dtype=dt).reshape(shape).copy()
    return out
