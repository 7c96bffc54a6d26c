/* Image resizing for the Inception input: TensorFlow 1.x bilinear (what
 * torch-fidelity runs) and PIL's antialiased bicubic on float planes (what
 * clean-fid runs), plus the uint8 -> network-input pipeline.
 *
 * Both are meant to give the references' bits, so this file is compiled
 * without floating-point contraction: a fused multiply-add rounds once where
 * PyTorch and PIL round twice. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <limits.h>

#include "../internal.h"
#include "gantry/inception.h"

static const char *gt__mode_names[GT_RESIZE_COUNT] = {"tf1", "clean", "pytorch-fid"};

const char *gt_resize_mode_name(gt_resize_mode m) {
    return (unsigned)m < GT_RESIZE_COUNT ? gt__mode_names[m] : "?";
}

gt_status gt_resize_mode_parse(const char *s, gt_resize_mode *out) {
    for (int i = 0; s && i < GT_RESIZE_COUNT; i++)
        if (!strcmp(s, gt__mode_names[i])) {
            *out = (gt_resize_mode)i;
            return GT_OK;
        }
    return gt_set_error(GT_ERR_ARG,
                        "resize mode '%s' is not known: expected 'tf1' (torch-fidelity), 'clean' (clean-fid) or "
                        "'pytorch-fid'",
                        s ? s : "(null)");
}

static gt_status gt__check_sizes(const char *fn, const float *src, int64_t planes, int h, int w, const float *dst,
                                 int oh, int ow) {
    if (!src || !dst) return gt_set_error(GT_ERR_ARG, "%s: NULL buffer", fn);
    if (planes < 0 || h <= 0 || w <= 0 || oh <= 0 || ow <= 0)
        return gt_set_error(GT_ERR_ARG, "%s: sizes must be positive: %lld planes of %dx%d -> %dx%d", fn,
                            (long long)planes, h, w, oh, ow);
    return GT_OK;
}

/* --- TensorFlow 1.x bilinear ------------------------------------------------- */
/* For each output index: the two source indices and the fraction, as
 * torch-fidelity computes them (float32 grid = index * float32(in / out)). */
static void gt__tf1_axis(int in, int out, int *lo, int *hi, float *frac) {
    float scale = (float)((double)in / (double)out);
    for (int i = 0; i < out; i++) {
        float g = (float)i * scale;
        int l = (int)g; /* g >= 0: truncation is floor */
        if (l > in - 1) l = in - 1;
        lo[i] = l;
        hi[i] = l + 1 < in ? l + 1 : in - 1;
        frac[i] = g - (float)l;
    }
}

gt_status gt_resize_tf1(const float *src, int64_t planes, int h, int w, float *dst, int oh, int ow) {
    gt_status st = gt__check_sizes("gt_resize_tf1", src, planes, h, w, dst, oh, ow);
    if (st) return st;
    int *ylo = malloc(sizeof(int) * (size_t)(2 * oh + 2 * ow));
    float *fr = malloc(sizeof(float) * (size_t)(oh + ow));
    if (!ylo || !fr) {
        free(ylo);
        free(fr);
        return gt_set_error(GT_ERR_OOM, "gt_resize_tf1: out of memory for %dx%d index tables", oh, ow);
    }
    int *yhi = ylo + oh, *xlo = yhi + oh, *xhi = xlo + ow;
    float *dy = fr, *dx = fr + oh;
    gt__tf1_axis(h, oh, ylo, yhi, dy);
    gt__tf1_axis(w, ow, xlo, xhi, dx);
    const int64_t hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
#pragma omp parallel for schedule(static) if (planes * ohw > GT_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float *s = src + p * hw;
        float *d = dst + p * ohw;
        for (int y = 0; y < oh; y++) {
            const float *r0 = s + (int64_t)ylo[y] * w, *r1 = s + (int64_t)yhi[y] * w;
            float fy = dy[y];
            float *dr = d + (int64_t)y * ow;
            for (int x = 0; x < ow; x++) {
                float a = r0[xlo[x]], b = r0[xhi[x]], c = r1[xlo[x]], e = r1[xhi[x]];
                float t0 = (b - a) * dx[x], t1 = (e - c) * dx[x];
                float top = a + t0, bot = c + t1;
                float t = (bot - top) * fy;
                dr[x] = top + t;
            }
        }
    }
    free(ylo);
    free(fr);
    return GT_OK;
}

