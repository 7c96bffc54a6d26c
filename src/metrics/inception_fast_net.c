/* The fused Inception forward: the stem one image at a time, then the Mixed
 * blocks on a chunk of images in the (C, B, H, W) layout (inception_fast.h).
 *
 * In each block the 1x1 convs that read the block input run as one stacked
 * sgemm. An average pool followed by a 1x1 conv (the branch_pool of
 * FIDInceptionA / C / E_1) is run as the conv then the pool: both are linear
 * and the pool (padding left out of the count) keeps a constant bias, so
 * relu(conv(avgpool(x)) + b) = relu(avgpool(conv(x)) + b), on 192 channels or
 * fewer instead of up to 1280. The max pool of FIDInceptionE_2 does not
 * commute and runs first, as in the module. */
#include "inception_fast.h"

#include "../backend/cpu/sgemm.h"
#ifdef _OPENMP
#include <omp.h>
#endif

/* Spatial sizes through the net for an H x W input. */
typedef struct {
    int h[10], w[10]; /* 1a, 2a, 2b, pool1, 3b, 4a, pool2 (35), 6a (17), 7a (8); [9] unused */
} gt__dims;

static gt__dims gt__dims_of(int H, int W) {
    gt__dims d;
    int in[2] = {H, W};
    for (int a = 0; a < 2; a++) {
        int *s = a ? d.w : d.h, v = in[a];
        s[0] = (v - 3) / 2 + 1; /* Conv2d_1a_3x3 s2 */
        s[1] = s[0] - 2;        /* Conv2d_2a_3x3 */
        s[2] = s[1];            /* Conv2d_2b_3x3 p1 */
        s[3] = (s[2] - 3) / 2 + 1;
        s[4] = s[3];            /* Conv2d_3b_1x1 */
        s[5] = s[4] - 2;        /* Conv2d_4a_3x3 */
        s[6] = (s[5] - 3) / 2 + 1;
        s[7] = (s[6] - 3) / 2 + 1;
        s[8] = (s[7] - 3) / 2 + 1;
        s[9] = 0;
    }
    return d;
}

static int64_t gt__hw(const gt__dims *d, int k) { return (int64_t)d->h[k] * d->w[k]; }

typedef struct {
    gt_inception *net;
    gt__fast *F;
    int B;
    float *t1, *t2; /* branch temporaries */
    float *s;       /* the stacked 1x1 output */
} gt__ctx;

#define CV(i) (&c->net->conv[blk->first + (i)])
#define TRY(e) \
    if (!(e)) return false

/* The stacked 1x1 sgemm of block i: s (rows, B*H*W), with the segments' epilogues. */
static void gt__stacked(gt__ctx *c, int i, const float *x, int64_t n, int nseg, const gt__seg *seg) {
    const gt__stack *st = &c->F->stack[i];
    gt__fgemm_epi(c->F->par, st->rows, n, st->cin, st->w, x, c->s, st->b, nseg, seg);
}

static bool gt__block_a(gt__ctx *c, int i, const float *x, int H, int W, float *y) {
    const gt__block *blk = &c->net->block[i];
    const int64_t n = (int64_t)c->B * H * W;
    const float *b = c->F->stack[i].b;
    const int r1 = CV(0)->cout, r5 = CV(1)->cout, r3 = CV(3)->cout, rp = CV(6)->cout;
    const gt__seg seg[2] = {{0, r1, y, true}, {r1, r1 + r5 + r3, NULL, true}};
    gt__stacked(c, i, x, n, 2, seg);
    float *s5 = c->s + r1 * n, *s3 = s5 + r5 * n, *sp = s3 + r3 * n;
    float *yp = y + (int64_t)(r1 + CV(2)->cout + CV(5)->cout) * n;
    gt__favg3(c->F->par, sp, (int64_t)rp * c->B, H, W, yp);
    gt__fbias_relu(c->F->par, yp, rp, n, b + r1 + r5 + r3, yp);
    TRY(gt__fconv(c->F, CV(2), s5, c->B, H, W, y + r1 * n, true));
    TRY(gt__fconv(c->F, CV(4), s3, c->B, H, W, c->t1, true));
    return gt__fconv(c->F, CV(5), c->t1, c->B, H, W, y + (int64_t)(r1 + CV(2)->cout) * n, true);
}

