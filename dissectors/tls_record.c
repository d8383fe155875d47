/* tls_record.c - TLS record layer: framing, handshake defragmentation, alerts, done-ness.
 * RFC 8446 section 5 (record protocol), RFC 5246 section 6.2, RFC 8446 section 6 (alerts).
 *
 * The engine gives us contiguous bytes of one direction starting at the first byte we did not
 * consume. We consume whole records only. A handshake message that spans records is copied into
 * a static scratch buffer once all of its records are present; until then we consume nothing past
 * the record where it starts and remember (hs_off) how much of that record's handshake payload we
 * already parsed, so re-delivered bytes are never parsed twice. */
#include <string.h>

#include "tls_int.h"

/* One record header. */
struct tls_rec {
    uint8_t type;
    uint16_t version;
    uint16_t len;
};

/* A position in the record stream: the offset of a record header inside data, and how many of
 * that record's payload bytes were already used. */
struct tls_pos {
    size_t rec;
    uint32_t off;
};

/* Read and validate the record header at the start of c. Returns TA_OK, TA_NEED_MORE when
 * fewer than 5 bytes are present (the bytes present are still checked, so garbage is reported
 * early), or TA_MALFORMED for a content type, version or length no TLS record has. */
static int rec_header(struct ta_cur *c, struct tls_rec *r)
{
    uint8_t b;
    if (ta_cur_peek8(c, 0, &b) && (b < TLS_CT_CCS || b > TLS_CT_HEARTBEAT))
        return TA_MALFORMED;
    if (ta_cur_peek8(c, 1, &b) && b != 3)
        return TA_MALFORMED;
    if (ta_cur_peek8(c, 2, &b) && b > 4)
        return TA_MALFORMED;
    if (ta_cur_left(c) < TLS_RECORD_HDR)
        return TA_NEED_MORE;
    (void)ta_cur_u8(c, &r->type);
    (void)ta_cur_u16(c, &r->version);
    (void)ta_cur_u16(c, &r->len);
    if (r->len > TLS_RECORD_MAX)
        return TA_MALFORMED;
    return TA_OK;
}

/* The complete record at pos->rec: header in *r, payload in *pay. TA_OK, TA_NEED_MORE (record not
 * all present) or TA_MALFORMED (bad header). */
static int rec_at(const uint8_t *data, size_t len, size_t at, struct tls_rec *r, struct ta_cur *pay)
{
    struct ta_cur c = ta_cur_make(data, len);
    int rc;
    if (!ta_cur_skip(&c, at))
        return TA_NEED_MORE;
    rc = rec_header(&c, r);
    if (rc != TA_OK)
        return rc;
    if (!ta_cur_sub(&c, r->len, pay))
        return TA_NEED_MORE;
    return TA_OK;
}

/* Collect n bytes of handshake payload starting at *pos, walking consecutive complete handshake
 * records. On TA_OK *out points at the bytes (in place when they lie in one record, else in the
 * scratch buffer of the engine's dissector memory, ctx->mem; a message that needs it when the
 * context has none is reported malformed) and *pos is moved past them (to the next record when a record is used up).
 * TA_NEED_MORE when a record is still incomplete; TA_MALFORMED when a non-handshake record
 * interrupts the message (RFC 8446 5.1: handshake messages must not be interleaved). */
static int hs_gather(struct ta_ctx *ctx, const uint8_t *data, size_t len, struct tls_pos *pos,
                     size_t n, const uint8_t **out)
{
    struct ta_hs *hs = &ctx->hs;
    struct tls_pos p = *pos;
    size_t got = 0;
    while (got < n) {
        struct tls_rec r = { 0, 0, 0 };
        struct ta_cur pay = { NULL, NULL };
        struct ta_slice s = { NULL, 0 };
        int rc = rec_at(data, len, p.rec, &r, &pay);
        if (rc == TA_MALFORMED)
            hs->anomalies |= TA_AN_BAD_RECORD;
        if (rc != TA_OK)
            return rc;
        if (r.type != TLS_CT_HANDSHAKE) {
            hs->anomalies |= TA_AN_BAD_HANDSHAKE;
            return TA_MALFORMED;
        }
        size_t take = (size_t)r.len - p.off;
        if (take > n - got)
            take = n - got;
        if (!ta_cur_skip(&pay, p.off) || !ta_cur_slice(&pay, take, &s)) {
            hs->anomalies |= TA_AN_BAD_RECORD;   /* p.off past its record: cannot happen */
            return TA_MALFORMED;
        }
        if (got == 0 && take == n) {
            *out = s.ptr;
        } else if (ctx->mem) {
            memcpy(ctx->mem->tls_scratch + got, s.ptr, s.len);
            *out = ctx->mem->tls_scratch;
        } else {
            hs->anomalies |= TA_AN_BAD_HANDSHAKE;
            return TA_MALFORMED;
        }
        got += take;
        p.off += (uint32_t)take;
        if (p.off == r.len) {
            p.rec += TLS_RECORD_HDR + r.len;
            p.off = 0;
        }
    }
    *pos = p;
    return TA_OK;
}

