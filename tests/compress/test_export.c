/* Exported C (gt_prog_export_c, `gantry export`): the file compiles with `cc -O2 -std=c11 -Wall
 * -Wextra -Werror` alone (libm only) in its three builds (AVX2 dispatch, the base kernels, the
 * portable struct vectors), and its output equals gt_prog_run to 1e-5 on programs with every op
 * kind, on DCGAN generators, and in int8; end to end, `gantry export` of a trained checkpoint
 * equals the library's sampling path (as `gantry sample` runs it) to 1e-5, and the object is
 * under 1 MB besides its weights; bad input gets a message, exit 1 or 2 and no file. */
#include <ctype.h>

#include "../cli/cli_util.h"
#include "gantry/compress.h"
#include "gantry/translate.h"
#include "gantry/sampling.h"

static const char *tp(const char *name) { return gt_test_path(name); }

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* A main including the generated file: reads n inputs of FN_IN_NUMEL floats from argv[1], writes
 * the outputs to argv[2]. */
static bool write_main(void) {
    const char *src = "#include <stdio.h>\n#include <stdlib.h>\n#include GEN\n"
                      "int main(int argc, char **argv) {\n"
                      "    if (argc != 4) return 2;\n"
                      "    int n = atoi(argv[3]);\n"
                      "    FILE *fi = fopen(argv[1], \"rb\"), *fo = fopen(argv[2], \"wb\");\n"
                      "    if (!fi || !fo) return 1;\n"
                      "    static float in[IN_N], out[OUT_N];\n"
                      "    for (int i = 0; i < n; i++) {\n"
                      "        if (fread(in, sizeof(float), IN_N, fi) != IN_N) return 1;\n"
                      "        FN(in, out);\n"
                      "        if (fwrite(out, sizeof(float), OUT_N, fo) != OUT_N) return 1;\n"
                      "    }\n"
                      "    return fclose(fo) != 0 || fclose(fi) != 0;\n}\n";
    return gt_test_write_all(tp("main.c"), src, strlen(src));
}

static int sh(const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    fflush(stdout);
    int rc = system(cmd);
    CHECK_MSG(rc == 0, "command failed (%d): %s", rc, cmd);
    return rc;
}

/* Compiles gen (with fn, its upper-case name for the sizes) in the build given by defs and runs it
 * on in (n samples); out gets n * no floats. */
static bool run_exported(const char *gen, const char *fn, const char *FN, const char *defs, const float *in, int64_t ni,
                         float *out, int64_t no, int n) {
    if (!gt_test_write_all(tp("in.bin"), in, sizeof(float) * (size_t)(ni * n))) return false;
    /* the file alone, as a user compiles it (the default build; gen.o for the size check) */
    if ((!*defs && sh("cc -O2 -std=c11 -Wall -Wextra -Werror -c %s -o %s", gen, tp("gen.o"))) ||
        sh("cc -O2 -std=c11 -Wall -Wextra -Werror %s -DGEN='\"%s\"' -DFN=%s -DIN_N=%s_IN_NUMEL -DOUT_N=%s_OUT_NUMEL "
           "-o %s %s -lm",
           defs, gen, fn, FN, FN, tp("gen_exe"), tp("main.c")) ||
        sh("%s %s %s %d", tp("gen_exe"), tp("in.bin"), tp("out.bin"), n))
        return false;
    size_t sz = 0;
    unsigned char *b = gt_test_read_all(tp("out.bin"), &sz);
    bool ok = b && sz == sizeof(float) * (size_t)(no * n);
    if (ok) memcpy(out, b, sz);
    free(b);
    return ok;
}

