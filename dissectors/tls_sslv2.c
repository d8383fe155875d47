/* tls_sslv2.c - SSLv2 CLIENT-HELLO (pure or SSLv3/TLS-compatible) and SERVER-HELLO.
 * Netscape SSL 2.0 (draft-hickman-netscape-ssl-00 sections 2.1, 2.5), RFC 6101 appendix E.2
 * and RFC 5246 appendix E.2 (backward-compatible CLIENT-HELLO).
 *
 * Only the first record of a direction can be SSLv2. After a compatible CLIENT-HELLO the client
 * goes on with TLS records; after a pure SSLv2 one (version 0x0002) we want nothing more. */
#include <string.h>

#include "tls_int.h"

enum {
    SSLV2_MT_ERROR = 0,
    SSLV2_MT_CLIENT_HELLO = 1,
    SSLV2_MT_SERVER_HELLO = 4
};

#define SSLV2_VERSION 0x0002u
#define SSLV2_CH_FIXED 9u     /* msg type, version, three lengths */
#define SSLV2_SH_FIXED 11u    /* msg type, hit, cert type, version, three lengths */

/* An SSLv2 record header: 2-byte form (high bit set, 15-bit length) or 3-byte form (14-bit
 * length and a padding count). Returns TA_OK with the header length and body length,
 * TA_NEED_MORE, or TA_UNSUPPORTED for a first byte no SSLv2 header has. */
static int v2_header(struct ta_cur *c, size_t *hdr, size_t *body, uint8_t *pad)
{
    uint8_t b0, b1;
    *pad = 0;
    if (!ta_cur_peek8(c, 0, &b0))
        return TA_NEED_MORE;
    if (!(b0 & 0x80) && (b0 & 0x40))
        return TA_UNSUPPORTED;   /* 3-byte form with the "security escape" bit: never a hello */
    if (!ta_cur_peek8(c, 1, &b1))
        return TA_NEED_MORE;
    if (b0 & 0x80) {
        *hdr = 2;
        *body = ((size_t)(b0 & 0x7F) << 8) | b1;
    } else {
        *hdr = 3;
        *body = ((size_t)(b0 & 0x3F) << 8) | b1;
    }
    if (ta_cur_left(c) < *hdr)
        return TA_NEED_MORE;
    if (*hdr == 3)
        (void)ta_cur_peek8(c, 2, pad);
    return TA_OK;
}

/* Does data begin with an SSLv2 CLIENT-HELLO or SERVER-HELLO? Checks the header, the message
 * type and the version field. TA_OK, TA_NEED_MORE or TA_UNSUPPORTED. Pure. */
int ta__tls_sslv2_probe(const uint8_t *data, size_t len)
{
    struct ta_cur c = ta_cur_make(data, len);
    size_t hdr, body;
    uint8_t mt, b, pad;
    uint16_t ver;
    int rc = v2_header(&c, &hdr, &body, &pad);
    if (rc != TA_OK)
        return rc;
    (void)ta_cur_skip(&c, hdr);
    if (!ta_cur_u8(&c, &mt))
        return TA_NEED_MORE;
    if (mt == SSLV2_MT_CLIENT_HELLO) {
        if (body < SSLV2_CH_FIXED)
            return TA_UNSUPPORTED;
        if (!ta_cur_u16(&c, &ver))
            return TA_NEED_MORE;
        return ver == SSLV2_VERSION || (ver >= 0x0300 && ver <= 0x0304) ? TA_OK : TA_UNSUPPORTED;
    }
    if (mt == SSLV2_MT_SERVER_HELLO && hdr == 2 && body >= SSLV2_SH_FIXED) {
        if (!ta_cur_u8(&c, &b))
            return TA_NEED_MORE;
        if (b > 1)
            return TA_UNSUPPORTED;   /* session_id_hit is a boolean */
        if (!ta_cur_skip(&c, 1) || !ta_cur_u16(&c, &ver))
            return TA_NEED_MORE;
        return ver == SSLV2_VERSION ? TA_OK : TA_UNSUPPORTED;
    }
    return TA_UNSUPPORTED;
}

