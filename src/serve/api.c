/* The lab server's JSON API (docs/LAB.md): /api/options, /api/sessions and each session's
 * config, control, frame, history, events, trace and export. Every change to the nets runs on
 * the worker as a command (sessions.c); answers are built from the session's fields. */
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve_internal.h"

static void gt__session_json(gt_buf *b, gt__session *s) {
    pthread_mutex_lock(&s->mu);
    gt__buf_printf(b, "{\"id\":\"%s\",\"config\":", s->id);
    gt__config_to_json(b, &s->cfg);
    gt__buf_printf(b, ",\"epoch\":%lld,\"playing\":%s,\"slow\":%s,\"epochs_per_s\":", (long long)s->epoch,
                   s->playing ? "true" : "false", s->slow ? "true" : "false");
    gt__num(b, s->eps);
    gt__buf_puts(b, ",\"loss_d\":");
    gt__num(b, s->loss_d);
    gt__buf_puts(b, ",\"loss_g\":");
    gt__num(b, s->loss_g);
    gt__buf_puts(b, ",\"kl\":");
    gt__num(b, s->kl);
    gt__buf_puts(b, ",\"js\":");
    gt__num(b, s->js);
    gt__buf_puts(b, "}");
    pthread_mutex_unlock(&s->mu);
}

static int gt__reply_session(struct MHD_Connection *c, int status, gt__session *s) {
    gt_buf b = {0};
    gt__session_json(&b, s);
    return gt__reply_json(c, status, &b);
}

/* A failed command: the engine's message with 400 (bad value), 404 (closed meanwhile) or 500. */
static int gt__reply_cmd(struct MHD_Connection *c, const gt__cmd *cmd) {
    int status = cmd->st == GT_ERR_ARG ? 400 : cmd->st == GT_ERR_STATE ? 404 : 500;
    return gt__reply_error(c, status, "%s", cmd->err[0] ? cmd->err : gt_status_name(cmd->st));
}

static int gt__create(gt_lab_server *S, struct MHD_Connection *c, const char *body, size_t n) {
    gt_lab_config *cfg = malloc(sizeof *cfg);
    if (!cfg) return gt__reply_error(c, 500, "out of memory");
    *cfg = gt_lab_config_default();
    int status = gt__config_from_json(cfg, body, n);
    gt__session *s = NULL;
    if (!status) status = gt__session_create(S, cfg, &s);
    free(cfg);
    if (!s) return gt__reply_error(c, status, "%s", gt_last_error());
    int q = gt__reply_session(c, 201, s);
    gt__session_unref(S, s);
    return q;
}

static int gt__configure(gt_lab_server *S, struct MHD_Connection *c, gt__session *s, const char *body, size_t n) {
    gt_lab_config *cfg = malloc(sizeof *cfg);
    if (!cfg) return gt__reply_error(c, 500, "out of memory");
    pthread_mutex_lock(&s->cfg_mu); /* read, merge and rebuild as one: see cfg_mu */
    pthread_mutex_lock(&s->mu);
    *cfg = s->cfg;
    pthread_mutex_unlock(&s->mu);
    int status = gt__config_from_json(cfg, body, n);
    if (status) {
        pthread_mutex_unlock(&s->cfg_mu);
        free(cfg);
        return gt__reply_error(c, status, "%s", gt_last_error());
    }
    gt__cmd cmd = {.kind = GT__CMD_CONFIGURE, .s = s, .cfg = cfg};
    gt__cmd_run(S, &cmd);
    pthread_mutex_unlock(&s->cfg_mu);
    free(cfg);
    return cmd.st == GT_OK ? gt__reply_session(c, 200, s) : gt__reply_cmd(c, &cmd);
}

