/* Numbers gantry writes as JSON read back bit-exactly: gt_fmt_double alone
 * (random bit patterns, subnormals, extremes, integers), through cJSON
 * (gt_json_add_number -> cJSON_Print -> cJSON_Parse); NaN and infinities
 * become null. (`gantry eval --json` against the FID computed in the same
 * process, bit for bit: tests/metrics/test_eval.c.) */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "../common/harness.h"

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double from_bits(uint64_t b) {
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static void test_fmt_roundtrip(void) {
    uint64_t s = 42;
    int bad = 0, longest = 0;
    double vals[20000];
    int nv = 0;
    const double special[] = {0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3.0, 8.0262619017704182, 1e-300, 5e-324,
                              2.2250738585072014e-308, 1.7976931348623157e308, 123456789012345678.0, 60000, 2e-4};
    for (size_t i = 0; i < sizeof special / sizeof *special; i++) vals[nv++] = special[i];
    while (nv < 10000) {
        double d = from_bits(splitmix(&s));
        if (isfinite(d)) vals[nv++] = d;
    }
    while (nv < 20000) vals[nv++] = (double)(splitmix(&s) >> 11) * 0x1p-53 * 100.0; /* metric-like values */
    for (int i = 0; i < nv; i++) {
        char b[40];
        gt_fmt_double(vals[i], b, sizeof b);
        double r = strtod(b, NULL);
        int len = (int)strlen(b);
        longest = len > longest ? len : longest;
        if (memcmp(&r, &vals[i], 8) != 0 && !(r == 0 && vals[i] == 0)) {
            if (bad++ < 5) fprintf(stderr, "  %.17g printed as %s\n", vals[i], b);
        }
    }
    CHECK_MSG(bad == 0, "%d of %d doubles do not read back exactly", bad, nv);
    CHECK(longest <= 24);
    char b[40];
    CHECK(strcmp(gt_fmt_double(0.1, b, sizeof b), "0.1") == 0); /* the shortest form, not 0.10000000000000001 */
    CHECK(strcmp(gt_fmt_double(NAN, b, sizeof b), "null") == 0);
    CHECK(strcmp(gt_fmt_double(-INFINITY, b, sizeof b), "null") == 0);
}

static void test_cjson_roundtrip(void) {
    uint64_t s = 7;
    cJSON *o = cJSON_CreateObject();
    double want[500];
    char key[32];
    for (int i = 0; i < 500; i++) {
        want[i] = i < 250 ? from_bits(splitmix(&s) & ~(0x7FFull << 52)) + 1.0 : (double)splitmix(&s) * 1e-19;
        snprintf(key, sizeof key, "k%d", i);
        CHECK(gt_json_add_number(o, key, want[i]) != NULL);
    }
    gt_json_add_number(o, "nan", NAN);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    cJSON *back = text ? cJSON_Parse(text) : NULL;
    CHECK(back != NULL);
    int bad = 0;
    for (int i = 0; back && i < 500; i++) {
        snprintf(key, sizeof key, "k%d", i);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(back, key);
        if (!cJSON_IsNumber(v) || v->valuedouble != want[i]) bad++;
    }
    CHECK_MSG(bad == 0, "%d of 500 numbers changed through cJSON", bad);
    CHECK(back && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(back, "nan")));
    /* cJSON's own printer, for contrast, would not pass: 15 digits when they read back within its epsilon */
    cJSON_Delete(back);
    free(text);
}

int main(void) {
    RUN(test_fmt_roundtrip);
    RUN(test_cjson_roundtrip);
    return gt_test_finish();
}