/* The 3-byte cipher specs of a CLIENT-HELLO. Pure SSLv2 keeps them all in ciphers_v2; a spec
 * whose first byte is 0 is a TLS suite (RFC 5246 E.2) and also goes to ciphers. */
static void v2_client_specs(struct ta_hs *hs, struct ta_cur specs, bool pure)
{
    struct ta_client_hello *ch = &hs->ch;
    uint8_t b0;
    uint16_t id;
    while (ta_cur_u8(&specs, &b0) && ta_cur_u16(&specs, &id)) {
        if (pure) {
            if (ch->nciphers_v2 < TA_MAX_CIPHERS)
                ch->ciphers_v2[ch->nciphers_v2++] = ((uint32_t)b0 << 16) | id;
            else
                hs->anomalies |= TA_AN_LIST_CAPPED;
        }
        if (b0 != 0)
            continue;
        if (id == 0x00FF)
            ch->reneg_info = true;
        else if (id == 0x5600)
            ch->fallback_scsv = true;
        if (ch->nciphers < TA_MAX_CIPHERS)
            ch->ciphers[ch->nciphers++] = id;
        else
            hs->anomalies |= TA_AN_LIST_CAPPED;
    }
}

/* CLIENT-HELLO body: version, cipher_specs_length, session_id_length, challenge_length, then
 * the three blocks. Returns true for a pure SSLv2 hello (nothing more to read from it). */
static bool v2_client_hello(struct ta_ctx *ctx, enum ta_dir dir, struct ta_cur c)
{
    struct ta_hs *hs = &ctx->hs;
    struct tls_dir_state *st = ta__tls_state(ctx, dir);
    uint16_t ver, cs_len, sid_len, chal_len;
    struct ta_cur specs, sid;
    struct ta_slice s;
    if (!ta_cur_u16(&c, &ver) || !ta_cur_u16(&c, &cs_len) || !ta_cur_u16(&c, &sid_len) ||
        !ta_cur_u16(&c, &chal_len)) {
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
        return true;
    }
    st->flags |= TLS_F_HELLO;
    if (hs->ch.present) {
        hs->anomalies |= TA_AN_DUPLICATE_HELLO;
        return ver == SSLV2_VERSION;
    }
    hs->ch.present = true;
    hs->ch.sslv2 = true;
    hs->ch.record_version = SSLV2_VERSION;
    hs->ch.legacy_version = ver;
    hs->ch.ts_us = hs->ts_last_us;
    if (cs_len % 3 != 0 || sid_len > sizeof st->sid || !ta_cur_sub(&c, cs_len, &specs) ||
        !ta_cur_sub(&c, sid_len, &sid) || !ta_cur_skip(&c, chal_len) || !ta_cur_empty(&c)) {
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
        return ver == SSLV2_VERSION;
    }
    v2_client_specs(hs, specs, ver == SSLV2_VERSION);
    hs->ch.session_id_len = (uint8_t)sid_len;
    if (!ta_cur_slice(&sid, sid_len, &s))
        return ver == SSLV2_VERSION;   /* cannot happen: sid holds sid_len bytes */
    memcpy(st->sid, s.ptr, s.len);
    st->sid_len = (uint8_t)s.len;
    st->flags |= TLS_F_SID;
    return ver == SSLV2_VERSION;
}

/* SERVER-HELLO body: session_id_hit, certificate_type, version, certificate_length,
 * cipher_specs_length, connection_id_length, then the blocks. The server's first cipher spec is
 * the chosen one; an X.509 certificate (type 1) is parsed. */
