/* test_pcapng.c - tlsaudit's own pcapng reader (src/capture/pcapng.h, whose comments are the
 * contract), block by block (its agreement with libpcap on real files: test_pcapng_libpcap.c):
 *   2. hand-built blocks in both byte orders: times at 10^-9 s, 2^-20 s and with an offset, to
 *      the microsecond; an SPB cut to interface 0's snap length; each interface's own link
 *      type; a new section forgets the interfaces of the one before;
 *   3. hostile blocks: each one -1 with a message. Every block is placed against a page that
 *      cannot be read, so a read past its end crashes the test instead of passing unseen;
 *   4. streams (fmemopen): the file ending at a block boundary is its end (0), inside a block
 *      an error (-1);
 *   5. Interface Statistics blocks: the drops the recorder counted, per interface and section. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"
#include "pcapng.h"
#include "pcapng_build.h"


/* --- feeding blocks against a guard page ----------------------------------------------------- */

static uint8_t *block_end;              /* the first byte of a page that cannot be read */
static char *err;                       /* TA__NG_ERR bytes, against a guard page too */
static struct ta__ng_if *ifs;           /* TA__NG_MAX_IF entries, against a guard page */

/* The end of size readable bytes followed by a PROT_NONE page. */
static uint8_t *against_guard(size_t size)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), room = (size + pg - 1) / pg * pg;
    uint8_t *m = mmap(NULL, room + pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + room, pg, PROT_NONE) != 0) {
        perror("mmap");
        exit(2);
    }
    return m + room;
}

static void section_new(struct ta__ng_section *s)
{
    memset(s, 0, sizeof *s);
    s->ifs = ifs;
}

/* k's bytes as one block to ta__ng_block, its last byte the last readable one; k is emptied
 * (its byte order kept). pkt->data stays valid until the next feed. */
static int feed(struct ta__ng_section *s, struct ta__ng_pkt *pkt)
{
    uint8_t *b = block_end - k.n;
    memcpy(b, k.b, k.n);
    memset(err, 0, TA__NG_ERR);
    int rc = ta__ng_block(s, b, k.n, pkt, err);
    k.n = k.start = 0;
    return rc;
}

/* k's block must be refused: -1 and a message. */
static void hostile(struct ta__ng_section *s, const char *what)
{
    struct ta__ng_pkt pkt;
    int before = ta_check_failed, rc = feed(s, &pkt);
    CHECK_INT(rc, -1);
    CHECK(err[0] != '\0' && memchr(err, '\0', TA__NG_ERR) != NULL);
    if (ta_check_failed > before)
        fprintf(stderr, "  hostile case: %s (%s-endian)\n", what, k.be ? "big" : "little");
}

/* One packet expected from k's block. */
static void packet(struct ta__ng_section *s, int dlt, uint32_t ifid, uint64_t ts_us,
                   uint32_t caplen, uint32_t len, const char *what)
{
    struct ta__ng_pkt pkt = { 0 };
    int before = ta_check_failed, rc = feed(s, &pkt);
    CHECK_INT(rc, 1);
    if (rc == 1) {
        CHECK_INT(pkt.dlt, dlt);
        CHECK_INT(pkt.ifid, ifid);
        CHECK(pkt.ts_us == ts_us);
        if (pkt.ts_us != ts_us)
            fprintf(stderr, "  ts_us %" PRIu64 ", expected %" PRIu64 "\n", pkt.ts_us, ts_us);
        CHECK_INT(pkt.caplen, caplen);
        CHECK_INT(pkt.len, len);
        CHECK(pkt.caplen != caplen || memcmp(pkt.data, DATA, caplen) == 0);
    }
    if (ta_check_failed > before)
        fprintf(stderr, "  packet case: %s (%s-endian; err \"%s\")\n", what,
                k.be ? "big" : "little", err);
}

/* A fresh section of k's byte order with IDBs of these link types (snap length 65535). */
static void start(struct ta__ng_section *s, int nif, const uint16_t *lt)
{
    struct ta__ng_pkt pkt;
    section_new(s);
    shb(&k, 1);
    CHECK_INT(feed(s, &pkt), 0);
    for (int i = 0; i < nif; i++) {
        idb(&k, lt[i], 65535, -1, 0);
        CHECK_INT(feed(s, &pkt), 0);
    }
    CHECK_INT(s->nif, nif);
}

/* --- 2. hand-built blocks ----------------------------------------------------------------- */

