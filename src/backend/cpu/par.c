/* The work pool of par.h: a shared item counter, workers that sleep between
 * jobs. The caller waits only for items a worker has already taken. */
#include "par.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../../internal.h"

#define GT_CPU_PAR_MAX_WORKERS 63

struct gt_cpu_par {
    pthread_mutex_t mu;
    pthread_cond_t wake, idle;
    pthread_t th[GT_CPU_PAR_MAX_WORKERS];
    int nworkers;
    bool quit;
    unsigned gen;         /* job generation: bumped for each job */
    int active;           /* workers inside the current job */
    /* the current job (written under mu while active == 0) */
    gt_cpu_par_fn fn;
    void *ctx;
    int64_t n, grain;
    atomic_llong next;    /* next item */
};

static void gt__par_items(gt_cpu_par *p) {
    for (;;) {
        int64_t i0 = atomic_fetch_add(&p->next, p->grain);
        if (i0 >= p->n) return;
        p->fn(p->ctx, i0, GT_MIN(p->n, i0 + p->grain));
    }
}

static void *gt__par_worker(void *arg) {
    gt_cpu_par *p = arg;
    unsigned seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->quit && p->gen == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->quit) break;
        seen = p->gen;
        p->active++;
        pthread_mutex_unlock(&p->mu);
        gt__par_items(p);
        pthread_mutex_lock(&p->mu);
        if (--p->active == 0) pthread_cond_signal(&p->idle);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

gt_cpu_par *gt_cpu_par_new(int threads) {
    if (threads < 2) return NULL;
    gt_cpu_par *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (pthread_mutex_init(&p->mu, NULL)) {
        free(p);
        return NULL;
    }
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->idle, NULL);
    atomic_init(&p->next, 0);
    int want = GT_MIN(threads - 1, GT_CPU_PAR_MAX_WORKERS);
    for (int i = 0; i < want; i++) {
        if (pthread_create(&p->th[i], NULL, gt__par_worker, p)) break;
        p->nworkers++;
    }
    if (!p->nworkers) {
        gt_cpu_par_free(p);
        return NULL;
    }
    return p;
}

void gt_cpu_par_free(gt_cpu_par *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->quit = true;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++) pthread_join(p->th[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->idle);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void gt_cpu_par_run(gt_cpu_par *p, int64_t n, int64_t grain, gt_cpu_par_fn fn, void *ctx) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    if (!p || n <= grain) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->idle, &p->mu); /* a late worker still in the last job */
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->grain = grain;
    atomic_store(&p->next, 0);
    p->gen++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    gt__par_items(p);
    pthread_mutex_lock(&p->mu);
    while (p->active > 0) pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
