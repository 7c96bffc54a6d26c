"""Golden values for matmul and linear.

Reads the inputs the C test wrote (<case>.x0, <case>.x1, ..., <case>.w and
<case>.v0, <case>.v1, ...), runs the same expression in PyTorch and writes
<case>.y, <case>.g<i> = d sum(y * w) / d x<i> and the second-order
<case>.gg<i> = d [sum_j sum(v_j * g_j)] / d x<i>.
usage: ops_matmul.py OUT IN
"""
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from ops_linalg_common import run_cases  # noqa: E402

CASES = {
    "mm": lambda a, b: a @ b,
    "bmm": lambda a, b: a @ b,
    "bmm_shared_b": lambda a, b: a @ b,
    "bmm_shared_a": lambda a, b: a @ b,
    "bmm_batch1": lambda a, b: a @ b,
    "mm_at": lambda a, b: a.t() @ b,
    "mm_bt": lambda a, b: a @ b.t(),
    "bmm_tt": lambda a, b: a.transpose(1, 2) @ b.transpose(1, 2),
    "mm_strided": lambda a, b: a[:, 0:8:2] @ b,
    "bmm_permuted": lambda a, b: a.permute(1, 0, 2) @ b,
    "mm_outer": lambda a, b: a @ b,
    "linear": lambda x, w, b: F.linear(x, w, b),
    "linear_nobias_1d": lambda x, w: F.linear(x, w),
    "linear_4d": lambda x, w, b: F.linear(x, w, b),
    "linear_wt": lambda x, w, b: F.linear(x, w.t(), b),
    "linear_xt": lambda x, w, b: F.linear(x.t(), w, b),
    "linear_xperm": lambda x, w, b: F.linear(x.permute(1, 0, 2), w, b),
}

gtb.save(sys.argv[1], run_cases(CASES, gtb.load(sys.argv[2])))