/* p exported (opts) equals gt_prog_run on n inputs, to atol, in the default build (all: in the three). */
static void check_export_b(const char *what, const gt_prog *p, const gt_export_opts *o, int n, float atol, bool all) {
    const int64_t ni = gt_prog_in_numel(p), no = gt_prog_out_numel(p);
    gt_tensor *x = gt_test_randn(77, 2, (int64_t[]){n, ni}, 1.0f);
    float *want = malloc(sizeof(float) * (size_t)(no * n)), *got = malloc(sizeof(float) * (size_t)(no * n));
    CHECK(gt_prog_run(p, gt_data(x), want, n) == GT_OK);
    const char *fn = o && o->fn_name ? o->fn_name : p->translator ? "translate" : "generate";
    char FN[64];
    for (size_t i = 0; i <= strlen(fn); i++) FN[i] = (char)toupper((unsigned char)fn[i]);
    CHECK_MSG(gt_prog_export_c(p, tp("gen.c"), o) == GT_OK, "%s: %s", what, gt_last_error());
    const char *builds[3] = {"", "-DGT_EXPORT_BASE", "-DGT_EXPORT_PORTABLE"};
    /* clang, when the machine has it: no warnings either, the same values (GNU vectors, then the struct) */
    for (int b = 0; all && access("/usr/bin/clang", X_OK) == 0 && b < 2; b++) {
        if (sh("clang -O2 -std=c11 -Wall -Wextra -Werror %s -DGEN='\"%s\"' -DFN=%s -DIN_N=%s_IN_NUMEL -DOUT_N=%s_OUT_NUMEL "
               "-o %s %s -lm",
               b ? "-DGT_EXPORT_PORTABLE" : "", tp("gen.c"), fn, FN, FN, tp("gen_clang"), tp("main.c")) == 0 &&
            gt_test_write_all(tp("in.bin"), gt_data(x), sizeof(float) * (size_t)(ni * n)) &&
            sh("%s %s %s %d", tp("gen_clang"), tp("in.bin"), tp("out.bin"), n) == 0) {
            size_t sz = 0;
            unsigned char *bb = gt_test_read_all(tp("out.bin"), &sz);
            CHECK(bb && sz == sizeof(float) * (size_t)(no * n));
            if (bb && sz == sizeof(float) * (size_t)(no * n)) {
                char w[160];
                snprintf(w, sizeof w, "%s (clang%s)", what, b ? ", portable" : "");
                CHECK(gt_test_close_buf(w, (const float *)bb, want, no * n, 0.0f, atol));
            }
            free(bb);
        }
    }
    for (int b = 0; b < (all ? 3 : 1); b++) {
        memset(got, 0, sizeof(float) * (size_t)(no * n));
        char w[160];
        snprintf(w, sizeof w, "%s (build '%s')", what, builds[b]);
        CHECK_MSG(run_exported(tp("gen.c"), fn, FN, builds[b], gt_data(x), ni, got, no, n), "%s: did not run", w);
        CHECK(gt_test_close_buf(w, got, want, no * n, 0.0f, atol));
    }
    free(want), free(got);
}

static void check_export(const char *what, const gt_prog *p, const gt_export_opts *o, int n, float atol) {
    check_export_b(what, p, o, n, atol, false);
}

static float *randv(uint64_t seed, int64_t n, float scale) {
    return gt_data(gt_test_randn(seed, 1, (int64_t[]){n}, scale));
}

static void push_inorm(gt_prog *p, int c, bool affine) {
    gt_prog_op *o = gt_prog_push(p, GT_PROG_INORM);
    o->cin = o->cout = c, o->eps = 1e-5f;
    if (affine) {
        o->w = malloc(sizeof(float) * c), o->b = malloc(sizeof(float) * c);
        for (int i = 0; i < c; i++) o->w[i] = 0.5f + 0.1f * (float)i, o->b[i] = 0.05f * (float)(i % 3) - 0.05f;
    }
}

static void push_affine(gt_prog *p, int c, uint64_t seed) {
    gt_prog_op *o = gt_prog_push(p, GT_PROG_AFFINE);
    o->cin = o->cout = c;
    o->w = malloc(sizeof(float) * c), o->b = malloc(sizeof(float) * c);
    memcpy(o->w, randv(seed, c, 0.5f), sizeof(float) * c), memcpy(o->b, randv(seed + 1, c, 0.5f), sizeof(float) * c);
}

