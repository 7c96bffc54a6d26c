/* Reliability: thousands of deterministic mutations of valid PNG, JPEG, IDX
 * (raw and gzip, images and labels) and CIFAR-10 files - truncation at many
 * lengths, random byte changes (for PNG also with the chunk CRCs fixed up so
 * the damage reaches the decoder), and header fields set to extreme values.
 * Every open must return either an error whose message names the file, or a
 * valid dataset; never crash, hang (an alarm fails the test), leak memory (the
 * ASan+LSan tree runs this too) or leak file descriptors. */
#include <dirent.h>
#include <signal.h>

#include "data_util.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t next_u64(void) { /* splitmix64: deterministic */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef enum { K_FOLDER, K_IDX, K_CIFAR } kind;

typedef struct {
    const char *what;
    kind k;
    const char *file; /* where mutations are written */
    const char *open; /* what gt_dataset_open is given */
    int res, ch;
    bool png_crc;     /* fix PNG chunk CRCs after some mutations */
    int opened, refused;
} target;

static int fuzz_failures_reported;

/* Recomputes the CRC of every complete PNG chunk. */
static void png_fix_crc(uint8_t *b, size_t n) {
    size_t at = 8;
    while (at + 12 <= n) {
        uint32_t len = (uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3];
        if (len > n - at - 12) break;
        uint32_t crc = (uint32_t)crc32(0, b + at + 4, len + 4);
        uint8_t *c = b + at + 8 + len;
        c[0] = (uint8_t)(crc >> 24), c[1] = (uint8_t)(crc >> 16), c[2] = (uint8_t)(crc >> 8), c[3] = (uint8_t)crc;
        at += 12 + len;
    }
}

static void try_one(target *t, const uint8_t *b, size_t n, const char *how) {
    if (!write_bytes(t->file, b, n)) {
        CHECK_MSG(false, "cannot write %s", t->file);
        return;
    }
    gt_clear_error();
    gt_dataset *ds = gt_dataset_open(t->open, t->res, t->ch, NULL);
    gt_test_checks++;
    if (ds) {
        bool ok = ds->n >= 1 && ds->pixels && ds->h == t->res && ds->w == t->res && ds->c == t->ch;
        if (ok) { /* touch every byte (ASan sees any overrun) */
            unsigned s = 0;
            for (int64_t i = 0; i < ds->n * ds->c * ds->h * ds->w; i++) s += ds->pixels[i];
            for (int64_t i = 0; ds->labels && i < ds->n; i++) s += (unsigned)ds->labels[i];
            (void)s;
        }
        if (!ok) {
            gt_test_failures++;
            if (fuzz_failures_reported++ < 20) fprintf(stderr, "%s (%s): an invalid dataset came back\n", t->what, how);
        }
        t->opened++;
        gt_dataset_free(ds);
    } else {
        const char *e = gt_last_error();
        /* the file itself, or (for folders) the folder it sits in, is named */
        const char *slash = strrchr(t->file, '/');
        bool named = strstr(e, t->file) || (t->k == K_FOLDER && strstr(e, t->open) && slash);
        if (!named || !*e) {
            gt_test_failures++;
            if (fuzz_failures_reported++ < 20)
                fprintf(stderr, "%s (%s): error does not name %s: %s\n", t->what, how, t->file, e);
        }
        t->refused++;
    }
}

