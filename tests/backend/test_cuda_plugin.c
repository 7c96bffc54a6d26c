/* The CUDA plugin as the library loads it (device.c: libgantry_cuda.so next to the program).
 * Without the plugin: gt_device_use("cuda") says gantry was built without CUDA. With it, on a
 * machine without a GPU or driver: the plugin loads, exports a complete gt_device_plugin_v1, is
 * safe to ask before init (alloc NULL, sync OK, zero stats), and gt_device_use("cuda") answers
 * "no CUDA GPU found (cudaGetDeviceCount: ...)". With a GPU: a few products and convolutions
 * through cuBLAS and cuDNN (transposed operands, fused bias, groups, dilation, the crop/zero-pad
 * path) agree with the CPU. */
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include "../../src/backend/device_plugin.h"
#include "../common/harness.h"
#include "gantry/device.h"

#define S(...) GT_SHAPE(__VA_ARGS__)

static char plugin_path[PATH_MAX + 32];

static bool find_plugin(void) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return false;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    snprintf(plugin_path, sizeof plugin_path, "%s/libgantry_cuda.so", exe);
    return access(plugin_path, R_OK) == 0;
}

static int gpus = -1; /* what the plugin's count says; -1 without the plugin */

static void test_plugin_table(void) {
    void *h = dlopen(plugin_path, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "dlopen %s: %s", plugin_path, dlerror());
    if (!h) return;
    const gt_device_plugin *p = (const gt_device_plugin *)dlsym(h, "gt_device_plugin_v1");
    CHECK_MSG(p != NULL, "gt_device_plugin_v1 is not exported");
    if (p) {
        CHECK(p->abi == GT_DEVICE_ABI);
        CHECK(p->name && strcmp(p->name, "cuda") == 0);
        CHECK(p->count && p->info && p->init && p->alloc && p->free && p->sync && p->stats && p->empty_cache &&
              p->kernels);
        char err[256] = "";
        gpus = p->count(err, sizeof err);
        printf("plugin: %d GPU(s)%s%s\n", gpus, err[0] ? ": " : "", err);
        if (gpus <= 0) {
            CHECK_MSG(strncmp(err, "cudaGetDeviceCount", 18) == 0, "count's reason: '%s'", err);
            /* before init: nothing allocated, nothing queued, no crash */
            CHECK(p->alloc(1024) == NULL);
            p->free(NULL);
            CHECK(p->sync(err, sizeof err) == GT_OK);
            gt_device_stats s;
            memset(&s, 0xff, sizeof s);
            p->stats(&s);
            CHECK(s.bytes_in_use == 0 && s.bytes_cached == 0 && s.allocs == 0 && s.launches == 0);
            p->empty_cache();
            CHECK(p->kernels->gemm == NULL && p->kernels->conv_fwd == NULL); /* filled by init only */
        }
    }
    dlclose(h);
}

static void test_device_use_without_gpu(void) {
    gt_status st = gt_device_use("cuda");
    CHECK(st == GT_ERR_STATE);
    printf("gt_device_use(\"cuda\"): %s\n", gt_last_error());
    CHECK_MSG(strstr(gt_last_error(), "no CUDA GPU found (cudaGetDeviceCount: ") != NULL, "error: %s",
              gt_last_error());
    char buf[1024];
    CHECK(gt_device_list(buf, sizeof buf) == GT_OK);
    printf("%s", buf);
    CHECK(strstr(buf, "cuda: no GPU found (cudaGetDeviceCount: ") != NULL);
    gt_clear_error();
    CHECK(gt_device_current() == GT_DEVICE_CPU);
}

static void test_without_plugin(void) {
    CHECK(gt_device_use("cuda") == GT_ERR_STATE);
    CHECK_MSG(strstr(gt_last_error(), "built without CUDA") != NULL, "error: %s", gt_last_error());
    gt_clear_error();
}

/* --- with a GPU ---------------------------------------------------------------------------- */
static gt_tensor *dev(gt_tensor *t) { return gt_to_device(t, GT_DEVICE_CUDA); }

static void close_to(const char *what, gt_tensor *gpu, gt_tensor *cpu) {
    CHECK_MSG(gpu != NULL, "%s: no device result (%s)", what, gt_last_error());
    if (gpu) CHECK(gt_test_close(what, gpu, cpu, 1e-4f, 1e-4f));
}

