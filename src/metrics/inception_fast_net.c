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

gt_status gt__inception_forward_fast(gt_inception *net, gt_tensor *x, unsigned features, gt_inception_outputs *out) {
    gt_status st = gt__inception_fast_prepare(net);
    if (st) return st;
    const int64_t N = x->shape[0];
    const int H = (int)x->shape[2], W = (int)x->shape[3];
    const gt__dims d = gt__dims_of(H, W);
    /* chunks of near-equal size, at most `chunk` images (50 -> 13, 13, 12, 12) */
    const int64_t cmax = net->chunk > 0 ? net->chunk : 16, nchunks = (N + cmax - 1) / cmax;
    const int B = (int)((N + nchunks - 1) / nchunks);
    const bool deep = features & ~(unsigned)GT_INCEPTION_POOL_64;
    const bool deeper = features & ~(unsigned)(GT_INCEPTION_POOL_64 | GT_INCEPTION_POOL_192 | GT_INCEPTION_POOL_768);
    /* arena: x0, x1 (block in/out), s (stacked), t1, t2 per image times B; sa, sb for the stem */
    int64_t act = gt__max3(288 * gt__hw(&d, 6), 768 * gt__hw(&d, 7), 2048 * gt__hw(&d, 8));
    int64_t stk = gt__max3(240 * gt__hw(&d, 6), 768 * gt__hw(&d, 7), 1344 * gt__hw(&d, 8));
    int64_t tmp = gt__max3(96 * gt__hw(&d, 6), 192 * gt__hw(&d, 7), 2048 * gt__hw(&d, 8));
    int64_t stem = GT_MAX(gt__max3(32 * gt__hw(&d, 0), 64 * gt__hw(&d, 2), 80 * gt__hw(&d, 4)),
                          GT_MAX(192 * gt__hw(&d, 5), 32 * gt__hw(&d, 1)));
    float *ar = gt__inception_arena(net, B * (2 * act + stk + 2 * tmp) + 2 * stem);
    if (!ar) return gt_set_error(GT_ERR_OOM, "inception: out of memory for a chunk of %d images", B);
    float *x0 = ar, *x1 = x0 + B * act, *sa = x1 + B * act + B * (stk + 2 * tmp), *sb = sa + stem;
    gt__ctx c = {net, net->fast, B, x1 + B * act + B * stk, x1 + B * act + B * (stk + tmp), x1 + B * act};

    gt_tensor *o[6] = {0}, *pool = NULL;
    for (int k = 0; k < 6; k++)
        if (features & (1u << k)) {
            o[k] = gt__new(GT_F32, 2, (const int64_t[]){N, gt_inception_feature_dim(1u << k)});
            if (!o[k]) return gt_last_status();
        }
    if (features & (GT_INCEPTION_LOGITS | GT_INCEPTION_LOGITS_UNBIASED))
        pool = o[3] ? o[3] : gt__new(GT_F32, 2, (const int64_t[]){N, 2048});
    if (deeper && !pool && !o[3]) return gt_last_status();

    const float *xd = gt_data(x);
    for (int64_t n0 = 0; n0 < N; n0 += B) {
        int nb = (int)GT_MIN((int64_t)B, N - n0);
        c.B = nb;
        for (int b = 0; b < nb; b++) {
            float *p64 = o[0] ? gt_data(o[0]) + (n0 + b) * 64 : NULL;
            if (!gt__stem(&c, &d, xd + (n0 + b) * 3 * (int64_t)H * W, H, W, b, deep ? x0 : NULL, sa, sb, p64))
                return gt_set_error(GT_ERR_OOM, "inception: out of memory for the im2col workspace");
        }
        if (!deep) continue;
        if (o[1]) gt__fmean(c.F->par, x0, 192, nb, gt__hw(&d, 6), gt_data(o[1]) + n0 * 192);
        if (!(features & ~(unsigned)(GT_INCEPTION_POOL_64 | GT_INCEPTION_POOL_192))) continue;
        float *in = x0, *outb = x1;
        int h = d.h[6], w = d.w[6];
        for (int i = 0; i < GT__INC_NBLOCK; i++) {
            if (i == 8 && !deeper) break;
            if (!gt__run_block(&c, i, in, h, w, outb))
                return gt_set_error(GT_ERR_OOM, "inception: out of memory for the im2col workspace");
            gt__blk_kind k = net->block[i].kind;
            if (k == GT__BLK_B || k == GT__BLK_D) h = (h - 3) / 2 + 1, w = (w - 3) / 2 + 1;
            float *t = in;
            in = outb, outb = t;
            if (i == 7 && o[2]) gt__fmean(c.F->par, in, 768, nb, (int64_t)h * w, gt_data(o[2]) + n0 * 768);
        }
        if (deeper) gt__fmean(c.F->par, in, 2048, nb, (int64_t)h * w, gt_data(o[3] ? o[3] : pool) + n0 * 2048);
    }
    for (int k = 4; k < 6; k++)
        if (o[k]) gt__ffc(gt_data(pool), N, gt_data(net->fc_w), k == 4 ? gt_data(net->fc_b) : NULL, gt_data(o[k]));
    out->pool64 = o[0], out->pool192 = o[1], out->pool768 = o[2], out->pool2048 = o[3];
    out->logits = o[4], out->logits_unbiased = o[5];
    return GT_OK;
}
