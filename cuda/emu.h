/* cuda/emu.h - a CPU emulator of the CUDA subset gantry's own kernels use (cuda/kernels_*.cu), so the
 * same kernel source compiles with g++ as C++17 when GT_CUDA_EMU is defined and
 * tests/backend/test_cuda_emu checks it against the CPU kernels on machines without a GPU.
 *
 * What it provides: __global__ / __device__ / __host__ (empty), __shared__ (static: the blocks of a
 * grid run one after another on one host thread, so a function's static is one block's shared
 * memory), dim3, threadIdx / blockIdx / blockDim / gridDim (thread_local), atomicAdd (float, double),
 * __syncthreads, and gt_emu::launch, which cuda/launch.h's GT_LAUNCH calls.
 *
 * How a block runs: one fiber per thread (ucontext: makecontext / swapcontext), each on its own
 * stack. The scheduler resumes every fiber of the block in turn; a fiber runs until it ends or
 * reaches __syncthreads, where it yields. When every fiber is waiting the barrier opens and the
 * next round starts; a block where some fibers ended while others wait at a barrier (a divergent
 * __syncthreads, undefined on a GPU) is reported and aborts.
 *
 * Not emulated (the kernels must not use them): warp intrinsics (__shfl*, __ballot*, votes),
 * dynamic shared memory, streams and events, cooperative groups, 2-D/3-D thread blocks beyond
 * indexing. Launches may shrink blocks and grids (gt_emu::config; by default at most 64 threads
 * a block), so kernels must use grid-stride loops and not assume a block size. It shows nothing
 * about timing, coalescing, real concurrency or the order of atomic additions. */
#ifndef GT_CUDA_EMU_H
#define GT_CUDA_EMU_H

#ifndef __cplusplus
#error "cuda/emu.h is C++ (compile the kernels with g++ -std=c++17 -DGT_CUDA_EMU)"
#endif

#include <ucontext.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <math.h>

#if defined(__SANITIZE_ADDRESS__)
#define GT_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GT_EMU_ASAN 1
#endif
#endif
#ifdef GT_EMU_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __forceinline__ inline
#define __restrict__ __restrict

struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

inline thread_local dim3 threadIdx{0, 0, 0}, blockIdx{0, 0, 0}, blockDim, gridDim;

/* One host thread runs every fiber, so a plain read-modify-write is atomic here. */
inline float atomicAdd(float *a, float v) {
    float old = *a;
    *a = old + v;
    return old;
}
inline double atomicAdd(double *a, double v) {
    double old = *a;
    *a = old + v;
    return old;
}

using std::isnan;

/* The rounded float operations nvcc never fuses into an FMA (this build compiles with
 * -ffp-contract=off, so plain operations are not fused either). */
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }

namespace gt_emu {

enum { RUNNING = 0, AT_BARRIER = 1, DONE = 2 };
constexpr size_t STACK = 128 * 1024;

struct fiber {
    ucontext_t ctx;
    char *stack;
    int state;
    dim3 tid;
};

struct state {
    ucontext_t sched;
    fiber *f = nullptr;
    int cap = 0, cur = -1;
    const std::function<void()> *body = nullptr;
    unsigned max_threads = 64, max_blocks = 0; /* 0: the grid as launched */
    long launches = 0, blocks = 0, barriers = 0;
#ifdef GT_EMU_ASAN
    const void *sched_bottom = nullptr;
    size_t sched_size = 0;
#endif
    ~state() {
        for (int i = 0; i < cap; i++) free(f[i].stack);
        free(f);
    }
};

inline state &st() {
    static thread_local state s;
    return s;
}

/* Limits every later launch on this host thread: at most max_threads threads a block (>= 1) and
 * max_blocks blocks a grid (0: as launched). */
inline void config(unsigned max_threads, unsigned max_blocks) {
    st().max_threads = max_threads ? max_threads : 1;
    st().max_blocks = max_blocks;
}

[[noreturn]] inline void fail(const char *what) {
    fprintf(stderr, "cuda emulator: %s\n", what);
    abort();
}

inline void fiber_main() {
    state &s = st();
#ifdef GT_EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &s.sched_bottom, &s.sched_size);
#endif
    (*s.body)();
    s.f[s.cur].state = DONE;
#ifdef GT_EMU_ASAN
    __sanitizer_start_switch_fiber(nullptr, s.sched_bottom, s.sched_size);
#endif
    /* returning resumes uc_link, the scheduler */
}

inline void syncthreads() {
    state &s = st();
    if (s.cur < 0) fail("__syncthreads outside a kernel");
    fiber &me = s.f[s.cur];
    me.state = AT_BARRIER;
    s.barriers++;
#ifdef GT_EMU_ASAN
    void *fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, s.sched_bottom, s.sched_size);
#endif
    if (swapcontext(&me.ctx, &s.sched) != 0) fail("swapcontext failed");
#ifdef GT_EMU_ASAN
    __sanitizer_finish_switch_fiber(fake, &s.sched_bottom, &s.sched_size);
#endif
}