/* The mutation schedule for one target (deterministic). */
static void fuzz(target *t, const uint8_t *good, size_t n, int flips, int header_bytes) {
    uint8_t *b = malloc(n + 64);
    char how[96];
    /* 1. truncations: every length up to 96, then ~150 spread over the rest */
    size_t step = n > 96 ? (n - 96) / 150 + 1 : 1;
    for (size_t len = 0; len < n; len += len < 96 ? 1 : step) {
        memcpy(b, good, len);
        snprintf(how, sizeof how, "truncated to %zu of %zu bytes", len, n);
        try_one(t, b, len, how);
    }
    /* 2. extensions: junk after the end */
    for (int extra = 1; extra <= 33; extra += 8) {
        memcpy(b, good, n);
        for (int i = 0; i < extra; i++) b[n + i] = (uint8_t)next_u64();
        snprintf(how, sizeof how, "%d bytes appended", extra);
        try_one(t, b, n + (size_t)extra, how);
    }
    /* 3. header fields: each of the first header_bytes bytes set to extremes */
    static const int vals[] = {0x00, 0xFF, 0x7F, 0x80, 0x01, -1 /* +1 */, -2 /* -1 */};
    for (int at = 0; at < header_bytes && (size_t)at < n; at++)
        for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++) {
            memcpy(b, good, n);
            b[at] = vals[v] >= 0 ? (uint8_t)vals[v] : (uint8_t)(good[at] + (vals[v] == -1 ? 1 : -1));
            if (b[at] == good[at]) continue;
            if (t->png_crc) png_fix_crc(b, n);
            snprintf(how, sizeof how, "byte %d set to 0x%02x", at, b[at]);
            try_one(t, b, n, how);
        }
    /* 4. random changes of 1..8 bytes anywhere (PNG: half with CRCs fixed) */
    for (int i = 0; i < flips; i++) {
        memcpy(b, good, n);
        int k = 1 + (int)(next_u64() % 8);
        for (int j = 0; j < k; j++) {
            size_t at = (size_t)(next_u64() % n);
            b[at] = (next_u64() & 1) ? (uint8_t)next_u64() : (uint8_t)(b[at] ^ (1u << (next_u64() % 8)));
        }
        if (t->png_crc && (i & 1)) png_fix_crc(b, n);
        snprintf(how, sizeof how, "random change %d", i);
        try_one(t, b, n, how);
    }
    free(b);
    printf("  %-28s %zu bytes: %d opened, %d refused\n", t->what, n, t->opened, t->refused);
    /* the good file still opens */
    CHECK(write_bytes(t->file, good, n));
    gt_dataset *ds = gt_dataset_open(t->open, t->res, t->ch, NULL);
    CHECK_MSG(ds != NULL, "%s: the unmutated file fails: %s", t->what, gt_last_error());
    gt_dataset_free(ds);
}

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    while (d && readdir(d)) n++;
    if (d) closedir(d);
    return n;
}

static uint8_t *pattern(int h, int w, int c) {
    uint8_t *p = malloc((size_t)h * w * c);
    for (int i = 0; i < h * w * c; i++) p[i] = (uint8_t)(128 + 90 * sinf((float)i * 0.37f) + (i % 7) * 3);
    return p;
}

static void test_images(void) {
    const struct {
        const char *what, *name;
        int c, jpeg, flips, header;
    } imgs[] = {
        {"PNG RGB", "a.png", 3, 0, 900, 40},
        {"PNG gray", "b.png", 1, 0, 300, 40},
        {"JPEG RGB", "c.jpg", 3, 1, 900, 200},
        {"JPEG gray", "d.jpg", 1, 1, 300, 120},
    };
    for (size_t i = 0; i < sizeof imgs / sizeof imgs[0]; i++) {
        char dir[1024], file[1200];
        snprintf(dir, sizeof dir, "%s", tpath("fz_img%zu", i));
        mkdir_p(dir);
        snprintf(file, sizeof file, "%s/%s", dir, imgs[i].name);
        uint8_t *p = pattern(17, 20, imgs[i].c);
        CHECK(imgs[i].jpeg ? gt_jpeg_write(file, p, 20, 17, imgs[i].c, 80) == GT_OK
                           : gt_png_write(file, p, 20, 17, imgs[i].c) == GT_OK);
        free(p);
        size_t n;
        uint8_t *good = read_all(file, &n, false);
        target t = {imgs[i].what, K_FOLDER, file, dir, 12, 3, !imgs[i].jpeg, 0, 0};
        fuzz(&t, good, n, imgs[i].flips, imgs[i].header);
        /* the decoders straight from memory too: names in messages */
        uint8_t *b = malloc(n);
        for (int k = 0; k < 300; k++) {
            memcpy(b, good, n);
            for (int j = 0; j < 4; j++) b[next_u64() % n] = (uint8_t)next_u64();
            if (!imgs[i].jpeg && (k & 1)) png_fix_crc(b, n);
            gt_image img;
            gt_status st = gt_image_decode(b, n, "mem.img", &img);
            CHECK(st == GT_OK ? (img.data && img.w >= 1 && img.h >= 1) : strstr(gt_last_error(), "mem.img") != NULL);
            gt_image_free(&img);
        }
        free(b);
        free(good);
    }
}

