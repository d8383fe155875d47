/* test_stream.c - TCP reassembly: order, holes, overlaps (first wins), wrap-around, caps, pool,
 * bytes a snap length cut off. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/stream.h"

#define OUT_MAX 8192

/* What a test sink saw. */
struct out {
    uint8_t buf[OUT_MAX];
    size_t len;
    int calls;
    size_t max_offer;   /* largest len ever offered */
    size_t stop_at;     /* sink_stop: return TA_HANDOFF once this many bytes were consumed */
    bool open;          /* sink_gate: consume only when open */
};

static void out_reset(struct out *o)
{
    memset(o, 0, sizeof(*o));
}

static void out_note(struct out *o, size_t len)
{
    o->calls++;
    if (len > o->max_offer)
        o->max_offer = len;
}

static void out_append(struct out *o, const uint8_t *d, size_t n)
{
    if (n > OUT_MAX - o->len)
        n = OUT_MAX - o->len;
    memcpy(o->buf + o->len, d, n);
    o->len += n;
}

/* Consumes everything. */
static int sink_all(void *arg, const uint8_t *data, size_t len, size_t *consumed)
{
    struct out *o = arg;
    out_note(o, len);
    out_append(o, data, len);
    *consumed = len;
    return TA_OK;
}

/* Consumes only whole records: 2-byte big-endian length, then that many bytes. */
static int sink_records(void *arg, const uint8_t *data, size_t len, size_t *consumed)
{
    struct out *o = arg;
    struct ta_cur c = ta_cur_make(data, len);
    struct ta_cur body;

    out_note(o, len);
    while (ta_cur_vec16(&c, &body))
        ;
    *consumed = (size_t)(c.p - data);
    out_append(o, data, *consumed);
    return TA_OK;
}

/* Consumes nothing, ever. */
static int sink_none(void *arg, const uint8_t *data, size_t len, size_t *consumed)
{
    (void)data;
    out_note(arg, len);
    *consumed = 0;
    return TA_OK;
}

/* Consumes everything while o->open, nothing otherwise. */
static int sink_gate(void *arg, const uint8_t *data, size_t len, size_t *consumed)
{
    struct out *o = arg;
    out_note(o, len);
    if (!o->open) {
        *consumed = 0;
        return TA_OK;
    }
    out_append(o, data, len);
    *consumed = len;
    return TA_OK;
}

/* Consumes up to o->stop_at bytes in total, then answers TA_HANDOFF. */
static int sink_stop(void *arg, const uint8_t *data, size_t len, size_t *consumed)
{
    struct out *o = arg;
    size_t n = len;
    out_note(o, len);
    if (o->len + n >= o->stop_at) {
        n = o->stop_at - o->len;
        out_append(o, data, n);
        *consumed = n;
        return TA_HANDOFF;
    }
    out_append(o, data, n);
    *consumed = n;
    return TA_OK;
}

/* Deterministic message bytes. */
static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* A message made of records (2-byte length + body) of varying sizes, exactly n (>= 2) bytes. */
static void fill_records(uint8_t *p, size_t n)
{
    size_t off = 0, want = 1;

    fill(p, n, 7);
    while (off < n) {
        size_t room = n - off - 2, body = want < room ? want : room;
        if (room - body == 1) /* never leave a single byte: it could not hold a header */
            body++;
        p[off] = (uint8_t)(body >> 8);
        p[off + 1] = (uint8_t)body;
        off += 2 + body;
        want = (want * 7 + 13) % 700;
    }
}

static void test_in_order(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(4, 1024);
    struct ta_stream s;
    struct out o;
    uint8_t msg[300];

    fill(msg, sizeof(msg), 1);
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 1000);
    CHECK_INT(s.next_seq, 1001);
    CHECK_INT(ta_stream_segment(&s, bp, 1001, msg, 100, sink_all, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 1101, msg + 100, 100, sink_all, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 1201, msg + 200, 100, sink_all, &o), TA_OK);
    CHECK_INT(o.len, 300);
    CHECK(memcmp(o.buf, msg, 300) == 0);
    CHECK_INT(s.total, 300);
    CHECK_INT(s.next_seq, 1301);
    CHECK_INT(ta_bufpool_in_use(bp), 0); /* fast path: nothing copied */
    CHECK_INT(s.buf, TA_STREAM_NOBUF);
    CHECK_INT(o.calls, 3);
    /* An empty segment and a late SYN change nothing. */
    CHECK_INT(ta_stream_segment(&s, bp, 1301, msg, 0, sink_all, &o), TA_OK);
    ta_stream_set_isn(&s, 5);
    CHECK_INT(s.next_seq, 1301);
    /* Without a SYN the first segment gives the start. */
    ta_stream_init(&s);
    out_reset(&o);
    CHECK_INT(ta_stream_segment(&s, bp, 77, msg, 10, sink_all, &o), TA_OK);
    CHECK(s.started);
    CHECK_INT(s.next_seq, 87);
    CHECK_INT(o.len, 10);
    ta_bufpool_free(bp);
}