/* if_tsresol and if_tsoffset through IDBs and EPBs, and ta__ng_ts_us on its own. */
static void t_times(void)
{
    struct ta__ng_section s;
    struct ta__ng_pkt pkt;
    start(&s, 0, NULL);
    idb(&k, LT_EN10MB, 65535, 9, 0);                        /* 0: nanoseconds */
    CHECK_INT(feed(&s, &pkt), 0);
    idb(&k, LT_EN10MB, 65535, 0x80 | 20, 0);                /* 1: 2^-20 s */
    CHECK_INT(feed(&s, &pkt), 0);
    idb(&k, LT_EN10MB, 65535, -1, 1700000000);              /* 2: microseconds, an offset */
    CHECK_INT(feed(&s, &pkt), 0);
    idb(&k, LT_EN10MB, 65535, 3, -2000000000);              /* 3: ms, before the epoch */
    CHECK_INT(feed(&s, &pkt), 0);
    CHECK_INT(s.nif, 4);
    CHECK_INT(ifs[0].tsresol, 9);
    CHECK_INT(ifs[1].tsresol, 0x80 | 20);
    CHECK_INT(ifs[2].tsresol, 6);                           /* the default */
    CHECK_INT(ifs[2].tsoffset, 1700000000);
    CHECK_INT(ifs[3].tsoffset, -2000000000);
    CHECK_INT(ifs[0].dlt, 1);
    CHECK_INT(ifs[0].snaplen, 65535);

    /* below the microsecond, digits are dropped, as libpcap drops them */
    epb(&k, 0, T0 * 1000000000u + 123456789u, 60, 60);
    packet(&s, 1, 0, T0 * 1000000u + 123456u, 60, 60, "tsresol 9");
    /* T0 * 2^20 * 10^6 does not fit in 64 bits: the conversion must not overflow */
    epb(&k, 1, (T0 << 20) | (3u << 18), 60, 1514);
    packet(&s, 1, 1, T0 * 1000000u + 750000u, 60, 1514, "tsresol 2^-20");
    epb(&k, 2, (T0 - 1700000000u) * 1000000u + 123456u, 5, 5);
    packet(&s, 1, 2, T0 * 1000000u + 123456u, 5, 5, "if_tsoffset");
    epb(&k, 3, T0 * 1000u, 0, 0);
    packet(&s, 1, 3, 0, 0, 0, "negative time held at 0");

    struct ta__ng_if i = { .dlt = 1, .tsresol = 6 };
    CHECK(ta__ng_ts_us(&i, 5) == 5);
    i.tsresol = 0;                                          /* seconds */
    CHECK(ta__ng_ts_us(&i, 5) == 5000000u);
    CHECK(ta__ng_ts_us(&i, UINT64_MAX) == UINT64_MAX);      /* held */
    i.tsresol = 0x80;                                       /* 2^0: seconds too */
    CHECK(ta__ng_ts_us(&i, 5) == 5000000u);
    i.tsresol = 19;                                         /* the finest decimal unit in 64 bits */
    CHECK(ta__ng_ts_us(&i, 10000000000000000000ull) == 1000000u);
    i.tsresol = 0x80 | 63;
    CHECK(ta__ng_ts_us(&i, 1ull << 63) == 1000000u);
    i.tsresol = 0x80 | 20;
    CHECK(ta__ng_ts_us(&i, (T0 << 20) | (1u << 19)) == T0 * 1000000u + 500000u);
    /* units finer than any 64-bit count reaches a microsecond with: 0, and no undefined shift */
    i.tsresol = 30;
    CHECK(ta__ng_ts_us(&i, UINT64_MAX) == 0);
    i.tsresol = 0x80 | 100;
    CHECK(ta__ng_ts_us(&i, UINT64_MAX) == 0);
    i.tsresol = 6;
    i.tsoffset = INT64_MAX;
    CHECK(ta__ng_ts_us(&i, 1) == UINT64_MAX);
    i.tsoffset = INT64_MIN;
    CHECK(ta__ng_ts_us(&i, UINT64_MAX) == 0);
    i.tsoffset = -1;
    CHECK(ta__ng_ts_us(&i, 1000001) == 1);
}

/* Simple Packet Blocks: interface 0, no time, cut to interface 0's snap length. */
static void t_spb(void)
{
    struct ta__ng_section s;
    struct ta__ng_pkt pkt;
    start(&s, 0, NULL);
    spb(&k, 60, 60);
    hostile(&s, "SPB before any IDB");
    idb(&k, LT_SLL, 64, -1, 0);
    CHECK_INT(feed(&s, &pkt), 0);
    idb(&k, LT_EN10MB, 65535, -1, 0);
    CHECK_INT(feed(&s, &pkt), 0);
    spb(&k, 100, 64);
    packet(&s, LT_SLL, 0, 0, 64, 100, "SPB, snaplen 64, 64 bytes present");
    spb(&k, 100, 100);
    packet(&s, LT_SLL, 0, 0, 64, 100, "SPB, snaplen 64, 100 bytes present");
    spb(&k, 5, 5);
    packet(&s, LT_SLL, 0, 0, 5, 5, "SPB of 5 bytes, padded to 8");
}

