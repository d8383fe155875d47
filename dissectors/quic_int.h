/* quic_int.h - private interface between the QUIC dissector files: packet headers and frames
 * (quic.c), the datagram walk and connection attempts (quic_packet.c), Initial keys and packet
 * protection (quic_crypto.c). Names are ta__quic_*; nothing here is public. */
#ifndef TLSAUDIT_QUIC_INT_H
#define TLSAUDIT_QUIC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "tlsaudit/common.h"
#include "tlsaudit/cursor.h"
#include "tlsaudit/dissector.h"
#include "tlsaudit/quic.h"

#define QUIC_CID_MAX 20u          /* RFC 9000 17.2: connection ids of at most 20 bytes (v1, v2) */
#define QUIC_CID_MIN_INITIAL 8u   /* RFC 9000 7.2: a client's first DCID has at least 8 bytes */
#define QUIC_PKT_MAX 65535u       /* largest packet decrypted (a UDP payload is at most 65527) */
#define QUIC_AEAD_TAG 16u
#define QUIC_HP_SAMPLE 16u
/* CRYPTO bytes kept per direction: a ClientHello with post-quantum key shares is ~2 KiB and
 * spans several Initials; the server's Initials carry only its (HelloRetryRequest and)
 * ServerHello. Past the cap the hello is flagged cap_reached. */
#define QUIC_CRYPTO_CAP_C 8192u
#define QUIC_CRYPTO_CAP_S 2048u
/* Budget per flow: long-header datagrams looked at, and Initials that fail to decrypt, before
 * the flow is given up (its record written with what it has). */
#define QUIC_MAX_DATAGRAMS 32u
#define QUIC_MAX_FAILS 8u

/* Packet types, with the v2 code points (RFC 9369 3.2) mapped to v1's meaning. */
enum quic_ptype {
    QUIC_PT_INITIAL = 0,
    QUIC_PT_0RTT,
    QUIC_PT_HANDSHAKE,
    QUIC_PT_RETRY,
    QUIC_PT_VN          /* Version Negotiation: version 0 (RFC 9000 17.2.1) */
};

/* A QUIC version whose Initial packets we can decrypt: its salt (RFC 9001 5.2, RFC 9369 3.3.1,
 * draft-ietf-quic-tls-29 5.2) and whether it uses the v2 labels and packet types. */
struct ta__quic_ver {
    uint32_t version;
    const uint8_t *salt;      /* 20 bytes */
    bool v2;
};

/* One long-header packet inside a datagram: views into the caller's bytes. */
struct ta__quic_hdr {
    uint8_t first;            /* first byte, still header-protected */
    uint8_t type;             /* enum quic_ptype */
    uint32_t version;
    const struct ta__quic_ver *ver;  /* NULL for VN and unknown versions */
    struct ta_slice dcid, scid, token;
    const uint8_t *pkt;       /* first byte of the packet */
    size_t present;           /* bytes of the packet present in the datagram */
    size_t pn_off;            /* offset of the packet number (Initial, 0-RTT, Handshake) */
    size_t size;              /* the packet's size as its Length field says (pn_off + Length) */
    bool cut;                 /* size > present: the capture cut the packet */
};

/* The Initial keys of one direction for one version (RFC 9001 5.2). */
struct ta__quic_keys {
    bool valid;
    uint32_t version;
    uint8_t key[16], iv[12], hp[16];
};

/* CRYPTO reassembly of one direction: bytes [0, contig) are all present; parsed is where the
 * next TLS handshake message starts. */
struct quic_reasm {
    uint32_t contig;
    uint32_t parsed;
    uint32_t highest;         /* end of the highest CRYPTO range seen (for truncated_hello) */
    bool done;                /* this direction's hello is read (or given up) */
};

/* Flags of a connection. */
#define QUIC_F_RETRY     0x01u  /* a Retry was seen: the next client Initial uses new keys */
#define QUIC_F_VN        0x02u  /* a Version Negotiation was seen */
#define QUIC_F_CLIENT_CUT 0x04u /* a client Initial could not be read (snap length) */

