/* Image transforms: separable antialiased bilinear resampling (PIL's BILINEAR /
 * torch's interpolate(antialias=True)), centred crops, channel conversion,
 * interleaved <-> planar layouts. */
#include "data_internal.h"

static double gt__tri(double x) {
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* The filter of one axis: in -> out samples, triangle support scaled by the
 * shrink factor, half-pixel centres (PIL's precompute_coeffs). */
static gt_status gt__axis_init(gt__axis *a, int in, int out) {
    memset(a, 0, sizeof *a);
    double scale = (double)in / out;
    double fs = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * fs;
    a->out = out;
    a->taps = (int)ceil(support) * 2 + 1;
    a->start = malloc(sizeof(int) * (size_t)out);
    a->len = malloc(sizeof(int) * (size_t)out);
    a->w = malloc(sizeof(float) * (size_t)out * (size_t)a->taps);
    if (!a->start || !a->len || !a->w) {
        free(a->start), free(a->len), free(a->w);
        memset(a, 0, sizeof *a);
        return gt_set_error(GT_ERR_OOM, "resize: out of memory planning %d -> %d samples", in, out);
    }
    for (int i = 0; i < out; i++) {
        double center = (i + 0.5) * scale;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        int len = hi - lo;
        if (len > a->taps) len = a->taps;
        if (len < 1) { /* cannot happen for in, out >= 1; keep the nearest sample */
            lo = (int)center < in ? (int)center : in - 1;
            len = 1;
        }
        double k[64], sum = 0.0;
        double *kk = len <= 64 ? k : malloc(sizeof(double) * (size_t)len);
        if (!kk) {
            free(a->start), free(a->len), free(a->w);
            memset(a, 0, sizeof *a);
            return gt_set_error(GT_ERR_OOM, "resize: out of memory planning %d -> %d samples", in, out);
        }
        for (int t = 0; t < len; t++) sum += kk[t] = gt__tri((t + lo - center + 0.5) / fs);
        float *w = a->w + (size_t)i * a->taps;
        for (int t = 0; t < len; t++) w[t] = (float)(sum != 0.0 ? kk[t] / sum : 1.0 / len);
        if (kk != k) free(kk);
        a->start[i] = lo;
        a->len[i] = len;
    }
    return GT_OK;
}

static void gt__axis_free(gt__axis *a) {
    free(a->start), free(a->len), free(a->w);
    memset(a, 0, sizeof *a);
}

static gt_status gt__check_dims(const char *what, int c, int sh, int sw, int dh, int dw) {
    if (c < 1 || c > 4 || sh < 1 || sw < 1 || dh < 1 || dw < 1 || sh > GT_IMAGE_MAX_SIDE ||
        sw > GT_IMAGE_MAX_SIDE || dh > GT_IMAGE_MAX_SIDE || dw > GT_IMAGE_MAX_SIDE)
        return gt_set_error(GT_ERR_ARG, "%s: bad sizes (c %d, %d x %d -> %d x %d); sides must be 1..%d", what, c, sh,
                            sw, dh, dw, GT_IMAGE_MAX_SIDE);
    return GT_OK;
}

gt_status gt__resizer_init(gt__resizer *r, int sh, int sw, int dh, int dw, bool crop) {
    memset(r, 0, sizeof *r);
    gt_status st = gt__check_dims("resize", 1, sh, sw, dh, dw);
    if (st) return st;
    r->sh = sh, r->sw = sw, r->dh = dh, r->dw = dw;
    r->ch = sh, r->cw = sw;
    if (crop) { /* the largest centred box with aspect dh : dw */
        if ((int64_t)sw * dh > (int64_t)sh * dw) r->cw = (int)((int64_t)sh * dw / dh);
        else r->ch = (int)((int64_t)sw * dh / dw);
        if (r->cw < 1) r->cw = 1;
        if (r->ch < 1) r->ch = 1;
        r->y0 = (sh - r->ch) / 2;
        r->x0 = (sw - r->cw) / 2;
    }
    r->identity = r->ch == sh && r->cw == sw && sh == dh && sw == dw;
    if (r->identity) return GT_OK;
    if ((st = gt__axis_init(&r->ax, r->cw, dw))) return st;
    if ((st = gt__axis_init(&r->ay, r->ch, dh))) {
        gt__axis_free(&r->ax);
        return st;
    }
    return GT_OK;
}

void gt__resizer_free(gt__resizer *r) {
    gt__axis_free(&r->ax);
    gt__axis_free(&r->ay);
}

/* Horizontal then vertical pass over one plane; src rows have stride sstride. */
static void gt__resample_plane(const gt__resizer *r, const float *src, int64_t sstride, float *tmp, float *dst) {
    const gt__axis *ax = &r->ax, *ay = &r->ay;
    for (int y = 0; y < r->ch; y++) { /* tmp (ch, dw) */
        const float *row = src + (int64_t)y * sstride;
        float *t = tmp + (int64_t)y * r->dw;
        for (int i = 0; i < r->dw; i++) {
            const float *w = ax->w + (size_t)i * ax->taps;
            const float *s = row + ax->start[i];
            float acc = 0.0f;
            for (int k = 0; k < ax->len[i]; k++) acc += w[k] * s[k];
            t[i] = acc;
        }
    }
    for (int j = 0; j < r->dh; j++) { /* dst (dh, dw) */
        float *d = dst + (int64_t)j * r->dw;
        const float *w = ay->w + (size_t)j * ay->taps;
        for (int i = 0; i < r->dw; i++) d[i] = 0.0f;
        for (int k = 0; k < ay->len[j]; k++) {
            const float *t = tmp + (int64_t)(ay->start[j] + k) * r->dw;
            float wk = w[k];
            for (int i = 0; i < r->dw; i++) d[i] += wk * t[i];
        }
    }
}

static inline uint8_t gt__to_u8(float v) {
    v = floorf(v + 0.5f);
    return v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
}

gt_status gt__resizer_run_u8(const gt__resizer *r, const uint8_t *src, int c, uint8_t *dst, float *tmp) {
    int64_t splane = (int64_t)r->sh * r->sw, dplane = (int64_t)r->dh * r->dw;
    if (r->identity) {
        memcpy(dst, src, (size_t)(c * splane));
        return GT_OK;
    }
    int64_t crop = (int64_t)r->ch * r->cw;
    float *buf = malloc(sizeof(float) * (size_t)(crop + dplane + (tmp ? 0 : (int64_t)r->ch * r->dw)));
    if (!buf) return gt_set_error(GT_ERR_OOM, "resize: out of memory (%d x %d -> %d x %d)", r->sh, r->sw, r->dh, r->dw);
    float *fsrc = buf, *fdst = buf + crop, *t = tmp ? tmp : fdst + dplane;
    for (int p = 0; p < c; p++) {
        const uint8_t *s = src + p * splane + (int64_t)r->y0 * r->sw + r->x0;
        for (int y = 0; y < r->ch; y++)
            for (int x = 0; x < r->cw; x++) fsrc[(int64_t)y * r->cw + x] = s[(int64_t)y * r->sw + x];
        gt__resample_plane(r, fsrc, r->cw, t, fdst);
        uint8_t *d = dst + p * dplane;
        for (int64_t i = 0; i < dplane; i++) d[i] = gt__to_u8(fdst[i]);
    }
    free(buf);
    return GT_OK;
}

gt_status gt_resize_f32(const float *src, int c, int sh, int sw, float *dst, int dh, int dw) {
    if (!src || !dst) return gt_set_error(GT_ERR_ARG, "gt_resize_f32: NULL buffer");
    gt_status st = gt__check_dims("gt_resize_f32", c, sh, sw, dh, dw);
    if (st) return st;
    gt__resizer r;
    if ((st = gt__resizer_init(&r, sh, sw, dh, dw, false))) return st;
    if (r.identity) {
        memcpy(dst, src, sizeof(float) * (size_t)c * sh * sw);
        return GT_OK;
    }
    float *tmp = malloc(sizeof(float) * (size_t)sh * dw);
    if (!tmp) {
        gt__resizer_free(&r);
        return gt_set_error(GT_ERR_OOM, "gt_resize_f32: out of memory");
    }
    for (int p = 0; p < c; p++)
        gt__resample_plane(&r, src + (int64_t)p * sh * sw, sw, tmp, dst + (int64_t)p * dh * dw);
    free(tmp);
    gt__resizer_free(&r);
    return GT_OK;
}

static gt_status gt__resize_u8(const char *what, const uint8_t *src, int c, int sh, int sw, uint8_t *dst, int dh,
                               int dw, bool crop) {
    if (!src || !dst) return gt_set_error(GT_ERR_ARG, "%s: NULL buffer", what);
    gt_status st = gt__check_dims(what, c, sh, sw, dh, dw);
    if (st) return st;
    gt__resizer r;
    if ((st = gt__resizer_init(&r, sh, sw, dh, dw, crop))) return st;
    st = gt__resizer_run_u8(&r, src, c, dst, NULL);
    gt__resizer_free(&r);
    return st;
}

gt_status gt_resize_u8(const uint8_t *src, int c, int sh, int sw, uint8_t *dst, int dh, int dw) {
    return gt__resize_u8("gt_resize_u8", src, c, sh, sw, dst, dh, dw, false);
}

gt_status gt_crop_resize_u8(const uint8_t *src, int c, int sh, int sw, uint8_t *dst, int dh, int dw) {
    return gt__resize_u8("gt_crop_resize_u8", src, c, sh, sw, dst, dh, dw, true);
}

gt_status gt_convert_channels_u8(const uint8_t *src, int sc, uint8_t *dst, int dc, int64_t hw) {
    if (!src || !dst || hw < 0 || (sc != 1 && sc != 3) || (dc != 1 && dc != 3))
        return gt_set_error(GT_ERR_ARG, "gt_convert_channels_u8: channels %d -> %d (must be 1 or 3), %lld pixels", sc,
                            dc, (long long)hw);
    if (sc == dc) {
        if (dst != src) memmove(dst, src, (size_t)(sc * hw));
    } else if (sc == 1) { /* gray -> RGB: planes 2, 1, then 0 (dst may equal src) */
        memmove(dst + 2 * hw, src, (size_t)hw);
        memmove(dst + hw, dst + 2 * hw, (size_t)hw);
        memmove(dst, dst + 2 * hw, (size_t)hw);
    } else {
        const uint8_t *r = src, *g = src + hw, *b = src + 2 * hw;
        for (int64_t i = 0; i < hw; i++)
            dst[i] = (uint8_t)((19595u * r[i] + 38470u * g[i] + 7471u * b[i] + 32768u) >> 16);
    }
    return GT_OK;
}

void gt_hwc_to_chw_u8(const uint8_t *src, uint8_t *dst, int h, int w, int c) {
    int64_t hw = (int64_t)h * w;
    for (int64_t i = 0; i < hw; i++)
        for (int p = 0; p < c; p++) dst[p * hw + i] = src[i * c + p];
}

void gt_chw_to_hwc_u8(const uint8_t *src, uint8_t *dst, int h, int w, int c) {
    int64_t hw = (int64_t)h * w;
    for (int64_t i = 0; i < hw; i++)
        for (int p = 0; p < c; p++) dst[i * c + p] = src[p * hw + i];
}

gt_status gt__transform_into(const gt__resizer *r, const uint8_t *src, int sc, uint8_t *dst, int dc) {
    int64_t dplane = (int64_t)r->dh * r->dw;
    if (sc == dc) return gt__resizer_run_u8(r, src, sc, dst, NULL);
    if (sc == 1) { /* resize once, then repeat the plane */
        gt_status st = gt__resizer_run_u8(r, src, 1, dst, NULL);
        return st ? st : gt_convert_channels_u8(dst, 1, dst, 3, dplane);
    }
    uint8_t *rgb = malloc((size_t)(3 * dplane)); /* resize the colour planes, then take luma */
    if (!rgb) return gt_set_error(GT_ERR_OOM, "transform: out of memory");
    gt_status st = gt__resizer_run_u8(r, src, 3, rgb, NULL);
    if (!st) st = gt_convert_channels_u8(rgb, 3, dst, 1, dplane);
    free(rgb);
    return st;
}
