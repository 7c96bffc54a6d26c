/* --device on train, sample and eval, and `info --devices` (cli/cli_device.c):
 *   - without a GPU, --device cuda exits 1 with the library's reason, which names CUDA: "no CUDA GPU
 *     found" when the plugin build/libgantry_cuda.so was built, "built without CUDA" when not; and
 *     nothing is written (no run folder, no PNG, no JSON);
 *   - --device tpu (or cuda:x) is a usage error (2) naming the allowed devices;
 *   - info --devices lists the CPU and a cuda line (GPUs, or why none);
 *   - --device cpu trains exactly as no flag: the same checkpoint tensors, bit for bit (the same
 *     program, inputs and thread count: the CPU path is deterministic by construction);
 *   - on the fake GPU (GANTRY_CUDA_PLUGIN=build/libgantry_fakegpu.so, tests/cuda/fake_plugin.c:
 *     host memory, no kernels, so every op runs the CPU's kernels) train, sample and eval succeed
 *     and give the CPU's results bit for bit, train records RUN/device.json, cuda:N picks GPU N, an
 *     index past the GPUs or a plugin that finds none fails cleanly; under mpirun (when available)
 *     `--device cuda` puts each rank on GPU local rank mod the GPUs.
 * On a machine with a real GPU the failure checks do not apply: --device cuda must then train. */
#include "../dist/dist_util.h"

static char g_idx[700];

static const char *tp(const char *name) { return gt_test_path(name); }

#define TINY                                                                                                          \
    "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "8", "--n-samples", "4", "--seed", "5",       \
        "--steps", "3", "--log-every", "1", "--quiet"

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static bool g_gpu;      /* info --devices names a GPU */
static bool g_plugin;   /* libgantry_cuda.so beside the program */

static void test_info_devices(void) {
    CHECK_CLI(0, "cpu: ", "info", "--devices");
    CHECK_MSG(strstr(gt_cli_out, "\ncuda") != NULL, "no cuda line:\n%s", gt_cli_out);
    g_gpu = strstr(gt_cli_out, "\ncuda:0: ") != NULL;
    if (!g_plugin) CHECK_MSG(strstr(gt_cli_out, "built without CUDA") != NULL, "%s", gt_cli_out);
    CHECK_CLI(2, "--ckpt FILE or --devices", "info", "--devices", "--ckpt", "x.safetensors");
}

static void test_usage(void) {
    const char *allowed = "--device must be cpu, cuda or cuda:N";
    CHECK_CLI(2, allowed, "train", "--data", g_idx, "--out", tp("tpu_run"), TINY, "--device", "tpu");
    CHECK(!exists(tp("tpu_run")));
    CHECK_CLI(2, allowed, "train", "--data", g_idx, "--out", tp("tpu_run"), TINY, "--device", "cuda:x");
    CHECK_CLI(2, allowed, "train", "--data", g_idx, "--out", tp("tpu_run"), TINY, "--device", "CUDA");
    CHECK_CLI(2, allowed, "sample", "--ckpt", "none.safetensors", "--out", tp("tpu.png"), "--device", "tpu");
    CHECK_CLI(2, allowed, "eval", "--fake", g_idx, "--real", g_idx, "--extractor", "pixels", "--device", "tpu");
    CHECK_CLI(2, "--device", "train", "--data", g_idx, "--out", tp("tpu_run"), TINY, "--device"); /* no value */
    CHECK(!exists(tp("tpu_run")) && !exists(tp("tpu.png")));
}

/* The G. and D. tensors of two checkpoints: the same names, the same bytes. */
static void same_tensors(const char *a, const char *b) {
    gt_safetensors A, B;
    gt_st_init(&A), gt_st_init(&B);
    bool ok = gt_st_load(&A, a) == GT_OK && gt_st_load(&B, b) == GT_OK;
    CHECK_MSG(ok, "loading %s, %s: %s", a, b, gt_last_error());
    int n = 0, differ = 0;
    for (int i = 0; ok && i < A.n; i++) {
        const gt_st_tensor *x = &A.t[i];
        if (strncmp(x->name, "G.", 2) && strncmp(x->name, "D.", 2) && strncmp(x->name, "G_ema.", 6)) continue;
        const gt_st_tensor *y = gt_st_find(&B, x->name);
        n++;
        if (!y || y->nbytes != x->nbytes || memcmp(x->data, y->data, x->nbytes) != 0) {
            if (!differ) fprintf(stderr, "first difference: %s\n", x->name);
            differ++;
        }
    }
    CHECK_MSG(ok && n > 10 && differ == 0, "%d of %d tensors differ between %s and %s", differ, n, a, b);
    gt_st_free(&A), gt_st_free(&B);
}