/* Each packet its interface's link type; a new section forgets the interfaces before it. */
static void t_links(void)
{
    struct ta__ng_section s;
    struct ta__ng_pkt pkt;
    uint16_t lt[3] = { LT_EN10MB, LT_SLL2, LT_SLL };
    start(&s, 3, lt);
    epb(&k, 0, 1, 60, 60);
    packet(&s, 1, 0, 1, 60, 60, "EPB on an Ethernet interface");
    epb(&k, 1, 2, 40, 40);
    packet(&s, 276, 1, 2, 40, 40, "EPB on a Linux cooked v2 interface");
    epb(&k, 2, 3, 40, 40);
    packet(&s, 113, 2, 3, 40, 40, "EPB on a Linux cooked interface");
    opb(&k, 1, 4, 33, 70);
    packet(&s, 276, 1, 4, 33, 70, "OPB on a Linux cooked v2 interface");
    other(&k, 4);                                           /* name resolution */
    CHECK_INT(feed(&s, &pkt), 0);
    isb(&k, 0, -1, -1);                                     /* interface statistics */
    CHECK_INT(feed(&s, &pkt), 0);
    other(&k, 0x40000BAD);                                  /* custom */
    CHECK_INT(feed(&s, &pkt), 0);

    shb(&k, 1);                                             /* a new section: one interface */
    CHECK_INT(feed(&s, &pkt), 0);
    CHECK_INT(s.nif, 0);
    idb(&k, LT_SLL2, 65535, -1, 0);
    CHECK_INT(feed(&s, &pkt), 0);
    epb(&k, 1, 5, 40, 40);
    hostile(&s, "EPB on an interface of the section before");
    epb(&k, 0, 6, 40, 40);
    packet(&s, 276, 0, 6, 40, 40, "EPB on the new section's interface 0");

    /* A section may be in the other byte order (libpcap refuses it; pcapng allows it). */
    k.be = !k.be;
    shb(&k, 1);
    CHECK_INT(feed(&s, &pkt), 0);
    idb(&k, LT_EN10MB, 65535, 9, 0);
    CHECK_INT(feed(&s, &pkt), 0);
    epb(&k, 0, 7000, 40, 40);
    packet(&s, 1, 0, 7, 40, 40, "EPB in a section of the other byte order");
    k.be = !k.be;
}

