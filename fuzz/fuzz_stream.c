/* fuzz_stream.c - libFuzzer target for TCP reassembly (include/flow/tlsaudit/stream.h), driven by a
 * byte program. Two streams share one small buffer pool, so one stream can starve the other.
 *
 * Header: u8 pool buffers (1 + b % 3), u8 buffer size (64 << (b % 5)), u32 ISN.
 * Then ops, each one byte (op = b % 8) and its operands:
 *   0 segment   u8 stream, u16 offset from ISN + 1, u8 length (x 1..4 by the stream byte's
 *               high bits): payload is the pattern byte of each stream offset, so the sink can
 *               check that what it receives is exactly the stream, in order;
 *   1 wrap seg  as 0 but offset taken as a signed distance in bytes x 1021 (wraps 2^32);
 *   2 policy    u8: how the sink consumes (all, none, half, all but 7, stop with a code);
 *   3 redeliver u8 stream;
 *   4 reset     u8 stream: release and init (held bytes dropped), new ISN u32;
 *   5 late SYN  u8 stream, u32 ISN (ignored once bytes were consumed or held);
 *   6 skip      u8 stream (bit 1: the callback accepts; bit 2: the loss is not where the stream
 *               ends), u8 lost - 1: bytes a snap length cut off; the callback checks that the
 *               held bytes it is offered are the stream's.
 *   7 ack gap   u8 stream (bit 1: the callback accepts), u16 ack distance from next_seq: a
 *               segment the capture missed (ta_stream_skip_hole); on acceptance the oracle
 *               steps over the lost bytes before the bytes beyond them are delivered.
 * Invariants checked after every op: the stream's held bytes within the buffer size, holes
 * within their cap, every delivery in order and never longer than the buffer size, the pool
 * never lends more buffers than it has, and all come back when both streams are released. */
#include <stdint.h>
#include <string.h>

#include "tlsaudit/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_sink {
    uint32_t isn;        /* the stream's ISN: pattern offsets are relative to isn + 1 */
    uint64_t delivered;  /* stream offset of the next byte the sink expects */
    uint8_t policy;
    uint32_t calls;
    uint32_t bufsize;
    int oracle;          /* delivered bytes must match the pattern (no reset since) */
};

static uint8_t fuzz_pattern(uint32_t off)
{
    return (uint8_t)(off * 31u + (off >> 8) + 7u);
}

/* Sink: checks order and length, then consumes according to the policy. */
static int fuzz_consume(void *arg, const uint8_t *data, size_t len, size_t *consumed)
{
    struct fuzz_sink *fs = arg;
    size_t n;
    int rc = TA_OK;

    if (len == 0 || len > fs->bufsize)
        __builtin_trap();
    for (size_t i = 0; fs->oracle && i < len; i++)
        if (data[i] != fuzz_pattern((uint32_t)(fs->delivered + i)))
            __builtin_trap();
    fs->calls++;
    switch (fs->policy % 6) {
    case 0: n = len; break;
    case 1: n = 0; break;
    case 2: n = len / 2; break;
    case 3: n = len > 7 ? len - 7 : 0; break;
    case 4: n = len / 3; rc = (fs->calls % 4 == 0) ? TA_HANDOFF : TA_OK; break;
    default: n = len; rc = (fs->calls % 3 == 0) ? TA_DONE : TA_OK; break;
    }
    *consumed = n;
    fs->delivered += n;
    return rc;
}

static uint32_t fuzz_u32(const uint8_t **p, const uint8_t *end)
{
    uint32_t v = 0;
    for (int i = 0; i < 4 && *p < end; i++)
        v = v << 8 | *(*p)++;
    return v;
}

static uint8_t fuzz_u8(const uint8_t **p, const uint8_t *end)
{
    return *p < end ? *(*p)++ : 0;
}

/* Add one pattern segment at stream offset off, len bytes, to stream s. */
static void fuzz_segment(struct ta_stream *s, struct ta_bufpool *bp, struct fuzz_sink *fs,
                         uint32_t off, uint32_t len)
{
    static uint8_t seg[1024];
    for (uint32_t i = 0; i < len; i++)
        seg[i] = fuzz_pattern(off + i);
    (void)ta_stream_segment(s, bp, fs->isn + 1u + off, seg, len, fuzz_consume, fs);
}

/* Gap callback: what is offered must be the held stream bytes, starting where the sink is. */
struct fuzz_gap {
    struct fuzz_sink *fs;
    int accept;
    int advance;     /* on acceptance, move the oracle past the held and lost bytes */
};