static void test_idx(void) {
    uint8_t px[40 * 6 * 5], lab[40];
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (uint8_t)(i * 13);
    for (int i = 0; i < 40; i++) lab[i] = (uint8_t)(i % 10);
    size_t n, ln;
    uint8_t *img = make_idx(3, (const uint32_t[]){40, 6, 5}, px, &n);
    uint8_t *labs = make_idx(1, (const uint32_t[]){40}, lab, &ln);
    char raw[1024], gz[1024], lraw[1024], lgz[1024];
    snprintf(raw, sizeof raw, "%s", tpath("fzraw/x-images-idx3-ubyte"));
    snprintf(lraw, sizeof lraw, "%s", tpath("fzraw/x-labels-idx1-ubyte"));
    snprintf(gz, sizeof gz, "%s", tpath("fzgz/x-images-idx3-ubyte.gz"));
    snprintf(lgz, sizeof lgz, "%s", tpath("fzgz/x-labels-idx1-ubyte.gz"));
    mkdir_p(tpath("fzraw"));
    mkdir_p(tpath("fzgz"));
    CHECK(write_bytes(lraw, labs, ln) && write_bytes(raw, img, n));
    CHECK(write_gz(lgz, labs, ln) && write_gz(gz, img, n));
    target t1 = {"IDX images raw", K_IDX, raw, raw, 8, 1, false, 0, 0};
    fuzz(&t1, img, n, 700, 16);
    target t2 = {"IDX labels raw", K_IDX, lraw, raw, 8, 1, false, 0, 0};
    fuzz(&t2, labs, ln, 300, 8);
    size_t gn, lgn;
    uint8_t *gimg = read_all(gz, &gn, false), *glab = read_all(lgz, &lgn, false);
    target t3 = {"IDX images gzip", K_IDX, gz, gz, 8, 3, false, 0, 0};
    fuzz(&t3, gimg, gn, 700, 24);
    target t4 = {"IDX labels gzip", K_IDX, lgz, gz, 8, 3, false, 0, 0};
    fuzz(&t4, glab, lgn, 300, 24);
    /* damaged raw content compressed well: the gzip layer is fine, the IDX inside is not */
    uint8_t *b = malloc(n);
    int ok = 0;
    for (int k = 0; k < 200; k++) {
        memcpy(b, img, n);
        b[next_u64() % 16] = (uint8_t)next_u64();
        CHECK(write_gz(gz, b, k % 3 ? n : n - (size_t)(next_u64() % n)));
        gt_dataset *ds = gt_dataset_open(gz, 8, 1, NULL);
        if (ds) ok++;
        else CHECK_ERR_NAMES(gz, NULL);
        gt_dataset_free(ds);
    }
    free(b);
    free(gimg), free(glab), free(img), free(labs);
}

static void test_cifar(void) {
    uint8_t good[3 * 3073];
    for (int i = 0; i < 3 * 3073; i++) good[i] = (uint8_t)(i * 7);
    for (int r = 0; r < 3; r++) good[r * 3073] = (uint8_t)r;
    char file[1024];
    snprintf(file, sizeof file, "%s", tpath("fz_cifar.bin"));
    target t = {"CIFAR-10 file", K_CIFAR, file, file, 16, 3, false, 0, 0};
    fuzz(&t, good, sizeof good, 300, 8);
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "test_fuzz: timed out (a decoder hangs?)\n";
    if (write(2, msg, sizeof msg - 1) < 0) _exit(3);
    _exit(2);
}

int main(void) {
    signal(SIGALRM, on_alarm);
    alarm(300);
    int fds = count_fds();
    RUN(test_images);
    RUN(test_idx);
    RUN(test_cifar);
    CHECK_MSG(count_fds() == fds, "file descriptors leaked: %d before, %d after", fds, count_fds());
    return gt_test_finish();
}