/* A translator-like program with every op kind but linear and reshape: reflection-padded convs
 * (stride 1 and 2), instance norms, stride-2 down and transposed-conv up (out_pad), a residual
 * block, nearest upsampling, a standalone affine, all activations, a dot-product layer (3 outputs,
 * reflection padded). */
static void test_every_op(void) {
    gt_prog p;
    gt_prog_init(&p, "t", true, 3, 9, 10);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 3, 12, 5, 1, 2, 0, randv(1, 12 * 3 * 25, 0.2f), randv(2, 12, 0.1f)) == GT_OK);
    p.ops[p.n - 1].pad_reflect = true;
    push_inorm(&p, 12, true);
    gt_prog_push(&p, GT_PROG_RELU);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 12, 20, 3, 2, 1, 0, randv(3, 20 * 12 * 9, 0.2f), NULL) == GT_OK);
    push_affine(&p, 20, 4);
    gt_prog_push(&p, GT_PROG_LRELU)->slope = 0.2f;
    gt_prog_push(&p, GT_PROG_SAVE);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 20, 20, 3, 1, 1, 0, randv(5, 20 * 20 * 9, 0.15f), randv(6, 20, 0.1f)) == GT_OK);
    p.ops[p.n - 1].pad_reflect = true;
    push_inorm(&p, 20, false);
    gt_prog_push(&p, GT_PROG_RELU);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 20, 20, 3, 1, 1, 0, randv(7, 20 * 20 * 9, 0.15f), NULL) == GT_OK);
    gt_prog_push(&p, GT_PROG_ADD);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONVT, 20, 16, 3, 2, 1, 1, randv(8, 20 * 16 * 9, 0.2f), randv(9, 16, 0.1f)) == GT_OK);
    gt_prog_push(&p, GT_PROG_TANH);
    gt_prog_push(&p, GT_PROG_UP2);
    push_affine(&p, 16, 10);
    gt_prog_push(&p, GT_PROG_SIGMOID);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 16, 16, 3, 2, 1, 0, randv(13, 16 * 16 * 9, 0.2f), NULL) == GT_OK);
    p.ops[p.n - 1].pad_reflect = true;
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 16, 3, 3, 1, 1, 0, randv(11, 3 * 16 * 9, 0.2f), randv(12, 3, 0.1f)) == GT_OK);
    p.ops[p.n - 1].pad_reflect = true;
    gt_prog_push(&p, GT_PROG_LRELU)->slope = 0.1f;
    CHECK_MSG(gt_prog_finish(&p) == GT_OK, "%s", gt_last_error());
    CHECK(p.out_c == 3 && p.out_h == 10 && p.out_w == 10);
    gt_export_opts o = {NULL, false};
    check_export_b("every op (translator)", &p, &o, 3, 1e-5f, true);
    size_t n = 0;
    char *txt = (char *)gt_test_read_all(tp("gen.c"), &n);
    CHECK(txt && strstr(txt, "void translate(const float *in, float *out)"));
    free(txt);
    gt_prog_free(&p);

    /* latents: linear -> reshape (8, 3, 3) -> conv -> transposed conv with 9 outputs (2 chunks) ->
       flattened -> linear with 5 outputs (dot products) -> sigmoid */
    gt_prog_init(&p, "t", false, 7, 1, 1);
    CHECK(gt_prog_push_layer(&p, GT_PROG_LINEAR, 7, 72, 1, 1, 0, 0, randv(21, 72 * 7, 0.4f), randv(22, 72, 0.1f)) == GT_OK);
    gt_prog_op *r = gt_prog_push(&p, GT_PROG_RESHAPE);
    r->cout = 8, r->out_h = 3, r->out_w = 3;
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 8, 8, 3, 1, 1, 0, randv(23, 8 * 8 * 9, 0.3f), NULL) == GT_OK);
    gt_prog_push(&p, GT_PROG_RELU);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONVT, 8, 9, 4, 2, 1, 0, randv(24, 8 * 9 * 16, 0.3f), NULL) == GT_OK);
    r = gt_prog_push(&p, GT_PROG_RESHAPE);
    r->cout = 9 * 36, r->out_h = r->out_w = 1;
    CHECK(gt_prog_push_layer(&p, GT_PROG_LINEAR, 324, 5, 1, 1, 0, 0, randv(25, 5 * 324, 0.1f), randv(26, 5, 0.1f)) == GT_OK);
    gt_prog_push(&p, GT_PROG_SIGMOID);
    CHECK_MSG(gt_prog_finish(&p) == GT_OK, "%s", gt_last_error());
    o.fn_name = "my_net";
    check_export_b("linear and reshape (latents)", &p, &o, 4, 1e-5f, true);
    txt = (char *)gt_test_read_all(tp("gen.c"), &n);
    CHECK(txt && strstr(txt, "#define MY_NET_IN_NUMEL 7") && strstr(txt, "#define MY_NET_OUT_NUMEL 5"));
    free(txt);
    gt_prog_free(&p);

    /* only a dot-product layer */
    gt_prog_init(&p, "t", false, 16, 1, 1);
    CHECK(gt_prog_push_layer(&p, GT_PROG_LINEAR, 16, 3, 1, 1, 0, 0, randv(27, 48, 0.3f), NULL) == GT_OK);
    gt_prog_push(&p, GT_PROG_TANH);
    CHECK(gt_prog_finish(&p) == GT_OK);
    check_export("one dot-product layer", &p, NULL, 2, 1e-5f);
    gt_prog_free(&p);
    /* dot-product convs, zero padded, stride 2 and 1, whole kernel rows inside the image or not */
    gt_prog_init(&p, "t", true, 8, 9, 8);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 8, 2, 3, 2, 1, 0, randv(28, 2 * 8 * 9, 0.3f), randv(29, 2, 0.1f)) == GT_OK);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 2, 9, 3, 1, 1, 0, randv(30, 9 * 2 * 9, 0.3f), NULL) == GT_OK);
    CHECK(gt_prog_push_layer(&p, GT_PROG_CONV, 9, 1, 5, 1, 2, 0, randv(31, 9 * 25, 0.3f), NULL) == GT_OK);
    CHECK(gt_prog_finish(&p) == GT_OK);
    check_export("dot-product convs", &p, NULL, 2, 1e-5f);
    gt_prog_free(&p);

    /* a translator family's lowering (pix2pix when registered), batch norms with moved statistics */
    const gt_model_entry *e = gt_model_find("pix2pix");
    if (e && e->lower) {
        gt_model_config c = gt_model_config_default("pix2pix");
        gt_model_opt_set(&c, "ngf", 4);
        gt_model_opt_set(&c, "n_blocks", 2);
        gt_model_opt_set(&c, "norm", 1);
        gt_net G;
        gt_rng rg;
        gt_rng_init(&rg, 3);
        CHECK(gt_model_build(&c, GT_NET_G, &rg, &G) == GT_OK);
        int m = gt_scope_begin();
        gt_net_forward(&G, gt_test_uniform(5, 4, (int64_t[]){2, c.channels, c.res, c.res}, -1.0f, 1.0f), GT_BN_TRAIN);
        gt_scope_end(m);
        CHECK(gt_prog_from_net(&G, &p) == GT_OK);
        check_export("pix2pix", &p, NULL, 2, 1e-5f);
        /* int8 (reflection padding, instance or batch norms in float between int8 layers): the file
           equals the quantized program's run */
        gt_tensor *calib = gt_test_uniform(6, 4, (int64_t[]){8, c.channels, c.res, c.res}, -1.0f, 1.0f);
        CHECK(gt_prog_quantize(&p, gt_data(calib), 8, 99.9) == GT_OK && p.quantized);
        gt_export_opts o8 = {NULL, true};
        check_export("pix2pix int8", &p, &o8, 2, 1e-5f);
        gt_prog_free(&p);
        gt_net_free(&G);
    }
}

