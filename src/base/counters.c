/* counters.c - the names of the run counters, from the one list in counters.h. */
#include <stddef.h>

#include "tlsaudit/counters.h"

const char *const ta_run_counter_names[TA_RUN_COUNTER_COUNT + 1] = {
#define TA__RUN_NAME(name, merge) #name,
    TA_RUN_COUNTERS(TA__RUN_NAME)
#undef TA__RUN_NAME
    NULL
};
