/* bench_http.h - a loopback TCP connection to a local gantry lab server, for the benchmarks that
 * talk HTTP to it (bench_lab, bench_dashboard). */
#ifndef GANTRY_BENCH_HTTP_H
#define GANTRY_BENCH_HTTP_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../tests/serve/loopback.h"

/* A socket connected to 127.0.0.1:port, timing out after timeout_s; -1 on failure. */
static inline int bench_http_connect(int port, int timeout_s) { return gt_loopback_connect(port, timeout_s); }

#endif
