/* gantry distill end to end on a tiny teacher trained by `gantry train`: the student's run folder
 * holds a checkpoint that `gantry sample` reads; a missing teacher, a student whose outputs or
 * layers cannot be mapped, an init checkpoint of another family, bad layer pairs and negative
 * weights exit 2 naming the flag, and nothing is written. Ctrl-C leaves a checkpoint that --resume
 * continues; --resume with another teacher, or without a distillation to resume, exits 2; --ofa on a
 * family without channel groups exits 2. */
#define _DEFAULT_SOURCE /* realpath */
#include "cli_util.h"
#include "gantry/train.h"

static char g_idx[700], g_teacher[900];

static const char *tp(const char *name) { return gt_test_path(name); }

static bool exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

/* A student config (the tiny teacher's layout with ngf and res given) at path. */
static bool write_student(const char *path, int ngf, int res, int ndf) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fprintf(f,
            "{\"model\": {\"name\": \"dcgan\", \"res\": %d, \"channels\": 1, \"nz\": 16, \"ngf\": %d, \"ndf\": %d},\n"
            " \"data\": \"%s\", \"steps\": 6, \"batch\": 16, \"n_samples\": 4, \"log_every\": 3,\n"
            " \"sample_every\": 0, \"ckpt_every\": 0}\n",
            res, ngf, ndf, g_idx);
    return fclose(f) == 0;
}

static void test_distill_then_sample(void) {
    const char *cfg = tp("student.json"), *out = tp("student");
    CHECK(write_student(cfg, 4, 28, 8));
    CHECK_CLI(0, "MACs per image", "distill", "--teacher", g_teacher, "--student", cfg, "--out", out, "--crd", "0.5");
    char last[900], png[900], log[900];
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    snprintf(log, sizeof log, "%s/distill.jsonl", out);
    CHECK(exists(last) && exists(log));
    snprintf(png, sizeof png, "%s", tp("grid.png"));
    CHECK_CLI(0, NULL, "sample", "--ckpt", last, "--n", "4", "--out", png);
    CHECK(exists(png));
    /* the same folder again: refused, nothing touched */
    CHECK_CLI(2, "--out", "distill", "--teacher", g_teacher, "--student", cfg, "--out", out);
    /* a student started from the distilled checkpoint (--init, its config the student's) */
    CHECK_CLI(0, NULL, "distill", "--teacher", g_teacher, "--init", last, "--out", tp("again"), "--steps", "2",
              "--quiet");
}

/* A once-for-all supernet (--ofa): `gantry prune` on it keeps first channels by itself (auto) and its
 * --finetune distils from the supernet's teacher, not from the supernet. */
static void test_ofa_then_prune(void) {
    const char *cfg = tp("ofa.json"), *out = tp("ofa");
    CHECK(write_student(cfg, 8, 28, 8));
    CHECK_CLI(0, NULL, "distill", "--teacher", g_teacher, "--student", cfg, "--out", out, "--ofa",
              "--steps", "3", "--quiet");
    char last[900], teacher[PATH_MAX], want[PATH_MAX + 64];
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    CHECK(realpath(g_teacher, teacher) != NULL);
    snprintf(want, sizeof want, "by distillation from %s", teacher);
    CHECK_CLI(0, "importance first, auto: a once-for-all supernet", "prune", "--ckpt", last, "--keep", "0.5", "--out",
              tp("ofa_half.safetensors"), "--finetune", "2", "--finetune-out", tp("ofa_ft"), "--quiet");
    CHECK_MSG(gt_cli_said(want), "prune --finetune of a supernet: no '%s' in\n%s", want, gt_cli_out);
    /* an ordinary checkpoint: auto is not first */
    CHECK_CLI(0, "importance bn, auto)", "prune", "--ckpt", g_teacher, "--keep", "0.5", "--out", tp("t_half.safetensors"));
}

