/* quic.c - QUIC long headers, Initial frames and CRYPTO reassembly (RFC 9000 12.4, 16, 17.2,
 * 19.6; RFC 9369 3.2 for v2's packet types; draft-ietf-quic-transport-29).
 *
 * Pure parsing through the cursor: no keys here (quic_crypto.c), no flow logic (quic_packet.c).
 * CRYPTO frames of one direction are reassembled by offset into a capped buffer inside the
 * flow's state, in any order and across any number of Initial packets; each complete TLS
 * handshake message is then given to the hello parser the TCP path uses (tls_hello.c). */
#include <string.h>

#include "quic_int.h"
#include "tls_int.h"

/* Initial salts: RFC 9001 5.2 (v1), RFC 9369 3.3.1 (v2), draft-ietf-quic-tls-29 5.2 (drafts 29
 * to 32 use the same one). */
static const uint8_t salt_v1[20] = {
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a
};
static const uint8_t salt_v2[20] = {
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
    0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9
};
static const uint8_t salt_d29[20] = {
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
    0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99
};

static const struct ta__quic_ver quic_versions[] = {
    { 0x00000001u, salt_v1, false },
    { 0x6b3343cfu, salt_v2, true },
    { 0xff00001du, salt_d29, false },
    { 0xff00001eu, salt_d29, false },
    { 0xff00001fu, salt_d29, false },
    { 0xff000020u, salt_d29, false },
};

/* Frame types allowed in Initial packets (RFC 9000 12.4, table 3). */
enum {
    QUIC_FT_PADDING = 0x00,
    QUIC_FT_PING = 0x01,
    QUIC_FT_ACK = 0x02,
    QUIC_FT_ACK_ECN = 0x03,
    QUIC_FT_CRYPTO = 0x06,
    QUIC_FT_CLOSE = 0x1c
};

const struct ta__quic_ver *ta__quic_version(uint32_t version)
{
    for (size_t i = 0; i < TA_ARRAY_LEN(quic_versions); i++)
        if (quic_versions[i].version == version)
            return &quic_versions[i];
    return NULL;
}

/* RFC 9000 16: the two high bits of the first byte give the length (1, 2, 4 or 8 bytes). */
bool ta__quic_varint(struct ta_cur *c, uint64_t *v)
{
    struct ta_cur t = *c;   /* c moves only when the whole integer is there */
    uint8_t b, x;
    size_t n;
    if (!ta_cur_u8(&t, &b))
        return false;
    n = (size_t)1 << (b >> 6);
    *v = b & 0x3f;
    for (size_t i = 1; i < n; i++) {
        if (!ta_cur_u8(&t, &x))
            return false;
        *v = (*v << 8) | x;
    }
    *c = t;
    return true;
}

/* A connection id: 1-byte length then the bytes; at most 20 for the versions we know. */
static bool header_cid(struct ta_cur *c, struct ta_slice *cid, bool known)
{
    uint8_t n;
    if (!ta_cur_u8(c, &n) || (known && n > QUIC_CID_MAX))
        return false;
    return ta_cur_slice(c, n, cid);
}

/* Packet type of a known version from the first byte: v2 rotated the code points (RFC 9369
 * 3.2: Initial 0b01, 0-RTT 0b10, Handshake 0b11, Retry 0b00). */
static uint8_t header_type(const struct ta__quic_ver *ver, uint8_t first)
{
    static const uint8_t v1[4] = { QUIC_PT_INITIAL, QUIC_PT_0RTT, QUIC_PT_HANDSHAKE, QUIC_PT_RETRY };
    static const uint8_t v2[4] = { QUIC_PT_RETRY, QUIC_PT_INITIAL, QUIC_PT_0RTT, QUIC_PT_HANDSHAKE };
    return ver->v2 ? v2[(first >> 4) & 3] : v1[(first >> 4) & 3];
}

/* See quic_int.h. The invariant part (RFC 8999 5.1: form bit, version, both connection ids) is
 * read for every version; the rest only for versions we know. Retry and Version Negotiation run
 * to the end of the datagram; the others end where their Length field says. */