/* A record sink sees whole records only; the held remainder waits in a buffer. */
static void test_records_held(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(2, 1024);
    struct ta_stream s;
    struct out o;
    /* records of 3, 0 and 5 body bytes */
    static const uint8_t msg[] = { 0, 3, 'a', 'b', 'c', 0, 0, 0, 5, '1', '2', '3', '4', '5' };

    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 4, sink_records, &o), TA_OK);
    CHECK_INT(o.len, 0);
    CHECK_INT(s.held, 4);
    CHECK_INT(ta_bufpool_in_use(bp), 1);
    CHECK_INT(ta_stream_segment(&s, bp, 5, msg + 4, 6, sink_records, &o), TA_OK);
    CHECK_INT(o.len, 7);   /* "abc" record and the empty one */
    CHECK_INT(s.held, 3);  /* 0 5 '1' */
    CHECK_INT(s.total, 7);
    CHECK_INT(ta_stream_segment(&s, bp, 11, msg + 10, 4, sink_records, &o), TA_OK);
    CHECK_INT(o.len, sizeof(msg));
    CHECK(memcmp(o.buf, msg, sizeof(msg)) == 0);
    CHECK_INT(s.held, 0);
    CHECK_INT(ta_bufpool_in_use(bp), 0); /* buffer returned once empty */
    ta_bufpool_free(bp);
}

/* Three segments in every order give the same bytes. */
static void test_out_of_order(void)
{
    static const int perms[6][3] = { {0,1,2}, {0,2,1}, {1,0,2}, {1,2,0}, {2,0,1}, {2,1,0} };
    struct ta_bufpool *bp = ta_bufpool_new(1, 512);
    uint8_t msg[150];

    fill(msg, sizeof(msg), 2);
    for (int p = 0; p < 6; p++) {
        struct ta_stream s;
        struct out o;
        out_reset(&o);
        ta_stream_init(&s);
        ta_stream_set_isn(&s, 99);
        for (int i = 0; i < 3; i++) {
            int k = perms[p][i];
            CHECK_INT(ta_stream_segment(&s, bp, 100 + (uint32_t)k * 50, msg + k * 50, 50,
                                        sink_all, &o), TA_OK);
        }
        CHECK_INT(o.len, 150);
        CHECK(memcmp(o.buf, msg, 150) == 0);
        CHECK_INT(s.held, 0);
        CHECK_INT(s.nholes, 0);
        CHECK_INT(s.retrans, 0);
        CHECK_INT(s.overlaps, 0);
        CHECK(!s.gap);
        CHECK_INT(ta_bufpool_in_use(bp), 0);
    }
    ta_bufpool_free(bp);
}

static void test_retransmission(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(1, 512);
    struct ta_stream s;
    struct out o;
    uint8_t msg[100];

    fill(msg, sizeof(msg), 3);
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 40, sink_all, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 40, sink_all, &o), TA_OK);  /* full retransmit */
    CHECK_INT(ta_stream_segment(&s, bp, 11, msg + 10, 30, sink_all, &o), TA_OK);
    CHECK_INT(s.retrans, 2);
    CHECK_INT(o.len, 40);
    /* Partly old, partly new: only the new bytes reach the sink. */
    CHECK_INT(ta_stream_segment(&s, bp, 31, msg + 30, 30, sink_all, &o), TA_OK);
    CHECK_INT(o.len, 60);
    CHECK(memcmp(o.buf, msg, 60) == 0);
    CHECK_INT(s.retrans, 2);
    ta_bufpool_free(bp);
}

