/* stream.c - capped, in-order reassembly of the first bytes of one TCP direction.
 *
 * RFC 9293 3.4 (sequence numbers, compared modulo 2^32) and 3.10.7.4 (segments are placed by
 * sequence number; what lies outside the window is dropped). The sink sees contiguous bytes
 * starting at the first byte it has not consumed. In-order data goes to the sink straight from
 * the packet; only bytes that must wait (a record split across segments, or data that arrived
 * ahead of a hole) are copied into a fixed-size buffer taken from a pool allocated at start-up.
 * When bytes overlap, the bytes held first win: later copies never overwrite them. */
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/stream.h"

/* Largest buffer accepted: offsets relative to next_seq must stay far below 2^31 so that signed
 * 32-bit sequence differences classify every held byte correctly. */
#define STREAM_MAX_BUFSIZE (1u << 30)

struct ta_bufpool {
    uint8_t *mem;         /* count * bufsize bytes */
    uint32_t *free_idx;   /* stack of free buffer indices */
    uint32_t count;
    uint32_t bufsize;
    uint32_t nfree;
    uint64_t exhausted;
};

/* Allocate count buffers of bufsize bytes, all free. Returns NULL on a zero or oversized
 * bufsize, on size overflow, or when memory is short. count 0 gives a pool that never has a
 * buffer (every take fails and is counted). */
struct ta_bufpool *ta_bufpool_new(uint32_t count, uint32_t bufsize)
{
    struct ta_bufpool *bp;

    if (bufsize == 0 || bufsize > STREAM_MAX_BUFSIZE || (count && count > SIZE_MAX / bufsize))
        return NULL;
    bp = calloc(1, sizeof(*bp));
    if (!bp)
        return NULL;
    bp->mem = malloc(count ? (size_t)count * bufsize : 1);
    bp->free_idx = malloc(count ? (size_t)count * sizeof(uint32_t) : 1);
    if (!bp->mem || !bp->free_idx) {
        ta_bufpool_free(bp);
        return NULL;
    }
    bp->count = count;
    bp->bufsize = bufsize;
    /* Lowest index on top, so the first takes use the start of the block. */
    for (uint32_t i = 0; i < count; i++)
        bp->free_idx[i] = count - 1 - i;
    bp->nfree = count;
    return bp;
}

void ta_bufpool_free(struct ta_bufpool *bp)
{
    if (!bp)
        return;
    free(bp->mem);
    free(bp->free_idx);
    free(bp);
}

uint32_t ta_bufpool_in_use(const struct ta_bufpool *bp) { return bp->count - bp->nfree; }
uint32_t ta_bufpool_bufsize(const struct ta_bufpool *bp) { return bp->bufsize; }
uint64_t ta_bufpool_exhausted(const struct ta_bufpool *bp) { return bp->exhausted; }

/* Pop a free buffer index; TA_STREAM_NOBUF (and a counted failure) when none is left. */
static uint32_t pool_take(struct ta_bufpool *bp)
{
    if (bp->nfree == 0) {
        bp->exhausted++;
        return TA_STREAM_NOBUF;
    }
    return bp->free_idx[--bp->nfree];
}

static void pool_put(struct ta_bufpool *bp, uint32_t idx)
{
    if (idx < bp->count && bp->nfree < bp->count)
        bp->free_idx[bp->nfree++] = idx;
}

static uint8_t *pool_ptr(struct ta_bufpool *bp, uint32_t idx)
{
    return bp->mem + (size_t)idx * bp->bufsize;
}

void ta_stream_init(struct ta_stream *s)
{
    memset(s, 0, sizeof(*s));
    s->buf = TA_STREAM_NOBUF;
}

/* Give the buffer back and forget what it held (counters and position are kept). */
static void stream_drop_buf(struct ta_stream *s, struct ta_bufpool *bp)
{
    if (s->buf != TA_STREAM_NOBUF && bp)
        pool_put(bp, s->buf);
    s->buf = TA_STREAM_NOBUF;
    s->held = 0;
    s->nholes = 0;
}

