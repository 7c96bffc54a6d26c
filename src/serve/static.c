/* The page's files: GET (and HEAD) of any regular file under the web folder, index.html for "/".
 * Refused (400): a path not starting with '/', a "." or ".." segment, an empty segment, a
 * back-slash, a control character (an escaped '/', '\' or NUL arrives as one: server.c), and
 * anything that resolves (symbolic links included) outside the folder (404). */
#define _DEFAULT_SOURCE /* realpath, strcasecmp, NI_* */
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve_internal.h"

static const struct {
    const char *ext, *type;
} gt__types[] = {
    {".html", "text/html; charset=utf-8"},
    {".htm", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".jpeg", "image/jpeg"},
    {".gif", "image/gif"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
    {".woff2", "font/woff2"},
};

static const char *gt__content_type(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof gt__types / sizeof gt__types[0]; i++)
            if (strcasecmp(dot, gt__types[i].ext) == 0) return gt__types[i].type;
    return "application/octet-stream";
}

/* 0: a clean relative path "a/b.js"; else the status to answer. */
static int gt__path_check(const char *url) {
    if (url[0] != '/') return 400;
    const char *seg = url + 1;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 && end) return 400; /* "//" */
        if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) return 400;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)seg[i];
            if (ch < 0x20 || ch == 0x7f || ch == '\\') return 400;
        }
        if (!end) return 0;
        seg = end + 1;
    }
}

static int gt__not_found(struct MHD_Connection *c) {
    static const char body[] = "not found\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_NOT_FOUND, r);
    MHD_destroy_response(r);
    return q;
}

int gt__static(gt_lab_server *S, struct MHD_Connection *c, const char *url, const char *method) {
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) return gt__reply_method(c, "GET, HEAD");
    int bad = gt__path_check(url);
    if (bad) return gt__reply_error(c, bad, "bad path: '..', '.', empty segments, back-slashes and escaped '/' are refused");
    if (!S->web_dir) return gt__not_found(c);
    char path[PATH_MAX], real[PATH_MAX];
    const char *rel = strcmp(url, "/") == 0 ? "/index.html" : url;
    if (snprintf(path, sizeof path, "%s%s", S->web_dir, rel) >= (int)sizeof path) return gt__not_found(c);
    /* what it resolves to must be inside the folder (a symbolic link may point anywhere) */
    size_t wn = strlen(S->web_dir);
    if (!realpath(path, real) || strncmp(real, S->web_dir, wn) != 0 || (real[wn] != '/' && real[wn] != 0))
        return gt__not_found(c);
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return gt__not_found(c);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return gt__not_found(c);
    }
    struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd); /* owns fd */
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, gt__content_type(real));
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result q = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return q;
}