/* Whether a ChangeCipherSpec from this point on means "encrypted from now". In TLS 1.3 the
 * dummy CCS of middlebox compatibility mode (RFC 8446 D.4) may come after a HelloRetryRequest
 * or before the second ClientHello: plaintext handshake records still follow it. */
static bool ccs_encrypts(const struct ta_hs *hs)
{
    bool offers13 = false;
    if (hs->sh.present)
        return true;
    for (uint8_t i = 0; i < hs->ch.nversions; i++)
        if (hs->ch.versions[i] >= 0x0304 && !ta_is_grease(hs->ch.versions[i]))
            offers13 = true;
    return !(hs->sh.hrr || offers13);
}

/* Alert record (RFC 8446 6, RFC 5246 7.2) sent in clear. The first alert is kept, except that a
 * fatal alert replaces an earlier warning (so the row says why the handshake failed). A fatal
 * alert ends the handshake: nothing more to learn. */
static int rec_alert(struct ta_ctx *ctx, enum ta_dir dir, struct tls_dir_state *st,
                     struct ta_cur pay)
{
    uint8_t level, desc;
    if (ta_cur_left(&pay) % 2 != 0 || !ta_cur_u8(&pay, &level) || !ta_cur_u8(&pay, &desc) ||
        (level != 1 && level != 2)) {
        /* Not a plaintext alert: odd length or a level no alert has. */
        ctx->hs.anomalies |= TA_AN_BAD_RECORD;
        return TA_OK;
    }
    if (!ctx->hs.alert.present || (ctx->hs.alert.level != 2 && level == 2)) {
        ctx->hs.alert.present = true;
        ctx->hs.alert.dir = (uint8_t)dir;
        ctx->hs.alert.level = level;
        ctx->hs.alert.description = desc;
    }
    if (level == 2) {
        ctx->hs.handshake_done = true;
        st->phase = TLS_PH_DONE;
        return TA_DONE;
    }
    return TA_OK;
}

/* A record that is not a plaintext handshake record. Returns TA_OK or TA_DONE. */
static int rec_other(struct ta_ctx *ctx, enum ta_dir dir, struct tls_dir_state *st,
                     const struct tls_rec *r, struct ta_cur pay)
{
    switch (r->type) {
    case TLS_CT_CCS:
        if (!ccs_encrypts(&ctx->hs))
            return TA_OK;
        st->flags |= TLS_F_CCS;
        break;
    case TLS_CT_ALERT:
        if (st->flags & TLS_F_CCS)
            break;
        return rec_alert(ctx, dir, st, pay);
    case TLS_CT_HANDSHAKE:  /* after CCS: encrypted Finished */
    case TLS_CT_APPDATA:
        break;
    default:                /* heartbeat: nothing to learn, keep going */
        return TA_OK;
    }
    /* Encrypted from here on: this direction has nothing more to give. */
    st->phase = TLS_PH_DONE;
    if (ctx->hs.sh.present && ((st->flags & TLS_F_SERVER) || ta__tls_is13(&ctx->hs.sh)))
        ctx->hs.handshake_done = true;
    return TA_DONE;
}