/* {"action": "play" | "pause" | "reset" | "step", "which": "both" | "d" | "g", "epochs": N, "slow": bool} */
static int gt__control(gt_lab_server *S, struct MHD_Connection *c, gt__session *s, const char *body, size_t n) {
    int status;
    cJSON *j = gt__json_parse(body, n, &status);
    if (!j) return gt__reply_error(c, status, "%s", gt_last_error());
    const char *action = NULL;
    gt_lab_which which = GT_LAB_BOTH;
    int epochs = 1, slow = -1;
    char err[200] = "";
    for (const cJSON *v = j->child; v && !err[0]; v = v->next) {
        const char *k = v->string;
        if (strcmp(k, "action") == 0) {
            if (!cJSON_IsString(v)) snprintf(err, sizeof err, "action must be a string");
            else if (strcmp(v->valuestring, "play") && strcmp(v->valuestring, "pause") &&
                     strcmp(v->valuestring, "reset") && strcmp(v->valuestring, "step"))
                snprintf(err, sizeof err, "action must be one of play, pause, reset, step, got '%.30s'", v->valuestring);
            else action = v->valuestring;
        } else if (strcmp(k, "which") == 0) {
            const char *w = cJSON_IsString(v) ? v->valuestring : NULL;
            if (!w) snprintf(err, sizeof err, "which must be a string");
            else if (!strcmp(w, "both")) which = GT_LAB_BOTH;
            else if (!strcmp(w, "d")) which = GT_LAB_D_ONLY;
            else if (!strcmp(w, "g")) which = GT_LAB_G_ONLY;
            else snprintf(err, sizeof err, "which must be one of both, d, g, got '%.30s'", w);
        } else if (strcmp(k, "epochs") == 0) {
            if (!cJSON_IsNumber(v)) snprintf(err, sizeof err, "epochs must be an integer");
            else if (!(v->valuedouble >= 1 && v->valuedouble <= GT_SERVE_MAX_STEP) || v->valuedouble != (int)v->valuedouble)
                snprintf(err, sizeof err, "epochs must be an integer in 1..%d, got %g", GT_SERVE_MAX_STEP, v->valuedouble);
            else epochs = (int)v->valuedouble;
        } else if (strcmp(k, "slow") == 0) {
            if (!cJSON_IsBool(v)) snprintf(err, sizeof err, "slow must be true or false");
            else slow = cJSON_IsTrue(v);
        } else {
            snprintf(err, sizeof err, "unknown field '%.40s' (control takes action, which, epochs, slow)", k);
        }
    }
    if (!err[0] && !action && slow < 0) snprintf(err, sizeof err, "control needs an action (play, pause, reset, step) or slow");
    if (err[0]) {
        cJSON_Delete(j);
        return gt__reply_error(c, 400, "%s", err);
    }
    bool play = action && !strcmp(action, "play"), pause = action && !strcmp(action, "pause");
    bool reset = action && !strcmp(action, "reset"), step = action && !strcmp(action, "step");
    cJSON_Delete(j);
    pthread_mutex_lock(&s->mu);
    if (slow >= 0) s->slow = slow;
    if (play) s->playing = true, s->which = which, s->error[0] = 0;
    if (pause) s->playing = false;
    pthread_mutex_unlock(&s->mu);
    if (play || slow >= 0) gt__kick(S);
    if (reset || step || pause) { /* after a pause no epoch runs any more: the answer's is the last */
        gt__cmd cmd = {.kind = reset ? GT__CMD_RESET : step ? GT__CMD_STEP : GT__CMD_SYNC, .s = s, .n = epochs,
                       .which = which};
        gt__cmd_run(S, &cmd);
        if (cmd.st != GT_OK) return gt__reply_cmd(c, &cmd);
    }
    return gt__reply_session(c, 200, s);
}

static int gt__frame(gt_lab_server *S, struct MHD_Connection *c, gt__session *s) {
    gt__cmd cmd = {.kind = GT__CMD_FRAME, .s = s};
    for (int tries = 0; tries < 4; tries++) { /* a frame at most every 1/30 s: a newer one may take that long */
        gt__cmd_run(S, &cmd);
        if (cmd.st != GT_OK) return gt__reply_cmd(c, &cmd);
        if (!cmd.n_points) break;
        struct timespec ts = {0, (long)(GT_SERVE_FRAME_MIN_S * 1e9 / 2)};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&s->mu);
    gt__blob *e = s->has_frame ? gt__frame_event(s) : NULL;
    pthread_mutex_unlock(&s->mu);
    if (!e) return gt__reply_error(c, 500, "no frame could be made");
    /* the event's text without "event: frame\ndata: " and the blank line */
    size_t skip = strlen(GT__EVENT_PREFIX);
    int q = gt__reply(c, 200, "application/json", e->p + skip, e->n - skip - 2);
    gt__blob_unref(e);
    return q;
}

