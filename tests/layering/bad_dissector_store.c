/* bad_dissector_store.c - see README.md: compiled with the include set of one layer. */
#include "tlsaudit/store.h"

int layering_check(void);
int layering_check(void)
{
    return 0;
}