/* --- PyTorch's bilinear (F.interpolate, align_corners=False) --------------------
 * The weights as PyTorch 1.13's CPU kernel gives them (probed through an
 * identity image: exact for every size pair tried): scale = float(in) / out in
 * float; the source index in double, src = scale * (i + 0.5) - 0.5, clamped at
 * 0; i0 = trunc(src), i1 = i0 + (i0 < in - 1); l1 = float(src - i0),
 * l0 = 1 - l1 in float; an equal size copies. A pixel is
 * (x[i0][j0] * w0 + x[i0][j1] * w1) * h0 + (x[i1][j0] * w0 + x[i1][j1] * w1) * h1;
 * PyTorch's build contracts part of that into FMAs, so it can differ by an ulp. */
static void gt__torch_axis(int in, int out, int *i0, int *i1, float *l0, float *l1) {
    const float scale = (float)in / (float)out;
    for (int i = 0; i < out; i++) {
        if (in == out) {
            i0[i] = i1[i] = i, l0[i] = 1.0f, l1[i] = 0.0f;
            continue;
        }
        double src = (double)scale * ((double)i + 0.5) - 0.5;
        if (src < 0.0) src = 0.0;
        int a = (int)src;
        if (a > in - 1) a = in - 1;
        i0[i] = a;
        i1[i] = a + (a < in - 1 ? 1 : 0);
        l1[i] = (float)(src - (double)a);
        l0[i] = 1.0f - l1[i];
    }
}

gt_status gt_resize_torch_bilinear(const float *src, int64_t planes, int h, int w, float *dst, int oh, int ow) {
    gt_status st = gt__check_sizes("gt_resize_torch_bilinear", src, planes, h, w, dst, oh, ow);
    if (st) return st;
    int *iy = malloc(sizeof(int) * (size_t)(2 * oh + 2 * ow));
    float *lam = malloc(sizeof(float) * (size_t)(2 * oh + 2 * ow));
    if (!iy || !lam) {
        free(iy);
        free(lam);
        return gt_set_error(GT_ERR_OOM, "gt_resize_torch_bilinear: out of memory for %dx%d index tables", oh, ow);
    }
    int *iy1 = iy + oh, *ix0 = iy1 + oh, *ix1 = ix0 + ow;
    float *ly0 = lam, *ly1 = ly0 + oh, *lx0 = ly1 + oh, *lx1 = lx0 + ow;
    gt__torch_axis(h, oh, iy, iy1, ly0, ly1);
    gt__torch_axis(w, ow, ix0, ix1, lx0, lx1);
    const int64_t hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
#pragma omp parallel for schedule(static) if (planes * ohw > GT_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float *s = src + p * hw;
        float *d = dst + p * ohw;
        for (int y = 0; y < oh; y++) {
            const float *r0 = s + (int64_t)iy[y] * w, *r1 = s + (int64_t)iy1[y] * w;
            const float h0 = ly0[y], h1 = ly1[y];
            float *dr = d + (int64_t)y * ow;
            for (int x = 0; x < ow; x++) {
                const float t0 = r0[ix0[x]] * lx0[x] + r0[ix1[x]] * lx1[x];
                const float t1 = r1[ix0[x]] * lx0[x] + r1[ix1[x]] * lx1[x];
                dr[x] = t0 * h0 + t1 * h1;
            }
        }
    }
    free(iy);
    free(lam);
    return GT_OK;
}