static int gt__history(gt_lab_server *S, struct MHD_Connection *c, gt__session *s) {
    int max = GT_SERVE_MAX_HISTORY;
    const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "max");
    if (q) {
        char *end = NULL;
        long m = strtol(q, &end, 10);
        if (!*q || *end || m < 1 || m > GT_SERVE_MAX_HISTORY)
            return gt__reply_error(c, 400, "max must be an integer in 1..%d, got '%.20s'", GT_SERVE_MAX_HISTORY, q);
        max = (int)m;
    }
    gt_lab_point *p = malloc((size_t)max * sizeof *p);
    if (!p) return gt__reply_error(c, 500, "out of memory");
    gt__cmd cmd = {.kind = GT__CMD_HISTORY, .s = s, .n = max, .points = p};
    gt__cmd_run(S, &cmd);
    if (cmd.st != GT_OK) {
        free(p);
        return gt__reply_cmd(c, &cmd);
    }
    gt_buf b = {0};
    gt__buf_puts(&b, "{\"points\":[");
    for (int i = 0; i < cmd.n_points; i++) {
        gt__buf_printf(&b, "%s[%lld,", i ? "," : "", (long long)p[i].epoch);
        gt__num(&b, p[i].loss_d);
        gt__buf_puts(&b, ",");
        gt__num(&b, p[i].loss_g);
        gt__buf_puts(&b, ",");
        gt__num(&b, p[i].kl);
        gt__buf_puts(&b, ",");
        gt__num(&b, p[i].js);
        gt__buf_puts(&b, "]");
    }
    gt__buf_puts(&b, "]}");
    free(p);
    return gt__reply_json(c, 200, &b);
}

static int gt__trace(gt_lab_server *S, struct MHD_Connection *c, gt__session *s, const char *body, size_t n) {
    size_t k = 0;
    while (k < n && strchr(" \t\r\n", body[k])) k++;
    if (k < n) { /* a body, if any, is an empty object */
        int status;
        cJSON *j = gt__json_parse(body, n, &status);
        if (!j) return gt__reply_error(c, status, "%s", gt_last_error());
        bool empty = j->child == NULL;
        char key[48];
        snprintf(key, sizeof key, "%.40s", empty ? "" : j->child->string);
        cJSON_Delete(j);
        if (!empty) return gt__reply_error(c, 400, "unknown field '%s' (trace takes no fields)", key);
    }
    gt_lab_trace *t = malloc(sizeof *t);
    if (!t) return gt__reply_error(c, 500, "out of memory");
    gt__cmd cmd = {.kind = GT__CMD_TRACE, .s = s, .trace = t};
    gt__cmd_run(S, &cmd);
    if (cmd.st != GT_OK) {
        free(t);
        return gt__reply_cmd(c, &cmd);
    }
    int m = t->n < 0 ? 0 : t->n > GT_LAB_MAX_BATCH ? GT_LAB_MAX_BATCH : t->n;
    gt_buf b = {0};
    gt__buf_printf(&b, "{\"epoch\":%lld,\"loss_d\":", (long long)t->epoch);
    gt__num(&b, t->loss_d);
    gt__buf_puts(&b, ",\"loss_g\":");
    gt__num(&b, t->loss_g);
    for (int pass = 0; pass < 2; pass++) {
        gt__buf_puts(&b, pass ? ",\"grad_g\":[" : ",\"fake\":[");
        for (int i = 0; i < m; i++) {
            const float *p = pass ? t->grad_g[i] : t->fake[i];
            gt__buf_puts(&b, i ? ",[" : "[");
            gt__num(&b, p[0]);
            gt__buf_puts(&b, ",");
            gt__num(&b, p[1]);
            gt__buf_puts(&b, "]");
        }
        gt__buf_puts(&b, "]");
    }
    gt__buf_printf(&b, ",\"n_params_d\":%d,\"n_params_g\":%d,\"grad_norm_d\":", t->n_params_d, t->n_params_g);
    gt__num(&b, t->grad_norm_d);
    gt__buf_puts(&b, ",\"grad_norm_g\":");
    gt__num(&b, t->grad_norm_g);
    gt__buf_puts(&b, ",\"update_norm_d\":");
    gt__num(&b, t->update_norm_d);
    gt__buf_puts(&b, ",\"update_norm_g\":");
    gt__num(&b, t->update_norm_g);
    gt__buf_puts(&b, "}");
    free(t);
    return gt__reply_json(c, 200, &b);
}