/* Act on one complete handshake message of type t. Returns TA_OK or TA_DONE. */
static int hs_message(struct ta_ctx *ctx, enum ta_dir dir, struct tls_dir_state *st, uint8_t t,
                      struct ta_cur body, uint16_t record_version)
{
    struct ta_hs *hs = &ctx->hs;
    /* a whole hello (or HelloRetryRequest): what the first bytes of its earlier, incomplete
     * copy said (peek_cut_hello) is moot */
    if (t == TLS_HT_CLIENT_HELLO)
        hs->ch.cut_version = 0;
    else if (t == TLS_HT_SERVER_HELLO || t == TLS_HT_DRAFT_HRR)
        hs->sh.cut_version = 0;
    switch (t) {
    case TLS_HT_CLIENT_HELLO:
        st->flags |= TLS_F_HELLO;
        if (!hs->ch.present)
            ta__tls_client_hello(ctx, dir, body, record_version);
        else if (!hs->sh.hrr || hs->sh.present || (st->flags & TLS_F_RETRIED))
            hs->anomalies |= TA_AN_DUPLICATE_HELLO;   /* inside a record, past the cap, a third */
        else
            st->flags |= TLS_F_RETRIED;
        /* The second ClientHello after a HelloRetryRequest is expected; the first one is kept
         * (fingerprints and offered lists describe the client's unprompted offer). Any other
         * repeated ClientHello at a record start was turned into TA_RESTART by hs_next. */
        return TA_OK;
    case TLS_HT_SERVER_HELLO:
        st->flags |= TLS_F_HELLO | TLS_F_SERVER;
        if (hs->sh.present) {
            hs->anomalies |= TA_AN_DUPLICATE_HELLO;
            return TA_OK;
        }
        ta__tls_server_hello(ctx, dir, body, record_version);
        if (hs->sh.present && ta__tls_is13(&hs->sh)) {
            hs->handshake_done = true;   /* everything after it is encrypted */
            st->phase = TLS_PH_DONE;
            return TA_DONE;
        }
        return TA_OK;
    case TLS_HT_DRAFT_HRR:
        st->flags |= TLS_F_HELLO | TLS_F_SERVER;
        hs->sh.hrr = true;
        return TA_OK;
    case TLS_HT_CERTIFICATE:
        if (!hs->sh.present || hs->cert.present || ta__tls_is13(&hs->sh))
            return TA_OK;   /* client certificate, or not ours to read */
        ta__tls_certificate(ctx->mem ? ctx->mem->certs : NULL, hs, body);
        hs->handshake_done = true;
        st->phase = TLS_PH_DONE;
        return TA_DONE;
    case TLS_HT_SERVER_HELLO_DONE:
        if (!hs->sh.present)
            return TA_OK;
        hs->handshake_done = true;
        st->phase = TLS_PH_DONE;
        return TA_DONE;
    default:
        return TA_OK;
    }
}

/* Whether the ClientHello msg (header and body) has the random of the first one of this
 * direction. RFC 8446 4.1.2: the ClientHello that answers a HelloRetryRequest is the first one
 * again, random included; a new handshake has a new random. 8 bytes of it tell them apart. */
static bool same_random(const struct tls_dir_state *st, const uint8_t *msg, uint32_t mlen)
{
    struct ta_cur c = ta_cur_make(msg, 4 + (size_t)mlen);
    struct ta_slice r;
    return (st->flags & TLS_F_RANDOM) && ta_cur_skip(&c, 6) &&
           ta_cur_slice(&c, sizeof st->random8, &r) &&
           memcmp(r.ptr, st->random8, sizeof st->random8) == 0;
}

/* Whether a whole ClientHello msg of direction dir at a record start begins another handshake
 * on the connection: one was already read, and this is not the second ClientHello of the
 * handshake, the one that answers a HelloRetryRequest: the first after one was seen, or, in a
 * capture that holds no packet of the other direction (a span port fed the clients' half of a
 * link), one with the first one's random, which sets hrr (a client sends it only after a
 * HelloRetryRequest; where the server's packets are there, the same random without one is
 * Suricata's duplicate hello: two rows). A third with that random stays in the handshake
 * (hs_message flags it). After a ServerHello every ClientHello begins another (a fatal alert
 * wrote the record already); none does past the cap. */
static bool new_handshake(struct ta_ctx *ctx, enum ta_dir dir, const struct tls_dir_state *st,
                          const uint8_t *msg, uint32_t mlen)
{
    struct ta_hs *hs = &ctx->hs;
    if (!hs->ch.present || hs->seq + 1 >= TA_MAX_HANDSHAKES_PER_FLOW)
        return false;
    if (hs->sh.present)
        return true;
    if (hs->sh.hrr && !(st->flags & TLS_F_RETRIED))
        return false;
    if ((ctx->dirs_seen & (1u << (dir ^ 1u))) || !same_random(st, msg, mlen))
        return true;
    hs->sh.hrr = true;
    return false;
}

/* Parse the next handshake message starting at *pos (inside a complete handshake record).
 * TA_OK / TA_DONE after acting on it (pos moved past it), TA_NEED_MORE when its bytes are not
 * all present (pending_hello says whether it is a hello), TA_RESTART when it is a ClientHello
 * that begins a new handshake (pos unchanged), TA_MALFORMED. */
