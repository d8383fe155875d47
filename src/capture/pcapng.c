/* pcapng.c - pcapng blocks parsed through the cursor, and a stream of them read block by block
 * (pcapng.h). The block parser is pure: bytes in, a packet or a section change out. */
#include <stdlib.h>
#include <string.h>

#include <pcap/dlt.h>

#include "pcapng.h"
#include "tlsaudit/cursor.h"

#define BT_SHB TA__NG_MAGIC
#define BT_IDB 1u
#define BT_OPB 2u               /* obsolete Packet Block */
#define BT_SPB 3u
#define BT_ISB 5u
#define BT_EPB 6u
#define BOM 0x1A2B3C4Du         /* the SHB's byte-order magic as written by its writer */
#define OPT_END 0u
#define OPT_TSRESOL 9u
#define OPT_TSOFFSET 14u
#define OPT_ISB_IFDROP 5u
#define OPT_ISB_OSDROP 7u
#define LINKTYPE_RAW 101        /* the file's value; libpcap gives DLT_RAW for it */
#define LINKTYPE_ATM_RFC1483 100
#define BUF_START (256u * 1024u + 64u)

static uint32_t sw32(uint32_t v)
{
    return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

/* Unsigned integers in the section's byte order (the cursor reads big-endian). */
static bool rd32(struct ta_cur *c, const struct ta__ng_section *s, uint32_t *v)
{
    if (!ta_cur_u32(c, v))
        return false;
    if (s->swap)
        *v = sw32(*v);
    return true;
}

static bool rd16(struct ta_cur *c, const struct ta__ng_section *s, uint16_t *v)
{
    if (!ta_cur_u16(c, v))
        return false;
    if (s->swap)
        *v = (uint16_t)((*v >> 8) | (*v << 8));
    return true;
}

static bool rd64(struct ta_cur *c, const struct ta__ng_section *s, uint64_t *v)
{
    uint32_t a, b;
    if (!rd32(c, s, &a) || !rd32(c, s, &b))
        return false;
    *v = s->swap ? ((uint64_t)b << 32) | a : ((uint64_t)a << 32) | b;
    return true;
}

/* a + b, held at UINT64_MAX (drop counts and times from a file can be anything). */
static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* The byte order a Section Header's byte-order magic says: false when it is neither. */
static bool bom_order(uint32_t bom, bool *swap)
{
    if (bom != BOM && bom != sw32(BOM))
        return false;
    *swap = bom != BOM;
    return true;
}

static int bad(char *err, const char *why)
{
    snprintf(err, TA__NG_ERR, "%s", why);
    return -1;
}

/* See pcapng.h. */
uint32_t ta__ng_block_len(const struct ta__ng_section *s, const uint8_t *hdr)
{
    struct ta_cur c = ta_cur_make(hdr, 12);
    struct ta__ng_section sec = *s;
    uint32_t type = 0, len = 0, bom = 0;

    (void)ta_cur_u32(&c, &type);
    if (type == BT_SHB) {
        struct ta_cur m = ta_cur_make(hdr + 8, 4);
        (void)ta_cur_u32(&m, &bom);
        if (!bom_order(bom, &sec.swap))
            return 0;
    }
    (void)rd32(&c, &sec, &len);
    return len;
}

/* See pcapng.h. The integer part and the fraction are scaled apart, so no product overflows. */
uint64_t ta__ng_ts_us(const struct ta__ng_if *i, uint64_t units)
{
    unsigned e = i->tsresol & 0x7fu;
    uint64_t us;
    if (i->tsresol & 0x80u) {               /* units of 2^-e s */
        if (e >= 64)
            us = 0;
        else {
            uint64_t sec = e ? units >> e : units, frac = e ? units & ((1ull << e) - 1) : 0;
            unsigned __int128 f = (unsigned __int128)frac * 1000000u;
            us = sec * 1000000u + (uint64_t)(f >> e);
            if (sec > UINT64_MAX / 1000000u)
                us = UINT64_MAX;
        }
    } else if (e <= 6) {                    /* units of 10^-e s: multiply up to microseconds */
        uint64_t m = 1;
        for (unsigned k = e; k < 6; k++)
            m *= 10;
        us = units > UINT64_MAX / m ? UINT64_MAX : units * m;
    } else {
        uint64_t d = 1;
        for (unsigned k = 6; k < e && d <= UINT64_MAX / 10; k++)
            d *= 10;
        us = e - 6 > 19 ? 0 : units / d;
    }
    if (i->tsoffset > 0) {
        uint64_t add = (uint64_t)i->tsoffset > UINT64_MAX / 1000000u
                       ? UINT64_MAX : (uint64_t)i->tsoffset * 1000000u;
        us = sat_add(us, add);
    } else if (i->tsoffset < 0) {
        uint64_t sub = (uint64_t)-(i->tsoffset + 1) + 1;    /* no overflow at INT64_MIN */
        sub = sub > UINT64_MAX / 1000000u ? UINT64_MAX : sub * 1000000u;
        us = us < sub ? 0 : us - sub;
    }
    return us;
}

/* The next option of a block's option list c: 1 with its code and value (v), 0 at the end
 * (opt_endofopt, or fewer than 4 bytes left: the list may end without it), -1 when its value
 * runs past the block (why in err, what names the block). Values are padded to 4 bytes. */
static int next_option(struct ta_cur *c, const struct ta__ng_section *s, uint16_t *code,
                       struct ta_cur *v, const char *what, char *err)
{
    uint16_t len = 0;
    *code = 0;
    if (ta_cur_left(c) < 4)
        return 0;
    (void)rd16(c, s, code);
    (void)rd16(c, s, &len);
    if (*code == OPT_END)
        return 0;
    if (!ta_cur_sub(c, len, v) || !ta_cur_skip(c, (4u - (len & 3u)) & 3u)) {
        snprintf(err, TA__NG_ERR, "%s option longer than its block", what);
        return -1;
    }
    return 1;
}

/* Options of an IDB: if_tsresol and if_tsoffset; the rest are skipped. */
static int idb_options(struct ta_cur *c, const struct ta__ng_section *s, struct ta__ng_if *i,
                       char *err)
{
    uint16_t code = 0;
    struct ta_cur v;
    int rc;
    while ((rc = next_option(c, s, &code, &v, "interface", err)) == 1) {
        if (code == OPT_TSRESOL && ta_cur_left(&v) >= 1)
            (void)ta_cur_u8(&v, &i->tsresol);
        else if (code == OPT_TSOFFSET && ta_cur_left(&v) >= 8) {
            uint64_t off = 0;
            (void)rd64(&v, s, &off);
            i->tsoffset = (int64_t)off;
        }
    }
    return rc;
}

static int read_shb(struct ta__ng_section *s, struct ta_cur *body, char *err)
{
    uint32_t bom = 0;
    uint16_t major = 0;
    (void)ta_cur_u32(body, &bom);           /* the length check let at least 16 bytes through */
    if (!bom_order(bom, &s->swap))
        return bad(err, "section header with a bad byte-order magic");
    if (!rd16(body, s, &major) || major != 1)
        return bad(err, "section header of an unknown pcapng major version");
    s->seen = true;
    s->nif = 0;                             /* a new section describes its interfaces anew */
    return 0;
}

static int read_idb(struct ta__ng_section *s, struct ta_cur *body, char *err)
{
    uint16_t lt = 0, reserved = 0;
    struct ta__ng_if i = { .tsresol = 6 };
    if (!rd16(body, s, &lt) || !rd16(body, s, &reserved) || !rd32(body, s, &i.snaplen))
        return bad(err, "interface description block too short");
    if (s->nif >= TA__NG_MAX_IF)
        return bad(err, "more interfaces in one section than tlsaudit reads (4096)");
    i.dlt = lt == LINKTYPE_RAW ? DLT_RAW : lt == LINKTYPE_ATM_RFC1483 ? DLT_ATM_RFC1483 : lt;
    if (idb_options(body, s, &i, err) < 0)
        return -1;
    s->ifs[s->nif++] = i;
    return 0;
}

/* The interface a packet names, or NULL (said in err). */
static const struct ta__ng_if *iface(const struct ta__ng_section *s, uint32_t id, char *err)
{
    if (id < s->nif)
        return &s->ifs[id];
    snprintf(err, TA__NG_ERR, "packet on interface %u, which the section does not describe", id);
    return NULL;
}

/* EPB: interface, time, captured and original lengths, the bytes. OPB: the same with a 16-bit
 * interface and a drops count. */
static int read_epb(const struct ta__ng_section *s, struct ta_cur *body, bool obsolete,
                    struct ta__ng_pkt *pkt, char *err)
{
    uint32_t id = 0, hi = 0, lo = 0;
    const struct ta__ng_if *i;
    struct ta_slice data;
    if (obsolete) {
        uint16_t id16 = 0, drops = 0;
        if (!rd16(body, s, &id16) || !rd16(body, s, &drops))
            return bad(err, "packet block too short");
        id = id16;
    } else if (!rd32(body, s, &id)) {
        return bad(err, "packet block too short");
    }
    if (!rd32(body, s, &hi) || !rd32(body, s, &lo) || !rd32(body, s, &pkt->caplen) ||
        !rd32(body, s, &pkt->len))
        return bad(err, "packet block too short");
    if (!(i = iface(s, id, err)))
        return -1;
    if (!ta_cur_slice(body, pkt->caplen, &data))
        return bad(err, "packet longer than its block");
    pkt->ifid = id;
    pkt->dlt = i->dlt;
    pkt->ts_us = ta__ng_ts_us(i, ((uint64_t)hi << 32) | lo);
    pkt->data = data.ptr;
    return 1;
}

/* SPB: interface 0, no time; the bytes are the original length cut to the snap length and to
 * what the block holds (its padding included: the format has no captured length). */
static int read_spb(const struct ta__ng_section *s, struct ta_cur *body, struct ta__ng_pkt *pkt,
                    char *err)
{
    const struct ta__ng_if *i;
    if (!rd32(body, s, &pkt->len))
        return bad(err, "simple packet block too short");
    if (!(i = iface(s, 0, err)))
        return -1;
    size_t n = pkt->len;
    struct ta_slice data;
    if (i->snaplen && n > i->snaplen)
        n = i->snaplen;
    if (n > ta_cur_left(body))
        n = ta_cur_left(body);
    if (!ta_cur_slice(body, n, &data))      /* n is at most what is left: cannot fail */
        return bad(err, "simple packet block too short");
    pkt->caplen = (uint32_t)n;
    pkt->data = data.ptr;
    pkt->ifid = 0;
    pkt->dlt = i->dlt;
    pkt->ts_us = 0;
    return 1;
}

/* ISB: interface, time, options. Its drop counts replace the interface's (each ISB counts from
 * the start); one about an interface not described is skipped (statistics only). */
static int read_isb(struct ta__ng_section *s, struct ta_cur *body, char *err)
{
    uint32_t id = 0, hi = 0, lo = 0;
    uint64_t ifdrop = 0, osdrop = 0;
    bool said = false;
    uint16_t code = 0;
    struct ta_cur v;
    int rc;
    if (!rd32(body, s, &id) || !rd32(body, s, &hi) || !rd32(body, s, &lo))
        return bad(err, "interface statistics block too short");
    while ((rc = next_option(body, s, &code, &v, "statistics", err)) == 1) {
        if ((code == OPT_ISB_IFDROP || code == OPT_ISB_OSDROP) && ta_cur_left(&v) >= 8) {
            uint64_t n = 0;
            (void)rd64(&v, s, &n);
            *(code == OPT_ISB_IFDROP ? &ifdrop : &osdrop) = n;
            said = true;
        }
    }
    if (rc < 0)
        return -1;
    if (said && id < s->nif)
        s->ifs[id].drops = sat_add(ifdrop, osdrop);
    return 0;
}

/* See pcapng.h. */
uint64_t ta__ng_section_drops(const struct ta__ng_section *s)
{
    uint64_t n = 0;
    for (uint32_t i = 0; i < s->nif; i++)
        n = sat_add(n, s->ifs[i].drops);
    return n;
}

/* See pcapng.h. */
int ta__ng_block(struct ta__ng_section *s, const uint8_t *b, size_t n, struct ta__ng_pkt *pkt,
                 char *err)
{
    struct ta_cur c = ta_cur_make(b, n), body;
    uint32_t type = 0, len = 0, trail = 0;
    struct ta__ng_section sec = *s;

    if (n < 12 || (n & 3u))
        return bad(err, "block length not a multiple of 4 of at least 12 bytes");
    (void)rd32(&c, s, &type);              /* the SHB's type reads the same either way */
    if (type == BT_SHB) {
        if (n < 28)
            return bad(err, "section header block too short");
        if (read_shb(&sec, &(struct ta_cur){ b + 8, b + n }, err) < 0)
            return -1;
    } else if (!s->seen) {
        return bad(err, "block before the first section header");
    }
    (void)rd32(&c, &sec, &len);
    if (len != n)
        return bad(err, "block length differs from its size");
    if (!ta_cur_sub(&c, n - 12, &body) || !rd32(&c, &sec, &trail) || trail != len)
        return bad(err, "block's trailing length differs from its leading one");
    switch (type) {
    case BT_SHB:
        *s = sec;
        return 0;
    case BT_IDB:
        return read_idb(s, &body, err);
    case BT_EPB:
    case BT_OPB:
        return read_epb(s, &body, type == BT_OPB, pkt, err);
    case BT_SPB:
        return read_spb(s, &body, pkt, err);
    case BT_ISB:
        return read_isb(s, &body, err);
    default:
        return 0;                           /* NRB, DSB, custom: nothing tlsaudit uses */
    }
}

/* See pcapng.h. */
struct ta__ng_reader *ta__ng_open(FILE *f)
{
    struct ta__ng_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->buf = malloc(BUF_START))) {
        free(r);
        return NULL;
    }
    r->cap = BUF_START;
    r->f = f;
    r->sec.ifs = r->ifs;
    /* the caller read the first SHB's type to tell the format: put it back in the buffer */
    r->buf[0] = 0x0A, r->buf[1] = 0x0D, r->buf[2] = 0x0D, r->buf[3] = 0x0A;
    r->blocks = 0;
    return r;
}

