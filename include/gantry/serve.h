/* gantry/serve.h - the HTTP server of `gantry lab` (src/serve/, libmicrohttpd): GAN Lab's
 * experiments as sessions, trained by one worker thread, with a JSON API, Server-Sent Events
 * of the view, and the page's static files. The endpoints are described in docs/LAB.md. */
#ifndef GANTRY_SERVE_H
#define GANTRY_SERVE_H

#include <stdbool.h>

#include "gantry/base.h"

#ifdef __cplusplus
extern "C" {
#endif

#define GT_LAB_SERVER_MAX_SESSIONS 64
#define GT_LAB_SERVER_MAX_BODY (1 << 20) /* request bodies: at most 1 MiB (413 above) */

typedef struct {
    const char *host;    /* address to listen on: an IPv4 or IPv6 literal or a name (NULL: 127.0.0.1) */
    int port;            /* 0: any free port (gt_lab_server_port says which) */
    const char *web_dir; /* the page's folder (index.html for "/"); NULL: no static files (API only) */
    bool quiet;          /* no log lines (sessions opened, closed, expired) on stderr */
    double idle_s;       /* a session without requests or event streams for this long is freed (0: 600) */
    const char *runs_dir; /* the runs dashboard's folder (docs/DASHBOARD.md); NULL: no /api/runs or /api/explore (404).
                             It need not exist yet: the server notices when it appears */
} gt_lab_server_opts;

typedef struct gt_lab_server gt_lab_server;

/* Binds, starts the HTTP threads and the training worker. GT_ERR_IO with the message
 * "port P is in use" when the port is taken; other bind failures name the address. */
gt_status gt_lab_server_start(const gt_lab_server_opts *o, gt_lab_server **out);
/* The port it listens on (the one picked for port 0). */
int gt_lab_server_port(const gt_lab_server *s);
/* Sessions open now. */
int gt_lab_server_sessions(gt_lab_server *s);
/* Requests whose handler is running now (an answer being built: a session being created waits for the
 * training thread); 0 when the server is idle between requests. Event streams in progress do not count. */
int gt_lab_server_answering(gt_lab_server *s);
/* Ends open event streams, stops the threads, frees every session and the server. NULL is a no-op. */
void gt_lab_server_stop(gt_lab_server *s);

#ifdef __cplusplus
}
#endif
#endif
