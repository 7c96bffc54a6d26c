/* A run's metrics.jsonl in memory (docs/DASHBOARD.md): read incrementally from the last offset
 * (a last line without its newline waits for the next read; a file replaced or cut shorter, as a
 * resumed run rewrites it, is read again from the start), one float column per numeric key of the
 * logged lines and of the eval lines, lines that do not parse counted. A small flat-JSON scanner
 * (the lines are flat objects of numbers, plus "eval": {...}) keeps a 1M-line file to about a
 * second; anything it does not accept is a bad line. Then the /metrics answer with its
 * min/max-keeping downsampling, and the `metrics` events' lines. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runs_internal.h"

/* ---- tables ------------------------------------------------------------------------------------ */

static void gt__table_free(gt__table *t) {
    free(t->step);
    for (int i = 0; i < t->nk; i++) free(t->cols[i].v);
    memset(t, 0, sizeof *t);
}

void gt__metrics_free(gt__metrics *m) {
    free(m->ans);
    free(m->ans_keys);
    gt__table_free(&m->lines);
    gt__table_free(&m->eval);
    memset(m, 0, sizeof *m);
}

static bool gt__table_row(gt__table *t, double step) {
    if (t->n == t->cap) {
        int64_t cap = t->cap ? t->cap * 2 : 1024;
        double *s = realloc(t->step, (size_t)cap * sizeof *s);
        if (!s) return false;
        t->step = s;
        for (int i = 0; i < t->nk; i++) {
            float *v = realloc(t->cols[i].v, (size_t)cap * sizeof *v);
            if (!v) return false;
            t->cols[i].v = v;
        }
        t->cap = cap;
    }
    t->step[t->n] = step;
    for (int i = 0; i < t->nk; i++) t->cols[i].v[t->n] = NAN;
    t->n++;
    return true;
}

/* Sets the last row's value of key (a new column is NaN before); false on OOM. */
static bool gt__table_set(gt__table *t, const char *k, size_t kl, double v, int *hint) {
    int i = *hint;
    if (!(i < t->nk && strlen(t->cols[i].key) == kl && !memcmp(t->cols[i].key, k, kl))) {
        for (i = 0; i < t->nk; i++)
            if (strlen(t->cols[i].key) == kl && !memcmp(t->cols[i].key, k, kl)) break;
    }
    if (i == t->nk) {
        if (t->nk == GT__METRIC_KEYS || kl >= GT__METRIC_KEY_LEN) return true; /* not kept */
        float *col = malloc((size_t)t->cap * sizeof *col);
        if (!col) return false;
        for (int64_t j = 0; j < t->n; j++) col[j] = NAN;
        memcpy(t->cols[i].key, k, kl);
        t->cols[i].key[kl] = 0;
        t->cols[i].v = col;
        t->nk++;
    }
    t->cols[i].v[t->n - 1] = (float)v;
    *hint = i + 1;
    return true;
}

/* ---- the line scanner -------------------------------------------------------------------------- */

typedef struct {
    const char *k;
    size_t kl;
    double v;
} gt__kv;

#define GT__LINE_KV 64

typedef struct {
    gt__kv top[GT__LINE_KV], ev[GT__LINE_KV];
    int ntop, nev;
    bool has_eval;
} gt__line;

static const char *gt__ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    return p;
}

/* A string: its contents (escapes kept) in *s, *n; NULL when malformed. */
static const char *gt__str(const char *p, const char *e, const char **s, size_t *n, bool *esc) {
    if (p >= e || *p != '"') return NULL;
    p++;
    *s = p;
    *esc = false;
    while (p < e && *p != '"') {
        if ((unsigned char)*p < 0x20) return NULL;
        if (*p == '\\') {
            *esc = true;
            p++;
        }
        p++;
    }
    if (p >= e) return NULL;
    *n = (size_t)(p - *s);
    return p + 1;
}

