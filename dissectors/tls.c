/* tls.c - the TLS dissector: probe, start, feed, finish, STARTTLS take-over, strict hello probe.
 * RFC 8446 (TLS 1.3), RFC 5246 (TLS 1.2), RFC 6101 appendix E (SSLv2 compatibility).
 *
 * This file decides what the first bytes of a direction are (TLS records or an SSLv2 hello) and
 * hands them to tls_record.c or tls_sslv2.c. State per direction lives in ctx->tls_state[dir]
 * (struct tls_dir_state, tls_int.h); nothing is allocated. */
#include <string.h>

#include "tls_int.h"

#define TLS_HELLO_MIN 38u   /* legacy_version, random, session id length */

/* Check the bytes present against the start of a TLS record: content type 20..24 (only 22 when
 * handshake_only), major version 3, minor 0..4. TA_OK when all three bytes match,
 * TA_NEED_MORE when the bytes present match so far, else TA_UNSUPPORTED. */
static int tls_record_prefix(const uint8_t *data, size_t len, bool handshake_only)
{
    struct ta_cur c = ta_cur_make(data, len);
    uint8_t b;
    if (!ta_cur_peek8(&c, 0, &b))
        return TA_NEED_MORE;
    if (handshake_only ? b != TLS_CT_HANDSHAKE : (b < TLS_CT_CCS || b > TLS_CT_HEARTBEAT))
        return TA_UNSUPPORTED;
    if (!ta_cur_peek8(&c, 1, &b))
        return TA_NEED_MORE;
    if (b != 3)
        return TA_UNSUPPORTED;
    if (!ta_cur_peek8(&c, 2, &b))
        return TA_NEED_MORE;
    return b <= 4 ? TA_OK : TA_UNSUPPORTED;
}

/* A server whose first bytes are a plaintext alert record (level warning or fatal): it refused
 * a ClientHello this capture does not hold (one of the server's direction only). */
static int tls_server_alert(const uint8_t *data, size_t len)
{
    struct ta_cur c = ta_cur_make(data, len);
    uint8_t type, level;
    uint16_t rlen;
    int rc;

    if (ta_cur_peek8(&c, 0, &type) && type != TLS_CT_ALERT)
        return TA_UNSUPPORTED;
    if ((rc = tls_record_prefix(data, len, false)) != TA_OK)
        return rc;    /* type, then version 3.0 to 3.4 */
    if (!ta_cur_skip(&c, 3) || !ta_cur_u16(&c, &rlen) || !ta_cur_u8(&c, &level))
        return TA_NEED_MORE;
    return rlen == 2 && (level == 1 || level == 2) ? TA_OK : TA_UNSUPPORTED;
}

/* .probe: a handshake record (0x16 0x03 0x00..0x04) or an SSLv2 hello; from the server, also a
 * plaintext alert. Pure. */
static int tls_probe(enum ta_dir dir, const uint8_t *data, size_t len, uint16_t server_port)
{
    int rc = tls_record_prefix(data, len, true);
    (void)server_port;
    if (rc != TA_UNSUPPORTED)
        return rc;
    if (dir == TA_DIR_S2C && (rc = tls_server_alert(data, len)) != TA_UNSUPPORTED)
        return rc;
    return ta__tls_sslv2_probe(data, len);
}

/* .start: take both directions. A text protocol that upgraded keeps its app label. */
static void tls_start(struct ta_ctx *ctx)
{
    memset(ctx->tls_state, 0, sizeof ctx->tls_state);
    ctx->owner[TA_DIR_C2S] = TA_DIS_TLS;
    ctx->owner[TA_DIR_S2C] = TA_DIS_TLS;
    if (ctx->hs.app == TA_APP_UNKNOWN)
        ctx->hs.app = TA_APP_TLS;
}

/* After a STARTTLS hand-off: this direction starts afresh at its first TLS byte. hs.app and
 * hs.starttls were set by the text dissector and are left alone. */
