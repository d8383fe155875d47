/* dissector.h - the contract between the flow engine and the protocol dissectors.
 *
 * The engine owns flows and reassembly; a dissector owns the bytes of one stream and fills the
 * connection record (struct ta_hs). Bytes arrive in order, per direction, as contiguous runs that
 * start at the first byte the dissector has not consumed (streaming contract: "consumed n bytes,
 * give me the rest again with more"). STARTTLS is an explicit hand-off: a text dissector answers
 * TA_HANDOFF and the engine gives the rest of that direction to the TLS dissector. */
#ifndef TLSAUDIT_DISSECTOR_H
#define TLSAUDIT_DISSECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlsaudit/common.h"
#include "tlsaudit/handshake.h"

enum ta_dis {
    TA_DIS_NONE = 0,
    TA_DIS_TLS,
    TA_DIS_SMTP,
    TA_DIS_IMAP,
    TA_DIS_POP3,
    TA_DIS_FTP,
    TA_DIS_GENERIC,   /* plaintext prelude of any other protocol, then a strictly valid hello */
    TA_DIS_COUNT
};

/* Opaque per-flow dissector state: each dissector casts these to its own private struct and
 * checks with _Static_assert that it fits. */
#define TA_TLS_STATE_SIZE 64    /* per direction */
#define TA_TEXT_STATE_SIZE 128  /* per flow (both directions) */

/* Memory the dissectors share across the flows of one engine (so of one thread): the TLS
 * defragmentation buffer and the parsed-certificate cache. Made once by the engine at start-up
 * (ta_dis_mem_new), reached through every context's mem, freed with the engine. */
struct ta_dis_mem;
struct ta_dis_mem *ta_dis_mem_new(void);      /* NULL when out of memory */
void ta_dis_mem_free(struct ta_dis_mem *m);   /* NULL is accepted */

/* The per-flow analysis context: taken from a pool when a flow carries payload, returned when
 * its record is written. */
struct ta_ctx {
    struct ta_hs hs;
    struct ta_dis_mem *mem;                             /* the engine's; set by whoever owns ctx */
    uint8_t owner[2];                                   /* enum ta_dis per direction */
    uint8_t dirs_seen;    /* 1 << enum ta_dir: the engine saw packets of that direction */
    _Alignas(8) uint8_t tls_state[2][TA_TLS_STATE_SIZE];
    _Alignas(8) uint8_t text_state[TA_TEXT_STATE_SIZE];
};

struct ta_dissector {
    const char *name;
    enum ta_dis id;
    /* Decide from the first bytes seen in direction dir (data may be short). server_port is the
     * flow's server port. Returns TA_OK (mine), TA_NEED_MORE (undecided), TA_UNSUPPORTED. Pure:
     * touches no state. */
    int (*probe)(enum ta_dir dir, const uint8_t *data, size_t len, uint16_t server_port);
    /* Take ownership of both directions of ctx: initialise state, set hs.app. */
    void (*start)(struct ta_ctx *ctx);
    /* In-order bytes of direction dir. Sets *consumed. Returns:
     *  TA_OK        keep feeding (bytes past *consumed are given back with more)
     *  TA_DONE      nothing more wanted from this direction
     *  TA_HANDOFF   (text dissectors) bytes from *consumed on are TLS: engine switches dir to TLS
     *  TA_RESTART   (TLS) a new handshake starts at *consumed (a second ClientHello while the
     *               connection is still in clear): the engine writes the record so far, starts
     *               a fresh one (hs.seq + 1, ta_tls_restart) and feeds the bytes again
     *  TA_MALFORMED this direction is not what we thought; anomaly recorded in ctx->hs */
    int (*feed)(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                size_t *consumed);
    /* Bytes of direction dir were lost for good (the snap length cut the segment that carried
     * them): partial[0..len) is what the dissector was fed and left unconsumed before them, lost
     * is how many followed. Returns TA_NEED_MORE to decline (the engine then keeps the bytes and
     * waits, as at any hole), or, having stepped over them (the next bytes fed come after the
     * lost ones), TA_OK, TA_HANDOFF (those bytes are TLS) or TA_DONE. NULL declines: TLS does,
     * since a record cannot be resumed in the middle; the plaintext dialogues resume at the next
     * line. */
    int (*gap)(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *partial, size_t len,
               uint32_t lost);
    /* The flow ends (FIN/RST, idle timeout, eviction, end of input): settle what is pending,
     * e.g. mark a cut-short hello. May be NULL. */
    void (*finish)(struct ta_ctx *ctx);
};

/* The registry, indexed by enum ta_dis (dissectors/registry.c). Probe order: TLS, SMTP, IMAP, POP3,
 * FTP, then GENERIC last. */
extern const struct ta_dissector *const ta_dissectors[TA_DIS_COUNT];

/* Each dissector file exports exactly one of these. */
extern const struct ta_dissector ta_dissector_tls;
extern const struct ta_dissector ta_dissector_smtp;
extern const struct ta_dissector ta_dissector_imap;
extern const struct ta_dissector ta_dissector_pop3;
extern const struct ta_dissector ta_dissector_ftp;
extern const struct ta_dissector ta_dissector_generic;

/* Prepare direction dir of ctx for TLS after a hand-off (clears that direction's TLS state, sets
 * owner[dir] = TA_DIS_TLS). Used by the engine; exported by dissectors/tls.c. */
void ta_tls_takeover(struct ta_ctx *ctx, enum ta_dir dir);

/* Records one connection may produce (hs.seq < this); past it a further ClientHello is only
 * flagged TA_AN_DUPLICATE_HELLO, so a hostile client cannot turn one flow into many rows. */
#define TA_MAX_HANDSHAKES_PER_FLOW 16

/* After a record was written while the connection is still in clear: reset the TLS state of both
 * directions for the next handshake, keeping each direction's record alignment. Exported by
 * dissectors/tls.c. */
void ta_tls_restart(struct ta_ctx *ctx);
/* True when a handshake that ended (a fatal alert) left the connection in clear, so another
 * ClientHello could follow on it: no ChangeCipherSpec and no TLS 1.3 ServerHello seen. */
bool ta_tls_in_clear(const struct ta_ctx *ctx);

/* Strict validation used by the generic fallback and by probes: does data begin with a
 * plausible TLS handshake record (type 22, version 3.x, a ClientHello (want_client) or
 * ServerHello whose lengths are consistent with the record)? TA_OK, TA_NEED_MORE or
 * TA_UNSUPPORTED. Exported by dissectors/tls.c. */
int ta_tls_probe_hello(const uint8_t *data, size_t len, bool want_client);

#endif