/* Read n bytes into p: true, or false with why in r->err (at_end: what an end of file means).
 * *got (may be NULL) says how many came. The stream is this thread's alone: no stdio lock. */
static bool get_n(struct ta__ng_reader *r, uint8_t *p, size_t n, const char *at_end, size_t *got)
{
    size_t k = fread_unlocked(p, 1, n, r->f);
    if (got)
        *got = k;
    if (k == n)
        return true;
    if (ferror_unlocked(r->f))
        snprintf(r->err, sizeof r->err, "error reading the file");
    else
        snprintf(r->err, sizeof r->err, "%s", at_end);
    return false;
}

static bool get(struct ta__ng_reader *r, uint8_t *p, size_t n, const char *at_end)
{
    return get_n(r, p, n, at_end, NULL);
}

/* The bytes of a block longer than any kept whole are read and dropped (a huge custom or
 * name-resolution block); a packet or interface block that long is malformed. */
static int skip_block(struct ta__ng_reader *r, uint64_t left)
{
    while (left > 0) {
        size_t k = left > r->cap ? r->cap : (size_t)left;
        if (!get(r, r->buf, k, "truncated: the file ends inside a block"))
            return -1;
        left -= k;
    }
    return 0;
}

/* See pcapng.h. */
int ta__ng_next(struct ta__ng_reader *r, struct ta__ng_pkt *pkt)
{
    for (;;) {
        uint32_t len = 0, type = 0;
        size_t have = r->blocks == 0 ? 4 : 0, got = 0;   /* (the SHB type the caller read) */
        if (!get_n(r, r->buf + have, 12 - have, "truncated: the file ends inside a block header",
                   &got)) {
            if (got > 0 || have > 0 || ferror_unlocked(r->f))
                return -1;
            r->err[0] = '\0';
            return 0;                       /* the end, at a block boundary */
        }
        r->blocks++;
        struct ta_cur c = ta_cur_make(r->buf, 4);
        (void)rd32(&c, &r->sec, &type);
        if (type != BT_SHB && !r->sec.seen) {
            snprintf(r->err, sizeof r->err, "not a pcapng file: no section header first");
            return -1;
        }
        len = ta__ng_block_len(&r->sec, r->buf);
        if (len < 12 || (len & 3u) || (type == BT_SHB && len < 28)) {
            snprintf(r->err, sizeof r->err, "block %llu: bad block length %u",
                     (unsigned long long)r->blocks, len);
            return -1;
        }
        if (len > r->cap) {
            bool keep = type == BT_SHB || type == BT_IDB || type == BT_EPB || type == BT_SPB ||
                        type == BT_OPB || type == BT_ISB;
            if (!keep) {
                if (skip_block(r, len - 12) < 0)
                    return -1;
                continue;
            }
            uint8_t *nb = len <= TA__NG_BLOCK_MAX ? realloc(r->buf, len) : NULL;
            if (!nb) {
                snprintf(r->err, sizeof r->err, "block %llu: %u bytes, more than tlsaudit "
                         "reads in one block", (unsigned long long)r->blocks, len);
                return -1;
            }
            r->buf = nb;
            r->cap = len;
        }
        if (!get(r, r->buf + 12, len - 12, "truncated: the file ends inside a block"))
            return -1;
        char why[TA__NG_ERR];
        uint64_t before = type == BT_SHB ? ta__ng_section_drops(&r->sec) : 0;
        int rc = ta__ng_block(&r->sec, r->buf, len, pkt, why);
        if (rc == 0 && type == BT_SHB)          /* the section before it has ended */
            r->drops_before = sat_add(r->drops_before, before);
        if (rc < 0) {
            snprintf(r->err, sizeof r->err, "block %llu: %s", (unsigned long long)r->blocks, why);
            return -1;
        }
        if (rc == 1)
            return 1;
    }
}

/* See pcapng.h. */
uint64_t ta__ng_drops(const struct ta__ng_reader *r)
{
    return sat_add(ta__ng_section_drops(&r->sec), r->drops_before);
}

void ta__ng_close(struct ta__ng_reader *r)
{
    if (!r)
        return;
    free(r->buf);
    free(r);
}
