"""The FLOPs of one training step of bench_zoo's models (batch 64), counted from the multiply-adds
of their convolutions and linear layers (forward hooks on bench_zoo.py's modules, batch 1): a step
is G's forward and backward (3 x G's forward: the input and weight gradients), D's forward and
backward on the reals (2 x, the input's gradient not needed) and on the fakes (3 x), and in G's
step D's forward and its input gradient (2 x): 3 G + 7 D, x 2 FLOPs per multiply-add x 64.
Attention's two batched products are counted too. Prints "sngan=GFLOP sagan=GFLOP".
usage: bench_zoo_flops.py [width]
"""
import runpy
import sys

import torch
import torch.nn as nn

width = sys.argv[1] if len(sys.argv) > 1 else "128"
out = []
for model in ("sngan", "sagan"):
    sys.argv = ["bench_zoo.py", model, "0", "0", width]
    ns = runpy.run_path(__file__.rsplit("/", 1)[0] + "/bench_zoo.py", run_name="flops")
    macs = {"n": 0}

    def hook(m, inp, outp):
        if isinstance(m, nn.Conv2d):
            macs["n"] += outp.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            macs["n"] += outp.numel() * m.in_features
        elif type(m).__name__ == "Attn":
            n, c, h, w = inp[0].shape
            macs["n"] += (h * w) * (h * w // 4) * (c // 8 + c // 2)

    def count(net, x):
        macs["n"] = 0
        hs = [m.register_forward_hook(hook) for m in net.modules()]
        with torch.no_grad():
            net(x)
        for h in hs:
            h.remove()
        return macs["n"]

    g, d = ns["g"], ns["d"]
    mg, md = count(g, torch.randn(1, ns["nz"])), count(d, torch.randn(1, 3, 32, 32))
    out.append(f"{model}={2 * 64 * (3 * mg + 7 * md) / 1e9:.3f}")
print(" ".join(out))
