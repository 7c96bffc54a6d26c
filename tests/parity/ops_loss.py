"""Golden values for the losses (mean reduction).

Reads <case>.x0, <case>.x1 (float logits / targets, or int32 class indices),
<case>.w, <case>.v<i>; writes <case>.y, <case>.g<i>, <case>.gg<i> (see
ops_linalg_common.py).
usage: ops_loss.py OUT IN
"""
import sys

import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import gtb  # noqa: E402
from ops_linalg_common import run_cases  # noqa: E402

bce = F.binary_cross_entropy_with_logits
CASES = {
    "bce": bce,
    "bce_big": bce,
    "bce_binary": lambda x, t: bce(x, (t > 0.5).double()),
    "bce_3d": bce,
    "mse": F.mse_loss,
    "mse_1d": F.mse_loss,
    "l1": lambda x, t: F.l1_loss(x, t * 0.05),
    "ce": F.cross_entropy,
    "ce_big": F.cross_entropy,
    "ce_one_class": F.cross_entropy,
}

gtb.save(sys.argv[1], run_cases(CASES, gtb.load(sys.argv[2])))
