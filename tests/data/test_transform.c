/* Transforms: antialiased bilinear resize vs torch.nn.functional.interpolate
 * (antialias=True; float, tolerance 5e-6 absolute on values in [0, 1]; seen: 8e-7) and vs
 * PIL Image.resize(BILINEAR) (uint8, tolerance 1 level: PIL rounds after each
 * of its two passes in fixed point, we round once), centre crops vs PIL's crop +
 * resize, RGB -> gray vs PIL convert("L") (exact), layouts, errors. */
#include "data_util.h"

typedef struct {
    const char *name;
    int c, sh, sw, dh, dw, crop;
} rcase;

static const rcase CASES[] = {
    {"up_28_32", 1, 28, 28, 32, 32, 0},   {"up_28_64", 3, 28, 28, 64, 64, 0},  {"down_28_20", 1, 28, 28, 20, 20, 0},
    {"down_64x48_28", 2, 64, 48, 28, 28, 0}, {"mixed_17x23_9x31", 1, 17, 23, 9, 31, 0},
    {"to_1x1", 1, 5, 5, 1, 1, 0},         {"from_1x1", 1, 1, 1, 4, 4, 0},      {"down_3x", 3, 96, 96, 32, 32, 0},
    {"odd_7x", 1, 100, 37, 13, 5, 0},     {"crop_wide", 3, 30, 50, 16, 16, 1}, {"crop_tall", 1, 61, 20, 12, 12, 1},
    {"crop_aspect", 3, 40, 40, 10, 20, 1}, {"crop_up", 1, 9, 14, 32, 32, 1},
};
#define NCASES (int)(sizeof CASES / sizeof CASES[0])

static void test_resize_vs_torch_and_pil(void) {
    const char *names[3 * NCASES];
    gt_tensor *ts[3 * NCASES];
    char nbuf[3 * NCASES][64];
    for (int k = 0; k < NCASES; k++) {
        const rcase *r = &CASES[k];
        gt_tensor *x = gt_test_uniform(100 + k, 3, (const int64_t[]){r->c, r->sh, r->sw}, 0.0f, 1.0f);
        gt_tensor *u = gt_empty_i32(3, x->shape);
        for (int64_t i = 0; i < gt_numel(x); i++) gt_data_i32(u)[i] = (int32_t)lrintf(gt_data(x)[i] * 255.0f);
        int32_t cfg[6] = {r->c, r->sh, r->sw, r->dh, r->dw, r->crop};
        snprintf(nbuf[3 * k], 64, "%s.cfg", r->name);
        snprintf(nbuf[3 * k + 1], 64, "%s.x", r->name);
        snprintf(nbuf[3 * k + 2], 64, "%s.u", r->name);
        ts[3 * k] = gt_from_i32(1, (const int64_t[]){6}, cfg);
        ts[3 * k + 1] = x;
        ts[3 * k + 2] = u;
        for (int j = 0; j < 3; j++) names[3 * k + j] = nbuf[3 * k + j];
    }
    const char *in = tpath("resize_in.gtb");
    CHECK(gt_golden_write(in, 3 * NCASES, names, ts));
    if (!gt_golden_run("data_resize.py", in)) return;
    bool pil = gt_data_i32(gt_golden("have_pil"))[0] != 0;
    if (!pil) printf("  (PIL comparisons skipped: python3-pil not installed)\n");
    for (int k = 0; k < NCASES; k++) {
        const rcase *r = &CASES[k];
        gt_tensor *x = ts[3 * k + 1], *u = ts[3 * k + 2];
        char g[96];
        if (!r->crop) {
            gt_tensor *y = gt_empty(3, (const int64_t[]){r->c, r->dh, r->dw});
            CHECK(gt_resize_f32(gt_data(x), r->c, r->sh, r->sw, gt_data(y), r->dh, r->dw) == GT_OK);
            snprintf(g, sizeof g, "%s.torch", r->name);
            gt_tensor *ref = gt_golden(g);
            CHECK(ref != NULL);
            if (ref) gt_test_close(r->name, y, ref, 0.0f, 5e-6f);
        }
        if (!pil) continue;
        int64_t sn = (int64_t)r->c * r->sh * r->sw, dn = (int64_t)r->c * r->dh * r->dw;
        uint8_t *src = malloc((size_t)sn), *dst = malloc((size_t)dn);
        for (int64_t i = 0; i < sn; i++) src[i] = (uint8_t)gt_data_i32(u)[i];
        gt_status st = r->crop ? gt_crop_resize_u8(src, r->c, r->sh, r->sw, dst, r->dh, r->dw)
                               : gt_resize_u8(src, r->c, r->sh, r->sw, dst, r->dh, r->dw);
        CHECK(st == GT_OK);
        snprintf(g, sizeof g, "%s.pil", r->name);
        gt_tensor *ref = gt_golden(g);
        CHECK(ref && gt_numel(ref) == dn);
        int worst = 0;
        for (int64_t i = 0; ref && i < dn; i++) {
            int d = abs((int)dst[i] - gt_data_i32(ref)[i]);
            worst = d > worst ? d : worst;
        }
        CHECK_MSG(worst <= 1, "%s: max |ours - PIL| = %d levels (tolerance 1)", r->name, worst);
        if (r->c == 3) {
            snprintf(g, sizeof g, "%s.luma", r->name);
            ref = gt_golden(g);
            uint8_t *l = malloc((size_t)(r->sh * r->sw));
            CHECK(gt_convert_channels_u8(src, 3, l, 1, (int64_t)r->sh * r->sw) == GT_OK);
            int64_t bad = 0;
            for (int64_t i = 0; ref && i < (int64_t)r->sh * r->sw; i++) bad += l[i] != gt_data_i32(ref)[i];
            CHECK_MSG(ref && bad == 0, "%s: %lld luma values differ from PIL convert('L')", r->name, (long long)bad);
            free(l);
        }
        free(src);
        free(dst);
    }
}

