/* The CUDA plugin's caching allocator (cuda/alloc.cu), its real code, without a GPU: built here
 * with g++ against a stand-in for the CUDA runtime (cuda_mock.cpp: malloc'd "managed" memory that
 * counts calls) and loaded with dlopen. Checks the size classes' reuse and the statistics, the
 * placement hints, emptying the cache (after a sync), the retry after a failed allocation, the
 * cache emptied before the total would pass ~90% of the GPU, and GANTRY_CUDA_CACHE=0. Skipped
 * (and says so) where g++ or the CUDA headers are missing. */
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "../../src/backend/device_plugin.h"
#include "../common/harness.h"
#include "cuda_mock.h"

#define MiB ((size_t)1 << 20)

typedef struct {
    void *h;
    bool (*init)(int, char *, size_t);
    void *(*alloc)(size_t);
    void (*free)(void *);
    void (*empty)(void);
    void (*stats)(gt_device_stats *);
    gt_cuda_mock *m;
} lib;

static const char *cuda_include(void) {
    static char buf[512];
    const char *home = getenv("CUDA_HOME");
    snprintf(buf, sizeof buf, "%s/include", home && home[0] ? home : "/usr/local/cuda");
    char probe[600];
    snprintf(probe, sizeof probe, "%s/cuda_runtime.h", buf);
    return access(probe, R_OK) == 0 ? buf : NULL;
}

static bool build(const char *inc, const char *out) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "g++ -std=c++17 -shared -fPIC -O1 -Wall -Wextra -Wl,-Bsymbolic -I%s/include -I%s -I%s/tests/backend "
             "-x c++ %s/cuda/alloc.cu %s/tests/backend/cuda_mock.cpp -o %s",
             GT_SOURCE_DIR, inc, GT_SOURCE_DIR, GT_SOURCE_DIR, GT_SOURCE_DIR, out);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "building alloc.cu with the mock runtime failed: %s", cmd);
    return rc == 0;
}

static bool load(const char *path, lib *L) {
    memset(L, 0, sizeof *L);
    L->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    CHECK_MSG(L->h != NULL, "dlopen %s: %s", path, dlerror());
    if (!L->h) return false;
    *(void **)&L->init = dlsym(L->h, "gt_cuda_alloc_init");
    *(void **)&L->alloc = dlsym(L->h, "gt_cuda_alloc");
    *(void **)&L->free = dlsym(L->h, "gt_cuda_free");
    *(void **)&L->empty = dlsym(L->h, "gt_cuda_empty_cache");
    *(void **)&L->stats = dlsym(L->h, "gt_cuda_alloc_stats");
    L->m = (gt_cuda_mock *)dlsym(L->h, "gt_mock");
    bool ok = L->init && L->alloc && L->free && L->empty && L->stats && L->m;
    CHECK_MSG(ok, "%s lacks the allocator's functions", path);
    return ok;
}

static gt_device_stats stats(const lib *L) {
    gt_device_stats s;
    memset(&s, 0, sizeof s);
    L->stats(&s);
    return s;
}

