/* pcapng_build.h - pcapng blocks built by hand in either byte order, for test_pcapng and
 * test_pcapng_libpcap: a section header, interface descriptions with if_tsresol and
 * if_tsoffset, Enhanced, obsolete and Simple Packet blocks, any other block type. Header-only
 * (static inline), as tests/README.md says of the helpers that build test input. */
#ifndef TLSAUDIT_TEST_PCAPNG_BUILD_H
#define TLSAUDIT_TEST_PCAPNG_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define T0 1764892800ull                /* 2025-12-05T00:00:00Z, in seconds */
#define LT_EN10MB 1                     /* LINKTYPE_ values written in the hand-built IDBs */
#define LT_SLL 113
#define LT_SLL2 276
#define LT_RAW 101

/* --- builders ----------------------------------------------------------------------------- */

/* Blocks being written in one byte order: one block, or a whole file. */
struct blk {
    uint8_t b[1 << 17];
    size_t n, start;                    /* bytes written; where the open block began */
    bool be;                            /* big-endian */
};
static struct blk k;                    /* the scratch of every case (one per test file) */

static inline void put(struct blk *w, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        w->b[w->n++] = (uint8_t)(v >> (w->be ? 8 * (bytes - 1 - i) : 8 * i));
}

static inline void put_bytes(struct blk *w, const uint8_t *p, size_t len)
{
    memcpy(w->b + w->n, p, len);
    w->n += len;
}

static inline void pad4(struct blk *w)
{
    while ((w->n - w->start) % 4)
        w->b[w->n++] = 0;
}

/* A 32-bit field at off rewritten (hostile edits). */
static inline void set32(struct blk *w, size_t off, uint32_t v)
{
    size_t n = w->n;
    w->n = off;
    put(w, v, 4);
    w->n = n;
}

static inline void open_block(struct blk *w, uint32_t type)
{
    w->start = w->n;
    put(w, type, 4);
    put(w, 0, 4);
}

/* Padding, the trailing length, and the same length in the header. */
static inline void close_block(struct blk *w)
{
    pad4(w);
    uint32_t len = (uint32_t)(w->n - w->start + 4);
    put(w, len, 4);
    set32(w, w->start + 4, len);
}

static inline void shb(struct blk *w, uint16_t major)
{
    open_block(w, TA__NG_MAGIC);
    put(w, 0x1A2B3C4D, 4);
    put(w, major, 2);
    put(w, 0, 2);
    put(w, UINT64_MAX, 8);              /* section length: not given */
    close_block(w);
}

/* An IDB; tsresol < 0: no if_tsresol option; tsoffset 0: no if_tsoffset option. */
static inline void idb(struct blk *w, uint16_t linktype, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
    open_block(w, 1);
    put(w, linktype, 2);
    put(w, 0, 2);
    put(w, snaplen, 4);
    if (tsresol >= 0) {
        put(w, 9, 2), put(w, 1, 2), put(w, (uint64_t)tsresol, 1);
        pad4(w);
    }
    if (tsoffset)
        put(w, 14, 2), put(w, 8, 2), put(w, (uint64_t)tsoffset, 8);
    if (tsresol >= 0 || tsoffset)
        put(w, 0, 4);                   /* opt_endofopt */
    close_block(w);
}

static const uint8_t DATA[256] = "\x45\x00 any bytes will do: the reader never looks inside a packet";

/* A packet block of type 6 (EPB: a 32-bit interface id) or 2 (the obsolete Packet Block: a
 * 16-bit interface id and a 16-bit drop count), caplen bytes of DATA. */
static inline void pkt_block(struct blk *w, uint32_t type, uint32_t ifid, uint64_t units,
                             uint32_t caplen, uint32_t len)
{
    open_block(w, type);
    if (type == 2) {
        put(w, ifid, 2);
        put(w, 0, 2);
    } else {
        put(w, ifid, 4);
    }
    put(w, units >> 32, 4);
    put(w, units & 0xFFFFFFFFu, 4);
    put(w, caplen, 4);
    put(w, len, 4);
    put_bytes(w, DATA, caplen);
    close_block(w);
}

static inline void epb(struct blk *w, uint32_t ifid, uint64_t units, uint32_t caplen, uint32_t len)
{
    pkt_block(w, 6, ifid, units, caplen, len);
}

static inline void opb(struct blk *w, uint16_t ifid, uint64_t units, uint32_t caplen, uint32_t len)
{
    pkt_block(w, 2, ifid, units, caplen, len);
}

/* An Interface Statistics Block for ifid: isb_ifdrop and isb_osdrop when not negative. */
static inline void isb(struct blk *w, uint32_t ifid, int64_t ifdrop, int64_t osdrop)
{
    open_block(w, 5);
    put(w, ifid, 4);
    put(w, 0, 4);
    put(w, 0, 4);
    put(w, 4, 2), put(w, 8, 2), put(w, 1000, 8);           /* isb_ifrecv, not read */
    if (ifdrop >= 0)
        put(w, 5, 2), put(w, 8, 2), put(w, (uint64_t)ifdrop, 8);
    if (osdrop >= 0)
        put(w, 7, 2), put(w, 8, 2), put(w, (uint64_t)osdrop, 8);
    put(w, 0, 4);                       /* opt_endofopt */
    close_block(w);
}

static inline void spb(struct blk *w, uint32_t len, uint32_t present)
{
    open_block(w, 3);
    put(w, len, 4);
    put_bytes(w, DATA, present);
    close_block(w);
}

/* A block of a type the reader skips (NRB 4, ISB 5, custom 0xBAD, ...) with some body. */
static inline void other(struct blk *w, uint32_t type)
{
    open_block(w, type);
    put(w, 0x01020304, 4);
    close_block(w);
}

#endif
