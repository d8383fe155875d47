/* bad_decode_engine.c - see README.md: compiled with the include set of one layer. */
#include "tlsaudit/engine.h"

int layering_check(void);
int layering_check(void)
{
    return 0;
}
