/* src/lab/lab_config.c - the lab's configuration: GAN Lab's defaults, the range checks, the
 * names of the enums and the config as JSON (the export's metadata). */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "gantry/io.h"
#include "lab_internal.h"

/* GAN Lab as its page opens (demo/ganlab.ts, demo/ganlab.html): the mixture of two gaussians,
 * 2-D uniform noise, 1 hidden layer of 8 neurons in each net, log loss, SGD at 0.1 for both,
 * 2 D updates and 1 G update per epoch, batch 150. */
gt_lab_config gt_lab_config_default(void) {
    gt_lab_config c;
    memset(&c, 0, sizeof c);
    c.data = GT_LAB_GAUSSIANS;
    c.n_drawn = 0;
    c.noise_dim = 2;
    c.noise = GT_LAB_UNIFORM;
    c.g_layers = 1;
    c.g_neurons = 8;
    c.d_layers = 1;
    c.d_neurons = 8;
    c.loss = GT_LAB_LOG;
    c.gp = 10.0f;
    c.r1 = 0.0f;
    c.optim = GT_LAB_SGD;
    c.lr_g = 0.1f;
    c.lr_d = 0.1f;
    c.d_steps = 2;
    c.g_steps = 1;
    c.batch = 150;
    c.seed = 1;
    return c;
}

static const char *const data_names[] = {"line", "gaussians", "ring", "disjoint", "drawn"};
static const char *const loss_names[] = {"log", "ls", "hinge", "wgan-gp"};
static const char *const noise_names[] = {"uniform", "gaussian"};
static const char *const optim_names[] = {"sgd", "adam"};
_Static_assert(sizeof data_names / sizeof *data_names == GT_LAB_DATA_COUNT, "a name for every gt_lab_data");
_Static_assert(sizeof loss_names / sizeof *loss_names == GT_LAB_LOSS_COUNT, "a name for every gt_lab_loss");

const char *gt_lab_data_name(gt_lab_data d) { return (unsigned)d < GT_LAB_DATA_COUNT ? data_names[d] : "?"; }
const char *gt_lab_loss_name(gt_lab_loss l) { return (unsigned)l < GT_LAB_LOSS_COUNT ? loss_names[l] : "?"; }
const char *gt_lab_noise_name(gt_lab_noise n) { return (unsigned)n <= GT_LAB_GAUSSIAN ? noise_names[n] : "?"; }
const char *gt_lab_optim_name(gt_lab_optim o) { return (unsigned)o <= GT_LAB_ADAM ? optim_names[o] : "?"; }

static int parse_in(const char *s, const char *const *names, int n) {
    if (!s) return -1;
    for (int i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0) return i;
    return -1;
}
int gt_lab_data_parse(const char *s) { return parse_in(s, data_names, GT_LAB_DATA_COUNT); }
int gt_lab_loss_parse(const char *s) { return parse_in(s, loss_names, GT_LAB_LOSS_COUNT); }
int gt_lab_noise_parse(const char *s) { return parse_in(s, noise_names, 2); }
int gt_lab_optim_parse(const char *s) { return parse_in(s, optim_names, 2); }

static gt_status bad_int(const char *field, long v, int lo, int hi) {
    return gt_set_error(GT_ERR_ARG, "lab config: %s must be an integer in [%d, %d] (got %ld)", field, lo, hi, v);
}

static gt_status check_rate(const char *field, float v) {
    if (!isfinite(v) || !(v > 0.0f) || v > 10.0f)
        return gt_set_error(GT_ERR_ARG, "lab config: %s must be a finite number in (0, 10] (got %g)", field, (double)v);
    return GT_OK;
}

static gt_status check_weight(const char *field, float v, float hi) {
    if (!isfinite(v) || v < 0.0f || v > hi)
        return gt_set_error(GT_ERR_ARG, "lab config: %s must be a finite number in [0, %g] (got %g)", field, (double)hi,
                            (double)v);
    return GT_OK;
}

