/* addr.h - one form for every IP address: 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d);
 * ipver, kept beside it, says which family it really is. Shared by the decoder, the records
 * and the store. */
#ifndef TLSAUDIT_ADDR_H
#define TLSAUDIT_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct ta_addr {
    uint8_t b[16];
};

/* Canonical text form of an address (inet_ntop; IPv4 as dotted quad). buf >= 46 bytes. Returns
 * buf ("" when it cannot be written). */
const char *ta_addr_str(const struct ta_addr *a, uint8_t ipver, char *buf, size_t buflen);

#endif
