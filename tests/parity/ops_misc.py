"""Golden values for embedding (dropout has none: the RNGs differ; its
test checks statistics, scaling, determinism and the mask gradient instead).

Reads <case>.x0 (weight), <case>.x1 (int32 indices), <case>.w, <case>.v0 and
writes <case>.y, <case>.g0, <case>.gg0 (see ops_linalg_common.py).
usage: ops_misc.py OUT IN
"""
import sys

import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from ops_linalg_common import run_cases  # noqa: E402

CASES = {
    "emb": lambda w, i: F.embedding(i, w),
    "emb_1d": lambda w, i: F.embedding(i, w),
    "emb_wt": lambda w, i: F.embedding(i, w.t()),
    "emb_square": lambda w, i: F.embedding(i, w) ** 2,
    "emb_3d_tanh": lambda w, i: F.embedding(i, w.tanh()),
}

gtb.save(sys.argv[1], run_cases(CASES, gtb.load(sys.argv[2])))
