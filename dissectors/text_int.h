/* text_int.h - private to the plaintext dissectors (SMTP, IMAP, POP3, FTP): the shared per-flow
 * state, the line reader that drives them, and small word/keyword helpers. */
#ifndef TLSAUDIT_TEXT_INT_H
#define TLSAUDIT_TEXT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlsaudit/cursor.h"
#include "tlsaudit/dissector.h"
#include "peer_text.h"

#define TA__TEXT_LINE_MAX 2048  /* longer lines are consumed in pieces and flagged */
#define TA__TEXT_QUEUE 16       /* pipelined commands whose kind we remember */
#define TA__TEXT_TAG_MAX 24     /* IMAP tag bytes kept for matching */
#define TA__TEXT_PROBE_WAIT 64  /* probes decide once this many bytes are seen (engine waits 64) */

enum ta__text_phase { TA__TX_RUN = 0, TA__TX_HANDOFF, TA__TX_DONE };

/* Why the client direction is held (its bytes left unconsumed) until the server answered. */
enum ta__text_hold { TA__HOLD_NONE = 0, TA__HOLD_STARTTLS, TA__HOLD_DATA };

/* The whole text-protocol state of one flow, both directions (lives in ctx->text_state). */
struct ta__text {
    uint32_t skip[2];         /* raw bytes to pass over (IMAP literal, SMTP BDAT chunk) */
    uint16_t extra;           /* commands pending beyond the queue (their kind is lost) */
    uint16_t resp_code;       /* code of the multi-line reply being read (SMTP, FTP) */
    uint16_t tag_len;         /* length of the IMAP tag below (may exceed what is kept) */
    uint8_t phase;            /* enum ta__text_phase */
    uint8_t hold;             /* enum ta__text_hold */
    uint8_t greeted;          /* the server greeting is complete */
    uint8_t eol_skip[2];      /* inside an over-long line: drop through the next LF */
    uint8_t eol_handoff;      /* hand S2C off at the end of the over-long line being skipped */
    uint8_t qhead, qlen;      /* ring of pending command kinds */
    uint8_t queue[TA__TEXT_QUEUE];
    uint8_t resp_kind;        /* command kind the current multi-line reply/body answers */
    uint8_t resp_lines;       /* lines of the current multi-line reply so far (saturating) */
    uint8_t body[2];          /* inside a dot-terminated body (SMTP DATA C2S, POP3 S2C) */
    uint8_t cont[2];          /* IMAP: the next line continues a command after a literal */
    uint8_t tag_kind;         /* IMAP: which command the kept tag belongs to, 0 none */
    uint8_t c2s_seen;         /* the client's first bytes were looked at */
    uint8_t c2s_tls;          /* ... and were a TLS hello: the client direction is TLS's */
    char tag[TA__TEXT_TAG_MAX];
    const uint8_t *cut_end;   /* while a line cut by lost bytes is handled: where it was cut */
};

_Static_assert(sizeof(struct ta__text) <= TA_TEXT_STATE_SIZE, "text state must fit text_state");

/* One protocol's line handler: a whole line of direction dir without its CR LF (truncated to
 * TA__TEXT_LINE_MAX bytes when over-long). Returns TA_OK, TA_HANDOFF (S2C only: the server
 * accepted STARTTLS and TLS starts after this line) or TA_DONE (the session is over). */
typedef int (*ta__text_line_fn)(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir,
                                struct ta_cur line);

/* A protocol's part of a gap in direction dir (see ta__text_gap): end what the lost bytes
 * must have ended, such as the server's multi-line reply or body in progress (a server writes
 * a reply at once, so the segment the snap length cut ended with it). Returns like a line
 * handler. */
typedef int (*ta__text_gap_fn)(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir);

/* text.c: the shared streaming machinery. */
struct ta__text *ta__text_state(struct ta_ctx *ctx);
void ta__text_start(struct ta_ctx *ctx, uint8_t app);
int ta__text_feed(ta__text_line_fn fn, struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data,
                  size_t len, size_t *consumed);
/* The dissector's .gap (dissector.h) for a text protocol: the unconsumed partial line is handed
 * to fn as a line cut short (its last word is not recorded: see ta__text_whole), then gap_fn
 * ends what the loss ended; bytes passed over (literals, BDAT) absorb the loss first. Declines
 * (TA_NEED_MORE) where the bytes are TLS's: after the hand-off, and client bytes held for the
 * server's answer to STARTTLS or not yet known to be text. */
int ta__text_gap(ta__text_line_fn fn, ta__text_gap_fn gap_fn, struct ta_ctx *ctx,
                 enum ta_dir dir, const uint8_t *partial, size_t len, uint32_t lost);
/* False for a word that ends where a line was cut (it may have gone on): such a word is not
 * recorded as a name or a capability. */
bool ta__text_whole(const struct ta_ctx *ctx, struct ta_slice w);

/* Command queue (RFC 2920 pipelining: replies come back in command order). */
void ta__text_push(struct ta__text *st, uint8_t kind);
uint8_t ta__text_peek(const struct ta__text *st);
uint8_t ta__text_pop(struct ta__text *st);

/* Words and lines. */
bool ta__text_word(struct ta_cur *c, struct ta_slice *w);
bool ta__text_is(struct ta_slice w, const char *lit);
bool ta__text_starts(const uint8_t *data, size_t len, const char *lit, bool *partial);
bool ta__text_is_dot(struct ta_cur line);
bool ta__text_reply(struct ta_cur *line, uint16_t *code, uint8_t *sep);
bool ta__text_contains(const uint8_t *data, size_t len, const char *lit);

/* Recording into hs.mail: copies are capped (ta__text_copy, peer_text.h) and never hold
 * credentials. */
void ta__text_greeting(struct ta_ctx *ctx, struct ta_cur line, uint16_t code);
/* SMTP and FTP, whose greeting is a 220: when the client spoke first (a command is pending) and
 * no greeting was read, a reply code other than 220, or a 220 while the pending command is the
 * upgrade (STARTTLS, AUTH TLS) it answers, means the greeting was lost: mark it greeted. A 220
 * otherwise is the greeting, the two directions reordered. */
void ta__text_lost_greeting(struct ta__text *st, uint16_t code, uint8_t upgrade);
bool ta__text_hostlike(struct ta_slice w);
void ta__text_banner_host(struct ta_ctx *ctx, struct ta_cur c);
void ta__text_cap_add(struct ta_ctx *ctx, struct ta_cur c, const char *arg_kw);
void ta__text_starttls_refused(struct ta_ctx *ctx, struct ta__text *st);

/* Probe helper: the first line of data (up to the LF, or all of data), or TA_NEED_MORE while it
 * is incomplete and shorter than the engine's probe window. */
int ta__text_probe_line(const uint8_t *data, size_t len, struct ta_cur *line);
/* Probe helper for a client that speaks first (the server's greeting was lost, or the capture
 * holds the clients' side only): TA_OK when the first whole line of data is a command of cmds
 * (NULL-terminated; its first word, or its second after a tag of at most TA__TEXT_TAG_MAX bytes
 * when tagged), with its index in *which and the words after it in *rest; TA_NEED_MORE while
 * the line is incomplete; else TA_UNSUPPORTED. */
int ta__text_probe_command(const uint8_t *data, size_t len, bool tagged,
                           const char *const cmds[], int *which, struct ta_cur *rest);

#endif
