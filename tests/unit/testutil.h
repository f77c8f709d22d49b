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

#define CHECK(cond) testutil_check((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ(a, b) testutil_check((a) == (b), #a " == " #b, __FILE__, __LINE__)

#endif