static const double gt__p10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A JSON number (its grammar exactly) into *v: up to 19 significant digits and a power of ten
 * within 1e±22 directly (within a few ulps of strtod; the columns keep floats), else strtod. */
static const char *gt__number(const char *p, const char *e, double *v) {
    const char *a = p;
    bool neg = false;
    uint64_t mant = 0;
    int nd = 0, e10 = 0;
    if (p < e && *p == '-') p++, neg = true;
    if (p >= e) return NULL;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9')
        for (; p < e && *p >= '0' && *p <= '9'; p++) {
            if (nd < 19) mant = mant * 10 + (uint64_t)(*p - '0'), nd++;
            else e10++;
        }
    else return NULL;
    if (p < e && *p == '.') {
        p++;
        if (p >= e || *p < '0' || *p > '9') return NULL;
        for (; p < e && *p >= '0' && *p <= '9'; p++)
            if (nd < 19 && (mant || *p != '0' || nd)) {
                mant = mant * 10 + (uint64_t)(*p - '0'), e10--;
                if (mant) nd++;
            } else if (!mant) {
                e10--; /* a leading zero of the fraction */
            }
    }
    int ex = 0;
    bool eneg = false;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        if (p >= e || *p < '0' || *p > '9') return NULL;
        for (; p < e && *p >= '0' && *p <= '9'; p++)
            if (ex < 100000) ex = ex * 10 + (*p - '0');
    }
    e10 += eneg ? -ex : ex;
    if (mant == 0) {
        *v = neg ? -0.0 : 0.0;
        return p;
    }
    if (e10 >= -22 && e10 <= 22) {
        double m = (double)mant;
        m = e10 >= 0 ? m * gt__p10[e10] : m / gt__p10[-e10];
        *v = neg ? -m : m;
        return p;
    }
    char tmp[64];
    size_t n = (size_t)(p - a);
    if (n >= sizeof tmp) { /* a very long number: its first 63 characters would change it */
        char *big = malloc(n + 1);
        if (!big) return NULL;
        memcpy(big, a, n);
        big[n] = 0;
        *v = strtod(big, NULL);
        free(big);
        return p;
    }
    memcpy(tmp, a, n);
    tmp[n] = 0;
    *v = strtod(tmp, NULL);
    return p;
}

