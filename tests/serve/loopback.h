/* tests/serve/loopback.h - a TCP connection to a local server on 127.0.0.1 and sending all of a
 * buffer on it; plain POSIX (no test harness), shared by the server tests (lab_http.h,
 * abuse_drive.h) and the benchmarks that talk HTTP (bench/bench_http.h). */
#ifndef GT_TEST_LOOPBACK_H
#define GT_TEST_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* A socket connected to 127.0.0.1:port whose sends and receives time out after timeout_s; -1 on failure. */
static inline int gt_loopback_connect(int port, double timeout_s) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {(time_t)timeout_s, (suseconds_t)((timeout_s - (double)(time_t)timeout_s) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* All n bytes of p on fd (no SIGPIPE); false when the peer went away or a send timed out. */
static inline bool gt_loopback_send_all(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
        if (k <= 0) return false;
        c += k, n -= (size_t)k;
    }
    return true;
}

#endif
