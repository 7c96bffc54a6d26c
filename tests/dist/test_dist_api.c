/* gantry/dist.h: in one process every collective is the identity; under `mpirun -np 3` (this program
 * starts itself so) each collective gives the reduction over the ranks, the plugin is found next to
 * the program, and bad arguments are refused on every rank without a hang. */
// ctest-labels: dist
#include <sys/wait.h>
#include <unistd.h>

#include "../common/harness.h"

#define NR 3 /* ranks of the child job: an odd count catches "2 = every other rank" mistakes */

static void single_process(void) {
    CHECK(gt_dist_init(NULL, NULL) == GT_OK);
    CHECK(!gt_dist_active() && gt_dist_rank() == 0 && gt_dist_size() == 1 && gt_dist_local_size() == 1);
    double x[3] = {1.5, -2, 3};
    CHECK(gt_dist_allreduce(x, 3, GT_DIST_F64, GT_DIST_SUM) == GT_OK && x[0] == 1.5 && x[1] == -2 && x[2] == 3);
    float f[4] = {1, 2, 3, 4};
    gt_dist_req *r = (gt_dist_req *)1;
    CHECK(gt_dist_iallreduce(f, 4, GT_DIST_F32, GT_DIST_MAX, &r) == GT_OK && r == NULL);
    bool done = false;
    CHECK(gt_dist_test(r, &done) == GT_OK && done);
    CHECK(gt_dist_wait(r) == GT_OK && f[3] == 4);
    char s[3] = "ab", g[3] = "";
    CHECK(gt_dist_allgather(s, 2, g) == GT_OK && memcmp(g, "ab", 2) == 0);
    size_t cn = 2;
    char v[3] = "";
    CHECK(gt_dist_gatherv(s, 2, v, &cn, 0) == GT_OK && memcmp(v, "ab", 2) == 0);
    CHECK(gt_dist_bcast(s, 2, 0) == GT_OK && gt_dist_barrier() == GT_OK);
    /* refused: a root that is not a rank, an unknown type, a NULL buffer with elements */
    CHECK(gt_dist_bcast(s, 2, 1) == GT_ERR_ARG);
    CHECK(gt_dist_allreduce(x, 3, (gt_dist_type)9, GT_DIST_SUM) == GT_ERR_ARG);
    CHECK(gt_dist_allreduce(NULL, 3, GT_DIST_F64, GT_DIST_SUM) == GT_ERR_ARG);
    CHECK(strcmp(gt_dist_library(), "none") == 0);
}

/* One rank of the child job: returns the number of failed checks. */
static int rank_main(int argc, char **argv) {
    if (gt_dist_init(&argc, &argv) != GT_OK) {
        fprintf(stderr, "rank ?: %s\n", gt_last_error());
        return 1;
    }
    const int r = gt_dist_rank(), n = gt_dist_size();
    int bad = 0;
#define EXPECT(c)                                                          \
    do {                                                                   \
        if (!(c)) bad++, fprintf(stderr, "rank %d: failed: %s\n", r, #c); \
    } while (0)
    EXPECT(gt_dist_active() && n == NR && gt_dist_local_size() == NR && strstr(gt_dist_library(), "MPI"));
    double d[2] = {r + 0.25, -(double)r};
    EXPECT(gt_dist_allreduce(d, 2, GT_DIST_F64, GT_DIST_SUM) == GT_OK);
    EXPECT(d[0] == 0.75 + 3.0 && d[1] == -3.0);
    int64_t m[2] = {r, -r};
    EXPECT(gt_dist_allreduce(m, 2, GT_DIST_I64, GT_DIST_MAX) == GT_OK && m[0] == NR - 1 && m[1] == 0);
    EXPECT(gt_dist_allreduce(m, 2, GT_DIST_I64, GT_DIST_MIN) == GT_OK && m[0] == NR - 1 && m[1] == 0);
    enum { K = 100003 }; /* not a multiple of anything MPI splits by */
    float *f = malloc(K * sizeof *f);
    for (int i = 0; i < K; i++) f[i] = (float)(i % 97) * (float)(r + 1);
    gt_dist_req *q = NULL;
    EXPECT(gt_dist_iallreduce(f, K, GT_DIST_F32, GT_DIST_SUM, &q) == GT_OK && q != NULL);
    bool done = false;
    for (int t = 0; t < 1000 && !done; t++) EXPECT(gt_dist_test(q, &done) == GT_OK);
    EXPECT(gt_dist_wait(q) == GT_OK);
    int wrong = 0;
    for (int i = 0; i < K; i++) wrong += f[i] != (float)(i % 97) * 6.0f;
    EXPECT(wrong == 0);
    free(f);
    char b[5] = "....";
    if (r == 1) memcpy(b, "rnk1", 4);
    EXPECT(gt_dist_bcast(b, 4, 1) == GT_OK && memcmp(b, "rnk1", 4) == 0);
    char mine[2] = {(char)('a' + r), (char)('A' + r)}, all[2 * NR];
    EXPECT(gt_dist_allgather(mine, 2, all) == GT_OK && memcmp(all, "aAbBcC", 6) == 0);
    /* uneven pieces: rank r sends r + 1 bytes */
    size_t counts[NR] = {1, 2, 3};
    char piece[3] = {(char)('0' + r), (char)('0' + r), (char)('0' + r)}, got[6] = "";
    EXPECT(gt_dist_gatherv(piece, (size_t)r + 1, got, counts, 0) == GT_OK);
    if (r == 0) EXPECT(memcmp(got, "011222", 6) == 0);
    EXPECT(gt_dist_bcast(b, 4, NR) == GT_ERR_ARG && strstr(gt_last_error(), "bcast"));
    EXPECT(gt_dist_barrier() == GT_OK);
    gt_dist_finalize();
    gt_dist_finalize(); /* twice is fine */
    return bad;
#undef EXPECT
}

static void under_mpirun(void) {
    if (system("command -v mpirun >/dev/null 2>&1") != 0) {
        printf("SKIP: no mpirun on this machine (scripts/setup.sh installs openmpi-bin)\n");
        return;
    }
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    CHECK(n > 0);
    if (n <= 0) return;
    self[n] = 0;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", self);
    *strrchr(dir, '/') = 0;
    char plugin[4200];
    snprintf(plugin, sizeof plugin, "%s/libgantry_mpi.so", dir);
    CHECK_MSG(access(plugin, R_OK) == 0, "the MPI plugin %s was not built", plugin);
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout -k 5 120 mpirun -np %d --oversubscribe "
             "%s --rank-child",
             NR, self);
    int rc = system(cmd);
    CHECK_MSG(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "mpirun -np %d of the rank checks: status %d", NR, rc);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--rank-child") == 0) return rank_main(argc, argv) ? 1 : 0;
    RUN(single_process);
    RUN(under_mpirun);
    return gt_test_finish();
}
