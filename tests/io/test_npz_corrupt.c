/* Corrupt .npz / .npy: a bad ZIP directory, truncated members, CRC
 * mismatches, damaged deflate streams, bad .npy headers and random byte
 * corruption all give a clear error naming the file (or, for harmless
 * damage, a valid archive), never a crash. */
#include "../common/harness.h"
#include "io_test_util.h"

#include <zlib.h>

static const char *tpath(const char *name) { return gt_test_path(name); }

/* One archive with "mu" (64,) f8 and "u" (3, 5) u1, as bytes. */
static unsigned char *archive(bool compress, size_t *n) {
    gt_npz z;
    gt_npz_init(&z);
    double mu[64];
    uint8_t u[15];
    for (int i = 0; i < 64; i++) mu[i] = i * 0.5 - 3;
    for (int i = 0; i < 15; i++) u[i] = (uint8_t)(i * i);
    CHECK(gt_npz_add(&z, "mu", GT_NPY_F8, 1, (const int64_t[]){64}, mu) == GT_OK);
    CHECK(gt_npz_add(&z, "u", GT_NPY_U1, 2, (const int64_t[]){3, 5}, u) == GT_OK);
    const char *p = tpath("base.npz");
    CHECK(gt_npz_save(&z, p, compress) == GT_OK);
    gt_npz_free(&z);
    void *buf = NULL;
    CHECK(gt_read_file(p, &buf, n, 0) == GT_OK);
    return buf;
}

