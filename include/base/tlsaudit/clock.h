/* clock.h - the two clocks tlsaudit reads: monotonic (intervals, timeouts) and wall (run rows,
 * live flows' idle time), both in microseconds. */
#ifndef TLSAUDIT_CLOCK_H
#define TLSAUDIT_CLOCK_H

#include <stdint.h>

uint64_t ta_clock_mono_us(void);   /* CLOCK_MONOTONIC */
uint64_t ta_clock_wall_us(void);   /* CLOCK_REALTIME: microseconds since the Unix epoch, UTC */

#endif
