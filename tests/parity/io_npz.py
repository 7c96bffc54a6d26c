"""NumPy .npz / .npy parity.

usage:
  io_npz.py OUT write DIR        numpy writes .npz / .npy files into DIR the ways pytorch-fid
                                 and clean-fid do (np.savez, np.savez_compressed) plus odd
                                 cases; each array's exact bytes (C order) go to
                                 DIR/<file>.<array>.bin for the C side to compare with
  io_npz.py OUT check FILE...    np.load each .npz gantry wrote and compare every array with
                                 FILE.<array>.bin (written by the C test), dtype and shape
                                 from FILE.<array>.meta ("descr ndim d0 d1 ...")

OUT (GTB1) gets "ok" = [1]; any mismatch exits non-zero.
"""
import os
import sys
import zipfile

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402


def fail(msg):
    print("io_npz.py:", msg, file=sys.stderr)
    sys.exit(1)


def dump(d, fname, arrays):
    for k, a in arrays.items():
        with open(os.path.join(d, f"{fname}.{k}.bin"), "wb") as f:
            f.write(np.ascontiguousarray(a).tobytes())


def write(d):
    rng = np.random.default_rng(7)
    mu = rng.standard_normal(2048)
    a = rng.standard_normal((2048, 64))
    sigma = np.cov(a)  # (2048, 2048) float64, as pytorch-fid computes it
    np.savez(os.path.join(d, "fid_stats.npz"), mu=mu, sigma=sigma)
    dump(d, "fid_stats.npz", {"mu": mu, "sigma": sigma})

    mu_c = rng.standard_normal(512)
    sigma_c = np.cov(rng.standard_normal((512, 40)))
    np.savez_compressed(os.path.join(d, "clean_stats.npz"), mu=mu_c, sigma=sigma_c)
    dump(d, "clean_stats.npz", {"mu": mu_c, "sigma": sigma_c})

    mixed = {
        "f4": rng.standard_normal((3, 5, 7)).astype(np.float32),
        "u8": rng.integers(0, 256, (10, 1, 4, 4), dtype=np.uint8),
        "i8": np.array([-(1 << 62), 5, 1 << 40], dtype=np.int64),
        "scalar": np.array(3.25),
        "empty": np.zeros((0, 3)),
        "special": np.array([np.inf, -np.inf, -0.0, 5e-324, 1.7976931348623157e308]),
    }
    np.savez_compressed(os.path.join(d, "mixed_c.npz"), **mixed)
    dump(d, "mixed_c.npz", mixed)
    np.savez(os.path.join(d, "mixed_s.npz"), **mixed)
    dump(d, "mixed_s.npz", mixed)
    pos = [np.arange(6, dtype=np.float64), np.ones(2, dtype=np.float32)]
    np.savez(os.path.join(d, "positional.npz"), *pos)  # arr_0, arr_1
    dump(d, "positional.npz", {"arr_0": pos[0], "arr_1": pos[1]})
    np.save(os.path.join(d, "single.npy"), sigma_c.astype(np.float32))
    dump(d, "single.npy", {"x": sigma_c.astype(np.float32)})
    # what gantry must refuse, clearly
    np.savez(os.path.join(d, "bigendian.npz"), mu=mu[:10].astype(">f8"))
    np.savez(os.path.join(d, "fortran.npz"), sigma=np.asfortranarray(sigma_c[:8, :5]))
    np.savez(os.path.join(d, "complex.npz"), z=np.ones(3, dtype=np.complex128))
    np.save(os.path.join(d, "fortran.npy"), np.asfortranarray(sigma_c[:8, :5]))
    # a zip with a text member besides the arrays (skipped by readers)
    with zipfile.ZipFile(os.path.join(d, "extra_member.npz"), "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("mu.npy", "w") as f:
            np.lib.format.write_array(f, mu[:16])
        z.writestr("README.txt", "not an array")
    dump(d, "extra_member.npz", {"mu": mu[:16]})


def check(files):
    for path in files:
        if zipfile.ZipFile(path).testzip() is not None:
            fail(f"{path}: zip CRC test failed")
        z = np.load(path)
        metas = [f for f in os.listdir(os.path.dirname(path)) if f.startswith(os.path.basename(path) + ".")
                 and f.endswith(".meta")]
        names = sorted(m[len(os.path.basename(path)) + 1:-5] for m in metas)
        if sorted(z.files) != names:
            fail(f"{path}: arrays {sorted(z.files)}, expected {names}")
        for k in names:
            descr, *dims = open(f"{path}.{k}.meta").read().split()
            nd, shape = int(dims[0]), tuple(int(x) for x in dims[1:])
            a = z[k]
            if a.dtype != np.dtype(descr) or a.ndim != nd or a.shape != shape:
                fail(f"{path}:{k}: {a.dtype} {a.shape}, expected {descr} {shape}")
            if a.tobytes() != open(f"{path}.{k}.bin", "rb").read():
                fail(f"{path}:{k}: values differ")


if __name__ == "__main__":
    out, mode = sys.argv[1], sys.argv[2]
    if mode == "write":
        write(sys.argv[3])
    else:
        check(sys.argv[3:])
    gtb.save(out, {"ok": np.array([1], dtype=np.int32)})
