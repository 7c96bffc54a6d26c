"""PyTorch + cuDNN side of bench/bench_cuda.sh, on the GPU: the same models and shapes as
bench/bench_cuda.c (and the CPU benchmarks it follows):
  dcgan64    bench_dcgan.py's DCGAN (the PyTorch example's step: BCE-with-logits, Adam(2e-4, (0.5,
             0.999))) at 64 px, 3 channels, ngf = ndf = 64, nz = 100, batch 64 (the model is
             defined as in bench_dcgan.py, which runs at import and so cannot be imported);
  sngan      bench_zoo.py's SNGAN (imported from it: 32 px, width 128, hinge, one D and one G step),
             batch 64;
  inception  the FID Inception-v3 of tests/parity/metrics_inception.py (random weights), TF1 resize
             of uint8 3x299x299 images on the CPU as in bench_inception.py, then the network on the
             GPU, every feature, batch 50.
Every timed iteration ends with torch.cuda.synchronize(). TF32 is off (FP32 throughout, as gantry)
unless BENCH_TF32=1; cudnn.benchmark is on (cuDNN picks its fastest algorithms).
Prints, as bench_cuda.c:
  WHAT<TAB>torch-cuda<TAB>img_s (median)<TAB>s_per_iter<TAB>img_s (best)<TAB>peak_device_mib<TAB>-
BENCH_TORCH_DEVICE=cpu runs it on the CPU (a check of the script where there is no GPU).
When torch has no CUDA it says so on stderr, prints WHAT<TAB>torch-no-cuda and exits 3.
usage: /usr/bin/python3 bench/torch_cuda_bench.py dcgan64|sngan|inception [iters] [warmup]
"""
import os
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))


def no_cuda(what):
    import torch

    why = "torch %s was built without CUDA" % torch.__version__ if torch.version.cuda is None else (
        "torch %s (CUDA %s) finds no GPU" % (torch.__version__, torch.version.cuda))
    sys.stderr.write("torch_cuda_bench: PyTorch has no CUDA here (%s): no PyTorch GPU figures, "
                     "only gantry's\n" % why)
    print("%s\ttorch-no-cuda" % what, flush=True)
    sys.exit(3)


def dcgan(nz=100, ngf=64, ndf=64, nc=3, res=64):
    import torch.nn as nn

    L = 4 if res == 64 else 3
    g, d = [], []
    for i in range(L + 1):
        cin = nz if i == 0 else ngf << (L - i)
        cout = nc if i == L else ngf << (L - 1 - i)
        g.append(nn.ConvTranspose2d(cin, cout, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False))
        g += [nn.BatchNorm2d(cout), nn.ReLU(True)] if i < L else [nn.Tanh()]
    for i in range(L + 1):
        cin = nc if i == 0 else ndf << (i - 1)
        cout = 1 if i == L else ndf << i
        d.append(nn.Conv2d(cin, cout, 4, 1 if i == L else 2, 0 if i == L else 1, bias=False))
        if 0 < i < L:
            d.append(nn.BatchNorm2d(cout))
        if i < L:
            d.append(nn.LeakyReLU(0.2, inplace=True))

    def init(m):
        if "Conv" in type(m).__name__:
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif "BatchNorm" in type(m).__name__:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)

    G, D = nn.Sequential(*g), nn.Sequential(*d)
    G.apply(init)
    D.apply(init)
    return G, D


def timed(step, iters, warm, per):
    import torch

    ts = []
    for i in range(warm + iters):
        t0 = time.perf_counter()
        step()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        if i >= warm:
            ts.append(time.perf_counter() - t0)
    ts.sort()
    n = len(ts)
    med = ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])
    return per / med, med, per / ts[0]


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    iters = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    warm = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    if what not in ("dcgan64", "sngan", "inception"):
        sys.stderr.write("usage: torch_cuda_bench.py dcgan64|sngan|inception [iters] [warmup]\n")
        sys.exit(2)
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        sys.stderr.write("torch_cuda_bench: no PyTorch (%s): no PyTorch figures, only gantry's\n" % e)
        print("%s\ttorch-none" % what, flush=True)
        sys.exit(3)
    check = os.environ.get("BENCH_TORCH_DEVICE") == "cpu"  # a check of this script on a machine without a GPU
    if not check and (not torch.cuda.is_available() or not torch.backends.cudnn.is_available()):
        no_cuda(what)
    tf32 = os.environ.get("BENCH_TF32", "0") == "1"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    dev = torch.device("cpu" if check else "cuda")
    torch.manual_seed(0)
    B = 64
    if what == "dcgan64":
        G, D = (m.to(dev) for m in dcgan())
        crit = torch.nn.BCEWithLogitsLoss()
        oD = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        oG = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        real = torch.rand(B, 3, 64, 64, device=dev) * 2 - 1
        z = torch.randn(B, 100, 1, 1, device=dev)
        ones, zeros = torch.ones(B, device=dev), torch.zeros(B, device=dev)

        def step():
            D.zero_grad()
            crit(D(real).view(-1), ones).backward()
            fake = G(z)
            crit(D(fake.detach()).view(-1), zeros).backward()
            oD.step()
            G.zero_grad()
            crit(D(fake).view(-1), ones).backward()
            oG.step()

        r = timed(step, iters, warm, B)
    elif what == "sngan":
        sys.path.insert(0, _here)
        argv = sys.argv
        sys.argv = ["bench_zoo.py", "sngan", "1", "0", "128"]  # its model and width, read at import
        import bench_zoo  # noqa: E402

        sys.argv = argv
        g, d = bench_zoo.g.to(dev), bench_zoo.d.to(dev)
        og = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
        od = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
        real = torch.rand(B, 3, 32, 32, device=dev) * 2 - 1
        z = torch.randn(B, bench_zoo.nz, device=dev)

        def step():
            d.zero_grad()
            F.relu(1 - d(real)).mean().backward()
            fake = g(z)
            F.relu(1 + d(fake.detach())).mean().backward()
            od.step()
            g.zero_grad()
            (-d(fake).mean()).backward()
            og.step()

        r = timed(step, iters, warm, B)
    else:
        import numpy as np

        sys.path.insert(0, _here + "/../tests/parity")
        from metrics_inception import features, fid_inception, randomize  # noqa: E402
        from metrics_resize import preprocess  # noqa: E402

        B = 50
        net = fid_inception()
        randomize(net, 1234)
        net = net.to(dev).eval()
        k = np.arange(B * 3 * 299 * 299, dtype=np.uint64)
        imgs = ((k * 2654435761) % (1 << 32) >> 24).astype(np.uint8).reshape(B, 3, 299, 299)

        def step():
            with torch.no_grad():
                features(net, preprocess(imgs, 0).to(dev))

        r = timed(step, iters, warm, B)
    if check:
        print("%s\ttorch-cpu-check\t%.2f\t%.5f\t%.2f\t-\t-" % (what, r[0], r[1], r[2]), flush=True)
        return
    peak = torch.cuda.max_memory_allocated() / 1048576.0
    print("%s\ttorch-cuda\t%.2f\t%.5f\t%.2f\t%.1f\t-" % (what, r[0], r[1], r[2], peak), flush=True)
    sys.stderr.write("torch_cuda_bench: %s on %s, torch %s, CUDA %s, cuDNN %s, TF32 %s\n" % (
        what, torch.cuda.get_device_name(0), torch.__version__, torch.version.cuda,
        torch.backends.cudnn.version(), "on" if tf32 else "off"))


if __name__ == "__main__":
    main()
