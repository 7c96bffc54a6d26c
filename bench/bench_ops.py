"""PyTorch side of bench/bench_ops.c: the same ops at the same shapes, same
output format ("op<TAB>name<TAB>ms<TAB>gflop", median after warm-up).
usage: /usr/bin/python3 bench/bench_ops.py [repeats] [name filter]
"""
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
FILTER = sys.argv[2] if len(sys.argv) > 2 else None

# name, transposed, n, cin, cout, h, k, s, p (must match bench_ops.c)
LAYERS = [
    ("conv 3->64 64->32", False, 64, 3, 64, 64, 4, 2, 1),
    ("conv 64->128 32->16", False, 64, 64, 128, 32, 4, 2, 1),
    ("conv 128->256 16->8", False, 64, 128, 256, 16, 4, 2, 1),
    ("conv 256->512 8->4", False, 64, 256, 512, 8, 4, 2, 1),
    ("convT 100->512 1->4", True, 64, 100, 512, 1, 4, 1, 0),
    ("convT 512->256 4->8", True, 64, 512, 256, 4, 4, 2, 1),
    ("convT 256->128 8->16", True, 64, 256, 128, 8, 4, 2, 1),
    ("convT 128->64 16->32", True, 64, 128, 64, 16, 4, 2, 1),
    ("convT 64->3 32->64", True, 64, 64, 3, 32, 4, 2, 1),
    ("incep 3x3 32->64 147", False, 8, 32, 64, 147, 3, 1, 1),
    ("incep 1x1 288->64 35", False, 8, 288, 64, 35, 1, 1, 0),
    ("incep 3x3 64->96 35", False, 8, 64, 96, 35, 3, 1, 1),
    ("incep 5x5 48->64 35", False, 8, 48, 64, 35, 5, 1, 2),
    ("incep 3x3 288->384 35->17", False, 8, 288, 384, 35, 3, 2, 0),
    ("incep 1x1 768->192 17", False, 8, 768, 192, 17, 1, 1, 0),
    ("resnet 3x3 128->128 32", False, 64, 128, 128, 32, 3, 1, 1),
    ("resnet 3x3 128->128 16", False, 64, 128, 128, 16, 3, 1, 1),
    ("resnet 3x3 128->128 8", False, 64, 128, 128, 8, 3, 1, 1),
]


def wanted(name):
    return FILTER is None or FILTER in name


def time_it(f, warm=2):
    for _ in range(warm):
        f()
    ts = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        f()
        ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort()
    n = len(ts)
    return ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])


def emit(name, ms, gflop):
    print("op\t%s\t%.3f\t%.4f" % (name, ms, gflop), flush=True)


for n in (1024, 1536, 2048):
    name = "sgemm %d" % n
    if wanted(name):
        a, b = torch.randn(n, n), torch.randn(n, n)
        emit(name, time_it(lambda: torch.mm(a, b)), 2.0 * n ** 3 * 1e-9)

torch.manual_seed(1)
for name, tr, n, cin, cout, h, k, s, p in LAYERS:
    ho = (h - 1) * s - 2 * p + k if tr else (h + 2 * p - k) // s + 1
    x = torch.randn(n, cin, h, h, requires_grad=True)
    w = torch.randn(*((cin, cout) if tr else (cout, cin)), k, k, requires_grad=True)
    gy = torch.randn(n, cout, ho, ho)
    mac = n * cin * h * h * cout * k * k if tr else n * cout * ho * ho * cin * k * k

    def fwd():
        with torch.no_grad():
            return F.conv_transpose2d(x, w, None, s, p) if tr else F.conv2d(x, w, None, s, p)

    def fwd_bwd():
        y = F.conv_transpose2d(x, w, None, s, p) if tr else F.conv2d(x, w, None, s, p)
        torch.autograd.grad(y, [x, w], gy)

    for bw, f in ((False, fwd), (True, fwd_bwd)):
        nm = "%s %s" % (name, "fwd+bwd" if bw else "fwd")
        if wanted(nm):
            emit(nm, time_it(f), 2.0 * mac * (3 if bw else 1) * 1e-9)
