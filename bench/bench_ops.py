"""PyTorch side of bench/bench_ops.c: the same ops at the same shapes, same
output format ("op<TAB>name<TAB>ms<TAB>gflop", median after warm-up).
usage: /usr/bin/python3 bench/bench_ops.py [repeats] [name filter]   (needs build/bench_ops for the shapes)
"""
import os
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(2)
REPS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
FILTER = sys.argv[2] if len(sys.argv) > 2 else None

# name, transposed, n, cin, cout, h, k, s, p: the C side's list (`bench_ops --layers`; BENCH_OPS
# names the binary, build/bench_ops by default)
LAYERS = []
for line in subprocess.run([os.environ.get("BENCH_OPS", "build/bench_ops"), "--layers"], check=True,
                           capture_output=True, text=True).stdout.splitlines():
    f = line.split("\t")
    LAYERS.append((f[0], f[1] == "1", *map(int, f[2:])))


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
