/* The CUDA plugin's convolutions (cuda/dnn.cu), its real code, without a GPU: built here with g++
 * against a stand-in for cuDNN's legacy convolution API (cuda_mock_dnn.cpp: plain loops over the
 * descriptors, with cuDNN's dimension checks) and loaded with dlopen; each.h runs the bias and
 * crop / zero-pad kernels as host loops. conv_fwd, conv_data and conv_weight must match gantry's
 * naive CPU kernels (conv.h) over strides, padding, dilation, groups, bias, and the geometries
 * whose output is shorter than cuDNN's (the crop / zero-pad path); the descriptors are cached per
 * geometry; the algorithm picked is the first deterministic FMA one within the workspace
 * preference, an algorithm refused at run time is replaced, never TF32 unless asked for; bad
 * geometries are recorded, out of memory returns false. Skipped without g++ or the CUDA headers. */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/backend/cpu/conv.h"
#include "../../src/backend/device_plugin.h"
#include "../common/harness.h"

typedef struct { /* cuda_mock_dnn.cpp's */
    long descriptors, runs, allocs, launches, fails;
    long non_fma_runs, missing_ws;
    int reject_fwd_algo, fail_alloc, fail_run;
    int last_algo[3];
    char last_fail[256];
} dnn_mock;

static gt_kernels K;
static dnn_mock *M;

static float *rnd(uint64_t seed, int64_t n) {
    float *p = malloc((size_t)(n ? n : 1) * sizeof(float));
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        p[i] = (float)((s >> 11) % 2001) / 1000.0f - 1.0f;
    }
    return p;
}

/* One geometry through the three entries, against the naive CPU kernels. */
static void check_geom(const char *name, gt_conv_geom g, bool bias) {
    int64_t nx = g.n * g.c * g.h * g.w, ny = g.n * g.o * g.ho * g.wo, nw = g.o * (g.c / g.groups) * g.kh * g.kw;
    float *x = rnd(1, nx), *w = rnd(2, nw), *gy = rnd(3, ny), *bo = rnd(4, g.o), *bc = rnd(5, g.c);
    float *y = rnd(6, ny), *ry = rnd(7, ny), *gx = rnd(8, nx), *rgx = rnd(9, nx), *gw = rnd(10, nw), *rgw = rnd(11, nw);
    long fails = M->fails;
    CHECK(K.conv_fwd(&g, x, w, bias ? bo : NULL, y));
    gt_naive_conv_fwd(&g, x, w, bias ? bo : NULL, ry);
    CHECK_MSG(gt_test_close_buf(name, y, ry, ny, 1e-4f, 1e-4f), "%s: conv_fwd", name);
    CHECK(K.conv_data(&g, gy, w, bias ? bc : NULL, gx));
    gt_naive_conv_data(&g, gy, w, bias ? bc : NULL, rgx);
    CHECK_MSG(gt_test_close_buf(name, gx, rgx, nx, 1e-4f, 1e-4f), "%s: conv_data", name);
    CHECK(K.conv_weight(&g, x, gy, gw));
    gt_naive_conv_weight(&g, x, gy, rgw);
    CHECK_MSG(gt_test_close_buf(name, gw, rgw, nw, 1e-4f, 1e-4f), "%s: conv_weight", name);
    CHECK_MSG(M->fails == fails, "%s: recorded '%s'", name, M->last_fail);
    free(x), free(w), free(gy), free(bo), free(bc), free(y), free(ry), free(gx), free(rgx), free(gw), free(rgw);
}

/* {n, c, h, w, o, ho, wo, kh, kw, sh, sw, ph, pw, dh, dw, groups} */
static gt_conv_geom G(int64_t n, int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw, int64_t sh,
                      int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw, int64_t groups) {
    gt_conv_geom g = {n, c, h, w, o, 0, 0, kh, kw, sh, sw, ph, pw, dh, dw, groups};
    g.ho = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1;
    g.wo = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1;
    return g;
}