static uint32_t le32(const unsigned char *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* Loads bytes through a file and expects GT_ERR_FORMAT with both strings. */
static void expect_bad(const char *what, const unsigned char *b, size_t n, const char *s1) {
    const char *path = tpath("bad.npz");
    CHECK(io_write_bytes(path, b, n));
    gt_npz z;
    gt_npz_init(&z);
    gt_status st = gt_npz_load(&z, path);
    const char *m = gt_last_error();
    CHECK_MSG(st == GT_ERR_FORMAT, "%s: status %s (%s)", what, gt_status_name(st), m);
    CHECK_MSG(strstr(m, path), "%s: the message does not name the file: %s", what, m);
    CHECK_MSG(!s1 || strstr(m, s1), "%s: expected '%s' in: %s", what, s1, m);
    CHECK(z.n == 0);
    gt_npz_free(&z);
}

static void test_zip_damage(void) {
    size_t n;
    unsigned char *orig = archive(false, &n), *b = malloc(n + 64);
    size_t eocd = n - 22, cd = le32(orig + eocd + 16);
    size_t data0 = 30 + strlen("mu.npy"); /* the first member's bytes */

    expect_bad("not a zip", (const unsigned char *)"hello, this is not an archive at all....", 40,
               "no ZIP end-of-central-directory");
    expect_bad("empty", orig, 0, "too short");
    memcpy(b, orig, n);
    b[data0 + 200] ^= 0x10; /* a value in mu */
    expect_bad("stored data flipped", b, n, "CRC-32 mismatch");
    memcpy(b, orig, n);
    b[eocd + 16] ^= 0x40; /* directory offset */
    expect_bad("directory offset", b, n, NULL);
    memcpy(b, orig, n);
    b[eocd + 12] = 0xff, b[eocd + 13] = 0xff; /* directory size */
    expect_bad("directory size", b, n, "outside the file");
    memcpy(b, orig, n);
    b[cd] = 'X'; /* central entry signature */
    expect_bad("directory entry", b, n, "corrupt ZIP central directory");
    memcpy(b, orig, n);
    b[cd + 42] ^= 0x07; /* local header offset of the first member */
    expect_bad("local header offset", b, n, "no local header");
    memcpy(b, orig, n);
    b[cd + 10] = 12, b[8] = 12; /* bzip2 */
    expect_bad("method", b, n, "method 12");
    memcpy(b, orig, n);
    b[cd + 8] |= 1, b[6] |= 1; /* encrypted */
    expect_bad("encrypted", b, n, "encrypted");
    memcpy(b, orig, n);
    b[cd + 24] ^= 0x01; /* uncompressed size != compressed size of a stored member */
    expect_bad("sizes", b, n, "do not fit");
    memcpy(b, orig, n);
    b[cd + 20] = 0xf0, b[cd + 21] = 0xff, b[cd + 24] = 0xf0, b[cd + 25] = 0xff; /* member past its data */
    expect_bad("member too long", b, n, "runs past");
    memcpy(b, orig, n);
    b[cd + 46] = 'n'; /* name in the directory != local name */
    expect_bad("names disagree", b, n, "names another file");
    memcpy(b, orig, n);
    b[eocd + 10] = 200; /* more entries than fit */
    expect_bad("entry count", b, n, NULL);
    /* a bad .npy inside a valid zip: flip its magic and fix the CRC by hand */
    memcpy(b, orig, n);
    b[data0 + 1] = 'X';
    {
        uint32_t usize = le32(orig + cd + 24);
        uint32_t c = (uint32_t)crc32(crc32(0, NULL, 0), b + data0, usize);
        for (int i = 0; i < 4; i++) b[14 + i] = b[cd + 16 + i] = (unsigned char)(c >> (8 * i));
    }
    expect_bad("npy magic", b, n, "not a .npy array");
    /* trailing garbage after the end record is not a valid archive */
    memcpy(b, orig, n);
    memset(b + n, 'z', 10);
    expect_bad("trailing bytes", b, n + 10, "end-of-central-directory");
    free(b);
    free(orig);
}

static void test_deflate_damage(void) {
    size_t n;
    unsigned char *orig = archive(true, &n), *b = malloc(n);
    size_t data0 = 30 + strlen("mu.npy");
    uint32_t csize = le32(orig + 18);
    int crc = 0, stream = 0;
    for (uint32_t k = 0; k < csize; k += 7) {
        memcpy(b, orig, n);
        b[data0 + k] ^= 0x5a;
        gt_npz z;
        gt_npz_init(&z);
        gt_status st = gt_npz_parse(&z, b, n, "deflated");
        const char *m = gt_last_error();
        CHECK_MSG(st == GT_ERR_FORMAT && strstr(m, "'deflated'"), "byte %u: %s %s", k, gt_status_name(st), m);
        crc += strstr(m, "CRC-32") != NULL;
        stream += strstr(m, "deflate stream") != NULL;
        gt_npz_free(&z);
    }
    printf("  flipped deflate bytes: %d caught by the stream, %d by the CRC\n", stream, crc);
    free(b);
    free(orig);
}

static void test_truncated(void) {
    for (int compress = 0; compress < 2; compress++) {
        size_t n;
        unsigned char *orig = archive(compress, &n);
        int bad = 0;
        for (size_t k = 0; k < n; k++) {
            gt_npz z;
            gt_npz_init(&z);
            gt_status st = gt_npz_parse(&z, orig, k, "cut.npz");
            if (st != GT_ERR_FORMAT || !strstr(gt_last_error(), "cut.npz")) bad++;
            gt_npz_free(&z);
        }
        CHECK_MSG(bad == 0, "%d of %zu truncations not refused", bad, n);
        free(orig);
    }
    /* a truncated .npy */
    double v[10] = {0};
    CHECK(gt_npy_save(tpath("t.npy"), GT_NPY_F8, 1, (const int64_t[]){10}, v) == GT_OK);
    void *buf;
    size_t n;
    CHECK(gt_read_file(tpath("t.npy"), &buf, &n, 0) == GT_OK);
    CHECK(io_write_bytes(tpath("t.npy"), buf, n - 8));
    gt_npy_array a;
    CHECK(gt_npy_load(&a, tpath("t.npy")) == GT_ERR_FORMAT && strstr(gt_last_error(), "(truncated)") &&
          strstr(gt_last_error(), "t.npy"));
    free(buf);
}

/* .npy headers, one defect each */
static void test_npy_headers(void) {
    struct {
        const char *dict, *expect;
    } cases[] = {
        {"{'descr': '<f8', 'fortran_order': True, 'shape': (2,), }", "Fortran order"},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", "'>f4' is not supported"},
        {"{'descr': '<f8', 'fortran_order': False, }", "lacks 'shape'"},
        {"{'descr': '<f8', 'shape': (2,), }", "lacks 'fortran_order'"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}", "unexpected key 'x'"},
        {"{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }", "structured"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (-2,), }", "not a valid dict"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (2,) ", "not a valid dict"},
        {"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2,), }", "not a valid dict"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }", "not a valid dict"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", "more than 8 dimensions"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }", "too large"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", "needs 24 bytes of data but 16"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned char buf[512] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
        size_t dl = strlen(cases[i].dict);
        buf[8] = (unsigned char)(dl + 1);
        memcpy(buf + 10, cases[i].dict, dl);
        buf[10 + dl] = '\n';
        memset(buf + 11 + dl, 0, 16); /* two doubles of data */
        CHECK(io_write_bytes(tpath("h.npy"), buf, 11 + dl + 16));
        gt_npy_array a;
        gt_status st = gt_npy_load(&a, tpath("h.npy"));
        CHECK_MSG(st == GT_ERR_FORMAT && strstr(gt_last_error(), cases[i].expect) && strstr(gt_last_error(), "h.npy"),
                  "case %zu: %s", i, gt_last_error());
    }
    unsigned char v9[16] = {0x93, 'N', 'U', 'M', 'P', 'Y', 9, 0, 4, 0, '{', '}', ' ', '\n'};
    CHECK(io_write_bytes(tpath("v9.npy"), v9, 14));
    gt_npy_array a;
    CHECK(gt_npy_load(&a, tpath("v9.npy")) == GT_ERR_FORMAT && strstr(gt_last_error(), "version 9.0"));
}

static void test_random_corruption(void) {
    uint64_t seed = 4242;
    int ok = 0, err = 0, other = 0;
    for (int compress = 0; compress < 2; compress++) {
        size_t n;
        unsigned char *orig = archive(compress, &n), *b = malloc(n);
        for (int it = 0; it < 2500; it++) {
            memcpy(b, orig, n);
            int flips = 1 + (int)(io_rand(&seed) % 3);
            for (int f = 0; f < flips; f++) b[io_rand(&seed) % n] = (unsigned char)io_rand(&seed);
            gt_npz z;
            gt_npz_init(&z);
            gt_status st = gt_npz_parse(&z, b, n, "fuzz.npz");
            if (st == GT_OK) ok++;
            else if (st == GT_ERR_FORMAT && strstr(gt_last_error(), "fuzz.npz")) err++;
            else other++, fprintf(stderr, "  %s: %s\n", gt_status_name(st), gt_last_error());
            gt_npz_free(&z);
        }
        free(b);
        free(orig);
    }
    printf("  random corruption: %d still valid (harmless bytes), %d refused\n", ok, err);
    CHECK(other == 0);
    CHECK(err > 2500);
}

int main(void) {
    RUN(test_zip_damage);
    RUN(test_deflate_damage);
    RUN(test_truncated);
    RUN(test_npy_headers);
    RUN(test_random_corruption);
    return gt_test_finish();
}
