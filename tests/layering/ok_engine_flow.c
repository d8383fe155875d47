/* ok_engine_flow.c - see README.md: compiled with the include set of one layer. */
#include "tlsaudit/flow.h"

int layering_check(void);
int layering_check(void)
{
    return 0;
}
