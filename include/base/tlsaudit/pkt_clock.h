/* pkt_clock.h - packet time as a capture follows it: the latest packet's time, which follows
 * the packets back when they go back for good (a file older than the one before it, a clock
 * stepped back) and not for a stray time (one corrupt record). The engine ends the flows of
 * the later time when it goes back (src/engine/engine.c); the threaded file reader keeps one
 * too, for the time it sends its engine threads (src/capture/source_file_mt.c). */
#ifndef TLSAUDIT_PKT_CLOCK_H
#define TLSAUDIT_PKT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Packets in a row that far back make time go back; fewer are stray times (corrupt records). */
#define TA_PKT_CLOCK_CONFIRM 16

struct ta_pkt_clock {
    uint64_t now_us;          /* the latest packet time seen, or the time it went back to */
    uint64_t back_us;         /* packets this much older than now_us are "back" */
    uint32_t behind;          /* packets in a row that far back */
    uint64_t behind_max_us;   /* the latest of them */
};

/* A clock at 0 for which back_us behind is going back. */
void ta_pkt_clock_init(struct ta_pkt_clock *c, uint64_t back_us);
/* One packet's time. True when it makes time go back (the TA_PKT_CLOCK_CONFIRMth packet in a
 * row more than back_us behind): now_us is then the latest of them. */
bool ta_pkt_clock_see(struct ta_pkt_clock *c, uint64_t ts_us);
/* Time set to t, nothing pending (time went back by another's word: a reader, the wall clock). */
void ta_pkt_clock_set(struct ta_pkt_clock *c, uint64_t t);

#endif
