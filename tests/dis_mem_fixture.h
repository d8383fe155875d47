/* dis_mem_fixture.h - the dissector memory (TLS scratch, certificate cache) that an engine owns,
 * for tests and fuzz harnesses that drive dissectors without an engine: one per process, made at
 * first use and reachable until exit. */
#ifndef TA_TEST_DIS_MEM_FIXTURE_H
#define TA_TEST_DIS_MEM_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "tlsaudit/dissector.h"

static inline struct ta_dis_mem *test_dis_mem(void)
{
    static struct ta_dis_mem *m;
    if (!m && !(m = ta_dis_mem_new())) {
        fprintf(stderr, "out of memory for the dissector memory\n");
        abort();
    }
    return m;
}

#endif