static void caching(const lib *L) {
    gt_cuda_mock *m = L->m;
    m->total = 64 * MiB; /* the soft cap (90%) is read at init */
    char err[256] = "";
    CHECK_MSG(L->init(0, err, sizeof err), "init: %s", err);
    /* classes: 1000 B -> 1024, reused by 600 B; 3 MiB -> 4 MiB */
    void *p1 = L->alloc(1000);
    gt_device_stats s = stats(L);
    CHECK(p1 && m->mallocs == 1 && s.bytes_in_use == 1024 && s.allocs == 1 && s.cache_hits == 0);
    CHECK(m->advises == 1 && m->prefetches == 1 && m->bad_hints == 0); /* placed on device 0 */
    L->free(p1);
    s = stats(L);
    CHECK(s.bytes_in_use == 0 && s.bytes_cached == 1024 && m->frees == 0);
    void *p2 = L->alloc(600);
    s = stats(L);
    CHECK(p2 == p1 && m->mallocs == 1 && s.cache_hits == 1 && s.bytes_cached == 0 && s.bytes_in_use == 1024);
    void *p3 = L->alloc(3 * MiB);
    s = stats(L);
    CHECK(p3 && m->mallocs == 2 && m->live == 1024 + 4 * MiB && s.bytes_in_use == (int64_t)(1024 + 4 * MiB));
    memset(p3, 0x5a, 3 * MiB); /* the block holds what was asked for */
    L->free(p2);
    L->free(p3);
    CHECK(stats(L).bytes_cached == (int64_t)(1024 + 4 * MiB));
    long syncs = m->syncs;
    L->empty();
    s = stats(L);
    CHECK(m->frees == 2 && m->live == 0 && s.bytes_cached == 0 && m->syncs > syncs && m->unsynced_frees == 0);
    /* a failed allocation empties the cache and tries again once */
    m->limit = 10 * MiB;
    void *a = L->alloc(6 * MiB);
    L->free(a);
    long frees = m->frees;
    void *b = L->alloc(8 * MiB);
    CHECK(b && m->frees == frees + 1 && stats(L).bytes_cached == 0 && m->unsynced_frees == 0);
    long fails = m->fails;
    CHECK(L->alloc(4 * MiB) == NULL); /* nothing cached to give back: out of memory, not an error */
    CHECK(m->fails == fails && stats(L).bytes_in_use == (int64_t)(8 * MiB));
    L->free(b);
    m->limit = 0;
    /* before the total would pass 90% of the GPU's 64 MiB, the cache goes back first */
    void *x = L->alloc(40 * MiB);
    L->free(x);
    frees = m->frees;
    void *y = L->alloc(20 * MiB);
    CHECK(y && m->frees > frees && m->live == 20 * MiB && m->unsynced_frees == 0);
    L->free(y);
    s = stats(L);
    CHECK(s.peak_bytes == (int64_t)(40 * MiB) && s.bytes_in_use == 0);
    CHECK(m->advises == m->mallocs && m->bad_hints == 0);
    /* a pointer the allocator never gave out is reported, not freed */
    int dummy = 0;
    fails = m->fails;
    L->free(&dummy);
    CHECK(m->fails == fails + 1);
    L->empty();
    CHECK(m->live == 0);
}

static void no_cache(const lib *L) {
    gt_cuda_mock *m = L->m;
    m->concurrent = 0; /* a GPU without on-demand paging: no placement hints */
    setenv("GANTRY_CUDA_CACHE", "0", 1);
    char err[256] = "";
    CHECK_MSG(L->init(0, err, sizeof err), "init: %s", err);
    unsetenv("GANTRY_CUDA_CACHE");
    void *p = L->alloc(100);
    CHECK(p && m->mallocs == 1 && m->advises == 0 && m->prefetches == 0);
    L->free(p);
    gt_device_stats s = stats(L);
    CHECK(m->frees == 1 && m->live == 0 && s.bytes_cached == 0 && s.bytes_in_use == 0 && m->unsynced_frees == 0);
    void *q = L->alloc(100);
    CHECK(q && m->mallocs == 2 && stats(L).cache_hits == 0);
    L->free(q);
}

static void test_allocator(void) {
    const char *inc = cuda_include();
    if (!inc || system("command -v g++ > /dev/null 2>&1") != 0) {
        printf("skipped: needs g++ and the CUDA headers (CUDA_HOME or /usr/local/cuda)\n");
        return;
    }
    char a[1024], b[1024], cmd[2200];
    snprintf(a, sizeof a, "%s", gt_test_path("alloc_a.so"));
    snprintf(b, sizeof b, "%s", gt_test_path("alloc_b.so"));
    if (!build(inc, a)) return;
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b); /* a second copy: its own statics */
    CHECK(system(cmd) == 0);
    lib L; /* both kept loaded: their tables stay reachable for LeakSanitizer */
    if (load(a, &L)) caching(&L);
    if (load(b, &L)) no_cache(&L);
}

int main(void) {
    RUN(test_allocator);
    return gt_test_finish();
}
