/* tls_hello.c - ClientHello and ServerHello bodies (RFC 8446 4.1.2-4.1.4, RFC 5246 7.4.1).
 *
 * Strict: every length-prefixed block must be consumed exactly. What was parsed before an error
 * is kept (the row still says "ClientHello") and the error is recorded as an anomaly. Values are
 * stored raw (GREASE, drafts 0x7Fxx, Facebook 0xFBxx): labels are derived later. */
#include <string.h>

#include "tls_int.h"

/* RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello whose random is SHA-256("HelloRetryRequest"). */
static const uint8_t tls_hrr_random[32] = {
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C
};

#define TLS_SCSV_RENEG 0x00FFu     /* RFC 5746 3.3 TLS_EMPTY_RENEGOTIATION_INFO_SCSV */
#define TLS_SCSV_FALLBACK 0x5600u  /* RFC 7507 TLS_FALLBACK_SCSV */

/* True when the final ServerHello selected TLS 1.3 (0x0304), a draft (0x7Fxx) or a Facebook
 * variant (0xFBxx): the rest of the server's flight is encrypted. */
bool ta__tls_is13(const struct ta_server_hello *sh)
{
    uint16_t v = sh->selected_version ? sh->selected_version : sh->legacy_version;
    if (sh->sslv2)
        return false;
    return v == 0x0304 || (v >> 8) == 0x7F || (v >> 8) == 0xFB;
}

/* Append an extension type to a capped list (wire order). */
void ta__tls_ext_push(struct ta_hs *hs, uint16_t *arr, uint8_t *n, uint16_t type)
{
    if (*n < TA_MAX_EXTS)
        arr[(*n)++] = type;
    else
        hs->anomalies |= TA_AN_LIST_CAPPED;
}

/* Walk an extensions block: type, then a 2-byte length and that many bytes, until the block is
 * used up. Each type goes to the hello's list; its body to the client or server parser. A bad
 * extension is recorded and skipped; a bad frame stops the walk. */
static void hello_exts(struct ta_hs *hs, struct ta_cur exts, bool client)
{
    while (!ta_cur_empty(&exts)) {
        uint16_t type;
        struct ta_cur body;
        bool ok;
        if (!ta_cur_u16(&exts, &type) || !ta_cur_vec16(&exts, &body)) {
            hs->anomalies |= TA_AN_BAD_EXTENSION;
            return;
        }
        if (client)
            ta__tls_ext_push(hs, hs->ch.exts, &hs->ch.nexts, type);
        else
            ta__tls_ext_push(hs, hs->sh.exts, &hs->sh.nexts, type);
        ok = client ? ta__tls_ext_client(hs, type, body) : ta__tls_ext_server(hs, type, body);
        if (!ok)
            hs->anomalies |= TA_AN_BAD_EXTENSION;
    }
}

/* The optional extensions block that ends a hello (absent in SSL 3.0 style hellos). A block
 * whose length overruns the message is still walked as far as it goes, flagged. */
static void hello_ext_block(struct ta_hs *hs, struct ta_cur *body, bool client)
{
    struct ta_cur exts;
    if (ta_cur_empty(body))
        return;
    if (!ta_cur_vec16(body, &exts)) {
        hs->anomalies |= TA_AN_BAD_EXTENSION;
        if (!ta_cur_skip(body, 2))
            return;
        exts = *body;
        body->p = body->end;
    }
    if (!ta_cur_empty(body))
        hs->anomalies |= TA_AN_BAD_EXTENSION;   /* trailing bytes after the block */
    hello_exts(hs, exts, client);
}

/* cipher_suites<2..2^16-2>: every suite in wire order (capped); the SCSVs set their flags. */
static bool hello_ciphers(struct ta_hs *hs, struct ta_cur *body)
{
    struct ta_client_hello *ch = &hs->ch;
    struct ta_cur v;
    uint16_t id;
    if (!ta_cur_vec16(body, &v) || ta_cur_left(&v) % 2 != 0 || ta_cur_empty(&v))
        return false;
    while (ta_cur_u16(&v, &id)) {
        if (id == TLS_SCSV_RENEG)
            ch->reneg_info = true;
        else if (id == TLS_SCSV_FALLBACK)
            ch->fallback_scsv = true;
        if (ch->nciphers < TA_MAX_CIPHERS)
            ch->ciphers[ch->nciphers++] = id;
        else
            hs->anomalies |= TA_AN_LIST_CAPPED;
    }
    return true;
}