void ta_stream_release(struct ta_stream *s, struct ta_bufpool *bp)
{
    if (s->held || s->nholes)
        s->gap = true;
    stream_drop_buf(s, bp);
}

/* The stream will deliver nothing more: data was or will be lost. */
static void stream_close(struct ta_stream *s, struct ta_bufpool *bp)
{
    s->closed = true;
    s->gap = true;
    stream_drop_buf(s, bp);
}

/* A late or repeated SYN must not move a stream that already delivered or holds bytes. */
void ta_stream_set_isn(struct ta_stream *s, uint32_t isn)
{
    if (s->closed || s->total || s->held || s->nholes)
        return;
    s->next_seq = isn + 1;
    s->started = true;
}

/* Make sure the stream owns a buffer. On an empty pool the stream is closed (gap) and false
 * returned. */
static bool stream_need_buf(struct ta_stream *s, struct ta_bufpool *bp)
{
    if (s->buf != TA_STREAM_NOBUF)
        return true;
    s->buf = pool_take(bp);
    if (s->buf == TA_STREAM_NOBUF) {
        stream_close(s, bp);
        return false;
    }
    return true;
}

/* End of the bytes in the buffer: held data or the last out-of-order range. */
static uint32_t stream_extent(const struct ta_stream *s)
{
    return s->nholes ? s->holes[s->nholes - 1].end : s->held;
}

/* The sink consumed k (<= held) bytes from the front of the buffer: move the rest down, shift
 * the out-of-order ranges, advance the stream. The buffer is returned once it holds nothing. */
static void stream_advance(struct ta_stream *s, struct ta_bufpool *bp, uint32_t k)
{
    uint32_t ext = stream_extent(s);
    uint8_t *p = pool_ptr(bp, s->buf);

    if (ext > k)
        memmove(p, p + k, ext - k);
    s->held -= k;
    for (uint8_t i = 0; i < s->nholes; i++) {
        s->holes[i].start -= k;
        s->holes[i].end -= k;
    }
    s->next_seq += k;
    s->total += k;
    if (s->held == 0 && s->nholes == 0)
        stream_drop_buf(s, bp);
}

/* Offer the held contiguous bytes to the sink until it stops making progress. A sink that was
 * offered a full buffer and consumed nothing can never be satisfied: close the stream.
 * Returns TA_OK or the sink's code. */
static int stream_deliver(struct ta_stream *s, struct ta_bufpool *bp, ta_stream_sink sink,
                          void *arg)
{
    while (s->held > 0) {
        uint32_t offered = s->held;
        size_t k = 0;
        int rc = sink(arg, pool_ptr(bp, s->buf), offered, &k);

        if (k > offered)
            k = offered;
        if (k)
            stream_advance(s, bp, (uint32_t)k);
        if (rc != TA_OK)
            return rc;
        if (k == 0) {
            if (offered == bp->bufsize)
                stream_close(s, bp);
            break;
        }
    }
    return TA_OK;
}

/* Copy the bytes of [off, end) that are not held yet (first wins); count an overlap when some
 * were. Present data is [0, held) plus the sorted, disjoint out-of-order ranges. */
static void stream_copy_absent(struct ta_stream *s, uint8_t *p, uint32_t off, uint32_t end,
                               const uint8_t *data)
{
    uint32_t x = off;
    bool overlap = false;

    for (int i = -1; i < (int)s->nholes && x < end; i++) {
        uint32_t rs = i < 0 ? 0 : s->holes[i].start;
        uint32_t re = i < 0 ? s->held : s->holes[i].end;
        if (re <= x || rs >= re)
            continue;
        if (rs >= end)
            break;
        overlap = true;
        if (rs > x)
            memcpy(p + x, data + (x - off), rs - x);
        x = re;
    }
    if (x < end)
        memcpy(p + x, data + (x - off), end - x);
    if (overlap)
        s->overlaps++;
}

/* Record [off, end) as present: extend the held run or merge it into the out-of-order ranges,
 * then absorb ranges that became contiguous with the held run. The caller checked there is a
 * free slot when a new range is needed. */
