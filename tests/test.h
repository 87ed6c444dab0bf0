/* test.h - the project's tiny test harness.
 *
 * Each tests/test_*.c is its own program.  CHECK* macros record a failure
 * with file and line and carry on; TEST_MAIN_END prints the closing
 * "N passed, N failed" line (tests/run.sh adds the programs' lines up) and
 * exits non-zero if anything failed.  TEST_SKIP counts a check as skipped,
 * for inputs that live outside the repository (../shared/fixtures). */
#ifndef INFUSE_TEST_H
#define INFUSE_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_passed, test_failed, test_skipped;

#define CHECK(cond) do { \
    if (cond) { test_passed++; } \
    else { test_failed++; fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECKF(cond, ...) do { \
    if (cond) { test_passed++; } \
    else { test_failed++; fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
} while (0)

#define CHECK_NEAR(a, b, tol) do { \
    double a_ = (a), b_ = (b); \
    if (fabs(a_ - b_) <= (tol)) { test_passed++; } \
    else { test_failed++; fprintf(stderr, "FAIL %s:%d: %s=%g vs %s=%g (tol %g)\n", \
           __FILE__, __LINE__, #a, a_, #b, b_, (double)(tol)); } \
} while (0)

#define TEST_SKIP(why) do { test_skipped++; fprintf(stderr, "SKIP %s:%d: %s\n", __FILE__, __LINE__, why); } while (0)

#define TEST_MAIN_END() do { \
    if (test_skipped) printf("%d passed, %d failed, %d skipped\n", test_passed, test_failed, test_skipped); \
    else printf("%d passed, %d failed\n", test_passed, test_failed); \
    return test_failed ? 1 : 0; \
} while (0)

#endif