/* An object's pairs; numeric (and null: NaN) values into kv; "eval": {...} at depth 0 into L->ev. */
static const char *gt__object(const char *p, const char *e, gt__line *L, int depth) {
    if (p >= e || *p != '{') return NULL;
    p = gt__ws(p + 1, e);
    if (p < e && *p == '}') return p + 1;
    for (;;) {
        const char *k;
        size_t kl;
        bool esc;
        p = gt__str(p, e, &k, &kl, &esc);
        if (!p) return NULL;
        p = gt__ws(p, e);
        if (p >= e || *p != ':') return NULL;
        p = gt__ws(p + 1, e);
        if (p >= e) return NULL;
        double v = NAN;
        bool num = false;
        if (*p == '{') {
            if (depth != 0 || kl != 4 || memcmp(k, "eval", 4)) return NULL;
            L->has_eval = true;
            p = gt__object(p, e, L, 1);
        } else if (*p == '"') {
            const char *s;
            size_t sn;
            bool e2;
            p = gt__str(p, e, &s, &sn, &e2);
        } else if (e - p >= 4 && !memcmp(p, "null", 4)) {
            p += 4, num = true;
        } else if (e - p >= 4 && !memcmp(p, "true", 4)) {
            p += 4;
        } else if (e - p >= 5 && !memcmp(p, "false", 5)) {
            p += 5;
        } else {
            p = gt__number(p, e, &v);
            num = true;
        }
        if (!p) return NULL;
        if (num && !esc) {
            int *n = depth ? &L->nev : &L->ntop;
            gt__kv *kv = depth ? L->ev : L->top;
            if (*n < GT__LINE_KV) kv[(*n)++] = (gt__kv){k, kl, v};
        }
        p = gt__ws(p, e);
        if (p < e && *p == ',') {
            p = gt__ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') return p + 1;
        return NULL;
    }
}

static bool gt__key_is(const gt__kv *kv, const char *s) { return kv->kl == strlen(s) && !memcmp(kv->k, s, kv->kl); }

/* One line [p, e): 1 kept, 0 blank, -1 bad, -2 OOM. */
static int gt__line_add(gt__metrics *m, const char *p, const char *e) {
    p = gt__ws(p, e);
    if (p == e) return 0;
    gt__line L;
    L.ntop = L.nev = 0;
    L.has_eval = false;
    const char *q = gt__object(p, e, &L, 0);
    if (!q || gt__ws(q, e) != e) return -1;
    double step = NAN, unix_t = NAN;
    for (int i = 0; i < L.ntop; i++) {
        if (gt__key_is(&L.top[i], "step")) step = L.top[i].v;
        if (gt__key_is(&L.top[i], "unix")) unix_t = L.top[i].v;
    }
    if (!isfinite(step)) return -1;
    if (isfinite(unix_t)) m->last_unix = unix_t;
    gt__table *t = L.has_eval ? &m->eval : &m->lines;
    if (!gt__table_row(t, step)) return -2;
    int hint = 0;
    const gt__kv *kv = L.has_eval ? L.ev : L.top;
    int n = L.has_eval ? L.nev : L.ntop;
    for (int i = 0; i < n; i++) {
        if (!L.has_eval && (gt__key_is(&kv[i], "step") || gt__key_is(&kv[i], "unix"))) continue;
        if (!gt__table_set(t, kv[i].k, kv[i].kl, kv[i].v, &hint)) return -2;
    }
    return 1;
}

/* The complete lines of buf[0, n): how many bytes they take; -1 on OOM. */
static int64_t gt__feed(gt__metrics *m, const char *buf, size_t n) {
    size_t done = 0;
    for (;;) {
        const char *nl = memchr(buf + done, '\n', n - done);
        if (!nl) break;
        int r = gt__line_add(m, buf + done, nl);
        if (r == -2) return -1;
        if (r == -1) m->bad++;
        done = (size_t)(nl - buf) + 1;
    }
    return (int64_t)done;
}

bool gt__metrics_update(gt__runs *R, gt__run *r, int64_t *first_line, int64_t *first_eval) {
    gt__metrics *m = &r->m;
    char *path = gt__run_path(R, r->name, "metrics.jsonl");
    if (!path) return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        if (fd >= 0) close(fd);
        if (m->loaded && m->off) gt__metrics_free(m); /* gone: nothing */
        m->loaded = true;
        if (first_line) *first_line = m->lines.n, *first_eval = m->eval.n;
        return true;
    }
    if (m->loaded && (sb.st_ino != m->ino || (uint64_t)sb.st_size < m->off)) gt__metrics_free(m); /* rewritten */
    m->loaded = true;
    m->ino = sb.st_ino;
    if (first_line) *first_line = m->lines.n, *first_eval = m->eval.n;
    bool ok = true;
    if ((uint64_t)sb.st_size > m->off) {
        size_t cap = 4u << 20, have = 0;
        char *buf = malloc(cap + 1);
        if (!buf) ok = false;
        uint64_t pos = m->off;
        while (ok) {
            ssize_t got = pread(fd, buf + have, cap - have, (off_t)(pos + have));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
            have += (size_t)got;
            int64_t used = gt__feed(m, buf, have);
            if (used < 0) {
                ok = false;
                break;
            }
            pos += (uint64_t)used;
            memmove(buf, buf + used, have - (size_t)used);
            have -= (size_t)used;
            if (have == cap) { /* a line longer than the buffer: skipped as bad */
                m->bad++;
                pos += have;
                have = 0;
            }
        }
        m->off = pos;
        free(buf);
    }
    close(fd);
    return ok;
}