static void run(void) {
    check_geom("3x3 pad 1, bias", G(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1), true);
    check_geom("4x4 stride 2 pad 1", G(2, 4, 8, 8, 3, 4, 4, 2, 2, 1, 1, 1, 1, 1), false);
    check_geom("groups, dilation, uneven", G(1, 4, 9, 7, 6, 3, 2, 1, 2, 2, 1, 2, 1, 2), true);
    check_geom("depthwise", G(2, 4, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 4), true);
    check_geom("1x1", G(3, 5, 4, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 1), true);
    /* conv_transpose2d(3 -> 2 channels, k 2, stride 2, dilation 3, output_padding 2) from 3x4: its
     * output is 10x12, whose conv gives 4x5 where the geometry has 3x4: crop / zero-pad */
    gt_conv_geom t = G(2, 2, 10, 12, 3, 2, 2, 2, 2, 0, 0, 3, 3, 1);
    CHECK(t.ho == 4 && t.wo == 5);
    t.ho = 3, t.wo = 4;
    long launches = M->launches;
    check_geom("shorter output (crop)", t, true);
    CHECK(M->launches - launches >= 6); /* the crop, the two zero-pads and the biases ran */
    /* no products: y = b, gx = b, gw = 0 without cuDNN */
    long runs = M->runs;
    check_geom("no output channels", G(2, 3, 4, 4, 0, 3, 3, 1, 1, 1, 1, 1, 1, 1), true);
    check_geom("empty batch", G(0, 3, 4, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1), true);
    CHECK(M->runs == runs);
    /* the algorithms: FWD 2 (0 is tensor-op, 1 wants 2 GiB), DATA 1 and FILT 1 (the deterministic) */
    CHECK(M->last_algo[0] == 2 && M->last_algo[1] == 1 && M->last_algo[2] == 1);
    CHECK(M->non_fma_runs == 0 && M->missing_ws == 0);
    /* cached: the same geometry again makes no descriptors */
    long desc = M->descriptors;
    check_geom("3x3 pad 1, bias (again)", G(2, 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1), true);
    CHECK(M->descriptors == desc);
    /* an algorithm refused at run time: the next one (1, over the workspace preference) runs */
    M->reject_fwd_algo = 2;
    check_geom("refused algorithm", G(1, 2, 6, 6, 2, 3, 3, 1, 1, 0, 0, 1, 1, 1), false);
    CHECK(M->last_algo[0] == 1 && M->missing_ws == 0);
    M->reject_fwd_algo = -1;
    /* out of memory (the workspace): false */
    M->fail_alloc = 1;
    gt_conv_geom g = G(1, 2, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    float *buf = rnd(12, 200);
    CHECK(!K.conv_fwd(&g, buf, buf, NULL, buf + 100));
    M->fail_alloc = 0;
    /* cuDNN out of memory: false too, and nothing for sync() to report twice */
    M->fail_run = 1;
    long fails0 = M->fails;
    CHECK(!K.conv_fwd(&g, buf, buf, NULL, buf + 100));
    CHECK(!K.conv_data(&g, buf + 100, buf, NULL, buf));
    CHECK(M->fails == fails0);
    M->fail_run = 0;
    /* a geometry cuDNN cannot take: recorded for sync(), not a crash, not out of memory */
    long fails = M->fails;
    gt_conv_geom bad = G(1, 3, 5, 5, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    bad.groups = 2;
    CHECK(K.conv_fwd(&bad, buf, buf, NULL, buf + 100));
    CHECK(M->fails == fails + 1 && strstr(M->last_fail, "groups") != NULL);
    free(buf);
}

static void test_dnn(void) {
    const char *home = getenv("CUDA_HOME");
    char inc[512], probe[600];
    snprintf(inc, sizeof inc, "%s/include", home && home[0] ? home : "/usr/local/cuda");
    snprintf(probe, sizeof probe, "%s/cudnn.h", inc);
    if (access(probe, R_OK) != 0 || system("command -v g++ > /dev/null 2>&1") != 0) {
        printf("skipped: needs g++ and the CUDA and cuDNN headers (CUDA_HOME or /usr/local/cuda)\n");
        return;
    }
    char so[1024], cmd[4096];
    snprintf(so, sizeof so, "%s", gt_test_path("dnn_mock.so"));
    snprintf(cmd, sizeof cmd,
             "g++ -std=c++17 -shared -fPIC -O1 -Wall -Wextra -Wl,-Bsymbolic -I%s/include -I%s -x c++ %s/cuda/dnn.cu "
             "%s/tests/backend/cuda_mock_dnn.cpp -o %s",
             GT_SOURCE_DIR, inc, GT_SOURCE_DIR, GT_SOURCE_DIR, so);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "building dnn.cu with the mock cuDNN failed: %s", cmd);
    if (rc != 0) return;
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "dlopen: %s", dlerror());
    if (!h) return;
    bool (*init)(gt_kernels *, char *, size_t) = NULL;
    *(void **)&init = dlsym(h, "gt_cuda_dnn_init");
    M = (dnn_mock *)dlsym(h, "gt_dmock");
    char err[256] = "";
    memset(&K, 0, sizeof K);
    CHECK(init && M);
    if (init && M) {
        CHECK_MSG(init(&K, err, sizeof err), "init: %s", err);
        CHECK(K.conv_fwd && K.conv_data && K.conv_weight && !K.gemm);
        if (K.conv_fwd && K.conv_data && K.conv_weight) run();
    }
    /* kept loaded: what it holds for good (handles, caches) stays reachable for LeakSanitizer */
}

int main(void) {
    RUN(test_dnn);
    return gt_test_finish();
}
