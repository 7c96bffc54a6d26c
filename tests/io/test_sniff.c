/* What a file holds, from its first bytes (gt_file_sniff), on files written
 * by gantry's own writers and on hand-made headers; and gt_check_writable,
 * the check commands run on their output paths before the work. */
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../common/harness.h"
#include "io_test_util.h"

static const char *tp(const char *name) { return gt_test_path(name); }

static void expect(const char *name, gt_file_kind want) {
    gt_file_kind got = gt_file_sniff(tp(name));
    CHECK_MSG(got == want, "%s: sniffed as %s, expected %s", name, gt_file_kind_name(got), gt_file_kind_name(want));
}

static void test_sniff_written_files(void) {
    uint8_t px[4 * 5 * 3];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7);
    /* names that lie about the content: the bytes decide */
    CHECK(gt_png_write(tp("png.jpg"), px, 5, 4, 3) == GT_OK);
    expect("png.jpg", GT_FILE_PNG);
    CHECK(gt_jpeg_write(tp("jpeg.png"), px, 5, 4, 3, 90) == GT_OK);
    expect("jpeg.png", GT_FILE_JPEG);
    CHECK(gt_npy_save(tp("arr.dat"), GT_NPY_U1, 3, (int64_t[]){1, 4, 15}, px) == GT_OK);
    expect("arr.dat", GT_FILE_NPY);
    gt_npz z;
    gt_npz_init(&z);
    CHECK(gt_npz_add(&z, "images", GT_NPY_U1, 3, (int64_t[]){1, 4, 15}, px) == GT_OK);
    CHECK(gt_npz_save(&z, tp("z.bin"), true) == GT_OK);
    gt_npz_free(&z);
    expect("z.bin", GT_FILE_ZIP);
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_add(&s, "w", GT_ST_U8, 1, (int64_t[]){60}, px, false) == GT_OK);
    CHECK(gt_st_save(&s, tp("w.npy")) == GT_OK);
    gt_st_free(&s);
    expect("w.npy", GT_FILE_SAFETENSORS);
    /* IDX (MNIST's layout: 0 0 08 03, then the sizes), raw and gzip */
    uint8_t idx[16 + 4] = {0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4};
    CHECK(io_write_bytes(tp("idx.png"), idx, sizeof idx));
    expect("idx.png", GT_FILE_IDX);
    gzFile g = gzopen(tp("idx.gz"), "wb");
    CHECK(g && gzwrite(g, idx, sizeof idx) == (int)sizeof idx);
    if (g) gzclose(g);
    expect("idx.gz", GT_FILE_GZIP);
    CHECK(io_write_bytes(tp("cfg"), "\xEF\xBB\xBF \n{\"a\": 1}", 13));
    expect("cfg", GT_FILE_JSON);
    CHECK(io_write_bytes(tp("empty"), "", 0));
    expect("empty", GT_FILE_EMPTY);
    CHECK(io_write_bytes(tp("text"), "hello, world", 12));
    expect("text", GT_FILE_UNKNOWN);
    expect("no-such-file", GT_FILE_UNREADABLE);
    CHECK(gt_file_sniff(gt_test_tmpdir()) == GT_FILE_UNREADABLE); /* a folder */
    CHECK(gt_file_sniff(NULL) == GT_FILE_UNREADABLE);
}

static void test_sniff_near_misses(void) {
    /* an IDX-like header with an undefined type code (0x0A) or 5 dimensions is not IDX */
    CHECK(gt_file_sniff_bytes((const unsigned char *)"\0\0\x0a\x01", 4) == GT_FILE_UNKNOWN);
    CHECK(gt_file_sniff_bytes((const unsigned char *)"\0\0\x08\x05", 4) == GT_FILE_UNKNOWN);
    CHECK(gt_file_sniff_bytes((const unsigned char *)"\0\0\x0d\x02", 4) == GT_FILE_IDX); /* float32 */
    /* a PNG signature cut short, a lone 0xFF 0xD8 */
    CHECK(gt_file_sniff_bytes((const unsigned char *)"\x89PNG\r\n", 6) == GT_FILE_UNKNOWN);
    CHECK(gt_file_sniff_bytes((const unsigned char *)"\xFF\xD8", 2) == GT_FILE_UNKNOWN);
    /* a safetensors-looking length that is absurd is not safetensors */
    CHECK(gt_file_sniff_bytes((const unsigned char *)"\xff\xff\xff\xff\xff\xff\xff\x7f{", 9) != GT_FILE_SAFETENSORS);
    for (int k = 0; k < GT_FILE_KIND_COUNT; k++) CHECK(strlen(gt_file_kind_name((gt_file_kind)k)) > 3);
}

static void test_check_writable(void) {
    CHECK(gt_check_writable(tp("out.json")) == GT_OK);
    CHECK(access(tp("out.json"), F_OK) != 0);             /* nothing created */
    CHECK(io_count_temps(gt_test_tmpdir(), "out.json") == 0); /* and no temporary left */
    CHECK(gt_check_writable(tp("no-such-dir/out.json")) == GT_ERR_IO);
    CHECK(strstr(gt_last_error(), "does not exist") != NULL);
    CHECK(gt_check_writable(gt_test_tmpdir()) == GT_ERR_ARG);
    CHECK(strstr(gt_last_error(), "is a folder") != NULL);
    CHECK(io_write_bytes(tp("afile"), "x", 1));
    CHECK(gt_check_writable(tp("afile/out.json")) == GT_ERR_IO); /* a file where a folder should be */
    CHECK(strstr(gt_last_error(), "not a folder") != NULL);
    CHECK(gt_check_writable(tp("sub/")) != GT_OK);
    CHECK(gt_check_writable("") == GT_ERR_ARG && gt_check_writable(NULL) == GT_ERR_ARG);
    /* an existing file may be replaced (the write is atomic) */
    CHECK(gt_check_writable(tp("afile")) == GT_OK);
}

int main(void) {
    RUN(test_sniff_written_files);
    RUN(test_sniff_near_misses);
    RUN(test_check_writable);
    return gt_test_finish();
}
