/*  testutil: tiny assertion helpers shared by the unit tests.
 *  CHECK(cond) records a failure with file:line and goes on; tests end with
 *  `return testutil_done("name");`, which prints "N passed, N failed" and returns the
 *  exit status. */
#ifndef GENIE_TESTUTIL_H
#define GENIE_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>

extern int testutil_passed;
extern int testutil_failed;

void testutil_check(bool ok, const char *expr, const char *file, int line);
int testutil_done(const char *name);
/*  Makes a fresh temporary directory (mkdtemp) and returns its path (static buffer per
 *  call slot; copy it if you need more than 4 at once). Aborts the test if it fails. */
const char *testutil_tmpdir(void);
/*  Removes a directory tree (best effort). */
void testutil_rmtree(const char *path);
/*  Records a failure of EXPR at FILE:LINE when OK is false, then ends the test at once
 *  with its summary line and exit status 1: for a precondition the rest of the test cannot
 *  run without (a constructor that returned NULL), so the test fails instead of crashing
 *  on a NULL pointer. */
void testutil_require(bool ok, const char *expr, const char *file, int line);
/*  A seed for a randomised test: $GENIE_TEST_SEED when set (to replay a failure), else one
 *  from the clock and the pid. Printed as "WHAT: seed N (GENIE_TEST_SEED=N replays)". */
uint64_t testutil_seed(const char *what);

#define CHECK(cond) testutil_check((cond), #cond, __FILE__, __LINE__)
#define REQUIRE(cond) testutil_require((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) testutil_check((a) == (b), #a " == " #b, __FILE__, __LINE__)

#endif