/* Overlapping out-of-order data: bytes held first win, byte for byte. */
static void test_overlap_first_wins(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(1, 512);
    struct ta_stream s;
    struct out o;
    uint8_t a[10], b[30], z[5], expect[35];

    memset(a, 'A', sizeof(a));
    memset(b, 'B', sizeof(b));
    memset(z, 'Z', sizeof(z));
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    /* A at offsets 10..20 and again at 25..35 (two ranges), then B over 5..35 */
    CHECK_INT(ta_stream_segment(&s, bp, 1 + 10, a, 10, sink_all, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 1 + 25, a, 10, sink_all, &o), TA_OK);
    CHECK_INT(s.nholes, 2);
    CHECK_INT(ta_stream_segment(&s, bp, 1 + 5, b, 30, sink_all, &o), TA_OK);
    CHECK_INT(s.nholes, 1);
    CHECK_INT(s.overlaps, 1);
    CHECK_INT(o.len, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1, z, 5, sink_all, &o), TA_OK);
    memset(expect, 'Z', 5);
    memset(expect + 5, 'B', 5);
    memset(expect + 10, 'A', 10);
    memset(expect + 20, 'B', 5);
    memset(expect + 25, 'A', 10);
    CHECK_INT(o.len, 35);
    CHECK(memcmp(o.buf, expect, 35) == 0);
    CHECK_INT(s.overlaps, 1);
    /* Overlap with held (in-order, unconsumed) bytes: the held ones win too. */
    {
        static const uint8_t r1[] = { 0, 4, 'w', 'x' };
        static const uint8_t r2[] = { 'Q', 'Q', 'y', 'z' };
        static const uint8_t want[] = { 0, 4, 'w', 'x', 'y', 'z' };
        out_reset(&o);
        ta_stream_init(&s);
        ta_stream_set_isn(&s, 0);
        CHECK_INT(ta_stream_segment(&s, bp, 1, r1, 4, sink_records, &o), TA_OK);
        CHECK_INT(s.held, 4);
        CHECK_INT(ta_stream_segment(&s, bp, 3, r2, 4, sink_records, &o), TA_OK);
        CHECK_INT(o.len, 6);
        CHECK(memcmp(o.buf, want, 6) == 0);
        CHECK_INT(s.overlaps, 1);
    }
    ta_bufpool_free(bp);
}

/* Sequence numbers wrap modulo 2^32. */
static void test_wraparound(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(1, 512);
    struct ta_stream s;
    struct out o;
    uint8_t msg[64];
    const uint32_t isn = 0xFFFFFFF0u;

    fill(msg, sizeof(msg), 4);
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, isn);
    CHECK_INT(s.next_seq, 0xFFFFFFF1u);
    /* Second half first (past the wrap), then a segment straddling 2^32, then the start. */
    CHECK_INT(ta_stream_segment(&s, bp, isn + 1 + 32, msg + 32, 32, sink_all, &o), TA_OK);
    CHECK_INT(s.nholes, 1);
    CHECK_INT(ta_stream_segment(&s, bp, isn + 1 + 8, msg + 8, 24, sink_all, &o), TA_OK);
    CHECK_INT(o.len, 0);
    CHECK_INT(ta_stream_segment(&s, bp, isn + 1, msg, 8, sink_all, &o), TA_OK);
    CHECK_INT(o.len, 64);
    CHECK(memcmp(o.buf, msg, 64) == 0);
    CHECK_INT(s.next_seq, (uint32_t)(isn + 1 + 64));
    CHECK_INT(s.next_seq, 0x31);
    /* A retransmission from before the wrap is recognised as old. */
    CHECK_INT(ta_stream_segment(&s, bp, isn + 1, msg, 16, sink_all, &o), TA_OK);
    CHECK_INT(s.retrans, 1);
    CHECK_INT(o.len, 64);
    ta_bufpool_free(bp);
}

/* The buffer size caps what is held; a sink that cannot progress closes the stream. */
static void test_cap(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(2, 64);
    struct ta_stream s;
    struct out o;
    uint8_t msg[300];

    fill(msg, sizeof(msg), 5);
    /* A sink that takes everything gets a big segment in buffer-sized pieces, no loss. */
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 300, sink_all, &o), TA_OK);
    CHECK_INT(o.len, 300);
    CHECK(memcmp(o.buf, msg, 300) == 0);
    CHECK_INT(o.max_offer, 64);
    CHECK(!s.gap && !s.closed);

    /* Out of order beyond the buffer: dropped, gap, stream still open. */
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1 + 64, msg, 10, sink_all, &o), TA_OK);
    CHECK(s.gap);
    CHECK(!s.closed);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    /* Out of order straddling the cap: the part inside is kept. */
    CHECK_INT(ta_stream_segment(&s, bp, 1 + 60, msg + 60, 10, sink_all, &o), TA_OK);
    CHECK_INT(s.nholes, 1);
    CHECK_INT(s.holes[0].start, 60);
    CHECK_INT(s.holes[0].end, 64);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 60, sink_all, &o), TA_OK);
    CHECK_INT(o.len, 64);
    CHECK(memcmp(o.buf, msg, 64) == 0);
    ta_stream_release(&s, bp);

    /* Sink wants more than a buffer can hold: closed with gap, buffer returned. */
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 30, sink_none, &o), TA_OK);
    CHECK_INT(s.held, 30);
    CHECK(!s.closed);
    CHECK_INT(ta_stream_segment(&s, bp, 31, msg + 30, 30, sink_none, &o), TA_OK);
    CHECK_INT(s.held, 60);
    CHECK_INT(ta_stream_segment(&s, bp, 61, msg + 60, 30, sink_none, &o), TA_OK);
    CHECK(s.closed);
    CHECK(s.gap);
    CHECK_INT(o.max_offer, 64);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    CHECK_INT(ta_stream_segment(&s, bp, 91, msg + 90, 30, sink_none, &o), TA_OK); /* ignored */
    CHECK_INT(s.held, 0);
    /* Same in one segment on the fast path. */
    ta_stream_init(&s);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 200, sink_none, &o), TA_OK);
    CHECK(s.closed && s.gap);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    /* A record sink whose record is bigger than the buffer. */
    {
        uint8_t big[100];
        out_reset(&o);
        memset(big, 'r', sizeof(big));
        big[0] = 0;
        big[1] = 98;
        ta_stream_init(&s);
        CHECK_INT(ta_stream_segment(&s, bp, 1, big, 50, sink_records, &o), TA_OK);
        CHECK(!s.closed);
        CHECK_INT(ta_stream_segment(&s, bp, 51, big + 50, 50, sink_records, &o), TA_OK);
        CHECK(s.closed && s.gap);
        CHECK_INT(o.len, 0);
    }
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    ta_bufpool_free(bp);
}