int ta__quic_header(struct ta_cur *d, struct ta__quic_hdr *h)
{
    struct ta_cur c = *d;
    uint64_t tlen = 0, len = 0;
    memset(h, 0, sizeof(*h));
    h->pkt = d->p;
    if (!ta_cur_u8(&c, &h->first) || !(h->first & 0x80))
        return TA_UNSUPPORTED;
    if (!ta_cur_u32(&c, &h->version))
        return TA_MALFORMED;
    h->ver = ta__quic_version(h->version);
    if (!header_cid(&c, &h->dcid, h->ver != NULL) || !header_cid(&c, &h->scid, h->ver != NULL))
        return TA_MALFORMED;
    if (h->version == 0 || (h->ver && header_type(h->ver, h->first) == QUIC_PT_RETRY)) {
        h->type = h->version == 0 ? QUIC_PT_VN : QUIC_PT_RETRY;
        h->present = h->size = ta_cur_left(d);
        d->p = d->end;
        return TA_OK;
    }
    if (!h->ver)
        return TA_UNSUPPORTED;
    h->type = header_type(h->ver, h->first);
    if (h->type == QUIC_PT_INITIAL &&
        (!ta__quic_varint(&c, &tlen) || tlen > ta_cur_left(&c) ||
         !ta_cur_slice(&c, (size_t)tlen, &h->token)))
        return TA_MALFORMED;
    if (!ta__quic_varint(&c, &len))
        return TA_MALFORMED;
    h->pn_off = (size_t)(c.p - d->p);
    if (len > QUIC_PKT_MAX)
        return TA_MALFORMED;
    h->size = h->pn_off + (size_t)len;
    h->present = h->size;
    if (h->size > ta_cur_left(d)) {
        h->present = ta_cur_left(d);
        h->cut = true;
    }
    d->p += h->present;
    return TA_OK;
}

/* The capped buffer and presence bitmap of direction dir. */
static uint8_t *reasm_buf(struct ta__quic_conn *qc, enum ta_dir dir, uint8_t **map, uint32_t *cap)
{
    if (dir == TA_DIR_C2S) {
        *map = qc->map_c;
        *cap = QUIC_CRYPTO_CAP_C;
        return qc->buf_c;
    }
    *map = qc->map_s;
    *cap = QUIC_CRYPTO_CAP_S;
    return qc->buf_s;
}

void ta__quic_reasm_reset(struct ta__quic_conn *qc, enum ta_dir dir)
{
    uint8_t *map;
    uint32_t cap;
    (void)reasm_buf(qc, dir, &map, &cap);
    memset(map, 0, cap / 8);
    memset(&qc->rs[dir], 0, sizeof qc->rs[dir]);
}

/* Store CRYPTO data at stream offset off: bytes already present are kept (the first copy wins,
 * as in TCP reassembly), bytes past the cap are dropped, and the contiguous prefix grows over
 * every byte now present. */
static void reasm_add(struct ta_hs *hs, struct ta__quic_conn *qc, enum ta_dir dir, uint64_t off,
                      struct ta_slice data)
{
    struct quic_reasm *rs = &qc->rs[dir];
    uint8_t *map;
    uint32_t cap;
    uint8_t *buf = reasm_buf(qc, dir, &map, &cap);
    uint64_t end = off + data.len;
    if (end > rs->highest)
        rs->highest = end > UINT32_MAX ? UINT32_MAX : (uint32_t)end;
    if (end > cap && !rs->done)
        hs->anomalies |= TA_AN_CAP_REACHED;
    for (uint64_t i = off; i < end && i < cap; i++) {
        if (map[i / 8] & (1u << (i % 8)))
            continue;
        buf[i] = data.ptr[i - off];
        map[i / 8] |= (uint8_t)(1u << (i % 8));
    }
    while (rs->contig < cap && (map[rs->contig / 8] & (1u << (rs->contig % 8))))
        rs->contig++;
}

/* Act on one complete handshake message of direction dir. The client's first ClientHello is
 * the one kept (fingerprints describe the unprompted offer; the one after a HelloRetryRequest is
 * not read); the server's Initials hold a HelloRetryRequest and/or the ServerHello. */