static void test_on_gpu(void) {
    gt_conv_params p1 = gt_conv_params_make(1, 1), p2 = gt_conv_params_make(2, 1);
    gt_conv_params pg = {1, 2, 2, 1, 2, 1, 0, 0, 2}; /* strides (1, 2), pads (2, 1), dilation (2, 1), 2 groups */
    gt_conv_params pt = {2, 2, 0, 0, 3, 3, 2, 2, 1}; /* output_padding 2 = stride, dilation 3: cuDNN's size differs */
    gt_tensor *a = gt_test_randn(1, S(3, 33, 17), 1.0f), *b = gt_test_randn(2, S(3, 40, 17), 1.0f);
    gt_tensor *x = gt_test_randn(3, S(9, 24), 1.0f), *w = gt_test_randn(4, S(31, 24), 1.0f);
    gt_tensor *bias = gt_test_randn(5, S(31), 1.0f);
    gt_tensor *im = gt_test_randn(6, S(2, 4, 11, 10), 1.0f), *k3 = gt_test_randn(7, S(6, 4, 3, 3), 1.0f);
    gt_tensor *kg = gt_test_randn(8, S(6, 2, 3, 2), 1.0f), *cb = gt_test_randn(9, S(6), 1.0f);
    gt_tensor *xt = gt_test_randn(10, S(2, 3, 3, 4), 1.0f), *wt = gt_test_randn(11, S(3, 2, 2, 2), 1.0f);
    gt_tensor *tb = gt_test_randn(12, S(2), 1.0f);
    /* on the CPU first */
    gt_tensor *r_mm = gt_matmul(a, gt_transpose(b, 1, 2)), *r_lin = gt_linear(x, w, bias);
    gt_tensor *r_c1 = gt_conv2d(im, k3, cb, p1), *r_c2 = gt_conv2d(im, k3, NULL, p2);
    gt_tensor *r_cg = gt_conv2d(im, kg, cb, pg);
    gt_tensor *r_ct = gt_conv_transpose2d(xt, wt, tb, pt);
    gt_tensor *r_wg = gt_conv2d_weight_grad(im, r_c2, 3, 3, p2);
    CHECK_MSG(r_mm && r_lin && r_c1 && r_c2 && r_cg && r_ct && r_wg, "the CPU side: %s", gt_last_error());
    gt_status st = gt_device_use("cuda");
    CHECK_MSG(st == GT_OK, "gt_device_use: %s", gt_last_error());
    if (st != GT_OK) return;
    close_to("matmul a @ b^T", gt_matmul(dev(a), gt_transpose(dev(b), 1, 2)), r_mm);
    close_to("linear with bias", gt_linear(dev(x), dev(w), dev(bias)), r_lin);
    close_to("conv2d 3x3 bias", gt_conv2d(dev(im), dev(k3), dev(cb), p1), r_c1);
    close_to("conv2d stride 2", gt_conv2d(dev(im), dev(k3), NULL, p2), r_c2);
    close_to("conv2d groups dilation", gt_conv2d(dev(im), dev(kg), dev(cb), pg), r_cg);
    close_to("conv_transpose2d out_pad", gt_conv_transpose2d(dev(xt), dev(wt), dev(tb), pt), r_ct);
    close_to("conv2d weight grad", gt_conv2d_weight_grad(dev(im), dev(r_c2), 3, 3, p2), r_wg);
    CHECK_MSG(gt_device_sync() == GT_OK, "sync: %s", gt_last_error());
    gt_device_counters c;
    gt_device_counters_get(&c);
    printf("device: %lld allocs, %lld cache hits, %lld launches, peak %lld bytes, %lld host fallbacks\n",
           (long long)c.allocs, (long long)c.cache_hits, (long long)c.launches, (long long)c.peak_bytes,
           (long long)c.host_fallbacks);
    CHECK(c.allocs > 0 && c.launches > 0 && c.peak_bytes > 0);
    CHECK(gt_device_use("cpu") == GT_OK);
}

int main(void) {
    if (!find_plugin()) {
        printf("no %s: gantry built without the CUDA plugin\n", plugin_path);
        RUN(test_without_plugin);
        return gt_test_finish();
    }
    RUN(test_plugin_table);
    if (gpus <= 0) RUN(test_device_use_without_gpu);
    else RUN(test_on_gpu);
    return gt_test_finish();
}