gt_status gt_lab_config_check(const gt_lab_config *c) {
    if (!c) return gt_set_error(GT_ERR_ARG, "lab config: NULL config");
    if ((unsigned)c->data >= GT_LAB_DATA_COUNT)
        return gt_set_error(GT_ERR_ARG, "lab config: data must be one of line, gaussians, ring, disjoint, drawn (got %d)",
                            (int)c->data);
    if ((unsigned)c->noise > GT_LAB_GAUSSIAN)
        return gt_set_error(GT_ERR_ARG, "lab config: noise must be uniform or gaussian (got %d)", (int)c->noise);
    if ((unsigned)c->loss >= GT_LAB_LOSS_COUNT)
        return gt_set_error(GT_ERR_ARG, "lab config: loss must be one of log, ls, hinge, wgan-gp (got %d)", (int)c->loss);
    if ((unsigned)c->optim > GT_LAB_ADAM)
        return gt_set_error(GT_ERR_ARG, "lab config: optim must be sgd or adam (got %d)", (int)c->optim);
    if (c->noise_dim != 1 && c->noise_dim != 2)
        return gt_set_error(GT_ERR_ARG, "lab config: noise_dim must be 1 or 2 (got %d)", c->noise_dim);
    if (c->g_layers < 0 || c->g_layers > GT_LAB_MAX_LAYERS) return bad_int("g_layers", c->g_layers, 0, GT_LAB_MAX_LAYERS);
    if (c->d_layers < 0 || c->d_layers > GT_LAB_MAX_LAYERS) return bad_int("d_layers", c->d_layers, 0, GT_LAB_MAX_LAYERS);
    if (c->g_neurons < 1 || c->g_neurons > GT_LAB_MAX_NEURONS)
        return bad_int("g_neurons", c->g_neurons, 1, GT_LAB_MAX_NEURONS);
    if (c->d_neurons < 1 || c->d_neurons > GT_LAB_MAX_NEURONS)
        return bad_int("d_neurons", c->d_neurons, 1, GT_LAB_MAX_NEURONS);
    gt_status st;
    if ((st = check_weight("gp", c->gp, 1000.0f)) != GT_OK) return st;
    if ((st = check_weight("r1", c->r1, 1000.0f)) != GT_OK) return st;
    if ((st = check_rate("lr_g", c->lr_g)) != GT_OK) return st;
    if ((st = check_rate("lr_d", c->lr_d)) != GT_OK) return st;
    if (c->d_steps < 0 || c->d_steps > 10) return bad_int("d_steps", c->d_steps, 0, 10);
    if (c->g_steps < 0 || c->g_steps > 10) return bad_int("g_steps", c->g_steps, 0, 10);
    if (c->d_steps == 0 && c->g_steps == 0)
        return gt_set_error(GT_ERR_ARG, "lab config: d_steps and g_steps cannot both be 0 (each in [0, 10])");
    if (c->batch < 1 || c->batch > GT_LAB_MAX_BATCH) return bad_int("batch", c->batch, 1, GT_LAB_MAX_BATCH);
    if (c->data == GT_LAB_DRAWN) {
        if (c->n_drawn < 1 || c->n_drawn > GT_LAB_MAX_DRAWN)
            return gt_set_error(GT_ERR_ARG, "lab config: drawn must hold 1 to %d points when data is drawn (got %d)",
                                GT_LAB_MAX_DRAWN, c->n_drawn);
    } else if (c->n_drawn < 0 || c->n_drawn > GT_LAB_MAX_DRAWN) {
        return gt_set_error(GT_ERR_ARG, "lab config: n_drawn must be in [0, %d] (got %d)", GT_LAB_MAX_DRAWN, c->n_drawn);
    }
    for (int i = 0; i < c->n_drawn; i++)
        for (int k = 0; k < 2; k++) {
            float v = c->drawn[i][k];
            if (!isfinite(v) || v < 0.0f || v > 1.0f)
                return gt_set_error(GT_ERR_ARG, "lab config: drawn[%d] must be a point in [0,1]^2 (its %c is %g)", i,
                                    k ? 'y' : 'x', (double)v);
        }
    return GT_OK;
}

/* A float as the shortest decimal that reads back as the same float ("0.1", not 0.100000001). */
static cJSON *add_float(cJSON *o, const char *key, float v) {
    char buf[40];
    if (!isfinite(v)) return cJSON_AddNullToObject(o, key);
    for (int p = 6; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    cJSON *r = cJSON_CreateRaw(buf);
    if (r && !key) return r;
    if (r) cJSON_AddItemToObject(o, key, r);
    return r;
}

char *gt__lab_config_json(const gt_lab_config *c) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "data", gt_lab_data_name(c->data));
    cJSON *dr = cJSON_AddArrayToObject(o, "drawn");
    for (int i = 0; dr && i < c->n_drawn; i++) {
        cJSON *p = cJSON_CreateArray();
        if (!p) break;
        for (int k = 0; k < 2; k++) cJSON_AddItemToArray(p, add_float(NULL, NULL, c->drawn[i][k]));
        cJSON_AddItemToArray(dr, p);
    }
    gt_json_add_number(o, "noise_dim", c->noise_dim);
    cJSON_AddStringToObject(o, "noise", gt_lab_noise_name(c->noise));
    gt_json_add_number(o, "g_layers", c->g_layers);
    gt_json_add_number(o, "g_neurons", c->g_neurons);
    gt_json_add_number(o, "d_layers", c->d_layers);
    gt_json_add_number(o, "d_neurons", c->d_neurons);
    cJSON_AddStringToObject(o, "loss", gt_lab_loss_name(c->loss));
    add_float(o, "gp", c->gp);
    add_float(o, "r1", c->r1);
    cJSON_AddStringToObject(o, "optim", gt_lab_optim_name(c->optim));
    add_float(o, "lr_g", c->lr_g);
    add_float(o, "lr_d", c->lr_d);
    gt_json_add_number(o, "d_steps", c->d_steps);
    gt_json_add_number(o, "g_steps", c->g_steps);
    gt_json_add_number(o, "batch", c->batch);
    gt_json_add_number(o, "seed", (double)c->seed);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