static bool gt__block_b(gt__ctx *c, int i, const float *x, int H, int W, float *y) {
    const gt__block *blk = &c->net->block[i];
    const int64_t n = (int64_t)c->B * H * W;
    const int Ho = (H - 3) / 2 + 1, Wo = (W - 3) / 2 + 1;
    const int64_t no = (int64_t)c->B * Ho * Wo;
    TRY(gt__fconv(c->F, CV(0), x, c->B, H, W, y, true));
    const gt__seg seg = {0, CV(1)->cout, NULL, true};
    gt__stacked(c, i, x, n, 1, &seg);
    TRY(gt__fconv(c->F, CV(2), c->s, c->B, H, W, c->t1, true));
    TRY(gt__fconv(c->F, CV(3), c->t1, c->B, H, W, y + CV(0)->cout * no, true));
    gt__fmax3(c->F->par, x, (int64_t)blk->cin * c->B, H, W, 2, 0, y + (int64_t)(CV(0)->cout + CV(3)->cout) * no);
    return true;
}

static bool gt__block_c(gt__ctx *c, int i, const float *x, int H, int W, float *y) {
    const gt__block *blk = &c->net->block[i];
    const int64_t n = (int64_t)c->B * H * W;
    const float *b = c->F->stack[i].b;
    const int r1 = CV(0)->cout, c7 = CV(1)->cout, rp = CV(9)->cout;
    const gt__seg seg[2] = {{0, r1, y, true}, {r1, r1 + 2 * c7, NULL, true}};
    gt__stacked(c, i, x, n, 2, seg);
    float *s7 = c->s + r1 * n, *sd = s7 + c7 * n, *sp = sd + c7 * n;
    float *yp = y + (int64_t)(r1 + CV(3)->cout + CV(8)->cout) * n;
    gt__favg3(c->F->par, sp, (int64_t)rp * c->B, H, W, yp);
    gt__fbias_relu(c->F->par, yp, rp, n, b + r1 + 2 * c7, yp);
    TRY(gt__fconv(c->F, CV(2), s7, c->B, H, W, c->t1, true));
    TRY(gt__fconv(c->F, CV(3), c->t1, c->B, H, W, y + r1 * n, true));
    TRY(gt__fconv(c->F, CV(5), sd, c->B, H, W, c->t1, true));
    TRY(gt__fconv(c->F, CV(6), c->t1, c->B, H, W, c->t2, true));
    TRY(gt__fconv(c->F, CV(7), c->t2, c->B, H, W, c->t1, true));
    return gt__fconv(c->F, CV(8), c->t1, c->B, H, W, y + (int64_t)(r1 + CV(3)->cout) * n, true);
}

static bool gt__block_d(gt__ctx *c, int i, const float *x, int H, int W, float *y) {
    const gt__block *blk = &c->net->block[i];
    const int64_t n = (int64_t)c->B * H * W;
    const int Ho = (H - 3) / 2 + 1, Wo = (W - 3) / 2 + 1;
    const int64_t no = (int64_t)c->B * Ho * Wo;
    const int r3 = CV(0)->cout, r7 = CV(2)->cout;
    const gt__seg seg = {0, r3 + r7, NULL, true};
    gt__stacked(c, i, x, n, 1, &seg);
    TRY(gt__fconv(c->F, CV(1), c->s, c->B, H, W, y, true));
    TRY(gt__fconv(c->F, CV(3), c->s + r3 * n, c->B, H, W, c->t1, true));
    TRY(gt__fconv(c->F, CV(4), c->t1, c->B, H, W, c->t2, true));
    TRY(gt__fconv(c->F, CV(5), c->t2, c->B, H, W, y + CV(1)->cout * no, true));
    gt__fmax3(c->F->par, x, (int64_t)blk->cin * c->B, H, W, 2, 0, y + (int64_t)(CV(1)->cout + CV(5)->cout) * no);
    return true;
}