static int hs_next(struct ta_ctx *ctx, enum ta_dir dir, struct tls_dir_state *st,
                   const uint8_t *data, size_t len, struct tls_pos *pos, uint16_t record_version,
                   bool *pending_hello)
{
    struct tls_pos p = *pos;
    const uint8_t *hdr, *msg;
    struct ta_cur c, body;
    uint8_t t = 0;
    uint32_t mlen = 0;
    int rc = hs_gather(ctx, data, len, &p, 4, &hdr);
    if (rc != TA_OK) {
        *pending_hello = !(st->flags & TLS_F_HELLO);
        return rc;
    }
    c = ta_cur_make(hdr, 4);
    (void)ta_cur_u8(&c, &t);
    (void)ta_cur_u24(&c, &mlen);
    *pending_hello = (t == TLS_HT_CLIENT_HELLO || t == TLS_HT_SERVER_HELLO);
    if (mlen > TLS_SCRATCH_MAX - 4) {
        /* Longer than we defragment (and than the engine buffers): give up on this direction. */
        ctx->hs.anomalies |= TA_AN_CAP_REACHED;
        if (ctx->hs.sh.present)
            ctx->hs.handshake_done = true;
        st->phase = TLS_PH_DONE;
        return TA_DONE;
    }
    p = *pos;
    rc = hs_gather(ctx, data, len, &p, 4 + (size_t)mlen, &msg);
    if (rc != TA_OK)
        return rc;
    *pending_hello = false;
    if (t == TLS_HT_CLIENT_HELLO && pos->off == 0 && new_handshake(ctx, dir, st, msg, mlen))
        return TA_RESTART;   /* pos left at this record: the engine feeds it again */
    *pos = p;
    c = ta_cur_make(msg, 4 + (size_t)mlen);
    if (!ta_cur_skip(&c, 4) || !ta_cur_sub(&c, mlen, &body))
        return TA_MALFORMED;  /* cannot happen: hs_gather gave 4 + mlen bytes */
    return hs_message(ctx, dir, st, t, body, record_version);
}

/* A hello still incomplete at pos (the record where it begins, and its offset there): keep the
 * legacy_version its first bytes give, read inside that record only, for a flow that ends before
 * the rest arrives (a snap length that cut the segment, segments lost): ta_hs_* read from it
 * what it proves. A later whole hello sets present, which wins. */
static void peek_cut_hello(struct ta_ctx *ctx, const uint8_t *data, size_t len, struct tls_pos pos)
{
    struct ta_cur c = ta_cur_make(data, len), pay;
    uint8_t type, ht;
    uint16_t rver, rlen, ver;
    uint32_t mlen;
    if (!ta_cur_skip(&c, pos.rec) || !ta_cur_u8(&c, &type) || !ta_cur_u16(&c, &rver) ||
        !ta_cur_u16(&c, &rlen) || type != TLS_CT_HANDSHAKE)
        return;
    pay = c;
    if (ta_cur_left(&pay) > rlen)
        pay.end = pay.p + rlen;
    if (!ta_cur_skip(&pay, pos.off) || !ta_cur_u8(&pay, &ht) || !ta_cur_u24(&pay, &mlen) ||
        !ta_cur_u16(&pay, &ver) || ver < 0x0300 || ver > 0x0304)
        return;
    if (ht == TLS_HT_CLIENT_HELLO && !ctx->hs.ch.present)
        ctx->hs.ch.cut_version = ver;
    else if (ht == TLS_HT_SERVER_HELLO && !ctx->hs.sh.present)
        ctx->hs.sh.cut_version = ver;
}

/* Parse TLS records of direction dir (see dissector.h for the feed contract). Every complete
 * record is consumed; a record holding the start of an incomplete message is kept, with the
 * already parsed part of its payload remembered in st->hs_off. On TA_RESTART *consumed is the
 * start of the record holding the new ClientHello. */
int ta__tls_records(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                    size_t *consumed)
{
    struct tls_dir_state *st = ta__tls_state(ctx, dir);
    struct tls_pos pos = { 0, st->hs_off };
    bool pending = false;
    int rc = TA_OK;
    st->flags &= (uint8_t)~TLS_F_PENDING;
    while (rc == TA_OK) {
        struct tls_rec r = { 0, 0, 0 };
        struct ta_cur pay = { NULL, NULL };
        rc = rec_at(data, len, pos.rec, &r, &pay);
        if (rc == TA_NEED_MORE) {
            pending = !(st->flags & TLS_F_HELLO) && pos.rec < len;
            break;
        }
        if (rc == TA_MALFORMED) {
            ctx->hs.anomalies |= (st->flags & TLS_F_RECORD) ? TA_AN_BAD_RECORD : TA_AN_NOT_TLS;
            break;
        }
        st->flags |= TLS_F_RECORD;
        if (r.type != TLS_CT_HANDSHAKE || (st->flags & TLS_F_CCS)) {
            pos.rec += TLS_RECORD_HDR + r.len;
            pos.off = 0;
            rc = rec_other(ctx, dir, st, &r, pay);
        } else if (pos.off >= r.len) {
            pos.rec += TLS_RECORD_HDR + r.len;  /* used up (or an empty record) */
            pos.off = 0;
        } else {
            rc = hs_next(ctx, dir, st, data, len, &pos, r.version, &pending);
        }
    }
    if (rc == TA_NEED_MORE)
        rc = TA_OK;
    if (rc == TA_MALFORMED)
        st->phase = TLS_PH_FAILED;
    if (pending) {
        st->flags |= TLS_F_PENDING;
        peek_cut_hello(ctx, data, len, pos);
    }
    st->hs_off = pos.off;
    *consumed = rc == TA_DONE ? len : pos.rec;
    return rc;
}
