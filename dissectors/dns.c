/* dns.c - DNS response answers (A, AAAA, CNAME) for passive name resolution. RFC 1035, RFC 3596
 * (AAAA), RFC 4343 (escaping of names). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tlsaudit/common.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/dns.h"

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1
#define DNS_FLAG_QR 0x8000u
#define DNS_RCODE_MASK 0x000Fu
#define DNS_NAME_WIRE_MAX 255   /* RFC 1035 2.3.4: names are 255 octets or less */

/* Text being built for one name, with its capacity (NULL when only validating). */
struct dns_text {
    char *buf;
    size_t cap, len;
};

/* Append one label byte as text: lower-cased when printable, else \DDD (RFC 4343 2.1). '.' and
 * '\' inside a label are escaped too, so the text splits back into the same labels. */
static void dns_text_byte(struct dns_text *t, uint8_t b)
{
    char esc[5];
    size_t n = 1;
    if (b >= 'A' && b <= 'Z')
        b = (uint8_t)(b - 'A' + 'a');
    if (b > 0x20 && b < 0x7f && b != '.' && b != '\\') {
        esc[0] = (char)b;
    } else {
        snprintf(esc, sizeof(esc), "\\%03u", (unsigned)b);
        n = 4;
    }
    if (t->buf && n < t->cap - t->len) {
        memcpy(t->buf + t->len, esc, n);
        t->len += n;
        t->buf[t->len] = '\0';
    }
}

/* Read the label sequence at *c (RFC 1035 3.1, 4.1.4) into t. Compression pointers restart the
 * read at an earlier offset of msg; they are capped at TA_DNS_MAX_JUMPS, which also stops loops.
 * On success *c is left after the name as it sits in the record (after the first pointer, if
 * any). Returns TA_OK or TA_MALFORMED (short, label type 01/10, over 255 bytes, pointer out of
 * the message, too many jumps). The root name is written ".". */
static int dns_name(const uint8_t *msg, size_t len, struct ta_cur *c, struct dns_text *t)
{
    struct ta_cur rd = *c, after = *c;
    bool jumped = false;
    unsigned jumps = 0;
    size_t wire = 1;   /* the terminating zero octet */
    uint8_t l;

    for (;;) {
        if (!ta_cur_u8(&rd, &l))
            return TA_MALFORMED;
        if ((l & 0xC0u) == 0xC0u) {
            uint8_t lo;
            size_t off;
            if (!ta_cur_u8(&rd, &lo) || ++jumps > TA_DNS_MAX_JUMPS)
                return TA_MALFORMED;
            if (!jumped)
                after = rd;
            jumped = true;
            off = ((size_t)(l & 0x3Fu) << 8) | lo;
            rd = ta_cur_make(msg, len);
            if (!ta_cur_skip(&rd, off))
                return TA_MALFORMED;
            continue;
        }
        if (l & 0xC0u)
            return TA_MALFORMED;   /* 01 (extended, RFC 6891 obsoleted) and 10 are reserved */
        if (l == 0)
            break;
        struct ta_cur lab;
        uint8_t b;
        wire += (size_t)l + 1;
        if (wire > DNS_NAME_WIRE_MAX || !ta_cur_sub(&rd, l, &lab))
            return TA_MALFORMED;
        if (t->buf && t->len > 0 && t->len + 1 < t->cap) {
            t->buf[t->len++] = '.';
            t->buf[t->len] = '\0';
        }
        while (ta_cur_u8(&lab, &b))
            dns_text_byte(t, b);
    }
    if (t->buf && t->len == 0 && t->cap > 1) {
        t->buf[0] = '.';
        t->buf[1] = '\0';
        t->len = 1;
    }
    *c = jumped ? after : rd;
    return TA_OK;
}

/* One answer record at *c: call cb for A/AAAA/CNAME of class IN (when cb is not NULL).
 * Returns TA_OK or TA_MALFORMED (short record, A not 4 bytes, AAAA not 16, CNAME rdata not one
 * name exactly). */
