/*  testutil: see testutil.h. */
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int testutil_passed;
int testutil_failed;

void testutil_check(bool ok, const char *expr, const char *file, int line)
{
    if (ok) {
        testutil_passed++;
    } else {
        testutil_failed++;
        fprintf(stderr, "FAIL %s:%d: %s\n", file, line, expr);
    }
}

void testutil_require(bool ok, const char *expr, const char *file, int line)
{
    testutil_check(ok, expr, file, line);
    if (!ok) {
        printf("required condition failed, test stopped: %d passed, %d failed\n", testutil_passed,
               testutil_failed);
        fflush(NULL);
        exit(1);
    }
}

uint64_t testutil_seed(const char *what)
{
    const char *env = getenv("GENIE_TEST_SEED");
    uint64_t seed;
    if (env && *env) {
        seed = strtoull(env, NULL, 10);
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 20;
    }
    printf("%s: seed %llu (GENIE_TEST_SEED=%llu replays)\n", what, (unsigned long long)seed,
           (unsigned long long)seed);
    fflush(stdout);
    return seed;
}

int testutil_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, testutil_passed, testutil_failed);
    return testutil_failed == 0 && testutil_passed > 0 ? 0 : 1;
}

const char *testutil_tmpdir(void)
{
    static char bufs[4][256];
    static int next;
    char *b = bufs[next++ % 4];
    const char *base = getenv("TMPDIR");
    snprintf(b, 256, "%s/genie-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(b)) {
        perror("mkdtemp");
        abort();
    }
    return b;
}

static int s_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void testutil_rmtree(const char *path)
{
    nftw(path, s_rm, 16, FTW_DEPTH | FTW_PHYS);
}
