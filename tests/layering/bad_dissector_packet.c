/* bad_dissector_packet.c - see README.md: compiled with the include set of one layer. */
#include "tlsaudit/packet.h"

int layering_check(void);
int layering_check(void)
{
    return 0;
}