/* Malformed blocks: each -1 with a message, nothing read past the block. */
static void t_hostile(void)
{
    struct ta__ng_section s;
    struct ta__ng_pkt pkt;
    uint16_t lt[1] = { LT_EN10MB };

    section_new(&s);
    idb(&k, LT_EN10MB, 65535, -1, 0);
    hostile(&s, "IDB before any SHB");
    epb(&k, 0, 1, 40, 40);
    hostile(&s, "EPB before any SHB");
    other(&k, 5);
    hostile(&s, "ISB before any SHB");
    shb(&k, 1);
    set32(&k, 8, 0x11223344);
    hostile(&s, "SHB with a bad byte-order magic");
    shb(&k, 2);
    hostile(&s, "SHB major version 2");
    open_block(&k, TA__NG_MAGIC);
    put(&k, 0x1A2B3C4D, 4);
    close_block(&k);
    hostile(&s, "SHB of 16 bytes, no version");

    start(&s, 1, lt);
    put(&k, 6, 4), put(&k, 8, 4);
    hostile(&s, "8 bytes, block length 8");
    put(&k, 6, 4), put(&k, 8, 4), put(&k, 8, 4);
    hostile(&s, "block length 8 < 12");
    put(&k, 0xBAD, 4), put(&k, 14, 4), put(&k, 0, 2), put(&k, 14, 4);
    hostile(&s, "block length 14, not a multiple of 4");
    epb(&k, 0, 1, 40, 40);
    set32(&k, k.n - 4, (uint32_t)k.n + 4);
    hostile(&s, "trailing length differing from the leading one");
    epb(&k, 0, 1, 40, 40);
    set32(&k, 4, (uint32_t)k.n + 4);
    set32(&k, k.n - 4, (uint32_t)k.n + 4);
    hostile(&s, "both lengths past the block given");
    open_block(&k, 6);
    put(&k, 0, 4);
    close_block(&k);
    hostile(&s, "EPB too short for its fields");
    epb(&k, 0, 1, 16, 16);
    set32(&k, 20, 17);
    hostile(&s, "EPB caplen one past the block");
    epb(&k, 0, 1, 16, 16);
    set32(&k, 20, UINT32_MAX);
    hostile(&s, "EPB caplen 2^32-1");
    opb(&k, 0, 1, 16, 16);
    set32(&k, 20, 1000);
    hostile(&s, "OPB caplen past the block");
    open_block(&k, 3);
    close_block(&k);
    hostile(&s, "SPB without its length");
    open_block(&k, 1);
    close_block(&k);
    hostile(&s, "IDB of 12 bytes");
    open_block(&k, 1);
    put(&k, LT_EN10MB, 2), put(&k, 0, 2), put(&k, 65535, 4);
    put(&k, 2, 2), put(&k, 200, 2), put(&k, 0x41414141, 4);
    close_block(&k);
    hostile(&s, "IDB option length past the block");
    open_block(&k, 1);
    put(&k, LT_EN10MB, 2), put(&k, 0, 2), put(&k, 65535, 4);
    put(&k, 9, 2), put(&k, 0xFFFF, 2);
    close_block(&k);
    hostile(&s, "IDB if_tsresol of length 65535");
    epb(&k, 1, 1, 40, 40);
    hostile(&s, "EPB on interface 1, not described");
    epb(&k, UINT32_MAX, 1, 40, 40);
    hostile(&s, "EPB on interface 2^32-1");
    opb(&k, 7, 1, 40, 40);
    hostile(&s, "OPB on interface 7, not described");

    /* More interfaces than the section can hold: never written past ifs[TA__NG_MAX_IF - 1]
     * (a guard page follows), and never a packet on one not kept. */
    start(&s, 0, lt);
    int rc = 0;
    for (unsigned i = 0; i <= TA__NG_MAX_IF && rc == 0; i++) {
        idb(&k, LT_EN10MB, 65535, -1, 0);
        rc = feed(&s, &pkt);
    }
    CHECK(rc == 0 || rc == -1);
    CHECK(s.nif <= TA__NG_MAX_IF);
    epb(&k, TA__NG_MAX_IF, 1, 40, 40);
    hostile(&s, "EPB on interface TA__NG_MAX_IF");
}

/* ta__ng_block_len: an SHB's length in the order its magic says; other blocks in the section's. */
static void t_block_len(void)
{
    struct ta__ng_section s;
    uint16_t lt[1] = { LT_EN10MB };
    section_new(&s);
    shb(&k, 1);
    CHECK_INT(ta__ng_block_len(&s, k.b), 28);
    set32(&k, 8, 0x11223344);
    CHECK_INT(ta__ng_block_len(&s, k.b), 0);
    k.n = 0;
    start(&s, 1, lt);
    epb(&k, 0, 1, 41, 41);
    CHECK_INT(ta__ng_block_len(&s, k.b), 32 + 44);
    k.n = 0;
}

/* Interface Statistics: each ISB's isb_ifdrop + isb_osdrop replace its interface's count (they
 * count from the start); an ISB of an interface not described is skipped, one whose option runs
 * past it is refused; a reader sums the sections. */
static void t_isb(void)
{
    static const uint16_t lt[] = { LT_EN10MB, LT_SLL2 };
    struct ta__ng_section s;
    struct ta__ng_pkt pkt;
    start(&s, 2, lt);
    isb(&k, 0, 3, 4);
    CHECK_INT(feed(&s, &pkt), 0);
    CHECK(ta__ng_section_drops(&s) == 7);
    isb(&k, 0, 5, -1);                                  /* the later one holds the total */
    CHECK_INT(feed(&s, &pkt), 0);
    isb(&k, 1, -1, 2);
    CHECK_INT(feed(&s, &pkt), 0);
    isb(&k, 9, 100, 100);                               /* no interface 9: skipped */
    CHECK_INT(feed(&s, &pkt), 0);
    isb(&k, 1, -1, -1);                                 /* no drop options: no change */
    CHECK_INT(feed(&s, &pkt), 0);
    CHECK(ta__ng_section_drops(&s) == 7);
    isb(&k, 0, 5, -1);
    set32(&k, k.start + 32, k.be ? 0x00050100u : 0x01000005u);  /* isb_ifdrop of 256 bytes */
    hostile(&s, "statistics option past its block");
    isb(&k, 0, INT64_MAX, INT64_MAX);                  /* held, not wrapped */
    CHECK_INT(feed(&s, &pkt), 0);
    CHECK(ta__ng_section_drops(&s) == UINT64_MAX);

    /* a stream of two sections: 7 in the first, 1 in the second */
    k.n = 0;
    shb(&k, 1), idb(&k, LT_EN10MB, 65535, -1, 0), idb(&k, LT_SLL2, 65535, -1, 0);
    isb(&k, 0, 5, -1), isb(&k, 1, -1, 2);
    shb(&k, 1), idb(&k, LT_EN10MB, 65535, -1, 0), epb(&k, 0, 1, 20, 20), isb(&k, 0, 1, 0);
    FILE *f = fmemopen(k.b, k.n, "r");
    uint8_t magic[4];
    if (!f || fread(magic, 1, 4, f) != 4) {
        perror("fmemopen");
        exit(2);
    }
    struct ta__ng_reader *r = ta__ng_open(f);
    int rc = -2, n = 0;
    while (r && (rc = ta__ng_next(r, &pkt)) == 1) {
        CHECK(ta__ng_drops(r) == 7);                    /* the second section's ISB not read */
        n++;
    }
    CHECK_INT(rc, 0);                                   /* the end, not an error */
    CHECK_INT(n, 1);
    CHECK(r && ta__ng_drops(r) == 8);
    ta__ng_close(r);
    fclose(f);
    k.n = 0;
}

