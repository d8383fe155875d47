/* fuzz_mem.h - the dissector memory an engine would own, for harnesses that drive dissectors
 * without one: one for the whole process (kept across inputs, as an engine keeps it across
 * flows), reachable until exit. */
#ifndef TA_FUZZ_MEM_H
#define TA_FUZZ_MEM_H

#include "tlsaudit/dissector.h"

static inline struct ta_dis_mem *fuzz_mem(void)
{
    static struct ta_dis_mem *m;
    if (!m && !(m = ta_dis_mem_new()))
        __builtin_trap();
    return m;
}

#endif
