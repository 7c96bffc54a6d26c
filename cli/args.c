/* A small strict flag parser: every value is checked (type, whole string
 * consumed, finite, in range) and every mistake names the flag. */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

int gt_args_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gantry %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n(run 'gantry %s --help' for the flags)\n", cmd);
    va_end(ap);
    return GT_ARGS_USAGE;
}

gt_arg *gt_args_find(gt_arg *spec, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(spec[i].name, name) == 0) return &spec[i];
    return NULL;
}

void gt_args_usage(FILE *f, const char *cmd, const char *synopsis, const gt_arg *spec, int n) {
    fprintf(f, "usage: gantry %s %s\n\nflags:\n", cmd, synopsis ? synopsis : "[flags]");
    for (int i = 0; i < n; i++) {
        char left[64];
        const gt_arg *a = &spec[i];
        bool value = a->type != GT_ARG_TRUE && a->type != GT_ARG_FALSE;
        snprintf(left, sizeof left, "%s%s%s", a->name, value ? " " : "", value ? (a->metavar ? a->metavar : "X") : "");
        fprintf(f, "  %-22s %s\n", left, a->help ? a->help : "");
    }
}

static const char *gt__type_word(gt_arg_type t) {
    switch (t) {
    case GT_ARG_INT:
    case GT_ARG_I64: return "an integer";
    case GT_ARG_U64: return "a non-negative integer";
    default: return "a number";
    }
}

/* Parses and range-checks v for a; 0 or GT_ARGS_USAGE. */
static int gt__set(const char *cmd, gt_arg *a, const char *v) {
    if (a->type == GT_ARG_STR) {
        if (!v[0]) return gt_args_error(cmd, "%s needs a non-empty value", a->name);
        *(const char **)a->dst = v;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    double d;
    if (a->type == GT_ARG_U64) {
        if (v[0] == '-' || v[0] == '+' || v[0] == ' ')
            return gt_args_error(cmd, "%s must be %s, got '%s'", a->name, gt__type_word(a->type), v);
        unsigned long long u = strtoull(v, &end, 10);
        if (!end || *end || end == v || errno == ERANGE)
            return gt_args_error(cmd, "%s must be %s, got '%s'", a->name, gt__type_word(a->type), v);
        *(uint64_t *)a->dst = (uint64_t)u;
        return 0;
    }
    d = strtod(v, &end);
    if (!end || *end || end == v || !isfinite(d) || errno == ERANGE)
        return gt_args_error(cmd, "%s must be %s, got '%s'", a->name, gt__type_word(a->type), v);
    if ((a->type == GT_ARG_INT || a->type == GT_ARG_I64) && d != floor(d))
        return gt_args_error(cmd, "%s must be %s, got '%s'", a->name, gt__type_word(a->type), v);
    bool below = a->lo_open ? !(d > a->lo) : !(d >= a->lo);
    if (below || d > a->hi) {
        if (a->type == GT_ARG_DOUBLE)
            return gt_args_error(cmd, "%s must be in %s%g, %g], got %s", a->name, a->lo_open ? "(" : "[", a->lo, a->hi,
                                 v);
        return gt_args_error(cmd, "%s must be in %.0f..%.0f, got %s", a->name, a->lo_open ? a->lo + 1 : a->lo, a->hi,
                             v);
    }
    switch (a->type) {
    case GT_ARG_INT: *(int *)a->dst = (int)d; break;
    case GT_ARG_I64: *(int64_t *)a->dst = (int64_t)d; break;
    default: *(double *)a->dst = d; break;
    }
    return 0;
}

int gt_args_parse(const char *cmd, gt_arg *spec, int n, int argc, char **argv, int first, const char *synopsis) {
    for (int i = first; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            gt_args_usage(stdout, cmd, synopsis, spec, n);
            return GT_ARGS_HELP;
        }
        if (strncmp(s, "--", 2) != 0 || !s[2])
            return gt_args_error(cmd, "unexpected argument '%s' (flags start with --)", s);
        char name[64];
        const char *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        if (len >= sizeof name) return gt_args_error(cmd, "unknown flag '%.40s...'", s);
        memcpy(name, s, len);
        name[len] = '\0';
        gt_arg *a = gt_args_find(spec, n, name);
        if (!a) return gt_args_error(cmd, "unknown flag '%s'", name);
        if (a->given) return gt_args_error(cmd, "%s given twice", name);
        a->given = true;
        if (a->type == GT_ARG_TRUE || a->type == GT_ARG_FALSE) {
            if (eq) return gt_args_error(cmd, "%s takes no value", name);
            *(bool *)a->dst = a->type == GT_ARG_TRUE;
            continue;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v) {
            if (i + 1 >= argc) return gt_args_error(cmd, "%s needs a value (%s)", name, a->metavar ? a->metavar : "X");
            v = argv[++i];
        }
        if (gt__set(cmd, a, v)) return GT_ARGS_USAGE;
    }
    return GT_ARGS_OK;
}