static void test_resize_properties(void) {
    /* a constant image stays constant; identity is a copy */
    uint8_t src[3 * 13 * 7], dst[3 * 29 * 31];
    memset(src, 77, sizeof src);
    CHECK(gt_resize_u8(src, 3, 13, 7, dst, 29, 31) == GT_OK);
    bool same = true;
    for (size_t i = 0; i < sizeof dst; i++) same &= dst[i] == 77;
    CHECK(same);
    CHECK(gt_crop_resize_u8(src, 3, 13, 7, dst, 5, 5) == GT_OK);
    for (size_t i = 0; i < 75; i++) same &= dst[i] == 77;
    CHECK(same);
    for (size_t i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * 37);
    CHECK(gt_resize_u8(src, 3, 13, 7, dst, 13, 7) == GT_OK && memcmp(src, dst, sizeof src) == 0);
    /* crop to the same aspect, same size: identity */
    CHECK(gt_crop_resize_u8(src, 1, 13, 7, dst, 13, 7) == GT_OK && memcmp(src, dst, 13 * 7) == 0);
    /* a 2:1 crop of a 4 x 4 image to 2 x 4 takes rows 1..2 */
    uint8_t sq[16], out[8];
    for (int i = 0; i < 16; i++) sq[i] = (uint8_t)i;
    CHECK(gt_crop_resize_u8(sq, 1, 4, 4, out, 2, 4) == GT_OK && memcmp(out, sq + 4, 8) == 0);
    /* layouts */
    uint8_t hwc[2 * 3 * 3], chw[18], back[18];
    for (int i = 0; i < 18; i++) hwc[i] = (uint8_t)i;
    gt_hwc_to_chw_u8(hwc, chw, 2, 3, 3);
    CHECK(chw[0] == 0 && chw[1] == 3 && chw[6] == 1 && chw[12] == 2);
    gt_chw_to_hwc_u8(chw, back, 2, 3, 3);
    CHECK(memcmp(hwc, back, 18) == 0);
    /* gray -> RGB in place repeats the plane */
    uint8_t g3[12] = {1, 2, 3, 4};
    CHECK(gt_convert_channels_u8(g3, 1, g3, 3, 4) == GT_OK);
    CHECK(memcmp(g3, g3 + 4, 4) == 0 && memcmp(g3, g3 + 8, 4) == 0 && g3[3] == 4);
}

static void test_transform_errors(void) {
    uint8_t a[16] = {0}, b[16];
    float f[16] = {0};
    CHECK(gt_resize_u8(a, 1, 0, 4, b, 2, 2) == GT_ERR_ARG);
    CHECK_ERR_NAMES("gt_resize_u8", NULL);
    CHECK(gt_resize_u8(a, 1, 4, 4, b, 2, GT_IMAGE_MAX_SIDE + 1) == GT_ERR_ARG);
    CHECK(gt_crop_resize_u8(NULL, 1, 4, 4, b, 2, 2) == GT_ERR_ARG);
    CHECK(gt_resize_f32(f, 0, 4, 4, f, 2, 2) == GT_ERR_ARG);
    CHECK_ERR_NAMES("gt_resize_f32", NULL);
    CHECK(gt_convert_channels_u8(a, 2, b, 3, 4) == GT_ERR_ARG);
    CHECK(gt_convert_channels_u8(a, 1, b, 3, -1) == GT_ERR_ARG);
}

int main(void) {
    RUN(test_resize_vs_torch_and_pil);
    RUN(test_resize_properties);
    RUN(test_transform_errors);
    return gt_test_finish();
}
