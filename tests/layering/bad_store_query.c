/* bad_store_query.c - see README.md: compiled with the include set of one layer. */
#include "tlsaudit/query.h"

int layering_check(void);
int layering_check(void)
{
    return 0;
}
