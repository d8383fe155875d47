/* tls_int.h - private interface between the TLS dissector files (record layer, hellos,
 * extensions, SSLv2, certificates). Nothing here is public; names are ta__tls_*. */
#ifndef TLSAUDIT_TLS_INT_H
#define TLSAUDIT_TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlsaudit/common.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/dissector.h"
#include "tlsaudit/handshake.h"
#include "dis_mem.h"
#include "peer_text.h"

/* Record content types (RFC 8446 5.1; heartbeat RFC 6520). */
enum {
    TLS_CT_CCS = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPDATA = 23,
    TLS_CT_HEARTBEAT = 24
};

/* Handshake message types we act on (RFC 8446 4, RFC 5246 7.4). Type 6 was the
 * HelloRetryRequest of TLS 1.3 drafts before draft-22. */
enum {
    TLS_HT_CLIENT_HELLO = 1,
    TLS_HT_SERVER_HELLO = 2,
    TLS_HT_DRAFT_HRR = 6,
    TLS_HT_CERTIFICATE = 11,
    TLS_HT_SERVER_HELLO_DONE = 14
};

/* TLSCiphertext.length may reach 2^14 + 2048 (RFC 5246 6.2.3). */
#define TLS_RECORD_MAX (16384u + 2048u)
#define TLS_RECORD_HDR 5u

/* Direction phases. */
enum tls_phase {
    TLS_PH_FRESH = 0,   /* nothing decided yet: TLS record or SSLv2 header? */
    TLS_PH_RECORDS,     /* parsing TLS records */
    TLS_PH_DONE,        /* nothing more wanted */
    TLS_PH_FAILED       /* malformed: stop */
};

/* Direction flags. */
#define TLS_F_CCS       0x01u  /* ChangeCipherSpec sent: later records are encrypted */
#define TLS_F_RECORD    0x02u  /* at least one valid record (or SSLv2 header) was parsed */
#define TLS_F_HELLO     0x04u  /* this direction carried a ClientHello or ServerHello */
#define TLS_F_PENDING   0x08u  /* the last feed stopped inside a (probable) hello */
#define TLS_F_SERVER    0x10u  /* this direction carried the ServerHello (or an HRR) */
#define TLS_F_SID       0x20u  /* sid[] holds the session id of this direction's ClientHello */
#define TLS_F_RANDOM    0x40u  /* random8[] holds the start of this direction's ClientHello random */
#define TLS_F_RETRIED   0x80u  /* this direction sent the ClientHello answering a HelloRetryRequest */

/* Per-direction state, stored in ctx->tls_state[dir] (no allocation). */
struct tls_dir_state {
    uint32_t hs_off;      /* handshake payload bytes of the record at the consume point already parsed */
    uint8_t phase;        /* enum tls_phase */
    uint8_t flags;        /* TLS_F_* */
    uint8_t sid_len;      /* client session id kept to detect a TLS <= 1.2 resumption */
    uint8_t reserved;
    uint8_t sid[32];
    uint8_t random8[8];   /* first 8 bytes of the ClientHello's random (TLS_F_RANDOM) */
};
_Static_assert(sizeof(struct tls_dir_state) <= TA_TLS_STATE_SIZE, "TLS state must fit ctx->tls_state");

static inline struct tls_dir_state *ta__tls_state(struct ta_ctx *ctx, enum ta_dir dir)
{
    return (struct tls_dir_state *)(void *)ctx->tls_state[dir];
}

/* tls_record.c: TLS records of one direction (feed contract of dissector.h). */
int ta__tls_records(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                    size_t *consumed);

/* tls_hello.c: a ClientHello / ServerHello body (after the 4-byte handshake header).
 * record_version is the version of the record the message started in. */
void ta__tls_client_hello(struct ta_ctx *ctx, enum ta_dir dir, struct ta_cur body,
                          uint16_t record_version);
void ta__tls_server_hello(struct ta_ctx *ctx, enum ta_dir dir, struct ta_cur body,
                          uint16_t record_version);
/* True when the negotiated (final) ServerHello selected TLS 1.3, a draft or a Facebook variant:
 * everything after it is encrypted. */
bool ta__tls_is13(const struct ta_server_hello *sh);

/* tls_ext.c: one extension's body; returns false when its content is malformed. */
bool ta__tls_ext_client(struct ta_hs *hs, uint16_t type, struct ta_cur body);
bool ta__tls_ext_server(struct ta_hs *hs, uint16_t type, struct ta_cur body);
/* Append an extension type to a capped list. */
void ta__tls_ext_push(struct ta_hs *hs, uint16_t *arr, uint8_t *n, uint16_t type);

/* tls_sslv2.c: SSLv2 record framing (RFC 6101 appendix E, draft-hickman-netscape-ssl-00). */
int ta__tls_sslv2_probe(const uint8_t *data, size_t len);
int ta__tls_sslv2_feed(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                       size_t *consumed);

/* tls_cert.c: the TLS Certificate message body, and one DER certificate. */
struct ta__cert_cache;
void ta__tls_certificate(struct ta__cert_cache *cc, struct ta_hs *hs, struct ta_cur body);
bool ta__tls_cert_der(struct ta__cert_cache *cc, struct ta_hs *hs, const uint8_t *der, size_t len);

#endif
