/* A distillation resumed from its checkpoint goes on as if it had not stopped: 10 steps, then
 * gt_distill_opts.resume to 20, gives the checkpoint of 20 steps in one go - every tensor (G, D,
 * the EMA, both Adams, the 1x1 convs and their Adam, the step, the latent stream, the data order)
 * equal to 1e-6 (the same machine: it is in fact bit for bit). The checkpoint records the teacher
 * as an absolute path and the loss weights; `gantry train --resume`'s loader reads a distilled
 * checkpoint (the 1x1 convs ignored); resuming a folder without a run, a plain training run, or a
 * checkpoint whose "distill" record is damaged is refused with a message naming it. */
#include <math.h>

#include <cJSON.h>

#include "../common/harness.h"
#include "distill_util.h"

static char g_idx[700], g_teacher[800];

static int64_t g_anneal; /* the next fresh run's anneal */

static gt_status distill(const char *cfg, const char *out, int64_t steps, bool resume) {
    gt_distill_opts o;
    gt_distill_opts_default(&o);
    if (!resume) o.teacher = g_teacher, o.student_config = cfg, o.w_crd = 0.5, o.seed = 3, o.anneal = g_anneal;
    o.out_dir = out, o.steps = steps, o.quiet = true, o.resume = resume;
    gt_status st = gt_distill_check(&o);
    if (st == GT_OK) st = gt_distill_run(&o);
    return st;
}

/* Every tensor of a equal to b's (same names, dtypes, shapes; floats to tol). */
static void same_checkpoints(const char *pa, const char *pb, double tol) {
    gt_safetensors a, b;
    gt_st_init(&a), gt_st_init(&b);
    CHECK_MSG(gt_st_load(&a, pa) == GT_OK && gt_st_load(&b, pb) == GT_OK, "%s", gt_last_error());
    CHECK_MSG(a.n == b.n && a.n > 0, "%d vs %d tensors", a.n, b.n);
    int distill_tensors = 0;
    double worst = 0;
    for (int i = 0; i < a.n; i++) {
        const gt_st_tensor *x = &a.t[i], *y = gt_st_find(&b, x->name);
        if (!strncmp(x->name, "distill.", 8)) distill_tensors++;
        CHECK_MSG(y && y->dtype == x->dtype && y->numel == x->numel, "%s differs in kind", x->name);
        if (!y || y->dtype != x->dtype || y->numel != x->numel) continue;
        if (x->dtype == GT_ST_F32) {
            const float *p = x->data, *q = y->data;
            for (int64_t k = 0; k < x->numel; k++) {
                double d = fabs((double)p[k] - (double)q[k]);
                if (!(d <= worst)) worst = d;
            }
        } else {
            CHECK_MSG(memcmp(x->data, y->data, x->nbytes) == 0, "%s differs", x->name);
        }
    }
    fprintf(stderr, "  %d tensors (%d of the distillation), max |difference| %.3g\n", a.n, distill_tensors, worst);
    CHECK_MSG(worst <= tol, "resumed and straight runs differ by %.3g", worst);
    CHECK_MSG(distill_tensors >= 3, "the 1x1 convs and their Adam are not in the checkpoint (%d)", distill_tensors);
    gt_st_free(&a), gt_st_free(&b);
}

/* A run of total steps straight (in one) and stopped at stop then resumed (in two), the anneal step
 * of both given: the two checkpoints equal, the resumed one's "distill" record holding each needle. */