/* --- PIL bicubic (antialiased) ---------------------------------------------- */
static double gt__bicubic(double x) {
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

typedef struct {
    int ksize;   /* taps per output (the widest window) */
    int *first;  // (out) first source index of each window
    int *count;  // (out) taps in each window
    double *k;   // (out, ksize) weights, normalised to sum 1
} gt__coeffs;

static void gt__coeffs_free(gt__coeffs *c) {
    free(c->first);
    free(c->k);
    c->first = c->count = NULL;
    c->k = NULL;
}

/* PIL's precompute_coeffs for in -> out over the box [0, in). */
static bool gt__coeffs_make(int in, int out, gt__coeffs *c) {
    double scale = (double)((float)in - 0.0f) / out, fscale = scale < 1.0 ? 1.0 : scale;
    double support = 2.0 * fscale; /* bicubic support 2 */
    double ks = ceil(support) * 2 + 1;
    c->ksize = 0;
    c->first = NULL;
    c->k = NULL;
    if (ks * out > (double)(INT_MAX / 8)) return false;
    c->ksize = (int)ks;
    c->first = malloc(sizeof(int) * 2 * (size_t)out);
    c->k = malloc(sizeof(double) * (size_t)out * (size_t)c->ksize);
    if (!c->first || !c->k) {
        gt__coeffs_free(c);
        return false;
    }
    c->count = c->first + out;
    for (int o = 0; o < out; o++) {
        double center = 0.0 + (o + 0.5) * scale, ss = 1.0 / fscale, sum = 0.0;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        int n = hi - lo;
        double *k = c->k + (int64_t)o * c->ksize;
        for (int i = 0; i < n; i++) {
            double v = gt__bicubic((i + lo - center + 0.5) * ss);
            k[i] = v;
            sum += v;
        }
        for (int i = 0; i < n; i++)
            if (sum != 0.0) k[i] /= sum;
        for (int i = n > 0 ? n : 0; i < c->ksize; i++) k[i] = 0.0;
        c->first[o] = lo;
        c->count[o] = n;
    }
    return true;
}

gt_status gt_resize_pil_bicubic(const float *src, int64_t planes, int h, int w, float *dst, int oh, int ow) {
    gt_status st = gt__check_sizes("gt_resize_pil_bicubic", src, planes, h, w, dst, oh, ow);
    if (st) return st;
    const int64_t hw = (int64_t)h * w, ohw = (int64_t)oh * ow;
    bool need_h = ow != w, need_v = oh != h;
    if (!need_h && !need_v) {
        memcpy(dst, src, sizeof(float) * (size_t)(planes * hw));
        return GT_OK;
    }
    gt__coeffs cv = {0}, ch = {0};
    if (!gt__coeffs_make(h, oh, &cv) || (need_h && !gt__coeffs_make(w, ow, &ch))) {
        gt__coeffs_free(&cv);
        gt__coeffs_free(&ch);
        return gt_set_error(GT_ERR_OOM, "gt_resize_pil_bicubic: out of memory for %dx%d -> %dx%d coefficients", h, w,
                            oh, ow);
    }
    /* the horizontal pass covers only the rows the vertical one reads */
    int y0 = need_h ? cv.first[0] : 0, y1 = need_h ? cv.first[oh - 1] + cv.count[oh - 1] : h;
    int th = y1 - y0, tw = need_h ? ow : w;
    float *tmp = NULL;
    if (need_h && need_v) {
        tmp = gt__alloc(sizeof(float) * (size_t)(planes * th * tw));
        if (!tmp) {
            gt__coeffs_free(&cv);
            gt__coeffs_free(&ch);
            return gt_set_error(GT_ERR_OOM, "gt_resize_pil_bicubic: out of memory for the intermediate image");
        }
    }
    const int64_t thw = (int64_t)th * tw;
#pragma omp parallel for schedule(static) if (planes * ohw > GT_PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float *s = src + p * hw;
        const float *mid = s; /* (th, tw) rows y0.. of the horizontally resized plane */
        if (need_h) {
            float *t = need_v ? tmp + p * thw : dst + p * ohw;
            for (int y = 0; y < th; y++) {
                const float *row = s + (int64_t)(y + y0) * w;
                for (int x = 0; x < ow; x++) {
                    const double *k = ch.k + (int64_t)x * ch.ksize;
                    const float *r = row + ch.first[x];
                    double acc = 0.0;
                    for (int i = 0; i < ch.count[x]; i++) acc += r[i] * k[i];
                    t[(int64_t)y * ow + x] = (float)acc;
                }
            }
            mid = t;
        }
        if (need_v) {
            float *d = dst + p * ohw;
            for (int y = 0; y < oh; y++) {
                const double *k = cv.k + (int64_t)y * cv.ksize;
                const float *r = mid + (int64_t)(cv.first[y] - y0) * tw;
                for (int x = 0; x < tw; x++) {
                    double acc = 0.0;
                    for (int i = 0; i < cv.count[y]; i++) acc += r[(int64_t)i * tw + x] * k[i];
                    d[(int64_t)y * tw + x] = (float)acc;
                }
            }
        }
    }
    gt__free(tmp);
    gt__coeffs_free(&cv);
    gt__coeffs_free(&ch);
    return GT_OK;
}