/* One buffer for two streams: the second one that must hold bytes fails. */
static void test_pool_exhaustion(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(1, 128);
    struct ta_stream a, b;
    struct out o;
    uint8_t msg[40];

    fill(msg, sizeof(msg), 6);
    out_reset(&o);
    ta_stream_init(&a);
    ta_stream_init(&b);
    ta_stream_set_isn(&a, 0);
    ta_stream_set_isn(&b, 500);
    CHECK_INT(ta_stream_segment(&a, bp, 11, msg + 10, 10, sink_all, &o), TA_OK);
    CHECK_INT(ta_bufpool_in_use(bp), 1);
    /* In order with nothing held needs no buffer. */
    CHECK_INT(ta_stream_segment(&b, bp, 501, msg, 10, sink_all, &o), TA_OK);
    CHECK_INT(o.len, 10);
    /* Out of order needs one: none left. */
    CHECK_INT(ta_stream_segment(&b, bp, 521, msg + 20, 10, sink_all, &o), TA_ERR_NOMEM);
    CHECK(b.closed && b.gap);
    CHECK_INT(ta_bufpool_exhausted(bp), 1);
    /* Leftover of a partly consumed segment also needs one. */
    ta_stream_init(&b);
    ta_stream_set_isn(&b, 500);
    CHECK_INT(ta_stream_segment(&b, bp, 501, msg, 3, sink_records, &o), TA_ERR_NOMEM);
    CHECK(b.closed && b.gap);
    CHECK_INT(ta_bufpool_exhausted(bp), 2);
    ta_stream_release(&a, bp);
    CHECK(a.gap); /* held bytes were dropped */
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    CHECK_INT(ta_bufpool_bufsize(bp), 128);
    ta_bufpool_free(bp);
    /* Invalid sizes. */
    CHECK(ta_bufpool_new(4, 0) == NULL);
    CHECK(ta_bufpool_new(4, 0x80000000u) == NULL);
    bp = ta_bufpool_new(0, 16);
    CHECK(bp != NULL);
    ta_stream_init(&a);
    CHECK_INT(ta_stream_segment(&a, bp, 5, msg, 2, sink_none, &o), TA_ERR_NOMEM);
    ta_bufpool_free(bp);
}

/* More separate out-of-order ranges than TA_STREAM_MAX_HOLES: the extra one is dropped. */
static void test_hole_cap(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(1, 1024);
    struct ta_stream s;
    struct out o;
    uint8_t msg[40];
    int i;

    fill(msg, sizeof(msg), 8);
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    for (i = 0; i < TA_STREAM_MAX_HOLES; i++)
        CHECK_INT(ta_stream_segment(&s, bp, 1 + 10 + (uint32_t)i * 10, msg, 5, sink_all, &o), TA_OK);
    CHECK_INT(s.nholes, TA_STREAM_MAX_HOLES);
    CHECK(!s.gap);
    CHECK_INT(ta_stream_segment(&s, bp, 1 + 500, msg, 5, sink_all, &o), TA_OK);
    CHECK_INT(s.nholes, TA_STREAM_MAX_HOLES);
    CHECK(s.gap);
    /* Filling between two ranges merges them; a range touching one still fits. */
    CHECK_INT(ta_stream_segment(&s, bp, 1 + 15, msg, 5, sink_all, &o), TA_OK);
    CHECK_INT(s.nholes, TA_STREAM_MAX_HOLES - 1);
    CHECK_INT(s.holes[0].start, 10);
    CHECK_INT(s.holes[0].end, 25);
    ta_stream_release(&s, bp);
    ta_bufpool_free(bp);
}