static bool straight_vs_resumed(const char *cfg, const char *one, const char *two, int64_t total, int64_t stop,
                                int64_t anneal, const char *const *needles, int n_needles) {
    g_anneal = anneal;
    gt_status st = distill(cfg, one, total, false);
    CHECK_MSG(st == GT_OK, "straight: %s", gt_last_error());
    if (st == GT_OK) st = distill(cfg, two, stop, false);
    g_anneal = 0;
    CHECK_MSG(st == GT_OK, "first part: %s", gt_last_error());
    if (st == GT_OK) st = distill(NULL, two, total, true);
    CHECK_MSG(st == GT_OK, "resumed: %s", gt_last_error());
    if (st != GT_OK) return false;
    char la[900], lb[900];
    snprintf(la, sizeof la, "%s/last.safetensors", one);
    snprintf(lb, sizeof lb, "%s/last.safetensors", two);
    same_checkpoints(la, lb, 1e-6);
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, lb) == GT_OK);
    const char *rec = gt_st_get_meta(&s, "distill");
    for (int i = 0; i < n_needles; i++)
        CHECK_MSG(rec && strstr(rec, needles[i]), "record: %s (no %s)", rec ? rec : "none", needles[i]);
    gt_st_free(&s);
    return true;
}

static void test_resume_equals_straight(void) {
    char cfg[800], one[800], two[800], lb[900];
    snprintf(cfg, sizeof cfg, "%s", gt_test_path("student.json"));
    snprintf(one, sizeof one, "%s", gt_test_path("straight"));
    snprintf(two, sizeof two, "%s", gt_test_path("stopped"));
    gt_train_config sc = gt_test_distill_config(g_idx, "", 20, 4);
    CHECK(gt_test_write_config(cfg, &sc));
    /* the record: the teacher as an absolute path, the weights as given */
    const char *needles[] = {"\"teacher\":\"/", "\"w_crd\":0.5"};
    if (!straight_vs_resumed(cfg, one, two, 20, 10, 0, needles, 2)) return;
    snprintf(lb, sizeof lb, "%s/last.safetensors", two);

    /* gantry train --resume's loader takes a distilled checkpoint (the student's own entries) */
    gt_train_config c = gt_train_config_default();
    gt_safetensors s;
    gt_st_init(&s);
    CHECK(gt_st_load(&s, lb) == GT_OK);
    CHECK(gt_train_config_from_json(&c, gt_st_get_meta(&s, "config"), lb) == GT_OK);
    gt_st_free(&s);
    snprintf(c.out, sizeof c.out, "%s", gt_test_path("train_on"));
    gt_trainer t;
    CHECK(gt_train_config_check(&c) == GT_OK);
    CHECK(gt_trainer_init(&t, &c, NULL) == GT_OK);
    gt_status st = gt_trainer_load(&t, lb);
    CHECK_MSG(st == GT_OK && t.step == 20, "train's loader: %s (step %llu)", gt_last_error(),
              (unsigned long long)t.step);
    gt_trainer_free(&t);
}

static void expect_refused(const char *out, const char *needle) {
    gt_status st = distill(NULL, out, 0, true);
    CHECK_MSG(st != GT_OK && strstr(gt_last_error(), needle), "resume %s: %d '%s'", out, st, gt_last_error());
}

static void test_refused(void) {
    /* an empty folder; a plain training run (the teacher's); a damaged record */
    expect_refused(gt_test_path("nothing_here"), "no checkpoint to resume");
    char teacher_dir[800];
    snprintf(teacher_dir, sizeof teacher_dir, "%s", gt_test_path("teacher"));
    expect_refused(teacher_dir, "not written by gantry distill");
    const char *bad[] = {"{\"teacher\":42,\"w_feat\":1,\"w_recon\":1,\"w_gan\":1,\"w_dcd\":1,\"w_crd\":0}",
                         "{\"teacher\":\"/x\",\"w_feat\":-1,\"w_recon\":1,\"w_gan\":1,\"w_dcd\":1,\"w_crd\":0}",
                         "not json"};
    const char *needle[] = {"\"teacher\"", "\"w_feat\"", "not a JSON object"};
    for (int i = 0; i < 3; i++) {
        char dir[800], path[900];
        snprintf(dir, sizeof dir, "%s/damaged%d", gt_test_tmpdir(), i);
        CHECK(mkdir(dir, 0755) == 0);
        snprintf(path, sizeof path, "%s/last.safetensors", dir);
        gt_safetensors s;
        gt_st_init(&s);
        CHECK(gt_st_load(&s, g_teacher) == GT_OK);
        CHECK(gt_st_set_meta(&s, "distill", bad[i]) == GT_OK);
        CHECK(gt_st_save(&s, path) == GT_OK);
        gt_st_free(&s);
        expect_refused(dir, needle[i]);
    }
}