gt_status gt_resize(gt_resize_mode mode, const float *src, int64_t planes, int h, int w, float *dst, int oh, int ow) {
    switch (mode) {
    case GT_RESIZE_TF1: return gt_resize_tf1(src, planes, h, w, dst, oh, ow);
    case GT_RESIZE_CLEAN: return gt_resize_pil_bicubic(src, planes, h, w, dst, oh, ow);
    case GT_RESIZE_PYTORCH_FID: return gt_resize_torch_bilinear(src, planes, h, w, dst, oh, ow);
    default:
        return gt_set_error(GT_ERR_ARG,
                            "gt_resize: unknown resize mode %d (expected GT_RESIZE_TF1, GT_RESIZE_CLEAN or "
                            "GT_RESIZE_PYTORCH_FID)",
                            (int)mode);
    }
}

/* --- uint8 images -> network input --------------------------------------------- */
gt_tensor *gt_inception_preprocess(const uint8_t *images, int64_t n, int c, int h, int w, gt_resize_mode mode) {
    if (!images) return gt__fail(GT_ERR_ARG, "gt_inception_preprocess: images is NULL");
    if (n <= 0 || h <= 0 || w <= 0)
        return gt__fail(GT_ERR_ARG, "gt_inception_preprocess: expected n, h, w > 0, got n=%lld h=%d w=%d",
                        (long long)n, h, w);
    if (c != 1 && c != 3)
        return gt__fail(GT_ERR_SHAPE,
                        "gt_inception_preprocess: images must have 1 (grayscale) or 3 (RGB) channels, got %d", c);
    if ((unsigned)mode >= GT_RESIZE_COUNT)
        return gt__fail(GT_ERR_ARG, "gt_inception_preprocess: unknown resize mode %d", (int)mode);
    const int S = GT_INCEPTION_SIZE;
    const int64_t hw = (int64_t)h * w, ss = (int64_t)S * S;
    gt_tensor *out = gt__new(GT_F32, 4, (const int64_t[]){n, 3, S, S});
    float *in = gt__alloc(sizeof(float) * (size_t)(n * c * hw));
    if (!out || !in) {
        gt__free(in);
        return out ? gt__fail(GT_ERR_OOM, "gt_inception_preprocess: out of memory for %lld images of %dx%dx%d",
                              (long long)n, c, h, w)
                   : NULL;
    }
    const int64_t total = n * c * hw;
    const bool pfid = mode == GT_RESIZE_PYTORCH_FID; /* ToTensor's x / 255 before the resize, 2x - 1 after */
#pragma omp parallel for simd schedule(static) if (parallel: total > GT_PAR_MIN)
    for (int64_t i = 0; i < total; i++) in[i] = pfid ? (float)images[i] / 255.0f : (float)images[i];
    float *o = gt_data(out);
    /* resize the C source planes of each image into channels [0, c) of its output */
    gt_status st = GT_OK;
    for (int64_t i = 0; i < n && !st; i++)
        st = gt_resize(mode, in + i * c * hw, c, h, w, o + i * 3 * ss, S, S);
    gt__free(in);
    if (st) return NULL;
    const int64_t per = 3 * ss;
#pragma omp parallel for schedule(static) if (n * per > GT_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float *p = o + i * per;
        if (pfid)
            for (int64_t k = 0; k < c * ss; k++) p[k] = 2.0f * p[k] - 1.0f;
        else
            for (int64_t k = 0; k < c * ss; k++) p[k] = (p[k] - 128.0f) / 128.0f;
        if (c == 1) {
            memcpy(p + ss, p, sizeof(float) * (size_t)ss);
            memcpy(p + 2 * ss, p, sizeof(float) * (size_t)ss);
        }
    }
    return out;
}