static bool gt__block_e(gt__ctx *c, int i, const float *x, int H, int W, float *y) {
    const gt__block *blk = &c->net->block[i];
    const int64_t n = (int64_t)c->B * H * W;
    const float *b = c->F->stack[i].b;
    const int r1 = CV(0)->cout, r3 = CV(1)->cout, rd = CV(4)->cout;
    const gt__seg seg[2] = {{0, r1, y, true}, {r1, r1 + r3 + rd, NULL, true}};
    gt__stacked(c, i, x, n, 2, seg);
    float *s3 = c->s + r1 * n, *sd = s3 + r3 * n;
    float *y3 = y + r1 * n, *yd = y3 + (int64_t)(CV(2)->cout + CV(3)->cout) * n;
    float *yp = yd + (int64_t)(CV(6)->cout + CV(7)->cout) * n;
    TRY(gt__fconv(c->F, CV(2), s3, c->B, H, W, y3, true));
    TRY(gt__fconv(c->F, CV(3), s3, c->B, H, W, y3 + CV(2)->cout * n, true));
    TRY(gt__fconv(c->F, CV(5), sd, c->B, H, W, c->t1, true));
    TRY(gt__fconv(c->F, CV(6), c->t1, c->B, H, W, yd, true));
    TRY(gt__fconv(c->F, CV(7), c->t1, c->B, H, W, yd + CV(6)->cout * n, true));
    if (blk->kind == GT__BLK_E1) {
        int rp = CV(8)->cout;
        gt__favg3(c->F->par, sd + rd * n, (int64_t)rp * c->B, H, W, yp);
        gt__fbias_relu(c->F->par, yp, rp, n, b + r1 + r3 + rd, yp);
        return true;
    }
    gt__fmax3(c->F->par, x, (int64_t)blk->cin * c->B, H, W, 1, 1, c->t2);
    return gt__fconv(c->F, CV(8), c->t2, c->B, H, W, yp, true);
}
#undef CV
#undef TRY

static bool gt__run_block(gt__ctx *c, int i, const float *x, int H, int W, float *y) {
    switch (c->net->block[i].kind) {
    case GT__BLK_A: return gt__block_a(c, i, x, H, W, y);
    case GT__BLK_B: return gt__block_b(c, i, x, H, W, y);
    case GT__BLK_C: return gt__block_c(c, i, x, H, W, y);
    case GT__BLK_D: return gt__block_d(c, i, x, H, W, y);
    default: return gt__block_e(c, i, x, H, W, y);
    }
}

/* The stem of one image x (3, H, W) into planes (c, b) of x35 (192, B, h6, w6),
 * using two scratch buffers; pool64 (64) when asked. */
static bool gt__stem(gt__ctx *c, const gt__dims *d, const float *x, int H, int W, int b, float *x35, float *sa,
                     float *sb, float *pool64) {
    gt_inception *net = c->net;
    gt__fast *F = c->F;
    if (!gt__fconv(F, &net->conv[0], x, 1, H, W, sa, true) ||
        !gt__fconv(F, &net->conv[1], sa, 1, d->h[0], d->w[0], sb, true) ||
        !gt__fconv(F, &net->conv[2], sb, 1, d->h[1], d->w[1], sa, true))
        return false;
    gt__fmax3(F->par, sa, 64, d->h[2], d->w[2], 2, 0, sb);
    if (pool64) gt__fmean(F->par, sb, 64, 1, gt__hw(d, 3), pool64);
    if (!x35) return true;
    if (!gt__fconv(F, &net->conv[3], sb, 1, d->h[3], d->w[3], sa, true) ||
        !gt__fconv(F, &net->conv[4], sa, 1, d->h[4], d->w[4], sb, true))
        return false;
    const int64_t hw = gt__hw(d, 6);
    float *pooled = sa; /* (192, h6, w6), then scattered to the chunk's planes */
    gt__fmax3(F->par, sb, 192, d->h[5], d->w[5], 2, 0, pooled);
    for (int ch = 0; ch < 192; ch++)
        memcpy(x35 + ((int64_t)ch * c->B + b) * hw, pooled + ch * hw, sizeof(float) * (size_t)hw);
    return true;
}

static int64_t gt__max3(int64_t a, int64_t b, int64_t c) { return GT_MAX(a, GT_MAX(b, c)); }