/* Feed msg split into the given segments (offsets), in order or reversed; return output length. */
static size_t feed_split(struct ta_bufpool *bp, const uint8_t *msg, uint32_t n, uint32_t cut,
                         bool reverse, ta_stream_sink sink, struct out *o)
{
    struct ta_stream s;
    uint32_t isn = 0xFFFFF000u;
    int rc1, rc2;

    out_reset(o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, isn);
    if (!reverse) {
        rc1 = ta_stream_segment(&s, bp, isn + 1, msg, cut, sink, o);
        rc2 = ta_stream_segment(&s, bp, isn + 1 + cut, msg + cut, n - cut, sink, o);
    } else {
        rc1 = ta_stream_segment(&s, bp, isn + 1 + cut, msg + cut, n - cut, sink, o);
        rc2 = ta_stream_segment(&s, bp, isn + 1, msg, cut, sink, o);
    }
    if (rc1 != TA_OK || rc2 != TA_OK || s.gap || s.held || s.nholes)
        o->len = 0;
    ta_stream_release(&s, bp);
    return o->len;
}

/* A 3000-byte message split at every offset, both orders, and byte by byte. */
static void test_every_split(void)
{
    enum { N = 3000 };
    struct ta_bufpool *bp = ta_bufpool_new(2, 4096);
    static uint8_t msg[N];
    static struct out o;
    int bad_all = 0, bad_rec = 0, bad_rev = 0;

    fill_records(msg, N);
    for (uint32_t cut = 0; cut <= N; cut++) {
        if (feed_split(bp, msg, N, cut, false, sink_all, &o) != N || memcmp(o.buf, msg, N) != 0)
            bad_all++;
        if (feed_split(bp, msg, N, cut, false, sink_records, &o) != N ||
            memcmp(o.buf, msg, N) != 0)
            bad_rec++;
        if (feed_split(bp, msg, N, cut, true, sink_records, &o) != N ||
            memcmp(o.buf, msg, N) != 0)
            bad_rev++;
    }
    CHECK_INT(bad_all, 0);
    CHECK_INT(bad_rec, 0);
    CHECK_INT(bad_rev, 0);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    /* Byte by byte. */
    {
        struct ta_stream s;
        int rc_bad = 0;
        out_reset(&o);
        ta_stream_init(&s);
        ta_stream_set_isn(&s, 0xFFFFFFF0u);
        for (uint32_t i = 0; i < N; i++)
            if (ta_stream_segment(&s, bp, 0xFFFFFFF1u + i, msg + i, 1, sink_records, &o) != TA_OK)
                rc_bad++;
        CHECK_INT(rc_bad, 0);
        CHECK_INT(o.len, N);
        CHECK(memcmp(o.buf, msg, N) == 0);
        CHECK_INT(s.held, 0);
        CHECK(!s.gap);
        CHECK_INT(ta_bufpool_in_use(bp), 0);
        /* And byte by byte backwards: everything is held, then delivered at once. */
        out_reset(&o);
        ta_stream_init(&s);
        ta_stream_set_isn(&s, 0);
        for (uint32_t i = N; i-- > 0;)
            if (ta_stream_segment(&s, bp, 1 + i, msg + i, 1, sink_records, &o) != TA_OK)
                rc_bad++;
        CHECK_INT(rc_bad, 0);
        CHECK_INT(o.len, N);
        CHECK(memcmp(o.buf, msg, N) == 0);
        CHECK_INT(s.nholes, 0);
        CHECK_INT(ta_bufpool_in_use(bp), 0);
    }
    ta_bufpool_free(bp);
}