static int gt__export(gt_lab_server *S, struct MHD_Connection *c, gt__session *s) {
    gt__cmd cmd = {.kind = GT__CMD_EXPORT, .s = s};
    gt__cmd_run(S, &cmd);
    if (cmd.st != GT_OK) return gt__reply_cmd(c, &cmd);
    struct MHD_Response *r = MHD_create_response_from_buffer(cmd.len, cmd.buf, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(cmd.buf);
        return MHD_NO;
    }
    pthread_mutex_lock(&s->mu);
    long long epoch = (long long)s->epoch;
    pthread_mutex_unlock(&s->mu);
    char disp[96];
    snprintf(disp, sizeof disp, "attachment; filename=\"gantry-lab-%lld.safetensors\"", epoch);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, disp);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return q;
}

/* /api/sessions/ID[/WHAT]: the routes, their methods (405 otherwise), then the session (404). */
static const struct {
    const char *what, *allow;
} gt__routes[] = {
    {"", "GET, DELETE"},  {"/config", "POST"}, {"/control", "POST"}, {"/frame", "GET"},
    {"/history", "GET"}, {"/events", "GET"},  {"/trace", "POST"},   {"/export", "GET"},
};

static int gt__session_route(gt_lab_server *S, struct MHD_Connection *c, const char *rest, const char *method,
                             const char *body, size_t n) {
    size_t idn = strcspn(rest, "/");
    const char *what = rest + idn;
    int route = -1;
    for (int i = 0; i < (int)(sizeof gt__routes / sizeof gt__routes[0]) && route < 0; i++)
        if (strcmp(what, gt__routes[i].what) == 0) route = i;
    char safe[120];
    if (route < 0 || idn == 0) return gt__reply_error(c, 404, "no such path: %s", gt__printable(safe, 100, rest - 14));
    bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST"), del = !strcmp(method, "DELETE");
    bool ok = route == 0 ? get || del : strcmp(gt__routes[route].allow, "GET") == 0 ? get : post;
    if (!ok) return gt__reply_method(c, gt__routes[route].allow);
    char id[17];
    if (idn >= sizeof id) return gt__reply_error(c, 404, "no session '%s'", gt__printable(safe, 40, rest));
    memcpy(id, rest, idn);
    id[idn] = 0;
    gt__session *s = gt__session_find(S, id);
    if (!s)
        return gt__reply_error(c, 404, "no session '%s' (sessions unused for 10 minutes are closed)",
                               gt__printable(safe, sizeof safe, id));
    int q;
    switch (route) {
    case 0:
        if (del) {
            gt__session_delete(S, s);
            q = gt__reply(c, 204, NULL, "", 0);
        } else {
            q = gt__reply_session(c, 200, s);
        }
        break;
    case 1: q = gt__configure(S, c, s, body, n); break;
    case 2: q = gt__control(S, c, s, body, n); break;
    case 3: q = gt__frame(S, c, s); break;
    case 4: q = gt__history(S, c, s); break;
    case 5: return gt__events(S, c, s); /* the stream keeps the reference */
    case 6: q = gt__trace(S, c, s, body, n); break;
    default: q = gt__export(S, c, s); break;
    }
    gt__session_unref(S, s);
    return q;
}

int gt__api(gt_lab_server *S, struct MHD_Connection *c, const char *url, const char *method, const char *body,
            size_t n) {
    if (strcmp(url, "/api/options") == 0) {
        if (strcmp(method, "GET") != 0) return gt__reply_method(c, "GET");
        return gt__reply(c, 200, "application/json", S->options_json, strlen(S->options_json));
    }
    if (strcmp(url, "/api/sessions") == 0) {
        if (strcmp(method, "POST") != 0) return gt__reply_method(c, "POST");
        return gt__create(S, c, body, n);
    }
    if (strncmp(url, "/api/sessions/", 14) == 0) return gt__session_route(S, c, url + 14, method, body, n);
    if (!strncmp(url, "/api/anycost", 12) && (url[12] == 0 || url[12] == '/'))
        return gt__anycost_api(S, c, url + 12, method, body, n);
    int q = gt__runs_route(S, c, url, method, body, n);
    if (q >= 0) return q;
    char safe[101];
    return gt__reply_error(c, 404, "no such path: %s", gt__printable(safe, sizeof safe, url));
}