static bool fuzz_gapcb(void *arg, const uint8_t *held, size_t len, uint32_t lost)
{
    struct fuzz_gap *g = arg;

    if (lost == 0 || len > g->fs->bufsize || (len && !held))
        __builtin_trap();
    for (size_t i = 0; g->fs->oracle && i < len; i++)
        if (held[i] != fuzz_pattern((uint32_t)(g->fs->delivered + i)))
            __builtin_trap();
    if (g->accept && g->advance)
        g->fs->delivered += len + lost;
    return g->accept;
}

static void fuzz_check(const struct ta_stream *s, const struct ta_bufpool *bp, uint32_t count)
{
    if (s->held > ta_bufpool_bufsize(bp) || s->nholes > TA_STREAM_MAX_HOLES ||
        ta_bufpool_in_use(bp) > count || (s->held && s->buf == TA_STREAM_NOBUF))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    uint32_t count = 1u + fuzz_u8(&p, end) % 3u;
    uint32_t bufsize = 64u << (fuzz_u8(&p, end) % 5u);
    struct ta_bufpool *bp = ta_bufpool_new(count, bufsize);
    struct ta_stream st[2];
    struct fuzz_sink fs[2];

    if (!bp)
        return 0;
    for (int i = 0; i < 2; i++) {
        ta_stream_init(&st[i]);
        memset(&fs[i], 0, sizeof fs[i]);
        fs[i].bufsize = bufsize;
        fs[i].oracle = 1;
        fs[i].isn = fuzz_u32(&p, end) + (uint32_t)i * 0x9e3779b9u;
        ta_stream_set_isn(&st[i], fs[i].isn);
    }
    while (p < end) {
        uint8_t op = fuzz_u8(&p, end) % 8u, sb = fuzz_u8(&p, end);
        int k = sb & 1;
        struct fuzz_sink *f = &fs[k];
        if (op == 0 || op == 1) {
            uint32_t off = fuzz_u32(&p, end) >> 16;
            uint32_t len = (uint32_t)fuzz_u8(&p, end) * (1u + (sb >> 6));
            if (op == 1)
                off = (uint32_t)((int32_t)(int16_t)off * 1021);
            fuzz_segment(&st[k], bp, f, off, len);
        } else if (op == 2) {
            f->policy = fuzz_u8(&p, end);
        } else if (op == 3) {
            (void)ta_stream_redeliver(&st[k], bp, fuzz_consume, f);
        } else if (op == 4) {
            ta_stream_release(&st[k], bp);
            ta_stream_init(&st[k]);
            f->isn = fuzz_u32(&p, end);
            f->delivered = 0;
            ta_stream_set_isn(&st[k], f->isn);
        } else if (op == 6) {
            struct fuzz_gap g = { f, (sb >> 1) & 1, 0 };
            uint32_t lost = 1u + fuzz_u8(&p, end), held = st[k].held, total = st[k].total;
            uint32_t seq = st[k].next_seq + held + ((sb & 4) ? (uint32_t)fuzz_u8(&p, end) : 0u);
            bool skipped = ta_stream_skip(&st[k], bp, seq, lost, fuzz_gapcb, &g);
            if (skipped && (st[k].total != total + held + lost || st[k].held || !st[k].gap))
                __builtin_trap();
            if (skipped)
                f->delivered += held + lost;
        } else if (op == 7) {
            struct fuzz_gap g = { f, (sb >> 1) & 1, 1 };
            uint32_t ack = st[k].next_seq + (fuzz_u32(&p, end) >> 16), total = st[k].total;
            uint32_t first = st[k].nholes ? st[k].holes[0].start : 0;
            bool stepped = false;
            (void)ta_stream_skip_hole(&st[k], bp, ack, fuzz_gapcb, &g, fuzz_consume, f, &stepped);
            if (stepped && (!st[k].gap || (int32_t)(st[k].total - (total + first)) < 0))
                __builtin_trap();
        } else {
            uint32_t isn = fuzz_u32(&p, end);
            /* A late SYN is ignored only once bytes were consumed or held; before that the
             * stream restarts at the new ISN, and so does the oracle. */
            if (st[k].total == 0 && st[k].held == 0 && st[k].nholes == 0) {
                f->isn = isn;
                f->delivered = 0;
            } else {
                f->oracle = 0;
            }
            ta_stream_set_isn(&st[k], isn);
        }
        fuzz_check(&st[0], bp, count);
        fuzz_check(&st[1], bp, count);
    }
    ta_stream_release(&st[0], bp);
    ta_stream_release(&st[1], bp);
    if (ta_bufpool_in_use(bp) != 0)
        __builtin_trap();
    ta_bufpool_free(bp);
    return 0;
}