static void test_cpu_is_the_default(void) {
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--out", tp("plain"), TINY);
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--out", tp("cpu"), TINY, "--device", "cpu");
    char a[800], b[800];
    snprintf(a, sizeof a, "%s/last.safetensors", tp("plain"));
    snprintf(b, sizeof b, "%s/last.safetensors", tp("cpu"));
    same_tensors(a, b);
    snprintf(b, sizeof b, "%s/device.json", tp("cpu"));
    CHECK_MSG(!exists(b), "a CPU run writes no device.json"); /* on the CPU nothing changes */
    /* sample and eval take --device cpu as no flag */
    CHECK_CLI(0, NULL, "sample", "--ckpt", a, "--out", tp("cpu.png"), "--n", "4", "--device", "cpu");
    CHECK(exists(tp("cpu.png")));
    CHECK_CLI(0, "FID", "eval", "--fake", a, "--real", g_idx, "--extractor", "pixels", "--n", "16", "--device", "cpu",
              "--quiet", "--no-cache");
}

static void test_cuda_unavailable(void) {
    if (g_gpu) {
        printf("  a GPU is listed: --device cuda must train (the failure checks do not apply)\n");
        CHECK_CLI(0, NULL, "train", "--data", g_idx, "--out", tp("gpu_run"), TINY, "--device", "cuda");
        char p[800];
        snprintf(p, sizeof p, "%s/device.json", tp("gpu_run"));
        size_t n = 0;
        unsigned char *t = gt_test_read_all(p, &n);
        CHECK_MSG(t && strstr((const char *)t, "\"cuda:"), "%s: %s", p, t ? (const char *)t : "missing");
        free(t);
        return;
    }
    /* the reason that applies: the plugin was built (no GPU or driver here) or not */
    const char *why = g_plugin ? "no CUDA GPU found" : "this gantry was built without CUDA";
    char ckpt[800];
    snprintf(ckpt, sizeof ckpt, "%s/last.safetensors", tp("plain"));
    CHECK_CLI(1, why, "train", "--data", g_idx, "--out", tp("cuda_run"), TINY, "--device", "cuda");
    CHECK(gt_cli_said("gantry train: --device cuda: "));
    CHECK_MSG(!exists(tp("cuda_run")), "a failed --device cuda left %s", tp("cuda_run"));
    CHECK_CLI(1, why, "train", "--data", g_idx, "--out", tp("cuda_run"), TINY, "--device", "cuda:1");
    CHECK(!exists(tp("cuda_run")));
    CHECK_CLI(1, why, "sample", "--ckpt", ckpt, "--out", tp("cuda.png"), "--device", "cuda");
    CHECK(gt_cli_said("gantry sample: --device cuda: "));
    CHECK_MSG(!exists(tp("cuda.png")), "a failed --device cuda wrote %s", tp("cuda.png"));
    CHECK_CLI(1, why, "sample", "--ckpt", ckpt, "--outdir", tp("cuda_dir"), "--device", "cuda:0");
    CHECK(!exists(tp("cuda_dir")));
    CHECK_CLI(1, why, "eval", "--fake", ckpt, "--real", g_idx, "--extractor", "pixels", "--n", "16", "--json",
              tp("cuda.json"), "--save-real-stats", tp("real.npz"), "--device", "cuda", "--no-cache");
    CHECK(gt_cli_said("gantry eval: --device cuda: "));
    CHECK_MSG(!exists(tp("cuda.json")) && !exists(tp("real.npz")), "a failed --device cuda wrote eval's files");
    /* a plugin named by GANTRY_CUDA_PLUGIN that is not there: the message names it */
    setenv("GANTRY_CUDA_PLUGIN", "/nonexistent/libgantry_cuda.so", 1);
    CHECK_CLI(1, "GANTRY_CUDA_PLUGIN=/nonexistent/libgantry_cuda.so", "sample", "--ckpt", ckpt, "--out",
              tp("cuda.png"), "--device", "cuda");
    unsetenv("GANTRY_CUDA_PLUGIN");
    CHECK(!exists(tp("cuda.png")));
}