/* A translator: a tiny pix2pix teacher from `gantry train`, a narrower student distilled from it, sampled. */
static void test_translator(void) {
    const char *t = tp("p2p"), *cfg = tp("p2p_student.json"), *out = tp("p2p_student");
    CHECK_CLI(0, NULL, "train", "--model", "pix2pix", "--data", g_idx, "--res", "28", "--channels", "1", "--batch", "8",
              "--steps", "3", "--n-samples", "4", "--model-opts", "ngf=4,ndf=4,n_blocks=1", "--out", t, "--quiet");
    FILE *f = fopen(cfg, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f,
            "{\"model\": {\"name\": \"pix2pix\", \"res\": 28, \"channels\": 1, \"ngf\": 2, \"ndf\": 4, "
            "\"n_blocks\": 1},\n \"data\": \"%s\", \"steps\": 3, \"batch\": 8, \"n_samples\": 4, "
            "\"sample_every\": 0, \"ckpt_every\": 0}\n",
            g_idx);
    fclose(f);
    char teacher[900], last[900];
    snprintf(teacher, sizeof teacher, "%s/last.safetensors", t);
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    CHECK_CLI(0, "MACs per image", "distill", "--teacher", teacher, "--student", cfg, "--out", out);
    CHECK_CLI(0, NULL, "sample", "--ckpt", last, "--n", "4", "--out", tp("p2p.png"));
    CHECK(exists(tp("p2p.png")));
    /* a dcgan student for a pix2pix teacher: another family */
    CHECK_CLI(2, "--student", "distill", "--teacher", teacher, "--student", tp("ok.json"), "--out", tp("p2p_never"));
    CHECK(!exists(tp("p2p_never")));
}

/* Ctrl-C during a run: a last checkpoint, exit 130 (as gantry train). */
static void test_interrupt(void) {
    const char *out = tp("stopped");
    char last[900], log[900], txt[900];
    snprintf(last, sizeof last, "%s/last.safetensors", out);
    snprintf(log, sizeof log, "%s/distill.jsonl", out);
    snprintf(txt, sizeof txt, "%s", tp("stop.txt"));
    char *args[] = {"distill", "--teacher", g_teacher, "--student", (char *)tp("student.json"), "--out", (char *)out,
                    "--steps", "1000000", "--log-every", "1", NULL};
    pid_t pid = gt_cli_spawn(txt, args);
    for (int i = 0; i < 600 && !exists(log); i++) /* the first log line: steps are running */
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    CHECK(exists(log));
    kill(pid, SIGINT);
    CHECK(gt_cli_wait(pid) == 130);
    CHECK(exists(last));
    /* --resume continues it (its teacher, student and weights from the checkpoint) two steps further */
    uint64_t at = 0;
    gt_safetensors s;
    gt_st_init(&s);
    const gt_st_tensor *ts = gt_st_load(&s, last) == GT_OK ? gt_st_find(&s, "train.step") : NULL;
    if (ts && ts->dtype == GT_ST_U64) memcpy(&at, ts->data, sizeof at);
    gt_st_free(&s);
    CHECK(at > 0);
    char steps[32];
    snprintf(steps, sizeof steps, "%llu", (unsigned long long)at + 2);
    CHECK_CLI(2, "--teacher does not go with --resume", "distill", "--resume", "--out", out, "--teacher", g_teacher);
    CHECK_CLI(2, "--threads", "distill", "--resume", "--out", out, "--steps", steps, "--threads", "-1");
    CHECK_CLI(0, "resuming", "distill", "--resume", "--out", out, "--steps", steps, "--threads", "1");
    gt_st_init(&s);
    ts = gt_st_load(&s, last) == GT_OK ? gt_st_find(&s, "train.step") : NULL;
    uint64_t now = 0;
    if (ts && ts->dtype == GT_ST_U64) memcpy(&now, ts->data, sizeof now);
    gt_st_free(&s);
    CHECK_MSG(now == at + 2, "resumed to step %llu, wanted %llu", (unsigned long long)now, (unsigned long long)at + 2);
    /* nothing to resume: a folder without a run; a plain training run */
    CHECK_CLI(2, "--out", "distill", "--resume", "--out", tp("no_run"));
    CHECK_CLI(2, "not written by gantry distill", "distill", "--resume", "--out", tp("teacher"));
}