static void stream_add_range(struct ta_stream *s, uint32_t off, uint32_t end)
{
    uint32_t ts[TA_STREAM_MAX_HOLES + 1], te[TA_STREAM_MAX_HOLES + 1];
    uint32_t n = 0;
    bool placed = false;

    if (off <= s->held) {
        if (end > s->held)
            s->held = end;
    } else {
        for (uint8_t i = 0; i < s->nholes; i++) {
            uint32_t hs = s->holes[i].start, he = s->holes[i].end;
            if (he < off) {
                ts[n] = hs, te[n++] = he;
            } else if (hs > end) {
                if (!placed)
                    ts[n] = off, te[n++] = end, placed = true;
                ts[n] = hs, te[n++] = he;
            } else { /* overlapping or adjacent: merge */
                off = hs < off ? hs : off;
                end = he > end ? he : end;
            }
        }
        if (!placed)
            ts[n] = off, te[n++] = end;
        for (uint32_t i = 0; i < n && i < TA_STREAM_MAX_HOLES; i++)
            s->holes[i].start = ts[i], s->holes[i].end = te[i];
        s->nholes = (uint8_t)(n < TA_STREAM_MAX_HOLES ? n : TA_STREAM_MAX_HOLES);
    }
    while (s->nholes > 0 && s->holes[0].start <= s->held) {
        if (s->holes[0].end > s->held)
            s->held = s->holes[0].end;
        memmove(&s->holes[0], &s->holes[1], (size_t)(s->nholes - 1) * sizeof(s->holes[0]));
        s->nholes--;
    }
}

/* Place data[0..len) at offset off from next_seq (off + len <= bufsize) in the buffer. Returns
 * false when it would need one more out-of-order range than TA_STREAM_MAX_HOLES. */
static bool stream_insert(struct ta_stream *s, struct ta_bufpool *bp, uint32_t off,
                          const uint8_t *data, uint32_t len)
{
    uint32_t end = off + len;

    if (off > s->held && s->nholes >= TA_STREAM_MAX_HOLES) {
        bool merges = false;
        for (uint8_t i = 0; i < s->nholes; i++)
            if (s->holes[i].start <= end && s->holes[i].end >= off)
                merges = true;
        if (!merges)
            return false;
    }
    stream_copy_absent(s, pool_ptr(bp, s->buf), off, end, data);
    stream_add_range(s, off, end);
    return true;
}

/* Fast path: nothing held and the segment starts at next_seq. Offer it from the packet, at most
 * a buffer's worth at a time; copy only what the sink left (up to the buffer size; beyond is
 * lost: gap). */
static int stream_fast(struct ta_stream *s, struct ta_bufpool *bp, const uint8_t *data,
                       uint32_t len, ta_stream_sink sink, void *arg)
{
    uint32_t cap = bp->bufsize, pos = 0, win = 0, rest, n;
    size_t k = 0;
    int rc = TA_OK;

    while (pos < len) {
        win = len - pos < cap ? len - pos : cap;
        k = 0;
        rc = sink(arg, data + pos, win, &k);
        if (k > win)
            k = win;
        pos += (uint32_t)k;
        s->next_seq += (uint32_t)k;
        s->total += (uint32_t)k;
        if (rc != TA_OK || k == 0)
            break;
    }
    rest = len - pos;
    if (rest == 0)
        return rc;
    if (rc == TA_OK && win == cap) { /* a full buffer's worth and no progress: hopeless */
        stream_close(s, bp);
        return TA_OK;
    }
    if (!stream_need_buf(s, bp))
        return rc != TA_OK ? rc : TA_ERR_NOMEM;
    n = rest < cap ? rest : cap;
    memcpy(pool_ptr(bp, s->buf), data + pos, n);
    s->held = n;
    if (rest > n)
        s->gap = true;
    return rc;
}

/* Add data[0..len) at offset off (>= 0) from next_seq. Copies what fits in the buffer, delivers
 * what became contiguous, and repeats with the rest of the segment while the sink makes room;
 * returns to the fast path as soon as nothing is held. */