/* --- 4. streams ------------------------------------------------------------------------------ */

/* k's bytes [0, n) read as a file through fmemopen: the packets got; the last return in *last,
 * and whether the reader left a message in *said. */
static int stream(size_t n, int *last, bool *said)
{
    int got = 0, rc;
    uint8_t magic[4];
    struct ta__ng_pkt pkt;
    FILE *f = fmemopen(k.b, n, "r");
    if (!f || fread(magic, 1, 4, f) != 4) {
        perror("fmemopen");
        exit(2);
    }
    struct ta__ng_reader *r = ta__ng_open(f);
    CHECK(r != NULL);
    if (!r)
        exit(2);
    while ((rc = ta__ng_next(r, &pkt)) == 1) {
        CHECK(pkt.caplen <= sizeof DATA && memcmp(pkt.data, DATA, pkt.caplen) == 0);
        got++;
    }
    *last = rc;
    *said = r->err[0] != '\0';
    ta__ng_close(r);
    fclose(f);
    return got;
}

static void t_streams(void)
{
    int last;
    bool said;
    k.n = 0;
    shb(&k, 1);
    size_t shb_end = k.n;
    other(&k, 4);
    idb(&k, LT_EN10MB, 65535, -1, 0);
    other(&k, 0x00000BAD);
    epb(&k, 0, 1, 60, 60);
    epb(&k, 0, 2, 61, 61);
    size_t whole = k.n;

    CHECK_INT(stream(whole, &last, &said), 2);
    CHECK_INT(last, 0);                                     /* the end at a block boundary */
    CHECK_INT(stream(shb_end, &last, &said), 0);
    CHECK_INT(last, 0);                                     /* an SHB alone: no packet */
    CHECK_INT(stream(whole - 6, &last, &said), 1);
    CHECK_INT(last, -1);                                    /* the end inside the last EPB */
    CHECK(said);
    CHECK_INT(stream(20, &last, &said), 0);
    CHECK_INT(last, -1);                                    /* the end inside the SHB */
    CHECK(said);
    put(&k, 6, 4), put(&k, 100, 2);                         /* 6 bytes of a block header */
    CHECK_INT(stream(k.n, &last, &said), 2);
    CHECK_INT(last, -1);
    CHECK(said);
    k.n = whole;
    put(&k, 6, 4), put(&k, 32u << 20, 4), put(&k, 0, 4);   /* a block of 32 MiB, said */
    CHECK_INT(stream(k.n, &last, &said), 2);
    CHECK_INT(last, -1);
    k.n = whole;
    put(&k, 6, 4), put(&k, 8, 4), put(&k, 8, 4);           /* a block length of 8 */
    CHECK_INT(stream(k.n, &last, &said), 2);
    CHECK_INT(last, -1);
    k.n = 0;
}

int main(void)
{
    block_end = against_guard(sizeof k.b);
    err = (char *)against_guard(TA__NG_ERR) - TA__NG_ERR;
    ifs = (struct ta__ng_if *)(void *)(against_guard(TA__NG_MAX_IF * sizeof *ifs)
                                       - TA__NG_MAX_IF * sizeof *ifs);
    for (int be = 0; be < 2; be++) {
        k.be = be;
        t_times();
        t_spb();
        t_links();
        t_hostile();
        t_block_len();
        t_isb();
        t_streams();
    }
    return CHECK_DONE();
}