static void tls_message(struct ta_ctx *ctx, struct ta__quic_conn *qc, enum ta_dir dir, uint8_t t,
                        struct ta_cur body)
{
    struct ta_hs *hs = &ctx->hs;
    if (dir == TA_DIR_C2S && t == TLS_HT_CLIENT_HELLO) {
        if (!hs->ch.present)
            ta__tls_client_hello(ctx, dir, body, 0);
        qc->rs[dir].done = true;
    } else if (dir == TA_DIR_S2C && t == TLS_HT_SERVER_HELLO) {
        ta__tls_server_hello(ctx, dir, body, 0);
        if (hs->sh.present)
            qc->rs[dir].done = true;
    } else {
        /* Nothing else belongs in an Initial's CRYPTO stream (RFC 9001 4.1.4). */
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
        qc->rs[dir].done = true;
    }
}

/* Parse every complete TLS handshake message (type, 3-byte length, body) at the reassembled
 * start of direction dir. A message longer than the buffer can ever hold ends the direction. */
static void tls_advance(struct ta_ctx *ctx, struct ta__quic_conn *qc, enum ta_dir dir)
{
    struct quic_reasm *rs = &qc->rs[dir];
    uint8_t *map;
    uint32_t cap;
    const uint8_t *buf = reasm_buf(qc, dir, &map, &cap);
    while (!rs->done) {
        struct ta_cur c = ta_cur_make(buf + rs->parsed, rs->contig - rs->parsed), body;
        uint8_t t;
        uint32_t mlen;
        if (!ta_cur_u8(&c, &t) || !ta_cur_u24(&c, &mlen))
            return;
        if ((uint64_t)rs->parsed + 4 + mlen > cap) {
            ctx->hs.anomalies |= TA_AN_CAP_REACHED;
            rs->done = true;
            return;
        }
        if (!ta_cur_sub(&c, mlen, &body))
            return;  /* not all here yet */
        rs->parsed += 4 + mlen;
        tls_message(ctx, qc, dir, t, body);
    }
}

/* ACK (RFC 9000 19.3): largest, delay, range count, first range, then count (gap, length)
 * pairs; ECN counts follow for type 0x03. */
static bool frame_ack(struct ta_cur *c, bool ecn)
{
    uint64_t v, count;
    if (!ta__quic_varint(c, &v) || !ta__quic_varint(c, &v) || !ta__quic_varint(c, &count) ||
        !ta__quic_varint(c, &v) || count > ta_cur_left(c))
        return false;
    for (uint64_t i = 0; i < count * 2 + (ecn ? 3 : 0); i++)
        if (!ta__quic_varint(c, &v))
            return false;
    return true;
}

/* CONNECTION_CLOSE of the transport (RFC 9000 19.19): error code, frame type, reason. */
static bool frame_close(struct ta_cur *c)
{
    uint64_t v, n;
    return ta__quic_varint(c, &v) && ta__quic_varint(c, &v) && ta__quic_varint(c, &n) &&
           n <= ta_cur_left(c) && ta_cur_skip(c, (size_t)n);
}

/* See quic_int.h. */
bool ta__quic_frames(struct ta_ctx *ctx, struct ta__quic_conn *qc, enum ta_dir dir,
                     const uint8_t *p, size_t n)
{
    struct ta_cur c = ta_cur_make(p, n);
    bool ok = true;
    while (ok && !ta_cur_empty(&c)) {
        uint64_t type, off, len;
        struct ta_slice data;
        if (!ta__quic_varint(&c, &type))
            ok = false;
        else if (type == QUIC_FT_PADDING || type == QUIC_FT_PING)
            continue;
        else if (type == QUIC_FT_ACK || type == QUIC_FT_ACK_ECN)
            ok = frame_ack(&c, type == QUIC_FT_ACK_ECN);
        else if (type == QUIC_FT_CLOSE)
            ok = frame_close(&c);
        else if (type != QUIC_FT_CRYPTO)
            ok = false;
        else if (!ta__quic_varint(&c, &off) || !ta__quic_varint(&c, &len) ||
                 len > ta_cur_left(&c) || off > ((uint64_t)1 << 62) - len ||
                 !ta_cur_slice(&c, (size_t)len, &data))
            ok = false;
        else
            reasm_add(&ctx->hs, qc, dir, off, data);
    }
    tls_advance(ctx, qc, dir);
    return ok;
}