static int stream_feed(struct ta_stream *s, struct ta_bufpool *bp, uint32_t off,
                       const uint8_t *data, uint32_t len, ta_stream_sink sink, void *arg)
{
    uint32_t cap = bp->bufsize;

    while (len > 0) {
        uint32_t take, held0, seq0, progressed;
        int rc;

        if (off == 0 && s->held == 0 && s->nholes == 0)
            return stream_fast(s, bp, data, len, sink, arg);
        if (off >= cap) {
            s->gap = true;
            return TA_OK;
        }
        take = len < cap - off ? len : cap - off;
        held0 = s->held;
        seq0 = s->next_seq;
        if (!stream_need_buf(s, bp))
            return TA_ERR_NOMEM;
        if (!stream_insert(s, bp, off, data, take)) {
            s->gap = true;
            return TA_OK;
        }
        data += take;
        len -= take;
        if (s->held == held0) { /* out of order or already held: nothing new in order */
            if (len)
                s->gap = true;
            return TA_OK;
        }
        rc = stream_deliver(s, bp, sink, arg);
        progressed = s->next_seq - seq0;
        if (len && (rc != TA_OK || s->closed || progressed == 0 || progressed > off + take)) {
            s->gap = true;
            len = 0;
        }
        if (rc != TA_OK)
            return rc;
        off = off + take - progressed;
    }
    return TA_OK;
}

int ta_stream_segment(struct ta_stream *s, struct ta_bufpool *bp, uint32_t seq,
                      const uint8_t *data, uint32_t len, ta_stream_sink sink, void *arg)
{
    int32_t d;

    if (s->closed)
        return TA_OK;
    if (!s->started) {
        s->next_seq = seq;
        s->started = true;
    }
    if (len == 0 || !data)
        return TA_OK;
    d = (int32_t)(seq - s->next_seq);
    if (d < 0) {
        uint32_t behind = s->next_seq - seq;
        if (behind >= len) {
            s->retrans++;
            return TA_OK;
        }
        data += behind;
        len -= behind;
        d = 0;
    }
    return stream_feed(s, bp, (uint32_t)d, data, len, sink, arg);
}

/* See stream.h. The buffer holds [0, held) and the out-of-order ranges at their offsets from
 * next_seq: dropping the first holes[0].start bytes (held ones and lost ones alike, as if all
 * were held) makes the first range the in-order start. */
int ta_stream_skip_hole(struct ta_stream *s, struct ta_bufpool *bp, uint32_t ack,
                        ta_stream_gap_fn fn, void *arg, ta_stream_sink sink, void *sink_arg,
                        bool *stepped)
{
    uint32_t start;

    *stepped = false;
    if (s->closed || !s->started || s->nholes == 0 || s->buf == TA_STREAM_NOBUF)
        return TA_OK;
    start = s->holes[0].start;
    if ((int32_t)(ack - (s->next_seq + start)) < 0)
        return TA_OK;
    if (!fn(arg, s->held ? pool_ptr(bp, s->buf) : NULL, s->held, start - s->held))
        return TA_OK;
    s->held = start;
    stream_advance(s, bp, start);
    stream_add_range(s, 0, 0);     /* the first range is in order now: absorb it */
    s->gap = true;
    *stepped = true;
    return stream_deliver(s, bp, sink, sink_arg);
}

int ta_stream_redeliver(struct ta_stream *s, struct ta_bufpool *bp, ta_stream_sink sink,
                        void *arg)
{
    if (s->closed || s->held == 0 || s->buf == TA_STREAM_NOBUF)
        return TA_OK;
    return stream_deliver(s, bp, sink, arg);
}

bool ta_stream_skip(struct ta_stream *s, struct ta_bufpool *bp, uint32_t seq, uint32_t lost,
                    ta_stream_gap_fn fn, void *arg)
{
    const uint8_t *held = NULL;

    if (s->closed || !s->started || s->nholes || lost == 0 || s->next_seq + s->held != seq)
        return false;
    if (s->held)
        held = pool_ptr(bp, s->buf);
    if (!fn(arg, held, s->held, lost))
        return false;
    s->total += s->held + lost;
    s->next_seq = seq + lost;
    stream_drop_buf(s, bp);
    s->gap = true;
    return true;
}