static void test_bad_input(void) {
    const char *ok = tp("ok.json"), *out = tp("never");
    CHECK(write_student(ok, 4, 28, 8));
    CHECK_CLI(2, "--teacher", "distill", "--teacher", tp("missing.safetensors"), "--student", ok, "--out", out);
    CHECK_CLI(2, "--teacher", "distill", "--student", ok, "--out", out);
    CHECK_CLI(2, "--student", "distill", "--teacher", g_teacher, "--student", tp("missing.json"), "--out", out);
    const char *r32 = tp("r32.json"), *d4 = tp("d4.json");
    CHECK(write_student(r32, 4, 32, 8));
    CHECK_CLI(2, "--student", "distill", "--teacher", g_teacher, "--student", r32, "--out", out);
    CHECK(write_student(d4, 4, 28, 4));
    CHECK_CLI(2, "discriminator", "distill", "--teacher", g_teacher, "--student", d4, "--out", out);
    CHECK_CLI(2, "--layers", "distill", "--teacher", g_teacher, "--student", ok, "--out", out, "--layers", "0:1");
    CHECK_CLI(2, "--layers", "distill", "--teacher", g_teacher, "--student", ok, "--out", out, "--layers", "7:0");
    CHECK_CLI(2, "--w-feat", "distill", "--teacher", g_teacher, "--student", ok, "--out", out, "--w-feat", "-1");
    CHECK_CLI(2, "--crd", "distill", "--teacher", g_teacher, "--student", ok, "--out", out, "--crd", "-0.5");
    /* an init checkpoint of another family than the teacher (an SNGAN trained one step) */
    const char *sn = tp("sngan");
    CHECK_CLI(0, NULL, "train", "--model", "sngan", "--data", g_idx, "--res", "32", "--nz", "16", "--batch", "4",
              "--steps", "1", "--n-samples", "4", "--out", sn, "--ngf", "8", "--ndf", "8", "--quiet");
    char sl[900];
    snprintf(sl, sizeof sl, "%s/last.safetensors", sn);
    CHECK_CLI(2, "--init", "distill", "--teacher", g_teacher, "--init", sl, "--out", out);
    /* a supernet of a family without channel groups */
    CHECK_CLI(2, "--ofa: model sngan has no channel groups", "distill", "--teacher", sl, "--init", sl, "--out", out,
              "--ofa");
    CHECK(!exists(out));
}

int main(void) {
    if (!gt_cli_find()) {
        fprintf(stderr, "gantry program not found\n");
        return 1;
    }
    snprintf(g_idx, sizeof g_idx, "%s", tp("tiny.idx"));
    if (!gt_test_write_idx(g_idx, 64)) return 1;
    const char *t = tp("teacher");
    int rc = gt_cli_run("train", "--data", g_idx, "--res", "28", "--channels", "1", "--nz", "16", "--ngf", "8", "--ndf",
                        "8", "--batch", "16", "--steps", "8", "--n-samples", "4", "--out", t, "--quiet", NULL);
    if (rc != 0) {
        fprintf(stderr, "teacher training failed (rc %d):\n%s\n", rc, gt_cli_out);
        return 1;
    }
    snprintf(g_teacher, sizeof g_teacher, "%s/last.safetensors", t);
    RUN(test_distill_then_sample);
    RUN(test_ofa_then_prune);
    RUN(test_interrupt);
    RUN(test_bad_input);
    RUN(test_translator);
    return gt_test_finish();
}
