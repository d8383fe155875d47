/* test_rng.h - a small xorshift PRNG for the unit tests: the same sequence on every run. Each test
 * seeds its own TEST_RNG_SEED before including this file. */
#ifndef TA_TEST_RNG_H
#define TA_TEST_RNG_H

#include <stdint.h>

static uint64_t rng = TEST_RNG_SEED;

/* A number in [0, n). */
static inline unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

#endif