static char g_fake[PATH_MAX + 32]; /* libgantry_fakegpu.so beside the program */

static void read_text(const char *path, char *buf, size_t n) {
    size_t k = 0;
    unsigned char *t = gt_test_read_all(path, &k);
    snprintf(buf, n, "%s", t ? (const char *)t : "(missing)");
    free(t);
}

/* The "FID <value>" line of the last output (or ""). */
static void fid_line(char *buf, size_t n) {
    const char *f = strstr(gt_cli_out, "FID");
    const char *e = f ? strchr(f, '\n') : NULL;
    snprintf(buf, n, "%.*s", f ? (int)(e ? e - f : (long)strlen(f)) : 0, f ? f : "");
}

static void test_fake_gpu(void) {
    CHECK_MSG(access(g_fake, R_OK) == 0, "%s is not built (target gantry_fakegpu)", g_fake);
    if (access(g_fake, R_OK) != 0) return;
    setenv("GANTRY_CUDA_PLUGIN", g_fake, 1);
    setenv("GANTRY_FAKE_GPUS", "2", 1);
    CHECK_CLI(0, "cuda:1: fake GPU 1", "info", "--devices");
    /* train: the CPU's tensors bit for bit, and the device recorded */
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--out", tp("fake"), TINY, "--device", "cuda");
    char a[800], b[800], txt[256];
    snprintf(a, sizeof a, "%s/last.safetensors", tp("plain"));
    snprintf(b, sizeof b, "%s/last.safetensors", tp("fake"));
    same_tensors(a, b);
    snprintf(b, sizeof b, "%s/device.json", tp("fake"));
    read_text(b, txt, sizeof txt);
    CHECK_MSG(strcmp(txt, "{\"device\": \"cuda:0\"}\n") == 0, "%s: %s", b, txt);
    CHECK_CLI(0, NULL, "train", "--data", g_idx, "--out", tp("fake1"), TINY, "--device", "cuda:1");
    snprintf(b, sizeof b, "%s/device.json", tp("fake1"));
    read_text(b, txt, sizeof txt);
    CHECK_MSG(strstr(txt, "\"cuda:1\""), "%s: %s", b, txt);
    /* sample and eval: the CPU's PNG and FID */
    CHECK_CLI(0, NULL, "sample", "--ckpt", a, "--out", tp("fake.png"), "--n", "4", "--device", "cuda");
    size_t n1 = 0, n2 = 0;
    unsigned char *p1 = gt_test_read_all(tp("cpu.png"), &n1), *p2 = gt_test_read_all(tp("fake.png"), &n2);
    CHECK_MSG(p1 && p2 && n1 == n2 && memcmp(p1, p2, n1) == 0, "the fake GPU's sample grid differs from the CPU's");
    free(p1), free(p2);
    char fc[160], fg[160];
    CHECK_CLI(0, "FID", "eval", "--fake", a, "--real", g_idx, "--extractor", "pixels", "--n", "16", "--quiet",
              "--no-cache");
    fid_line(fc, sizeof fc);
    CHECK_CLI(0, "FID", "eval", "--fake", a, "--real", g_idx, "--extractor", "pixels", "--n", "16", "--quiet",
              "--no-cache", "--device", "cuda");
    fid_line(fg, sizeof fg);
    CHECK_MSG(fc[0] && strcmp(fc, fg) == 0, "eval: CPU '%s', fake GPU '%s'", fc, fg);
    /* the Fashion-MNIST extractor: its fused forward on the CPU, the ops on a GPU; the same FID to 1e-4 */
    CHECK_CLI(0, "FID", "eval", "--fake", a, "--real", g_idx, "--extractor", "fmnist", "--n", "16", "--quiet",
              "--no-cache");
    fid_line(fc, sizeof fc);
    CHECK_CLI(0, "FID", "eval", "--fake", a, "--real", g_idx, "--extractor", "fmnist", "--n", "16", "--quiet",
              "--no-cache", "--device", "cuda");
    fid_line(fg, sizeof fg);
    double vc = fc[0] ? atof(fc + 3) : NAN, vg = fg[0] ? atof(fg + 3) : NAN;
    CHECK_MSG(fabs(vc - vg) <= 1e-4 * fabs(vc), "eval --extractor fmnist: CPU '%s', fake GPU '%s'", fc, fg);
    /* past the GPUs; a plugin that finds none: exit 1, nothing written */
    CHECK_CLI(1, "there are 2 GPUs", "train", "--data", g_idx, "--out", tp("fake2"), TINY, "--device", "cuda:2");
    CHECK(!exists(tp("fake2")));
    setenv("GANTRY_FAKE_GPUS", "0", 1);
    CHECK_CLI(1, "no CUDA GPU found (the fake plugin was told GANTRY_FAKE_GPUS=0)", "sample", "--ckpt", a, "--out",
              tp("none.png"), "--device", "cuda");
    CHECK(!exists(tp("none.png")));
    /* mpirun: each rank on GPU local rank mod the GPUs */
    if (gt_dist_ready()) {
        /* a sanitized build: Open MPI's own allocations, as the dist/ tests (CMakeLists.txt) */
        char lsan[PATH_MAX + 64];
        snprintf(lsan, sizeof lsan, "LSAN_OPTIONS=exitcode=23:suppressions=%s/tests/sanitize/lsan.supp", GT_SOURCE_DIR);
        char *env2[] = {"GANTRY_FAKE_GPUS=2", "GANTRY_FAKE_GPU_LOG=1", lsan,
                        "OMPI_MCA_mca_base_component_disable_dlclose=1",
                        "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0", NULL};
        int rc = gt_dist_run_env(2, env2, "train", "--data", g_idx, "--out", tp("mpi2"), TINY, "--device", "cuda",
                                 NULL);
        CHECK_MSG(rc == 0 && strstr(gt_cli_out, "fake gpu: init cuda:0") && strstr(gt_cli_out, "fake gpu: init cuda:1"),
                  "mpirun -np 2 --device cuda on 2 GPUs: rc %d\n%s", rc, gt_cli_out);
        char *env1[] = {"GANTRY_FAKE_GPUS=1", "GANTRY_FAKE_GPU_LOG=1", lsan,
                        "OMPI_MCA_mca_base_component_disable_dlclose=1",
                        "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0", NULL};
        rc = gt_dist_run_env(2, env1, "train", "--data", g_idx, "--out", tp("mpi1"), TINY, "--device", "cuda", NULL);
        const char *first = strstr(gt_cli_out, "fake gpu: init cuda:0");
        CHECK_MSG(rc == 0 && first && strstr(first + 1, "fake gpu: init cuda:0") && !strstr(gt_cli_out, "cuda:1"),
                  "mpirun -np 2 --device cuda on 1 GPU: rc %d\n%s", rc, gt_cli_out);
    }
    unsetenv("GANTRY_FAKE_GPUS");
    unsetenv("GANTRY_CUDA_PLUGIN");
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "the gantry program is not built (looked for %s)\n", gt_cli_bin);
        return 1;
    }
    char plugin[PATH_MAX + 32];
    snprintf(plugin, sizeof plugin, "%s", gt_cli_bin);
    char *slash = strrchr(plugin, '/');
    if (slash) snprintf(slash, sizeof plugin - (size_t)(slash - plugin), "/libgantry_cuda.so");
    g_plugin = access(plugin, R_OK) == 0;
    snprintf(g_fake, sizeof g_fake, "%s", plugin);
    slash = strrchr(g_fake, '/');
    if (slash) snprintf(slash, sizeof g_fake - (size_t)(slash - g_fake), "/libgantry_fakegpu.so");
    printf("  plugin %s: %s\n", plugin, g_plugin ? "built" : "not built");
    snprintf(g_idx, sizeof g_idx, "%s", tp("blobs-images-idx3-ubyte"));
    if (!gt_test_write_idx(g_idx, 32)) return 1;
    RUN(test_info_devices);
    RUN(test_usage);
    RUN(test_cpu_is_the_default);
    RUN(test_cuda_unavailable);
    RUN(test_fake_gpu);
    return gt_test_finish();
}