/* A DCGAN generator with moved running statistics, as a program. */
static void dcgan_prog(int res, int channels, int ngf, int nz, gt_prog *p) {
    gt_model_config c = gt_model_config_default("dcgan");
    c.res = res, c.channels = channels, c.nz = nz;
    gt_model_opt_set(&c, "ngf", ngf);
    gt_net G;
    gt_rng r;
    gt_rng_init(&r, 5);
    CHECK(gt_model_build(&c, GT_NET_G, &r, &G) == GT_OK);
    CHECK(gt_recalibrate_bn(&G, 9, 2, 16) == GT_OK);
    CHECK(gt_prog_from_net(&G, p) == GT_OK);
    gt_net_free(&G);
}

static void test_dcgan_and_int8(void) {
    gt_prog p;
    dcgan_prog(32, 3, 6, 10, &p);
    check_export_b("dcgan 32 px", &p, NULL, 3, 1e-5f, true);
    gt_prog_free(&p);
    dcgan_prog(28, 1, 12, 20, &p);
    check_export("dcgan 28 px", &p, NULL, 3, 1e-5f);
    /* int8 needs a quantized program; nothing is written otherwise */
    gt_export_opts o8 = {NULL, true};
    CHECK(gt_prog_export_c(&p, tp("int8.c"), &o8) == GT_ERR_ARG && !exists(tp("int8.c")));
    gt_prog fl;
    dcgan_prog(28, 1, 12, 20, &fl);
    gt_tensor *calib = gt_test_randn(3, 2, (int64_t[]){32, 20}, 1.0f);
    CHECK(gt_prog_quantize(&p, gt_data(calib), 32, 100.0) == GT_OK && p.quantized);
    /* the int8 file runs the int8 kernels: equal to the quantized program's run */
    check_export("dcgan 28 px int8", &p, &o8, 3, 1e-5f);
    /* int8 off: a quantized program exports its float weights (equal to the float program) */
    gt_export_opts of = {NULL, false};
    CHECK(gt_prog_export_c(&p, tp("gen.c"), &of) == GT_OK);
    const int64_t no = gt_prog_out_numel(&fl);
    float want[3 * 784], got[3 * 784];
    gt_tensor *z = gt_test_randn(4, 2, (int64_t[]){3, 20}, 1.0f);
    CHECK(no == 784 && gt_prog_run(&fl, gt_data(z), want, 3) == GT_OK);
    CHECK(run_exported(tp("gen.c"), "generate", "GENERATE", "", gt_data(z), 20, got, no, 3));
    CHECK(gt_test_close_buf("quantized program exported in float", got, want, 3 * no, 0.0f, 1e-5f));
    gt_prog_free(&fl);
    /* bad names and paths: an error, no file */
    const char *bad[] = {"9lives", "gt_run", "a-b", ""};
    for (int i = 0; i < 4; i++) {
        gt_export_opts ob = {bad[i], false};
        CHECK_MSG(gt_prog_export_c(&p, tp("bad.c"), &ob) == GT_ERR_ARG && !exists(tp("bad.c")), "name '%s'", bad[i]);
    }
    CHECK(gt_prog_export_c(&p, "/nonexistent-dir/gen.c", NULL) != GT_OK && !exists("/nonexistent-dir/gen.c"));
    gt_prog empty;
    gt_prog_init(&empty, "t", false, 4, 1, 1);
    CHECK(gt_prog_export_c(&empty, tp("empty.c"), NULL) == GT_ERR_ARG && !exists(tp("empty.c")));
    gt_prog_free(&p);
}