inline void grow(int n) {
    state &s = st();
    if (n <= s.cap) return;
    fiber *nf = static_cast<fiber *>(realloc(s.f, sizeof(fiber) * (size_t)n));
    if (!nf) fail("out of memory for fibers");
    s.f = nf;
    for (int i = s.cap; i < n; i++) {
        s.f[i].stack = static_cast<char *>(malloc(STACK));
        if (!s.f[i].stack) fail("out of memory for fiber stacks");
    }
    s.cap = n;
}

/* A fresh fiber for thread tid: starts fiber_main on its own stack, returns to sched. Kept out of
 * run_block (getcontext returns twice: its caller's locals could be clobbered). */
__attribute__((noinline)) inline void make_fiber(fiber &f, ucontext_t *sched, dim3 tid) {
    if (getcontext(&f.ctx) != 0) fail("getcontext failed");
    f.ctx.uc_stack.ss_sp = f.stack;
    f.ctx.uc_stack.ss_size = STACK;
    f.ctx.uc_link = sched;
    makecontext(&f.ctx, fiber_main, 0);
    f.state = RUNNING;
    f.tid = tid;
}

/* Runs one block: every thread a fiber, rounds between barriers. */
inline void run_block(const dim3 &block) {
    state &s = st();
    int n = (int)(block.x * block.y * block.z);
    grow(n);
    for (int i = 0; i < n; i++)
        make_fiber(s.f[i], &s.sched,
                   dim3((unsigned)i % block.x, ((unsigned)i / block.x) % block.y, (unsigned)i / (block.x * block.y)));
    for (;;) {
        int done = 0, waiting = 0;
        for (int i = 0; i < n; i++) {
            fiber &f = s.f[i];
            if (f.state == DONE) {
                done++;
                continue;
            }
            f.state = RUNNING;
            s.cur = i;
            threadIdx = f.tid;
#ifdef GT_EMU_ASAN
            void *fake = nullptr;
            __sanitizer_start_switch_fiber(&fake, f.stack, STACK);
#endif
            if (swapcontext(&s.sched, &f.ctx) != 0) fail("swapcontext failed");
#ifdef GT_EMU_ASAN
            __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
            if (f.state == DONE) done++;
            else waiting++;
        }
        s.cur = -1;
        if (done == n) return;
        if (done > 0 && waiting > 0) fail("divergent __syncthreads: some threads of a block ended, others wait");
    }
}

/* kernel<<<grid, block>>>(args...) on the host: blocks one after another. */
template <class... P, class... A>
inline void launch(const char *name, void (*kernel)(P...), dim3 grid, dim3 block, A... args) {
    state &s = st();
    if (s.cur >= 0) fail("a launch from inside a kernel");
    if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0) {
        fprintf(stderr, "cuda emulator: %s launched with an empty grid or block\n", name);
        abort();
    }
    if (block.x * block.y * block.z > 1024) fail("more than 1024 threads a block");
    if (block.x > s.max_threads) block.x = s.max_threads;
    if (s.max_blocks && grid.x > s.max_blocks) grid.x = s.max_blocks;
    std::function<void()> body = [&]() { kernel(args...); };
    s.body = &body;
    s.launches++;
    blockDim = block;
    gridDim = grid;
    for (unsigned z = 0; z < grid.z; z++)
        for (unsigned y = 0; y < grid.y; y++)
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = dim3(x, y, z);
                s.blocks++;
                run_block(block);
            }
    s.body = nullptr;
}

} // namespace gt_emu

inline void __syncthreads() { gt_emu::syncthreads(); }

#endif
