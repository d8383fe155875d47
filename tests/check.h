/* check.h - the tiny test harness: checks print both operands, a summary line closes the run. */
#ifndef TA_CHECK_H
#define TA_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ta_check_passed, ta_check_failed;

#define CHECK(cond) do { if (cond) ta_check_passed++; else { ta_check_failed++; \
    fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_INT(a, b) do { long long ta_a_ = (long long)(a), ta_b_ = (long long)(b); \
    if (ta_a_ == ta_b_) ta_check_passed++; else { ta_check_failed++; \
    fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, ta_a_, ta_b_); } } while (0)

#define CHECK_STR(a, b) do { const char *ta_a_ = (a), *ta_b_ = (b); \
    if (ta_a_ && ta_b_ && strcmp(ta_a_, ta_b_) == 0) ta_check_passed++; else { ta_check_failed++; \
    fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a, #b, \
            ta_a_ ? ta_a_ : "(null)", ta_b_ ? ta_b_ : "(null)"); } } while (0)

/* End of a test that worked in a temporary directory: remove it when every check passed, keep
 * it (and say where) for a look when one failed. */
static inline void check_dir_done(const char *dir)
{
    char cmd[1200];
    if (ta_check_failed) {
        fprintf(stderr, "test files kept in %s\n", dir);
        return;
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Last line of every unit test: "N passed, N failed", the form CI reads. */
#define CHECK_DONE() (printf("%d passed, %d failed\n", ta_check_passed, ta_check_failed), \
                      ta_check_failed ? 1 : 0)

#endif