/* Per-flow state, inside struct ta_quic_state. */
struct ta__quic_conn {
    uint8_t dcid[QUIC_CID_MAX];   /* the client's first DCID: Initial keys derive from it */
    uint8_t dcid_len;
    uint8_t flags;                /* QUIC_F_* */
    uint8_t dgrams;               /* long-header datagrams looked at */
    uint8_t fails;                /* Initials that did not decrypt */
    uint64_t next_pn[2];          /* largest packet number seen + 1, per direction */
    struct ta__quic_keys keys[2]; /* per direction, for the version last used */
    struct quic_reasm rs[2];
    uint8_t buf_c[QUIC_CRYPTO_CAP_C], buf_s[QUIC_CRYPTO_CAP_S];
    uint8_t map_c[QUIC_CRYPTO_CAP_C / 8], map_s[QUIC_CRYPTO_CAP_S / 8];
};
_Static_assert(sizeof(struct ta__quic_conn) <= TA_QUIC_STATE_SIZE,
               "QUIC connection state must fit struct ta_quic_state");

static inline struct ta__quic_conn *ta__quic_conn(struct ta_quic_state *st)
{
    return (struct ta__quic_conn *)(void *)st->opaque;
}

/* quic.c: variable-length integer (RFC 9000 16). False when short. */
bool ta__quic_varint(struct ta_cur *c, uint64_t *v);
/* quic.c: the version entry, or NULL when its Initials are not ours to decrypt. */
const struct ta__quic_ver *ta__quic_version(uint32_t version);
/* quic.c: the long-header packet at the start of d; d moves past it (to the end of the datagram
 * for Retry, Version Negotiation and a cut packet). TA_OK, TA_UNSUPPORTED (short header, unknown
 * version: the rest of the datagram cannot be walked) or TA_MALFORMED. */
int ta__quic_header(struct ta_cur *d, struct ta__quic_hdr *h);
/* quic.c: the frames of a decrypted Initial payload of direction dir: CRYPTO data goes to the
 * reassembly, then complete TLS handshake messages to the hello parser. False when a frame is
 * malformed or not allowed in an Initial packet (RFC 9000 12.4); what came before is kept. */
bool ta__quic_frames(struct ta_ctx *ctx, struct ta__quic_conn *qc, enum ta_dir dir,
                     const uint8_t *p, size_t n);
/* quic.c: forget a direction's CRYPTO bytes (a new connection attempt starts at offset 0). */
void ta__quic_reasm_reset(struct ta__quic_conn *qc, enum ta_dir dir);

/* quic_crypto.c: the Initial keys of direction dir (client: "client in", server: "server in")
 * derived from dcid for version ver. TA_OK, or TA_ERR_IO when libcrypto fails. */
int ta__quic_keys_derive(struct ta_quic_crypto *qc, const struct ta__quic_ver *ver,
                         const uint8_t *dcid, size_t dcid_len, enum ta_dir dir,
                         struct ta__quic_keys *out);
/* quic_crypto.c: remove header protection and decrypt the whole packet h (not cut) with k into
 * the crypto object's scratch buffer. next_pn is the expected packet number (RFC 9000 A.3).
 * TA_OK with *pn, *plain and *plain_len set; TA_MALFORMED when the packet is too short or does
 * not authenticate. *plain stays valid until the next call on qc. */
int ta__quic_open(struct ta_quic_crypto *qc, const struct ta__quic_keys *k,
                  const struct ta__quic_hdr *h, uint64_t next_pn, uint64_t *pn,
                  const uint8_t **plain, size_t *plain_len);
/* quic_crypto.c: the inverse, for tests and fuzz seeds only: build a protected long-header
 * Initial packet of version ver (header dcid, scid, no token, a packet number sent in 4 bytes)
 * around the plaintext frames (at least 4 bytes), sealed with k. Returns the packet's length,
 * or 0 when it does not fit out or libcrypto fails. */
size_t ta__quic_seal_initial(struct ta_quic_crypto *qc, const struct ta__quic_keys *k,
                             const struct ta__quic_ver *ver, const uint8_t *dcid, size_t dcid_len,
                             const uint8_t *scid, size_t scid_len, uint32_t pn,
                             const uint8_t *frames, size_t frames_len, uint8_t *out,
                             size_t out_cap);

#endif