/* Held bytes are handed over again when the sink changed its mind (STARTTLS). */
static void test_redeliver(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(1, 256);
    struct ta_stream s;
    struct out o;
    uint8_t msg[100];

    fill(msg, sizeof(msg), 9);
    out_reset(&o);
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    CHECK_INT(ta_stream_redeliver(&s, bp, sink_gate, &o), TA_OK); /* nothing held */
    CHECK_INT(o.calls, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 60, sink_gate, &o), TA_OK);
    CHECK_INT(s.held, 60);
    CHECK_INT(o.len, 0);
    o.open = true;
    CHECK_INT(ta_stream_redeliver(&s, bp, sink_gate, &o), TA_OK);
    CHECK_INT(o.len, 60);
    CHECK(memcmp(o.buf, msg, 60) == 0);
    CHECK_INT(s.held, 0);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    CHECK_INT(ta_stream_segment(&s, bp, 61, msg + 60, 40, sink_gate, &o), TA_OK);
    CHECK_INT(o.len, 100);

    /* A sink's own code stops delivery; the rest stays held for the next sink. */
    out_reset(&o);
    o.stop_at = 25;
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 10, sink_stop, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 11, msg + 10, 50, sink_stop, &o), TA_HANDOFF);
    CHECK_INT(o.len, 25);
    CHECK_INT(s.total, 25);
    CHECK_INT(s.held, 35);
    CHECK(!s.closed);
    o.open = true;
    CHECK_INT(ta_stream_redeliver(&s, bp, sink_gate, &o), TA_OK);
    CHECK_INT(o.len, 60);
    CHECK(memcmp(o.buf, msg, 60) == 0);
    /* Same from the buffer path: held bytes plus a new segment, sink stops in the middle. */
    out_reset(&o);
    o.stop_at = 5;
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 0);
    CHECK_INT(ta_stream_segment(&s, bp, 1 + 3, msg + 3, 7, sink_stop, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 1, msg, 3, sink_stop, &o), TA_HANDOFF);
    CHECK_INT(o.len, 5);
    CHECK_INT(s.held, 5);
    o.open = true;
    CHECK_INT(ta_stream_redeliver(&s, bp, sink_gate, &o), TA_OK);
    CHECK_INT(o.len, 10);
    CHECK(memcmp(o.buf, msg, 10) == 0);
    ta_stream_release(&s, bp);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    ta_bufpool_free(bp);
}

/* Random cuts, neighbouring segments swapped, random duplicates and overlapping resends with
 * identical bytes: the output is always the message, with nothing lost. */
static void test_random_segments(void)
{
    enum { N = 3000, MAXSEG = 64 };
    struct ta_bufpool *bp = ta_bufpool_new(1, 4096);
    static uint8_t msg[N];
    static struct out o;
    uint32_t rnd = 12345, cuts[MAXSEG + 1];
    int bad = 0;

    fill_records(msg, N);
    for (int iter = 0; iter < 300; iter++) {
        struct ta_stream s;
        uint32_t n = 0, isn = rnd;
        cuts[n++] = 0;
        while (cuts[n - 1] < N && n < MAXSEG) {
            rnd = rnd * 1103515245u + 12345u;
            cuts[n] = cuts[n - 1] + 1 + (rnd >> 16) % 300;
            if (cuts[n] > N || n == MAXSEG - 1)
                cuts[n] = N;
            n++;
        }
        out_reset(&o);
        ta_stream_init(&s);
        ta_stream_set_isn(&s, isn);
        for (uint32_t i = 0; i + 1 < n; i++) {
            uint32_t k = i, a, b;
            rnd = rnd * 1103515245u + 12345u;
            if ((rnd >> 16) % 4 == 0 && i + 2 < n) { /* swap with the next one */
                uint32_t a2 = cuts[i + 1], b2 = cuts[i + 2];
                ta_stream_segment(&s, bp, isn + 1 + a2, msg + a2, b2 - a2, sink_records, &o);
                ta_stream_segment(&s, bp, isn + 1 + cuts[i], msg + cuts[i], a2 - cuts[i],
                                  sink_records, &o);
                i++;
                continue;
            }
            a = cuts[k];
            b = cuts[k + 1];
            ta_stream_segment(&s, bp, isn + 1 + a, msg + a, b - a, sink_records, &o);
            if ((rnd >> 20) % 5 == 0) { /* resend, starting a bit earlier */
                uint32_t back = a < 50 ? a : 50;
                ta_stream_segment(&s, bp, isn + 1 + a - back, msg + a - back, b - a + back,
                                  sink_records, &o);
            }
        }
        if (o.len != N || memcmp(o.buf, msg, N) != 0 || s.gap || s.held || s.nholes)
            bad++;
        ta_stream_release(&s, bp);
    }
    CHECK_INT(bad, 0);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    ta_bufpool_free(bp);
}

/* What a gap callback was offered, and whether it accepts. */
struct gapseen {
    bool accept;
    int calls;
    uint8_t held[64];
    size_t len;
    uint32_t lost;
};

static bool gap_cb(void *arg, const uint8_t *held, size_t len, uint32_t lost)
{
    struct gapseen *g = arg;

    g->calls++;
    g->len = len;
    g->lost = lost;
    if (len)
        memcpy(g->held, held, len < sizeof(g->held) ? len : sizeof(g->held));
    return g->accept;
}

/* Bytes a snap length cut off: offered to the callback with what the sink left, then stepped
 * over (accepted) or waited for as at any hole (declined); never when bytes are out of order. */
