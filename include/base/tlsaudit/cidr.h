/* cidr.h - one parser for address ranges, shared by the query filters and the endpoint lists. */
#ifndef TLSAUDIT_CIDR_H
#define TLSAUDIT_CIDR_H

#include <stdbool.h>
#include <stdint.h>

/* Parse "a.b.c.d/n" or "x:y::/n" (prefix optional: a host) into a 16-byte network (IPv4 as
 * ::ffff:a.b.c.d), a prefix length over those 128 bits (IPv4 /n becomes 96 + n) and the family
 * (4 or 6). Host bits beyond the prefix are cleared. Returns false for anything else. */
bool ta_cidr_parse(const char *text, uint8_t net[16], unsigned *bits, int *ipver);

#endif