/* One forward call's shared state: the input, the outputs, the sizes. */
typedef struct {
    gt_inception *net;
    const float *x;
    int H, W;
    gt__dims d;
    unsigned features;
    bool deep, deeper;
    gt_tensor *o[6], *pool;
    int64_t act, stk, tmp, stem; /* arena floats: per image (act, stk, tmp), and for the stem */
} gt__fwd;

/* Images [n0, n0 + nb) on F (F's arena, sized for B >= nb images). */
static bool gt__chunk(const gt__fwd *f, gt__fast *F, int B, int64_t n0, int nb) {
    float *ar = gt__inception_arena(F, B * (2 * f->act + f->stk + 2 * f->tmp) + 2 * f->stem);
    if (!ar) return false;
    const gt__dims *d = &f->d;
    const int64_t act = B * f->act, stk = B * f->stk, tmp = B * f->tmp;
    float *x0 = ar, *x1 = x0 + act, *sa = x1 + act + stk + 2 * tmp, *sb = sa + f->stem;
    gt__ctx c = {f->net, F, nb, x1 + act + stk, x1 + act + stk + tmp, x1 + act};
    gt_tensor *const *o = f->o;
    const int H = f->H, W = f->W;
    for (int b = 0; b < nb; b++) {
        float *p64 = o[0] ? gt_data(o[0]) + (n0 + b) * 64 : NULL;
        if (!gt__stem(&c, d, f->x + (n0 + b) * 3 * (int64_t)H * W, H, W, b, f->deep ? x0 : NULL, sa, sb, p64))
            return false;
    }
    if (!f->deep) return true;
    if (o[1]) gt__fmean(F->par, x0, 192, nb, gt__hw(d, 6), gt_data(o[1]) + n0 * 192);
    if (!(f->features & ~(unsigned)(GT_INCEPTION_POOL_64 | GT_INCEPTION_POOL_192))) return true;
    float *in = x0, *outb = x1;
    int h = d->h[6], w = d->w[6];
    for (int i = 0; i < GT__INC_NBLOCK; i++) {
        if (i == 8 && !f->deeper) break;
        if (!gt__run_block(&c, i, in, h, w, outb)) return false;
        gt__blk_kind k = f->net->block[i].kind;
        if (k == GT__BLK_B || k == GT__BLK_D) h = (h - 3) / 2 + 1, w = (w - 3) / 2 + 1;
        float *t = in;
        in = outb, outb = t;
        if (i == 7 && o[2]) gt__fmean(F->par, in, 768, nb, (int64_t)h * w, gt_data(o[2]) + n0 * 768);
    }
    if (f->deeper) gt__fmean(F->par, in, 2048, nb, (int64_t)h * w, gt_data(o[3] ? o[3] : f->pool) + n0 * 2048);
    return true;
}