void ta_tls_takeover(struct ta_ctx *ctx, enum ta_dir dir)
{
    memset(ctx->tls_state[dir], 0, sizeof ctx->tls_state[dir]);
    ctx->owner[dir] = TA_DIS_TLS;
}

/* See dissector.h. A direction that stopped (encrypted, failed, nothing more wanted) starts
 * afresh at its next byte; one still reading records keeps its position inside the record at its
 * consume point (hs_off) so no byte is parsed twice, and forgets what it saw. */
void ta_tls_restart(struct ta_ctx *ctx)
{
    for (int d = TA_DIR_C2S; d <= TA_DIR_S2C; d++) {
        struct tls_dir_state *st = ta__tls_state(ctx, (enum ta_dir)d);
        if (ctx->owner[d] != TA_DIS_TLS)
            continue;
        if (st->phase == TLS_PH_RECORDS) {
            st->flags &= TLS_F_RECORD;
            st->sid_len = 0;
        } else {
            memset(st, 0, sizeof(*st));
        }
    }
}

/* See dissector.h. */
bool ta_tls_in_clear(const struct ta_ctx *ctx)
{
    if (ctx->hs.sh.sslv2 || (ctx->hs.sh.present && ta__tls_is13(&ctx->hs.sh)))
        return false;
    for (int d = TA_DIR_C2S; d <= TA_DIR_S2C; d++) {
        const struct tls_dir_state *st = (const struct tls_dir_state *)(const void *)ctx->tls_state[d];
        if (ctx->owner[d] == TA_DIS_TLS && (st->flags & TLS_F_CCS))
            return false;
    }
    return true;
}

/* First bytes of a direction: TLS records, an SSLv2 hello, or not TLS at all. Returns the phase
 * to go on with, or TLS_PH_FRESH while undecided. */
static int tls_first(struct ta_ctx *ctx, const uint8_t *data, size_t len, bool *sslv2)
{
    int rc = tls_record_prefix(data, len, false);
    *sslv2 = false;
    if (rc == TA_OK)
        return TLS_PH_RECORDS;
    if (rc == TA_UNSUPPORTED) {
        rc = ta__tls_sslv2_probe(data, len);
        if (rc == TA_OK) {
            *sslv2 = true;
            return TLS_PH_RECORDS;
        }
    }
    if (rc == TA_NEED_MORE)
        return TLS_PH_FRESH;
    ctx->hs.anomalies |= TA_AN_NOT_TLS;
    return TLS_PH_FAILED;
}

/* .feed: see dissector.h. */
static int tls_feed(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                    size_t *consumed)
{
    struct tls_dir_state *st = ta__tls_state(ctx, dir);
    size_t off = 0, used = 0;
    bool sslv2 = false;
    int rc;
    *consumed = 0;
    if (st->phase == TLS_PH_DONE) {
        *consumed = len;
        return TA_DONE;
    }
    if (st->phase == TLS_PH_FAILED)
        return TA_MALFORMED;
    if (st->phase == TLS_PH_FRESH) {
        st->phase = (uint8_t)tls_first(ctx, data, len, &sslv2);
        if (st->phase == TLS_PH_FAILED)
            return TA_MALFORMED;
        if (st->phase == TLS_PH_FRESH) {
            if (len > 0)
                st->flags |= TLS_F_PENDING;
            return TA_OK;
        }
    }
    if (sslv2) {
        /* Only a direction's first record can be SSLv2; until it is whole, stay undecided. */
        rc = ta__tls_sslv2_feed(ctx, dir, data, len, &off);
        if (rc == TA_NEED_MORE) {
            st->phase = TLS_PH_FRESH;
            st->flags |= TLS_F_PENDING;
            return TA_OK;
        }
        st->flags &= (uint8_t)~TLS_F_PENDING;
        if (rc != TA_OK) {
            *consumed = off;
            return rc;
        }
    }
    rc = ta__tls_records(ctx, dir, data + off, len - off, &used);
    *consumed = off + used;
    return rc;
}

