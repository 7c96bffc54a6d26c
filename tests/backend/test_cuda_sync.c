/* The CUDA plugin's table (cuda/plugin.cu), its real code, without a GPU: built here with g++
 * against a stand-in for the CUDA runtime and the plugin's other files (cuda_mock_plugin.cpp) and
 * loaded with dlopen. Checks count's reason, info, init (the kernel table, a failed handle, the
 * same GPU again, a second GPU refused), and sync: the first recorded error (a launch's, with the
 * kernel's name, or gt_cuda_fail's) is reported once, with its status; a failed synchronisation
 * is reported; launch and sync counts. Skipped (and says so) without g++ or the CUDA headers. */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/backend/device_plugin.h"
#include "../common/harness.h"

/* cuda_mock_plugin.cpp's steering; the error codes are cudaError_t's (driver_types.h) */
typedef struct {
    int ndev;
    int count_err, sync_err, next_last_error;
    int blas_fail, set_device_calls, streams;
} plugin_mock;
enum { E_OK = 0, E_MEMORY = 2, E_NO_DEVICE = 100, E_INVALID_CONFIG = 9, E_ILLEGAL_ADDRESS = 700 };

static void run(const gt_device_plugin *P, plugin_mock *m, void (*launched)(const char *),
                void (*fail)(int, const char *, ...)) {
    char err[256];
    /* count: the runtime's reason when there is none */
    m->count_err = E_NO_DEVICE;
    CHECK(P->count(err, sizeof err) == 0);
    CHECK_MSG(strcmp(err, "cudaGetDeviceCount: mock failure (cudaErrorNoDevice)") == 0, "count: %s", err);
    m->count_err = E_OK;
    err[0] = 0;
    CHECK(P->count(err, sizeof err) == 2 && err[0] == 0);
    gt_device_info in;
    CHECK(P->info(1, &in) == GT_OK);
    CHECK(strcmp(in.name, "Mock GPU 1") == 0 && in.cc_major == 9 && in.multiprocessors == 132);
    CHECK(in.total_bytes == (int64_t)80 << 30 && in.free_bytes == (int64_t)79 << 30);
    CHECK(P->info(5, &in) != GT_OK);
    /* before init: sync has nothing to wait for */
    CHECK(P->sync(err, sizeof err) == GT_OK);
    /* init: a handle that cannot be made fails it, with the reason; then it works */
    m->blas_fail = 1;
    CHECK(P->init(0, err, sizeof err) == GT_ERR_STATE);
    CHECK_MSG(strstr(err, "cublasCreate: mock failure") != NULL, "init: %s", err);
    m->blas_fail = 0;
    CHECK_MSG(P->init(0, err, sizeof err) == GT_OK, "init: %s", err);
    CHECK(m->streams == 1); /* one stream, kept across the retry */
    CHECK(P->kernels->name && strcmp(P->kernels->name, "cuda") == 0);
    CHECK(P->kernels->fill != NULL && P->kernels->gemm != NULL); /* own kernels and cuBLAS's */
    CHECK(P->kernels->binary == NULL && P->kernels->adam == NULL); /* the rest fall back to the CPU */
    CHECK(P->init(0, err, sizeof err) == GT_OK); /* back to the same GPU */
    CHECK(P->init(1, err, sizeof err) == GT_ERR_STATE);
    CHECK_MSG(strstr(err, "already uses cuda:0") != NULL, "init(1): %s", err);
    /* sync: no error */
    launched("fine");
    CHECK(P->sync(err, sizeof err) == GT_OK && err[0] == 0);
    /* a launch error, named; the first of two wins; reported once */
    m->next_last_error = E_INVALID_CONFIG;
    launched("bias_add");
    m->next_last_error = E_ILLEGAL_ADDRESS;
    launched("second");
    CHECK(P->sync(err, sizeof err) == GT_ERR_STATE);
    CHECK_MSG(strcmp(err, "kernel bias_add: mock failure (cudaErrorOther)") == 0, "sync: %s", err);
    CHECK(P->sync(err, sizeof err) == GT_OK);
    /* out of memory keeps its status */
    m->next_last_error = E_MEMORY;
    launched("big");
    CHECK(P->sync(err, sizeof err) == GT_ERR_OOM);
    /* gt_cuda_fail's record (cuBLAS, cuDNN) */
    fail(GT_ERR_STATE, "cudnnConvolutionForward (algorithm %d): %s", 1, "CUDNN_STATUS_BAD_PARAM");
    CHECK(P->sync(err, sizeof err) == GT_ERR_STATE);
    CHECK_MSG(strcmp(err, "cudnnConvolutionForward (algorithm 1): CUDNN_STATUS_BAD_PARAM") == 0, "sync: %s", err);
    /* a fault that shows only at the synchronisation */
    m->sync_err = E_ILLEGAL_ADDRESS;
    CHECK(P->sync(err, sizeof err) == GT_ERR_STATE);
    CHECK_MSG(strcmp(err, "cudaStreamSynchronize: mock failure (cudaErrorIllegalAddress)") == 0, "sync: %s", err);
    m->sync_err = E_OK;
    gt_device_stats s;
    P->stats(&s);
    CHECK(s.launches == 4 && s.syncs == 6 && s.bytes_in_use == 4096 && s.allocs == 3);
}

static void test_plugin_logic(void) {
    const char *home = getenv("CUDA_HOME");
    char inc[512], probe[600];
    snprintf(inc, sizeof inc, "%s/include", home && home[0] ? home : "/usr/local/cuda");
    snprintf(probe, sizeof probe, "%s/cuda_runtime.h", inc);
    if (access(probe, R_OK) != 0 || system("command -v g++ > /dev/null 2>&1") != 0) {
        printf("skipped: needs g++ and the CUDA headers (CUDA_HOME or /usr/local/cuda)\n");
        return;
    }
    char so[1024], cmd[4096];
    snprintf(so, sizeof so, "%s", gt_test_path("plugin_mock.so"));
    snprintf(cmd, sizeof cmd,
             "g++ -std=c++17 -shared -fPIC -O1 -Wall -Wextra -Wl,-Bsymbolic -I%s/include -I%s -x c++ %s/cuda/plugin.cu "
             "%s/tests/backend/cuda_mock_plugin.cpp -o %s",
             GT_SOURCE_DIR, inc, GT_SOURCE_DIR, GT_SOURCE_DIR, so);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "building plugin.cu with the mock runtime failed: %s", cmd);
    if (rc != 0) return;
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "dlopen: %s", dlerror());
    if (!h) return;
    const gt_device_plugin *P = (const gt_device_plugin *)dlsym(h, "gt_device_plugin_v1");
    plugin_mock *m = (plugin_mock *)dlsym(h, "gt_pmock");
    void (*launched)(const char *) = NULL;
    void (*fail)(int, const char *, ...) = NULL;
    *(void **)&launched = dlsym(h, "gt_cuda_launched");
    *(void **)&fail = dlsym(h, "gt_cuda_fail");
    CHECK(P && m && launched && fail);
    if (P && m && launched && fail) run(P, m, launched, fail);
    /* kept loaded: what it holds for good (handles, caches) stays reachable for LeakSanitizer */
}

int main(void) {
    RUN(test_plugin_logic);
    return gt_test_finish();
}
