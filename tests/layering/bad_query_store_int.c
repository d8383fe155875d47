/* bad_query_store_int.c - see README.md: compiled with the include set of the query layer. */
#include "store_int.h"

int layering_check(void);
int layering_check(void)
{
    return 0;
}