/* ---- answers ----------------------------------------------------------------------------------- */

void gt__metrics_last(const gt__metrics *m, gt__last *o) {
    *o = (gt__last){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    if (!m) return;
    const gt__table *t = &m->lines;
    if (t->n) {
        int64_t i = t->n - 1;
        o->step = t->step[i];
        for (int k = 0; k < t->nk; k++) {
            const char *key = t->cols[k].key;
            double v = t->cols[k].v[i];
            if (!strcmp(key, "loss_d")) o->loss_d = v;
            else if (!strcmp(key, "loss_g")) o->loss_g = v;
            else if (!strcmp(key, "d_real")) o->d_real = v;
            else if (!strcmp(key, "d_fake")) o->d_fake = v;
            else if (!strcmp(key, "it_s")) o->it_s = v;
        }
    }
    const gt__table *e = &m->eval;
    if (e->n && !(e->step[e->n - 1] <= o->step)) o->step = e->step[e->n - 1];
    for (int k = 0; k < e->nk; k++)
        if (!strcmp(e->cols[k].key, "fid"))
            for (int64_t i = e->n - 1; i >= 0; i--)
                if (isfinite(e->cols[k].v[i])) {
                    o->fid = e->cols[k].v[i];
                    o->fid_step = e->step[i];
                    break;
                }
    o->unix_t = m->last_unix > 0 ? m->last_unix : NAN;
}

void gt__metrics_tail(const char *path, gt__last *o) {
    gt__metrics_last(NULL, o);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat sb;
    size_t want = 256u << 10;
    if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
        off_t from = sb.st_size > (off_t)want ? sb.st_size - (off_t)want : 0;
        char *buf = malloc(want + 1);
        ssize_t got = buf ? pread(fd, buf, want, from) : -1;
        if (got > 0) {
            size_t skip = 0;
            if (from > 0) { /* the first line is cut: from the first newline on */
                char *nl = memchr(buf, '\n', (size_t)got);
                skip = nl ? (size_t)(nl - buf) + 1 : (size_t)got;
            }
            gt__metrics m = {0};
            if (gt__feed(&m, buf + skip, (size_t)got - skip) >= 0) gt__metrics_last(&m, o);
            gt__metrics_free(&m);
        }
        free(buf);
    }
    close(fd);
}

static bool gt__want(const char *keys, const char *prefix, const char *key) {
    if (!keys) return true;
    size_t pl = strlen(prefix), kl = strlen(key);
    for (const char *p = keys; *p;) {
        size_t n = strcspn(p, ",");
        if (n == pl + kl && !memcmp(p, prefix, pl) && !memcmp(p + pl, key, kl)) return true;
        p += n + (p[n] == ',');
    }
    return false;
}

static void gt__steps(gt_buf *b, const double *s, int64_t n) {
    gt__buf_puts(b, "[");
    for (int64_t i = 0; i < n; i++) gt__buf_printf(b, i ? ",%.0f" : "%.0f", s[i]);
    gt__buf_puts(b, "]");
}

