/* dns_store.c - passive DNS into the store: the answers the DNS dissector parses become
 * dns_answers rows (the parser itself, dissectors/dns.c, knows nothing of the store). */
#include "tlsaudit/common.h"
#include "tlsaudit/dns.h"
#include "tlsaudit/store.h"

struct dns_store_ctx {
    struct ta_store *st;
    uint64_t ts_us;
    int rc;   /* first store error */
};

static void dns_store_cb(void *arg, const char *name, uint8_t ipver, const struct ta_addr *addr,
                         const char *cname)
{
    struct dns_store_ctx *x = arg;
    int rc = ta_store_add_dns(x->st, x->ts_us, name, ipver, addr, cname);
    if (rc != TA_OK && x->rc == TA_OK)
        x->rc = rc;
}

/* See store.h. */
int ta_dns_feed_store(struct ta_store *st, uint64_t ts_us, const uint8_t *msg, size_t len)
{
    struct dns_store_ctx x = { st, ts_us, TA_OK };
    int rc = ta_dns_parse(msg, len, dns_store_cb, &x);
    return rc != TA_OK ? rc : x.rc;
}