static int dns_answer(const uint8_t *msg, size_t len, struct ta_cur *c, ta_dns_answer_fn cb,
                      void *arg)
{
    char owner[TA_DNS_NAME_MAX], target[TA_DNS_NAME_MAX];
    struct dns_text to = { cb ? owner : NULL, sizeof(owner), 0 };
    struct dns_text tt = { cb ? target : NULL, sizeof(target), 0 };
    uint16_t type, klass;
    uint32_t ttl;
    struct ta_cur rdata;
    struct ta_addr a;

    owner[0] = target[0] = '\0';
    if (dns_name(msg, len, c, &to) != TA_OK || !ta_cur_u16(c, &type) || !ta_cur_u16(c, &klass) ||
        !ta_cur_u32(c, &ttl) || !ta_cur_vec16(c, &rdata))
        return TA_MALFORMED;
    if (klass != DNS_CLASS_IN)
        return TA_OK;
    switch (type) {
    case DNS_TYPE_A:
        if (ta_cur_left(&rdata) != 4)
            return TA_MALFORMED;
        memset(a.b, 0, 10);
        a.b[10] = a.b[11] = 0xff;
        for (size_t i = 12; i < 16; i++)
            (void)ta_cur_u8(&rdata, &a.b[i]);   /* 4 bytes checked above */
        if (cb)
            cb(arg, owner, 4, &a, NULL);
        break;
    case DNS_TYPE_AAAA:
        if (ta_cur_left(&rdata) != 16)
            return TA_MALFORMED;
        for (size_t i = 0; i < 16; i++)
            (void)ta_cur_u8(&rdata, &a.b[i]);   /* 16 bytes checked above */
        if (cb)
            cb(arg, owner, 6, &a, NULL);
        break;
    case DNS_TYPE_CNAME:
        if (dns_name(msg, len, &rdata, &tt) != TA_OK || !ta_cur_empty(&rdata))
            return TA_MALFORMED;
        if (cb)
            cb(arg, owner, 0, NULL, target);
        break;
    default:
        break;
    }
    return TA_OK;
}

/* Walk header, questions and answers; report answers to cb when cb is not NULL. */
static int dns_walk(const uint8_t *msg, size_t len, ta_dns_answer_fn cb, void *arg)
{
    struct ta_cur c = ta_cur_make(msg, len);
    uint16_t id, flags, qd, an, ns, ar;
    struct dns_text none = { NULL, 0, 0 };

    if (!ta_cur_u16(&c, &id) || !ta_cur_u16(&c, &flags) || !ta_cur_u16(&c, &qd) ||
        !ta_cur_u16(&c, &an) || !ta_cur_u16(&c, &ns) || !ta_cur_u16(&c, &ar))
        return TA_MALFORMED;
    if (!(flags & DNS_FLAG_QR))
        return TA_UNSUPPORTED;
    if ((flags & DNS_RCODE_MASK) != 0)
        return TA_OK;   /* NXDOMAIN, SERVFAIL ...: no answers worth keeping */
    for (uint16_t i = 0; i < qd; i++)
        if (dns_name(msg, len, &c, &none) != TA_OK || !ta_cur_skip(&c, 4))   /* QTYPE, QCLASS */
            return TA_MALFORMED;
    for (uint16_t i = 0; i < an; i++)
        if (dns_answer(msg, len, &c, cb, arg) != TA_OK)
            return TA_MALFORMED;
    /* Authority and additional sections are not read: glue records are not what the client
     * asked for, and a name in them would not tie a connection to that name. */
    return TA_OK;
}

/* Validate the whole message first, then report: a truncated response stores nothing rather
 * than the answers before the cut. */
int ta_dns_parse(const uint8_t *msg, size_t len, ta_dns_answer_fn cb, void *arg)
{
    int rc;
    if (!msg && len)
        return TA_ERR_ARG;
    rc = dns_walk(msg, len, NULL, NULL);
    if (rc != TA_OK || !cb)
        return rc;
    return dns_walk(msg, len, cb, arg);
}