/* ClientHello (RFC 8446 4.1.2): legacy_version, random, legacy_session_id<0..32>,
 * cipher_suites, legacy_compression_methods<1..2^8-1>, extensions. The session id is kept in
 * this direction's state so the ServerHello can tell a TLS <= 1.2 resumption, and the start of
 * the random so a second ClientHello that answers a HelloRetryRequest is known without it. */
void ta__tls_client_hello(struct ta_ctx *ctx, enum ta_dir dir, struct ta_cur body,
                          uint16_t record_version)
{
    struct ta_hs *hs = &ctx->hs;
    struct ta_client_hello *ch = &hs->ch;
    struct tls_dir_state *st = ta__tls_state(ctx, dir);
    struct ta_cur sid, comp;
    struct ta_slice s, random;
    uint16_t ver;
    if (!ta_cur_u16(&body, &ver) || !ta_cur_slice(&body, 32, &random)) {
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
        return;
    }
    memcpy(st->random8, random.ptr, sizeof st->random8);
    st->flags |= TLS_F_RANDOM;
    ch->present = true;
    ch->record_version = record_version;
    ch->legacy_version = ver;
    ch->ts_us = hs->ts_last_us;
    if (!ta_cur_vec8(&body, &sid) || ta_cur_left(&sid) > sizeof st->sid)
        goto bad;
    ch->session_id_len = (uint8_t)ta_cur_left(&sid);
    (void)ta_cur_slice(&sid, ta_cur_left(&sid), &s);
    memcpy(st->sid, s.ptr, s.len);
    st->sid_len = (uint8_t)s.len;
    st->flags |= TLS_F_SID;
    if (!hello_ciphers(hs, &body))
        goto bad;
    if (!ta_cur_vec8(&body, &comp) || ta_cur_empty(&comp))
        goto bad;
    ch->compression_methods = (uint8_t)ta_cur_left(&comp);
    hello_ext_block(hs, &body, true);
    return;
bad:
    hs->anomalies |= TA_AN_BAD_HANDSHAKE;
}

/* TLS 1.3 drafts before 22 sent a ServerHello without legacy_session_id and compression
 * (draft-ietf-tls-tls13-21 4.1.3): version, random, cipher_suite, extensions. */
static void server_hello_draft(struct ta_hs *hs, struct ta_cur *body)
{
    if (!ta_cur_u16(body, &hs->sh.cipher)) {
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
        return;
    }
    hello_ext_block(hs, body, false);
}

/* ServerHello (RFC 8446 4.1.3). A HelloRetryRequest (special random) only sets sh.hrr: the final
 * ServerHello comes after the second ClientHello. resumed: TLS 1.3 by pre_shared_key (set by the
 * extension), TLS <= 1.2 by the client's non-empty session id being echoed. */
void ta__tls_server_hello(struct ta_ctx *ctx, enum ta_dir dir, struct ta_cur body,
                          uint16_t record_version)
{
    struct ta_hs *hs = &ctx->hs;
    struct ta_server_hello *sh = &hs->sh;
    const struct tls_dir_state *cst = ta__tls_state(ctx, dir == TA_DIR_C2S ? TA_DIR_S2C : TA_DIR_C2S);
    struct ta_slice random, s;
    struct ta_cur sid;
    uint16_t ver;
    if (!ta_cur_u16(&body, &ver) || !ta_cur_slice(&body, 32, &random)) {
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
        return;
    }
    if (memcmp(random.ptr, tls_hrr_random, sizeof tls_hrr_random) == 0) {
        sh->hrr = true;
        return;
    }
    sh->present = true;
    sh->record_version = record_version;
    sh->legacy_version = ver;
    sh->ts_us = hs->ts_last_us;
    if ((ver >> 8) == 0x7F && (ver & 0xFF) < 22) {
        server_hello_draft(hs, &body);
        return;
    }
    if (!ta_cur_vec8(&body, &sid) || ta_cur_left(&sid) > 32 || !ta_cur_u16(&body, &sh->cipher) ||
        !ta_cur_u8(&body, &sh->compression)) {
        hs->anomalies |= TA_AN_BAD_HANDSHAKE;
        return;
    }
    hello_ext_block(hs, &body, false);
    (void)ta_cur_slice(&sid, ta_cur_left(&sid), &s);
    if (!ta__tls_is13(sh) && s.len > 0 && (cst->flags & TLS_F_SID) && s.len == cst->sid_len &&
        memcmp(s.ptr, cst->sid, s.len) == 0)
        sh->resumed = true;
}