static void v2_server_hello(struct ta_ctx *ctx, enum ta_dir dir, struct ta_cur c)
{
    struct ta_hs *hs = &ctx->hs;
    uint8_t hit, cert_type, b0;
    uint16_t ver, cert_len, cs_len, conn_len, id;
    struct ta_cur cert = { NULL, NULL }, specs = { NULL, NULL };   /* empty if the frame is short */
    struct ta_slice s;
    ta__tls_state(ctx, dir)->flags |= TLS_F_HELLO | TLS_F_SERVER;
    if (!ta_cur_u8(&c, &hit) || !ta_cur_u8(&c, &cert_type) || !ta_cur_u16(&c, &ver) ||
        !ta_cur_u16(&c, &cert_len) || !ta_cur_u16(&c, &cs_len) || !ta_cur_u16(&c, &conn_len)) {
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
        return;
    }
    if (hs->sh.present) {
        hs->anomalies |= TA_AN_DUPLICATE_HELLO;
        return;
    }
    hs->sh.present = true;
    hs->sh.sslv2 = true;
    hs->sh.record_version = SSLV2_VERSION;
    hs->sh.legacy_version = ver;
    hs->sh.resumed = hit != 0;
    hs->sh.ts_us = hs->ts_last_us;
    if (!ta_cur_sub(&c, cert_len, &cert) || !ta_cur_sub(&c, cs_len, &specs) ||
        !ta_cur_skip(&c, conn_len) || !ta_cur_empty(&c) || cs_len % 3 != 0)
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
    if (ta_cur_u8(&specs, &b0) && ta_cur_u16(&specs, &id))
        hs->sh.cipher_v2 = ((uint32_t)b0 << 16) | id;
    if (cert_len > 0 && ta_cur_left(&cert) == cert_len) {
        hs->cert.present = true;
        hs->cert.chain_len = 1;
        (void)ta_cur_slice(&cert, cert_len, &s);
        if (cert_type != 1 ||
            !ta__tls_cert_der(ctx->mem ? ctx->mem->certs : NULL, hs, s.ptr, s.len))
            hs->anomalies |= TA_AN_CERT_UNPARSED;
    }
}

/* The first record of a direction, known (by ta__tls_sslv2_probe) to be an SSLv2 hello.
 * Consumes it whole: TA_OK (a compatible CLIENT-HELLO: TLS records follow), TA_DONE (pure
 * SSLv2 hello or SERVER-HELLO: nothing more to learn), TA_MALFORMED. Until the record is
 * complete: TA_OK with nothing consumed. */
int ta__tls_sslv2_feed(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                       size_t *consumed)
{
    struct tls_dir_state *st = ta__tls_state(ctx, dir);
    struct ta_cur c = ta_cur_make(data, len), body;
    size_t hdr, blen;
    uint8_t mt, pad;
    *consumed = 0;
    if (v2_header(&c, &hdr, &blen, &pad) != TA_OK || !ta_cur_skip(&c, hdr))
        return TA_NEED_MORE;
    if (!ta_cur_sub(&c, blen, &body))
        return TA_NEED_MORE;
    st->flags |= TLS_F_RECORD;
    *consumed = hdr + blen;
    if (!ta_cur_u8(&body, &mt))
        mt = SSLV2_MT_ERROR;
    if (mt == SSLV2_MT_CLIENT_HELLO) {
        /* 3-byte header form: the last pad bytes of the record are padding, not hello. */
        if (pad <= ta_cur_left(&body))
            body.end -= pad;
        if (!v2_client_hello(ctx, dir, body)) {
            st->phase = TLS_PH_RECORDS;
            return TA_OK;
        }
    } else if (mt == SSLV2_MT_SERVER_HELLO) {
        v2_server_hello(ctx, dir, body);
        ctx->hs.handshake_done = true;
    }
    /* Anything else (ERROR, a later SSLv2 message) teaches us nothing. */
    st->phase = TLS_PH_DONE;
    *consumed = len;
    return TA_DONE;
}
