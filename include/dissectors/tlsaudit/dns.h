/* dns.h - passive DNS: the A, AAAA and CNAME answers of DNS responses (RFC 1035), so that a TLS
 * connection without SNI can still be tied to the name the client looked up.
 *
 * The engine hands every UDP datagram whose source port is 53 to its sink; the store writer parses
 * it with ta_dns_parse (ta_dns_feed_store, src/store/dns_store.c). For DNS over TCP (source port
 * 53), each message is preceded by a 2-byte length (RFC 1035 4.2.2): strip it and pass exactly
 * one message per call. Queries (QR = 0) are
 * answered with TA_UNSUPPORTED and cost nothing. */
#ifndef TLSAUDIT_DNS_H
#define TLSAUDIT_DNS_H

#include <stddef.h>
#include <stdint.h>
#include "tlsaudit/addr.h"
#include "tlsaudit/common.h"

/* Longest name text: 255 wire bytes (RFC 1035 2.3.4), every byte possibly escaped as \DDD. */
#define TA_DNS_NAME_MAX 1024
/* Compression pointers followed while reading one name; more is treated as a loop. */
#define TA_DNS_MAX_JUMPS 32

/* One answer record. name: owner name; for A/AAAA ipver is 4 or 6 and addr the address (IPv4 as
 * ::ffff:a.b.c.d) with cname NULL; for CNAME ipver is 0, addr NULL and cname the target.
 * Names are lower-cased ASCII without the trailing dot ("." for the root); bytes outside
 * printable ASCII, and '.' or '\' inside a label, are written \DDD (RFC 4343 2.1), so a
 * name never holds control bytes. Pointers are valid only during the call. */
typedef void (*ta_dns_answer_fn)(void *arg, const char *name, uint8_t ipver,
                                 const struct ta_addr *addr, const char *cname);

/* Parse one DNS message msg[0..len) and call cb for each A, AAAA and CNAME answer of class IN.
 * The whole message is validated first, so cb is called only for a well-formed response.
 * Returns TA_OK (also for a response with RCODE != 0, which has nothing to report),
 * TA_UNSUPPORTED for a query (QR = 0), TA_MALFORMED for a short or inconsistent message
 * (truncated record, bad label type, pointer loop, name over 255 bytes, A/AAAA of wrong size). */
int ta_dns_parse(const uint8_t *msg, size_t len, ta_dns_answer_fn cb, void *arg);


#endif
