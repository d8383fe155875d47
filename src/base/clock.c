/* clock.c - monotonic and wall clocks in microseconds (clock.h). */
#include <time.h>

#include "tlsaudit/clock.h"

/* The time of clock id in microseconds. */
static uint64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* See clock.h. */
uint64_t ta_clock_mono_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

/* See clock.h. */
uint64_t ta_clock_wall_us(void)
{
    return clock_us(CLOCK_REALTIME);
}