/* Threads of the forward: OpenMP's count (gt_set_num_threads sets it). */
static int gt__fwd_threads(void) {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int gt__fwd_thread(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Data-parallel: each of T threads runs whole chunks on its own lane with
 * single-threaded sgemm; a thread takes the next chunk as it finishes one, the
 * chunks shrinking towards the end (a share of what is left, as OpenMP's
 * guided schedule) so that the threads finish close together. No loop pool,
 * no sgemm threads: nothing waits between layers. */
static bool gt__forward_lanes(const gt__fwd *f, gt__fast *F, int T, int64_t N, int cmax) {
    if (!gt__fast_lanes(F, T)) return false;
    int64_t next = 0;
    bool ok = true;
#pragma omp parallel num_threads(T)
    {
        gt__fast *L = F->lane[gt__fwd_thread()];
        for (;;) {
            int64_t n0, nb;
#pragma omp critical(gt__inception_lanes)
            {
                n0 = next;
                nb = GT_MIN((int64_t)cmax, GT_MAX((int64_t)1, (N - n0 + 2 * T - 1) / (2 * T)));
                if (!ok) n0 = N;
                next = GT_MIN(N, n0 + nb);
            }
            if (n0 >= N) break;
            if (!gt__chunk(f, L, cmax, n0, (int)GT_MIN(nb, N - n0))) {
#pragma omp atomic write
                ok = false;
            }
        }
    }
    return ok;
}

gt_status gt__inception_forward_fast(gt_inception *net, gt_tensor *x, unsigned features, gt_inception_outputs *out) {
    gt_status st = gt__inception_fast_prepare(net);
    if (st) return st;
    gt__fast *F = net->fast;
    const int64_t N = x->shape[0];
    gt__fwd f = {.net = net, .x = gt_data(x), .H = (int)x->shape[2], .W = (int)x->shape[3], .features = features};
    f.d = gt__dims_of(f.H, f.W);
    const gt__dims *d = &f.d;
    f.deep = features & ~(unsigned)GT_INCEPTION_POOL_64;
    f.deeper = features & ~(unsigned)(GT_INCEPTION_POOL_64 | GT_INCEPTION_POOL_192 | GT_INCEPTION_POOL_768);
    /* arena: x0, x1 (block in/out), s (stacked), t1, t2 per image times B; sa, sb for the stem */
    f.act = gt__max3(288 * gt__hw(d, 6), 768 * gt__hw(d, 7), 2048 * gt__hw(d, 8));
    f.stk = gt__max3(240 * gt__hw(d, 6), 768 * gt__hw(d, 7), 1344 * gt__hw(d, 8));
    f.tmp = gt__max3(96 * gt__hw(d, 6), 192 * gt__hw(d, 7), 2048 * gt__hw(d, 8));
    f.stem = GT_MAX(gt__max3(32 * gt__hw(d, 0), 64 * gt__hw(d, 2), 80 * gt__hw(d, 4)),
                    GT_MAX(192 * gt__hw(d, 5), 32 * gt__hw(d, 1)));
    for (int k = 0; k < 6; k++)
        if (features & (1u << k)) {
            f.o[k] = gt__new(GT_F32, 2, (const int64_t[]){N, gt_inception_feature_dim(1u << k)});
            if (!f.o[k]) return gt_last_status();
        }
    if (features & (GT_INCEPTION_LOGITS | GT_INCEPTION_LOGITS_UNBIASED))
        f.pool = f.o[3] ? f.o[3] : gt__new(GT_F32, 2, (const int64_t[]){N, 2048});
    if (f.deeper && !f.pool && !f.o[3]) return gt_last_status();

    /* Data-parallel lanes when every thread gets two images or more (or when
     * asked); otherwise chunks in turn, each layer shared out (OpenBLAS
     * threads, the loop pool). */
    const int T = GT_MIN(gt__fwd_threads(), GT__MAX_LANES);
    const bool lanes = T > 1 && net->par != GT_INCEPTION_PAR_LAYERS && (net->par == GT_INCEPTION_PAR_IMAGES || N >= 2 * T);
    const int64_t cmax = net->chunk > 0 ? net->chunk : lanes ? GT__LANE_CHUNK : 16;
    if (lanes) {
        if (!gt__forward_lanes(&f, F, T, N, (int)cmax))
            return gt_set_error(GT_ERR_OOM, "inception: out of memory for the activations of %d images x %d threads",
                                (int)cmax, T);
    } else {
        /* chunks of near-equal size, at most cmax images (50 -> 13, 13, 12, 12) */
        const int64_t nchunks = (N + cmax - 1) / cmax;
        const int B = (int)((N + nchunks - 1) / nchunks);
        for (int64_t n0 = 0; n0 < N; n0 += B)
            if (!gt__chunk(&f, F, B, n0, (int)GT_MIN((int64_t)B, N - n0)))
                return gt_set_error(GT_ERR_OOM, "inception: out of memory for a chunk of %d images", B);
    }
    gt_tensor **o = f.o;
    for (int k = 4; k < 6; k++)
        if (o[k]) gt__ffc(gt_data(f.pool), N, gt_data(net->fc_w), k == 4 ? gt_data(net->fc_b) : NULL, gt_data(o[k]));
    out->pool64 = o[0], out->pool192 = o[1], out->pool768 = o[2], out->pool2048 = o[3];
    out->logits = o[4], out->logits_unbiased = o[5];
    return GT_OK;
}