/* Line i (0-based) of a JSON-lines file, parsed; NULL past the end. */
static cJSON *jsonl_line(const char *path, int i) {
    FILE *f = fopen(path, "r");
    char buf[4096];
    cJSON *j = NULL;
    for (int k = 0; f && fgets(buf, sizeof buf, f); k++)
        if (k == i) {
            j = cJSON_Parse(buf);
            break;
        }
    if (f) fclose(f);
    return j;
}

static double jnum(const cJSON *j, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* --anneal N: at step t (0-based) G's loss is w_gan * gan + (1 - t / N) * (the weighted distillation
 * terms), and from step N on the distillation terms are not computed at all (logged as 0); the
 * schedule is saved with the run, so a run resumed across it equals the straight one. */
static void test_anneal(void) {
    char cfg[800], one[800], two[800], dl[900], ml[900];
    snprintf(cfg, sizeof cfg, "%s", gt_test_path("student_anneal.json"));
    snprintf(one, sizeof one, "%s", gt_test_path("anneal_straight"));
    snprintf(two, sizeof two, "%s", gt_test_path("anneal_stopped"));
    gt_train_config sc = gt_test_distill_config(g_idx, "", 12, 4);
    sc.log_every = 1;
    CHECK(gt_test_write_config(cfg, &sc));
    const char *needles[] = {"\"anneal\":8"};
    if (!straight_vs_resumed(cfg, one, two, 12, 5, 8, needles, 1)) return;

    gt_distill_opts d;
    gt_distill_opts_default(&d);
    const double w_crd = 0.5;
    snprintf(dl, sizeof dl, "%s/distill.jsonl", one);
    snprintf(ml, sizeof ml, "%s/metrics.jsonl", one);
    int lines = 0;
    for (int i = 0; i < 12; i++) {
        cJSON *a = jsonl_line(dl, i), *b = jsonl_line(ml, i);
        CHECK_MSG(a && b, "line %d of distill.jsonl / metrics.jsonl missing", i);
        if (a && b) {
            const double step = jnum(a, "step"), t = step - 1, f = t < 8 ? 1 - t / 8 : 0;
            const double gan = jnum(a, "gan"), recon = jnum(a, "recon"), feat = jnum(a, "feat"), dcd = jnum(a, "dcd");
            const double crd = jnum(a, "crd"), loss_g = jnum(b, "loss_g");
            const double want = d.w_gan * gan + f * (d.w_recon * recon + d.w_feat * feat + d.w_dcd * dcd + w_crd * crd);
            CHECK_MSG(step == i + 1 && jnum(b, "step") == step, "line %d: step %g / %g", i, step, jnum(b, "step"));
            CHECK_MSG(fabs(loss_g - want) <= 1e-4 * fabs(want) + 1e-6, "step %g: loss_g %.9g, the schedule gives %.9g",
                      step, loss_g, want);
            if (t < 8) CHECK_MSG(recon > 0 && feat > 0 && dcd > 0 && crd > 0, "step %g: a distillation term is 0", step);
            else CHECK_MSG(recon == 0 && feat == 0 && dcd == 0 && crd == 0, "step %g: distillation after the anneal",
                           step);
            lines++;
        }
        cJSON_Delete(a), cJSON_Delete(b);
    }
    CHECK(lines == 12);
}

int main(void) {
    if (!gt_test_distill_teacher(g_idx, sizeof g_idx, g_teacher, sizeof g_teacher, 30)) return 1;
    RUN(test_resume_equals_straight);
    RUN(test_refused);
    RUN(test_anneal);
    return gt_test_finish();
}