void gt__metrics_json(const gt__metrics *m, gt_buf *b, int max, const char *keys) {
    const gt__table *t = &m->lines;
    int64_t n = t->n;
    bool down = n > max;
    int64_t B = max / 2;
    gt__buf_printf(b, "{\"n\":%lld,\"bad_lines\":%lld,\"downsampled\":%s,\"step\":", (long long)n, (long long)m->bad,
                   down ? "true" : "false");
    if (!down) {
        gt__steps(b, t->step, n);
    } else {
        gt__buf_puts(b, "[");
        for (int64_t k = 0; k < B; k++) {
            int64_t i0 = k * n / B, i1 = (k + 1) * n / B - 1;
            gt__buf_printf(b, k ? ",%.0f,%.0f" : "%.0f,%.0f", t->step[i0], t->step[i1]);
        }
        gt__buf_puts(b, "]");
    }
    gt__buf_puts(b, ",\"series\":{");
    int shown = 0;
    for (int c = 0; c < t->nk && !b->oom; c++) {
        const gt__col *col = &t->cols[c];
        if (!gt__want(keys, "", col->key)) continue;
        gt__buf_puts(b, shown++ ? "," : "");
        gt__buf_json_str(b, col->key);
        gt__buf_puts(b, ":[");
        if (!down) {
            for (int64_t i = 0; i < n; i++) {
                if (i) gt__buf_puts(b, ",");
                gt__num(b, col->v[i]);
            }
        } else {
            for (int64_t k = 0; k < B; k++) {
                int64_t i0 = k * n / B, i1 = (k + 1) * n / B, lo = -1, hi = -1;
                for (int64_t i = i0; i < i1; i++) {
                    float v = col->v[i];
                    if (v != v) continue;
                    if (lo < 0 || v < col->v[lo]) lo = i;
                    if (hi < 0 || v > col->v[hi]) hi = i;
                }
                if (k) gt__buf_puts(b, ",");
                if (lo < 0) {
                    gt__buf_puts(b, "null,null");
                    continue;
                }
                int64_t a = lo < hi ? lo : hi, z = lo < hi ? hi : lo;
                gt__num(b, col->v[a]);
                gt__buf_puts(b, ",");
                gt__num(b, col->v[z]);
            }
        }
        gt__buf_puts(b, "]");
    }
    gt__buf_puts(b, "},\"eval\":{\"step\":");
    const gt__table *e = &m->eval;
    gt__steps(b, e->step, e->n);
    bool restrict_eval = keys && strstr(keys, "eval.");
    for (int c = 0; c < e->nk; c++) {
        if (restrict_eval && !gt__want(keys, "eval.", e->cols[c].key)) continue;
        gt__buf_puts(b, ",");
        gt__buf_json_str(b, e->cols[c].key);
        gt__buf_puts(b, ":[");
        for (int64_t i = 0; i < e->n; i++) {
            if (i) gt__buf_puts(b, ",");
            gt__num(b, e->cols[c].v[i]);
        }
        gt__buf_puts(b, "]");
    }
    gt__buf_puts(b, "}}");
}

static void gt__row_json(gt_buf *b, const gt__table *t, int64_t i, bool eval) {
    gt__buf_printf(b, "{\"step\":%.0f%s", t->step[i], eval ? ",\"eval\":{" : "");
    int k = 0;
    for (int c = 0; c < t->nk; c++) {
        float v = t->cols[c].v[i];
        if (v != v) continue;
        gt__buf_puts(b, eval && !k++ ? "" : ",");
        gt__buf_json_str(b, t->cols[c].key);
        gt__buf_puts(b, ":");
        gt__num(b, v);
    }
    gt__buf_puts(b, eval ? "}}" : "}");
}

void gt__metrics_event_json(const gt__metrics *m, gt_buf *b, int64_t l0, int64_t e0) {
    if (m->lines.n - l0 > GT__EVENT_MAX_LINES) l0 = m->lines.n - GT__EVENT_MAX_LINES;
    if (m->eval.n - e0 > GT__EVENT_MAX_LINES) e0 = m->eval.n - GT__EVENT_MAX_LINES;
    gt__buf_puts(b, "{\"lines\":[");
    int k = 0;
    for (int64_t i = l0; i < m->lines.n; i++) {
        gt__buf_puts(b, k++ ? "," : "");
        gt__row_json(b, &m->lines, i, false);
    }
    for (int64_t i = e0; i < m->eval.n; i++) {
        gt__buf_puts(b, k++ ? "," : "");
        gt__row_json(b, &m->eval, i, true);
    }
    gt__buf_printf(b, "],\"n\":%lld,\"bad_lines\":%lld}", (long long)m->lines.n, (long long)m->bad);
}