/* .finish: the flow ends. A hello still incomplete in either direction is flagged; what its
 * first bytes gave (cut_version, tls_record.c) stays for the record, unless a whole hello of
 * that side came after all. */
static void tls_finish(struct ta_ctx *ctx)
{
    struct ta_hs *hs = &ctx->hs;
    for (int d = TA_DIR_C2S; d <= TA_DIR_S2C; d++) {
        const struct tls_dir_state *st = ta__tls_state(ctx, (enum ta_dir)d);
        if (ctx->owner[d] == TA_DIS_TLS && (st->flags & TLS_F_PENDING))
            hs->anomalies |= TA_AN_TRUNCATED_HELLO;
    }
    if ((hs->ch.cut_version && !hs->ch.present) || (hs->sh.cut_version && !hs->sh.present))
        hs->anomalies |= TA_AN_TRUNCATED_HELLO;
}

/* The hello fields the strict probe checks, inside the first record's payload c: handshake
 * type, length, legacy_version, session id length and (ClientHello) cipher suites length.
 * The message may be longer than its record (it then continues in the next records). */
static int probe_hello_body(struct ta_cur c, bool want_client)
{
    uint8_t t, sid_len;
    uint32_t hlen;
    uint16_t ver, cs_len;
    if (!ta_cur_u8(&c, &t) || !ta_cur_u24(&c, &hlen))
        return TA_NEED_MORE;
    if (t != (want_client ? TLS_HT_CLIENT_HELLO : TLS_HT_SERVER_HELLO) || hlen < TLS_HELLO_MIN ||
        hlen > TLS_SCRATCH_MAX)
        return TA_UNSUPPORTED;
    if (!ta_cur_u16(&c, &ver))
        return TA_NEED_MORE;
    if (ver < 0x0300 || ver > 0x0304)
        return TA_UNSUPPORTED;
    if (!ta_cur_skip(&c, 32) || !ta_cur_u8(&c, &sid_len))
        return TA_NEED_MORE;
    if (sid_len > 32)
        return TA_UNSUPPORTED;
    if (!want_client)
        return TA_OK;
    if (!ta_cur_skip(&c, sid_len) || !ta_cur_u16(&c, &cs_len))
        return TA_NEED_MORE;
    return cs_len != 0 && cs_len % 2 == 0 ? TA_OK : TA_UNSUPPORTED;
}

/* Strict "does data begin with a ClientHello (or ServerHello) record?" (dissector.h). Answers
 * TA_NEED_MORE while the bytes needed for a check are missing from both data and record. */
int ta_tls_probe_hello(const uint8_t *data, size_t len, bool want_client)
{
    struct ta_cur c = ta_cur_make(data, len), pay;
    uint8_t type;
    uint16_t ver, rlen;
    int rc;
    if (!ta_cur_u8(&c, &type) || !ta_cur_u16(&c, &ver) || !ta_cur_u16(&c, &rlen)) {
        rc = tls_record_prefix(data, len, true);
        return rc == TA_UNSUPPORTED ? TA_UNSUPPORTED : TA_NEED_MORE;
    }
    if (type != TLS_CT_HANDSHAKE || ver < 0x0300 || ver > 0x0304 || rlen < 4 ||
        rlen > TLS_RECORD_MAX)
        return TA_UNSUPPORTED;
    /* The checks look only inside the record: what lies past it is another record. */
    pay = c;
    if (ta_cur_left(&pay) > rlen)
        pay.end = pay.p + rlen;
    rc = probe_hello_body(pay, want_client);
    if (rc == TA_NEED_MORE && ta_cur_left(&c) >= rlen)
        return TA_OK;   /* record complete: the fields past it are in the next record */
    return rc;
}

const struct ta_dissector ta_dissector_tls = {
    .name = "tls",
    .id = TA_DIS_TLS,
    .probe = tls_probe,
    .start = tls_start,
    .feed = tls_feed,
    .finish = tls_finish,
};
