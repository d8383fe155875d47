/* stream.h - reassembly of the first bytes of one TCP direction, capped, in order. */
#ifndef TLSAUDIT_STREAM_H
#define TLSAUDIT_STREAM_H

#include <stdbool.h>
#include <stdint.h>
#include "tlsaudit/common.h"

#define TA_STREAM_MAX_HOLES 8  /* out-of-order ranges held at once per direction */

/* Consumer of in-order bytes: gets contiguous stream bytes starting at the first byte it has not
 * consumed yet; sets *consumed (0..len). Returning TA_OK with *consumed < len means "keep the
 * rest, give it back with more". Any other return code stops delivery; it is passed up to the
 * caller of ta_stream_segment. */
typedef int (*ta_stream_sink)(void *arg, const uint8_t *data, size_t len, size_t *consumed);

/* A pool of fixed-size buffers, allocated once at start-up. A stream takes one only when bytes
 * must be held (out of order, or a record that straddles segments). */
struct ta_bufpool;
struct ta_bufpool *ta_bufpool_new(uint32_t count, uint32_t bufsize);
void ta_bufpool_free(struct ta_bufpool *bp);
uint32_t ta_bufpool_in_use(const struct ta_bufpool *bp);
uint32_t ta_bufpool_bufsize(const struct ta_bufpool *bp);
uint64_t ta_bufpool_exhausted(const struct ta_bufpool *bp); /* times a take failed */

#define TA_STREAM_NOBUF UINT32_MAX

/* One direction's reassembly state (fixed size, lives inside a flow slot's context). */
struct ta_stream {
    uint32_t next_seq;     /* sequence number of the next byte the sink has not consumed */
    uint32_t buf;          /* index into the buffer pool, or TA_STREAM_NOBUF */
    uint32_t held;         /* bytes held contiguously at buf[0..held) (start at next_seq) */
    uint32_t total;        /* bytes consumed by the sink so far (stream offset) */
    uint8_t nholes;        /* ranges of out-of-order data beyond held */
    bool started;          /* next_seq is known (SYN seen or first data) */
    bool closed;           /* cap reached, sink finished or error: ignore further data */
    bool gap;              /* data was lost (cap or pool exhausted) */
    struct { uint32_t start, end; } holes[TA_STREAM_MAX_HOLES]; /* offsets relative to next_seq */
    uint32_t retrans;      /* segments entirely before next_seq (retransmissions) */
    uint32_t overlaps;     /* segments that overlapped held data (overlap dropped, first wins) */
};

/* Reset a stream; release its buffer (if any) to bp. */
void ta_stream_init(struct ta_stream *s);
void ta_stream_release(struct ta_stream *s, struct ta_bufpool *bp);

/* Set the initial sequence number: isn is the SYN's sequence number (data starts at isn + 1). */
void ta_stream_set_isn(struct ta_stream *s, uint32_t isn);

/* Add one segment (sequence number seq, payload data[0..len)). Delivers every newly contiguous
 * byte to sink, in order, never more than the pool's buffer size beyond what the sink consumed.
 * Sequence numbers wrap modulo 2^32. Returns TA_OK, or the sink's own non-TA_OK code, or
 * TA_ERR_NOMEM when bytes had to be held but no buffer was free (the stream is then closed
 * with gap set). A stream without a known start takes seq as its start. */
int ta_stream_segment(struct ta_stream *s, struct ta_bufpool *bp, uint32_t seq,
                      const uint8_t *data, uint32_t len, ta_stream_sink sink, void *arg);

/* Details of ta_stream_segment (stream.c):
 * - A closed stream ignores segments and returns TA_OK. Segments entirely before next_seq are
 *   counted in retrans; a segment that starts before next_seq is trimmed to its new bytes.
 * - Bytes more than the buffer size beyond next_seq are dropped and set gap. When the sink,
 *   offered a full buffer's worth, consumes nothing, it can never progress: the stream is
 *   closed with gap set, its buffer returned, and TA_OK returned.
 * - Holding bytes beyond TA_STREAM_MAX_HOLES separate ranges drops the segment and sets gap.
 * - When the sink returns a code other than TA_OK, the bytes it consumed are dropped, the rest
 *   stay held (for ta_stream_redeliver, e.g. after TA_HANDOFF) and the code is returned; the
 *   stream is not closed: the caller decides.
 * - The buffer goes back to the pool as soon as nothing is held.
 * - ta_stream_set_isn is ignored once bytes were consumed or held (late or repeated SYN).
 * - ta_stream_release drops held bytes (setting gap if there were any) and returns the buffer. */

/* Offered the bytes a stream holds (the sink left them: the head of a unit that a lost run of
 * bytes cut) and the count lost; returns true to let the stream step over them. */
typedef bool (*ta_stream_gap_fn)(void *arg, const uint8_t *held, size_t len, uint32_t lost);

/* The lost bytes at seq were on the wire but not captured (the snap length cut the segment that
 * carried them): they will never arrive. When they directly follow every byte the stream has
 * (delivered or held in order, nothing out of order), fn is offered the held bytes; if it
 * accepts, the stream forgets them, steps over the lost bytes (the next segment is in order
 * again) and sets gap. Otherwise, or on a closed stream, nothing changes: the stream waits, as
 * at any hole. Returns whether it stepped over. */
bool ta_stream_skip(struct ta_stream *s, struct ta_bufpool *bp, uint32_t seq, uint32_t lost,
                    ta_stream_gap_fn fn, void *arg);

/* A segment the capture missed: the peer acknowledged (ack) bytes up to or beyond the start of
 * the first out-of-order range this stream holds, so the bytes between what it has in order and
 * that range were received and will not be sent again; a span port or a loaded sensor dropped
 * them (Zeek's and Suricata's content gaps). fn is offered the held in-order bytes and the count
 * lost, as for ta_stream_skip; if it accepts, the stream forgets them, steps over the lost
 * bytes, sets gap, and delivers to sink what became contiguous. *stepped says whether it did.
 * Returns TA_OK, or the sink's code as ta_stream_segment does. Nothing changes without an
 * out-of-order range (bytes the capture will still bring, reordered between the directions,
 * are never stepped over), on a closed stream, or when the ack is short of the range. */
int ta_stream_skip_hole(struct ta_stream *s, struct ta_bufpool *bp, uint32_t ack,
                        ta_stream_gap_fn fn, void *arg, ta_stream_sink sink, void *sink_arg,
                        bool *stepped);

/* Hand the held contiguous bytes to sink again (e.g. after a STARTTLS hand-off in the other
 * direction changed what the sink accepts). Returns as ta_stream_segment; TA_OK when nothing
 * is held or the stream is closed. */
int ta_stream_redeliver(struct ta_stream *s, struct ta_bufpool *bp, ta_stream_sink sink,
                        void *arg);

#endif