static void test_skip(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(4, 1024);
    struct ta_stream s;
    struct out o;
    struct gapseen g;
    uint8_t rec[8] = { 0, 6, 'a', 'b', 'c', 'd', 'e', 'f' };

    /* Accepted: a record cut after 5 of its 8 bytes; 3 + 10 bytes lost, the next segment is in
     * order again and its whole record is delivered. */
    out_reset(&o);
    memset(&g, 0, sizeof(g));
    g.accept = true;
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 99);
    CHECK_INT(ta_stream_segment(&s, bp, 100, rec, 5, sink_records, &o), TA_OK);
    CHECK_INT(s.held, 5);
    CHECK(ta_stream_skip(&s, bp, 105, 13, gap_cb, &g));
    CHECK_INT(g.calls, 1);
    CHECK_INT(g.len, 5);
    CHECK(memcmp(g.held, rec, 5) == 0);
    CHECK_INT(g.lost, 13);
    CHECK(s.gap);
    CHECK_INT(s.held, 0);
    CHECK_INT(s.next_seq, 118);
    CHECK_INT(s.total, 18);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    CHECK_INT(ta_stream_segment(&s, bp, 118, rec, 8, sink_records, &o), TA_OK);
    CHECK_INT(o.len, 8);
    CHECK(memcmp(o.buf, rec, 8) == 0);

    /* Declined: nothing changes, the bytes stay held and the next segment waits beyond a hole. */
    out_reset(&o);
    memset(&g, 0, sizeof(g));
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 99);
    CHECK_INT(ta_stream_segment(&s, bp, 100, rec, 5, sink_records, &o), TA_OK);
    CHECK(!ta_stream_skip(&s, bp, 105, 13, gap_cb, &g));
    CHECK_INT(g.calls, 1);
    CHECK(!s.gap);
    CHECK_INT(s.held, 5);
    CHECK_INT(s.next_seq, 100);
    CHECK_INT(ta_stream_segment(&s, bp, 118, rec, 8, sink_records, &o), TA_OK);
    CHECK_INT(o.len, 0);
    CHECK_INT(s.nholes, 1);
    ta_stream_release(&s, bp);

    /* Not where the stream ends, or bytes out of order: the callback is not even asked. */
    memset(&g, 0, sizeof(g));
    g.accept = true;
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 99);
    CHECK_INT(ta_stream_segment(&s, bp, 100, rec, 5, sink_records, &o), TA_OK);
    CHECK(!ta_stream_skip(&s, bp, 104, 13, gap_cb, &g));
    CHECK(!ta_stream_skip(&s, bp, 106, 13, gap_cb, &g));
    CHECK(!ta_stream_skip(&s, bp, 105, 0, gap_cb, &g));
    CHECK_INT(ta_stream_segment(&s, bp, 200, rec, 8, sink_records, &o), TA_OK);
    CHECK(!ta_stream_skip(&s, bp, 105, 13, gap_cb, &g));
    CHECK_INT(g.calls, 0);
    ta_stream_release(&s, bp);

    /* Everything consumed before the loss: offered nothing held; a closed stream is left. */
    out_reset(&o);
    memset(&g, 0, sizeof(g));
    g.accept = true;
    ta_stream_init(&s);
    CHECK_INT(ta_stream_segment(&s, bp, 7, rec, 8, sink_all, &o), TA_OK);
    CHECK(ta_stream_skip(&s, bp, 15, 1, gap_cb, &g));
    CHECK_INT(g.len, 0);
    CHECK_INT(s.next_seq, 16);
    s.closed = true;
    CHECK(!ta_stream_skip(&s, bp, 16, 1, gap_cb, &g));
    CHECK_INT(g.calls, 1);
    ta_bufpool_free(bp);
}

/* A segment the capture missed, known from the peer's acknowledgement (ta_stream_skip_hole):
 * stepped over only when the ack reaches the out-of-order bytes held beyond the hole; what
 * follows the hole is then delivered, and later holes stay holes. */
