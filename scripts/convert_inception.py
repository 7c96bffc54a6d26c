#!/usr/bin/python3
"""Convert the FID Inception weights (pytorch-fid's .pth) to safetensors for gantry.

    python3 scripts/convert_inception.py pt_inception-2015-12-05-6726825d.pth inception-2015-12-05.safetensors

The input is the public file pt_inception-2015-12-05-6726825d.pth, from
    https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth
(torch-fidelity's weights-inception-2015-12-05-6726825d.pth holds the same state_dict).
Its SHA-256 must start with 6726825d, the prefix torch.hub checks; anything else
is refused (--skip-hash-check converts other files with the same layout, e.g.
the random weights the tests make).

The output holds every tensor of the state_dict under its own name
("Conv2d_1a_3x3.conv.weight", "Mixed_5b.branch1x1.bn.running_var", ...,
"fc.weight", "fc.bias") as float32, without BatchNorm's num_batches_tracked
counters, which is what gantry's gt_inception_load reads. The file is written
to a temporary name and renamed, so a failed run leaves no partial file.
Needs python3-torch (Debian) to read the .pth.
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import tempfile

SHA_PREFIX = "6726825d"
PTH_NAME = "pt_inception-2015-12-05-6726825d.pth"
URL = "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/" + PTH_NAME
# Tensors the FID Inception-v3 has: 94 BasicConv2d x (conv.weight + 4 bn) + fc.weight + fc.bias.
N_TENSORS = 94 * 5 + 2


class ConvertError(Exception):
    pass


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_safetensors(tensors, path, metadata=None):
    """tensors: name -> float32 numpy-convertible array. Atomic (temp file + rename)."""
    import numpy as np

    arrays = {k: np.ascontiguousarray(np.asarray(v, dtype="<f4")) for k, v in tensors.items()}
    header, offset = {}, 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(arrays):
        a = arrays[name]
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    d = os.path.dirname(os.path.abspath(path))
    os.makedirs(d, exist_ok=True)  # e.g. ~/.cache/gantry, where gantry eval looks by default
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(struct.pack("<Q", len(hb)))
            f.write(hb)
            for name in sorted(arrays):
                f.write(arrays[name].tobytes())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load_state_dict(path):
    import torch

    try:
        sd = torch.load(path, map_location="cpu")
    except Exception as e:  # a truncated or foreign file
        raise ConvertError(f"{path}: cannot be read as a PyTorch file ({e})")
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise ConvertError(f"{path}: expected a state_dict (a dict of tensors), found {type(sd).__name__}")
    out = {}
    for name, t in sd.items():
        if name.endswith("num_batches_tracked"):
            continue
        if not hasattr(t, "dtype") or not t.is_floating_point():
            raise ConvertError(f"{path}: '{name}' is not a floating-point tensor")
        out[name] = t.detach().to(torch.float32).contiguous().numpy()
    return out


def check_layout(sd, path):
    want = {"Conv2d_1a_3x3.conv.weight": (32, 3, 3, 3), "Mixed_7c.branch_pool.conv.weight": (192, 2048, 1, 1),
            "fc.weight": (1008, 2048), "fc.bias": (1008,)}
    for name, shape in want.items():
        if name not in sd:
            raise ConvertError(f"{path}: no tensor '{name}': not the FID Inception-v3 state_dict")
        if tuple(sd[name].shape) != shape:
            raise ConvertError(f"{path}: '{name}' has shape {tuple(sd[name].shape)}, expected {shape}")
    if len(sd) != N_TENSORS:
        raise ConvertError(f"{path}: {len(sd)} tensors (without num_batches_tracked), expected {N_TENSORS}")


def convert(src, dst, skip_hash_check=False):
    if not os.path.isfile(src):
        raise ConvertError(f"{src}: no such file; download {PTH_NAME} from\n  {URL}")
    digest = sha256_of(src)
    if not digest.startswith(SHA_PREFIX) and not skip_hash_check:
        raise ConvertError(
            f"{src}: SHA-256 is {digest[:8]}..., expected it to start with {SHA_PREFIX} "
            f"(the FID Inception weights {PTH_NAME}); the file is corrupt or a different network. "
            f"Download it again from\n  {URL}")
    sd = load_state_dict(src)
    check_layout(sd, src)
    write_safetensors(sd, dst, {"format": "pt", "gantry": "inception-2015-12-05", "source": os.path.basename(src),
                                "sha256": digest})
    return len(sd)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pth", help="pt_inception-2015-12-05-6726825d.pth")
    ap.add_argument("out", help="output .safetensors")
    ap.add_argument("--skip-hash-check", action="store_true",
                    help="convert a file whose SHA-256 does not start with " + SHA_PREFIX + " (tests)")
    a = ap.parse_args(argv)
    try:
        n = convert(a.pth, a.out, a.skip_hash_check)
    except ConvertError as e:
        print("convert_inception: error: " + str(e), file=sys.stderr)
        return 1
    print(f"wrote {a.out}: {n} tensors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