#define TINY "--res", "28", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "16", "--n-samples", "16"

/* `gantry export` of a trained checkpoint against the library's sampling path. */
static void test_cli_export(void) {
    char run[700], ckpt[800];
    snprintf(run, sizeof run, "%s/run", gt_test_tmpdir());
    snprintf(ckpt, sizeof ckpt, "%s/last.safetensors", run);
    CHECK(gt_test_write_idx(tp("tiny.idx"), 48));
    CHECK_CLI(0, NULL, "train", "--data", tp("tiny.idx"), "--steps", "3", "--out", run, TINY, "--quiet");
    CHECK_CLI(0, "MACs", "export", "--ckpt", ckpt, "--out", tp("gen.c"));
    CHECK(strstr(gt_cli_out, "parameters") && strstr(gt_cli_out, "MB"));
    /* the library's path, as gantry sample runs it: EMA generator, recalibrated, latents of seed 11 */
    gt_net G;
    gt_train_config cfg;
    bool used_ema = false;
    CHECK(gt_load_generator(ckpt, true, &G, &cfg, &used_ema) == GT_OK && used_ema);
    CHECK(gt_recalibrate_bn(&G, 0x5EED, 8, 64) == GT_OK);
    const int n = 6;
    gt_tensor *z = gt_sample_z(&cfg.model, 11, 0, false, n, 0.0f);
    gt_tensor *want = z ? gt_sample_generate(&G, &cfg.model, z, -1) : NULL;
    CHECK(want != NULL);
    const int64_t no = gt_numel(want) / n, ni = cfg.model.nz;
    float *got = calloc((size_t)(no * n), sizeof(float));
    CHECK(run_exported(tp("gen.c"), "generate", "GENERATE", "", gt_data(z), ni, got, no, n));
    CHECK(gt_test_close_buf("gantry export vs gantry sample's path", got, gt_data(gt_contiguous(want)), no * n, 0.0f, 1e-5f));
    /* the object: text + data less the weights < 1 MB (weights: the floats of its const arrays) */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "size -B -d %s", tp("gen.o"));
    FILE *f = popen(cmd, "r");
    long long text = -1, data = -1;
    char line[512];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, " %lld %lld", &text, &data) == 2) break;
    if (f) pclose(f);
    size_t len = 0;
    char *src = (char *)gt_test_read_all(tp("gen.c"), &len);
    long long wfloats = 0;
    for (char *s = src; s && (s = strstr(s, "const float gt_")); s++) {
        char *br = strchr(s, '[');
        if (br) wfloats += atoll(br + 1);
    }
    free(src);
    CHECK_MSG(text > 0 && text + data - 4 * wfloats < (1 << 20), "object text %lld + data %lld, weights %lld bytes", text,
              data, 4 * wfloats);
    /* int8: compiles alone, close to the float output */
    CHECK_CLI(0, "int8", "export", "--ckpt", ckpt, "--out", tp("gen8.c"), "--int8", "--calib", "64", "--name", "gen8");
    float *got8 = calloc((size_t)(no * n), sizeof(float));
    CHECK(run_exported(tp("gen8.c"), "gen8", "GEN8", "", gt_data(z), ni, got8, no, n));
    double d = 0;
    for (int64_t i = 0; i < no * n; i++) d = fabs((double)got8[i] - got[i]) > d ? fabs((double)got8[i] - got[i]) : d;
    printf("int8 export vs float: max |diff| %.4f\n", d);
    CHECK_MSG(d < 0.1, "int8 export differs from float by %g", d);
    free(got), free(got8);
    gt_net_free(&G);
    CHECK_CLI(2, "--calib-items is for translators", "export", "--ckpt", ckpt, "--out", tp("x.c"), "--int8",
              "--calib-items", tp("tiny.idx"));

    /* a translator in int8: calibrated on the edges of --calib-items; close to its float export on
       the edges of other items */
    char prun[720], pck[800];
    snprintf(prun, sizeof prun, "%s/p2p", gt_test_tmpdir());
    snprintf(pck, sizeof pck, "%s/last.safetensors", prun);
    CHECK_CLI(0, NULL, "train", "--model", "pix2pix", "--data", tp("tiny.idx"), "--res", "28", "--channels", "1",
              "--batch", "8", "--steps", "3", "--n-samples", "4", "--model-opts", "ngf=4,ndf=4,n_blocks=1", "--out",
              prun, "--quiet");
    CHECK_CLI(0, "translate", "export", "--ckpt", pck, "--out", tp("p2p.c"));
    CHECK_CLI(0, "int8", "export", "--ckpt", pck, "--out", tp("p2p8.c"), "--int8", "--calib", "16", "--calib-items",
              tp("tiny.idx"));
    CHECK_CLI(1, "fewer than --calib", "export", "--ckpt", pck, "--out", tp("x.c"), "--int8", "--calib", "4000",
              "--calib-items", tp("tiny.idx"));
    CHECK(!exists(tp("x.c")));
    gt_tensor *a = NULL;
    const int np = 4;
    CHECK(gt_translate_pair_open(tp("tiny.idx"), 24, 28, 1, "test", &a, NULL) == GT_OK);
    if (a) {
        const float *in = gt_data(a) + (int64_t)20 * 784; /* items 20..23: not among the 16 calibrating */
        float *pf = calloc((size_t)np * 784, sizeof(float)), *pq = calloc((size_t)np * 784, sizeof(float));
        CHECK(run_exported(tp("p2p.c"), "translate", "TRANSLATE", "", in, 784, pf, 784, np));
        CHECK(run_exported(tp("p2p8.c"), "translate", "TRANSLATE", "", in, 784, pq, 784, np));
        double dp = 0;
        for (int64_t i = 0; i < (int64_t)np * 784; i++) dp = fmax(dp, fabs((double)pq[i] - pf[i]));
        printf("int8 translator export vs float: max |diff| %.4f\n", dp);
        CHECK_MSG(dp > 0 && dp < 0.1, "int8 translator export differs from float by %g", dp);
        free(pf), free(pq);
    }

    /* bad input: exit 1 or 2, a message, no file */
    CHECK_CLI(1, "cannot open", "export", "--ckpt", tp("missing.safetensors"), "--out", tp("x.c"));
    CHECK(!exists(tp("x.c")));
    CHECK_CLI(1, "does not exist", "export", "--ckpt", ckpt, "--out", tp("no/such/dir/x.c"));
    CHECK_CLI(2, "--name", "export", "--ckpt", ckpt, "--out", tp("x.c"), "--name", "1abc");
    CHECK_CLI(2, "--int8", "export", "--ckpt", ckpt, "--out", tp("x.c"), "--calib", "8");
    CHECK_CLI(2, "--out", "export", "--ckpt", ckpt);
    CHECK(!exists(tp("x.c")));
    /* a family that cannot be lowered: the message names those that can */
    const char *fams[] = {"sngan", "r3gan"};
    for (int i = 0; i < 2; i++) {
        const gt_model_entry *e = gt_model_find(fams[i]);
        if (!e || e->lower) continue;
        char r2[720], c2[800];
        snprintf(r2, sizeof r2, "%s/run_%s", gt_test_tmpdir(), fams[i]);
        snprintf(c2, sizeof c2, "%s/last.safetensors", r2);
        CHECK_CLI(0, NULL, "train", "--data", tp("tiny.idx"), "--model", fams[i], "--steps", "1", "--out", r2, "--res",
                  "32", "--nz", "16", "--ngf", "8", "--ndf", "8", "--batch", "8", "--n-samples", "8", "--quiet");
        CHECK_CLI(1, "cannot be exported", "export", "--ckpt", c2, "--out", tp("x.c"));
        CHECK(strstr(gt_cli_out, "dcgan") && !exists(tp("x.c")));
        break;
    }
}

int main(void) {
    if (!write_main()) return 1;
    RUN(test_every_op);
    RUN(test_dcgan_and_int8);
    if (gt_cli_find()) RUN(test_cli_export);
    else fprintf(stderr, "test_export: the gantry program is not built; skipping the CLI part\n"), gt_test_failures++;
    return gt_test_finish();
}