static void test_skip_hole(void)
{
    struct ta_bufpool *bp = ta_bufpool_new(4, 1024);
    struct ta_stream s;
    struct out o;
    struct gapseen g;
    uint8_t rec[8] = { 0, 6, 'a', 'b', 'c', 'd', 'e', 'f' };
    bool stepped = true;

    /* Records of 8 bytes at 100, [108, 116) lost, 116 and (after a second hole) 132 held. */
    out_reset(&o);
    memset(&g, 0, sizeof(g));
    g.accept = true;
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 99);
    CHECK_INT(ta_stream_segment(&s, bp, 100, rec, 5, sink_records, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 105, rec + 5, 3, sink_records, &o), TA_OK);
    CHECK_INT(o.len, 8);
    CHECK_INT(ta_stream_segment(&s, bp, 116, rec, 8, sink_records, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 132, rec, 8, sink_records, &o), TA_OK);
    CHECK_INT(s.nholes, 2);
    /* no ack, an ack inside the hole, an ack before it: the bytes may still come */
    CHECK_INT(ta_stream_skip_hole(&s, bp, 115, gap_cb, &g, sink_records, &o, &stepped), TA_OK);
    CHECK(!stepped);
    CHECK_INT(ta_stream_skip_hole(&s, bp, 100, gap_cb, &g, sink_records, &o, &stepped), TA_OK);
    CHECK(!stepped);
    CHECK_INT(g.calls, 0);
    /* declined: nothing moves */
    g.accept = false;
    CHECK_INT(ta_stream_skip_hole(&s, bp, 116, gap_cb, &g, sink_records, &o, &stepped), TA_OK);
    CHECK(!stepped);
    CHECK_INT(g.calls, 1);
    CHECK_INT(g.len, 0);
    CHECK_INT(g.lost, 8);
    CHECK_INT(s.next_seq, 108);
    CHECK(!s.gap);
    /* accepted: the record at 116 is delivered, the second hole [124, 132) stays */
    g.accept = true;
    CHECK_INT(ta_stream_skip_hole(&s, bp, 140, gap_cb, &g, sink_records, &o, &stepped), TA_OK);
    CHECK(stepped);
    CHECK_INT(g.calls, 2);
    CHECK(s.gap);
    CHECK_INT(o.len, 16);
    CHECK(memcmp(o.buf + 8, rec, 8) == 0);
    CHECK_INT(s.next_seq, 124);
    CHECK_INT(s.total, 24);
    CHECK_INT(s.held, 0);
    CHECK_INT(s.nholes, 1);
    /* the same ack steps over the second hole too, and the stream is in order again */
    CHECK_INT(ta_stream_skip_hole(&s, bp, 140, gap_cb, &g, sink_records, &o, &stepped), TA_OK);
    CHECK(stepped);
    CHECK_INT(o.len, 24);
    CHECK_INT(s.next_seq, 140);
    CHECK_INT(s.nholes, 0);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    CHECK_INT(ta_stream_segment(&s, bp, 140, rec, 8, sink_records, &o), TA_OK);
    CHECK_INT(o.len, 32);

    /* In-order bytes the sink left (half a record) are offered with the loss, then forgotten. */
    out_reset(&o);
    memset(&g, 0, sizeof(g));
    g.accept = true;
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 99);
    CHECK_INT(ta_stream_segment(&s, bp, 100, rec, 5, sink_records, &o), TA_OK);
    CHECK_INT(ta_stream_segment(&s, bp, 110, rec, 8, sink_records, &o), TA_OK);
    CHECK_INT(ta_stream_skip_hole(&s, bp, 118, gap_cb, &g, sink_records, &o, &stepped), TA_OK);
    CHECK(stepped);
    CHECK_INT(g.len, 5);
    CHECK(memcmp(g.held, rec, 5) == 0);
    CHECK_INT(g.lost, 5);
    CHECK_INT(o.len, 8);
    CHECK_INT(s.next_seq, 118);

    /* Nothing out of order (the missing bytes may come later in the capture), or a closed
     * stream: the callback is not even asked. */
    memset(&g, 0, sizeof(g));
    g.accept = true;
    ta_stream_init(&s);
    ta_stream_set_isn(&s, 99);
    CHECK_INT(ta_stream_segment(&s, bp, 100, rec, 5, sink_records, &o), TA_OK);
    CHECK_INT(ta_stream_skip_hole(&s, bp, 500, gap_cb, &g, sink_records, &o, &stepped), TA_OK);
    CHECK(!stepped);
    CHECK_INT(ta_stream_segment(&s, bp, 110, rec, 8, sink_records, &o), TA_OK);
    s.closed = true;
    CHECK_INT(ta_stream_skip_hole(&s, bp, 500, gap_cb, &g, sink_records, &o, &stepped), TA_OK);
    CHECK(!stepped);
    CHECK_INT(g.calls, 0);
    s.closed = false;
    ta_stream_release(&s, bp);
    CHECK_INT(ta_bufpool_in_use(bp), 0);
    ta_bufpool_free(bp);
}

int main(void)
{
    test_in_order();
    test_records_held();
    test_out_of_order();
    test_retransmission();
    test_overlap_first_wins();
    test_wraparound();
    test_cap();
    test_pool_exhaustion();
    test_hole_cap();
    test_every_split();
    test_redeliver();
    test_random_segments();
    test_skip();
    test_skip_hole();
    return CHECK_DONE();
}
