/* pkt_clock.c - packet time, following the packets back only when they go back for good. */
#include "tlsaudit/pkt_clock.h"

/* See pkt_clock.h. */
void ta_pkt_clock_init(struct ta_pkt_clock *c, uint64_t back_us)
{
    c->now_us = 0;
    c->back_us = back_us;
    c->behind = 0;
    c->behind_max_us = 0;
}

/* See pkt_clock.h. */
bool ta_pkt_clock_see(struct ta_pkt_clock *c, uint64_t ts_us)
{
    if (ts_us + c->back_us >= c->now_us) {
        c->behind = 0;
        if (ts_us > c->now_us)
            c->now_us = ts_us;
        return false;
    }
    if (c->behind++ == 0 || ts_us > c->behind_max_us)
        c->behind_max_us = ts_us;
    if (c->behind < TA_PKT_CLOCK_CONFIRM)
        return false;
    ta_pkt_clock_set(c, c->behind_max_us);
    return true;
}

/* See pkt_clock.h. */
void ta_pkt_clock_set(struct ta_pkt_clock *c, uint64_t t)
{
    c->now_us = t;
    c->behind = 0;
}
