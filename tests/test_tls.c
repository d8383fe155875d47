/* test_tls.c - unit tests of the TLS dissector on hand-built hellos: whole, split at every
 * offset, byte by byte, several messages per record, one message over three records, corrupted
 * length fields, alerts, HelloRetryRequest, resumption, SSLv2, certificates, the strict probe,
 * hellos cut short (what their first bytes prove). */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "check.h"
#include "dis_mem_fixture.h"
#include "tls_int.h"
#include "test_tls_build.h"

/* Engine simulation for one direction: keep what the dissector did not consume, append the next
 * chunk, feed again; stop after TA_DONE or an error. */
struct sim {
    uint8_t buf[BLD_MAX * 2];
    size_t n;
    int rc;
};

static int sim_feed(struct ta_ctx *ctx, enum ta_dir d, struct sim *s, const uint8_t *p, size_t len)
{
    size_t used = 0;
    if (s->rc == TA_DONE || s->rc < 0)
        return s->rc;
    memcpy(s->buf + s->n, p, len);
    s->n += len;
    s->rc = ta_dissector_tls.feed(ctx, d, s->buf, s->n, &used);
    CHECK(used <= s->n);
    if (used > s->n)
        used = s->n;
    memmove(s->buf, s->buf + used, s->n - used);
    s->n -= used;
    return s->rc;
}

static struct sim sim_c, sim_s;
static struct ta_ctx ref_ctx, ctx;
static struct bld bb;
static uint8_t wire[BLD_MAX * 2];

static void ctx_reset(struct ta_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->mem = test_dis_mem();
    memset(&sim_c, 0, sizeof sim_c);
    memset(&sim_s, 0, sizeof sim_s);
    ta_dissector_tls.start(c);
}

/* Build a ClientHello and wrap it in records of at most frag bytes; returns the wire length. */
static size_t make_ch(size_t frag)
{
    memset(&bb, 0, sizeof bb);
    b_client_hello(&bb, 0x11, 0x001D);
    return b_records(wire, 22, bb.b, bb.n, frag);
}

static void check_ch_fields(const struct ta_hs *hs)
{
    const struct ta_client_hello *ch = &hs->ch;
    CHECK(ch->present);
    CHECK(!ch->sslv2);
    CHECK_INT(ch->record_version, 0x0301);
    CHECK_INT(ch->legacy_version, 0x0303);
    CHECK_INT(ch->session_id_len, 32);
    CHECK_INT(ch->nciphers, 5);
    CHECK_INT(ch->ciphers[0], 0x1A1A);
    CHECK_INT(ch->ciphers[4], 0x5600);
    CHECK(ch->reneg_info);
    CHECK(ch->fallback_scsv);
    CHECK_INT(ch->compression_methods, 1);
    CHECK_INT(ch->nexts, 11);
    CHECK_INT(ch->exts[0], 0);
    CHECK_INT(ch->exts[10], 0xFF01);
    CHECK_STR(ch->sni, "example.com");
    CHECK_INT(ch->ngroups, 3);
    CHECK_INT(ch->groups[1], 0x001D);
    CHECK_INT(ch->npoint_formats, 1);
    CHECK_INT(ch->nsigalgs, 2);
    CHECK_INT(ch->sigalgs[1], 0x0804);
    CHECK_STR(ch->alpn, "h2,http/1.1");
    CHECK(ch->etm);
    CHECK(ch->ems);
    CHECK(ch->session_ticket);
    CHECK(!ch->session_ticket_data);
    CHECK(!ch->psk);
    CHECK(ch->has_supported_versions);
    CHECK_INT(ch->nversions, 3);
    CHECK_INT(ch->versions[1], 0x0304);
    CHECK_INT(ch->nkey_shares, 1);
    CHECK_INT(ch->key_shares[0], 0x001D);
    CHECK_INT(hs->anomalies, 0);
    CHECK(!hs->handshake_done);
}

/* Whole, split at every offset into two feeds, byte by byte: identical results. */
static void test_client_hello_splits(void)
{
    size_t len = make_ch(16384);
    ctx_reset(&ref_ctx);
    CHECK_INT(sim_feed(&ref_ctx, TA_DIR_C2S, &sim_c, wire, len), TA_OK);
    CHECK_INT(sim_c.n, 0);
    check_ch_fields(&ref_ctx.hs);
    CHECK_INT(ref_ctx.hs.app, TA_APP_TLS);

    int same = 1;
    for (size_t cut = 0; cut <= len; cut++) {
        ctx_reset(&ctx);
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, cut);
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire + cut, len - cut);
        if (memcmp(&ctx.hs, &ref_ctx.hs, sizeof ctx.hs) != 0 || sim_c.n != 0) {
            same = 0;
            fprintf(stderr, "split at %zu differs\n", cut);
        }
    }
    CHECK(same);
    ctx_reset(&ctx);
    for (size_t i = 0; i < len; i++)
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire + i, 1);
    CHECK(memcmp(&ctx.hs, &ref_ctx.hs, sizeof ctx.hs) == 0);
    CHECK_INT(sim_c.n, 0);
}

/* One ClientHello over three records, also split at every offset and byte by byte. */
static void test_three_records(void)
{
    size_t frag, len;
    memset(&bb, 0, sizeof bb);
    b_client_hello(&bb, 0x11, 0x001D);
    frag = (bb.n + 2) / 3;
    len = b_records(wire, 22, bb.b, bb.n, frag);
    CHECK_INT(len, bb.n + 15);
    ctx_reset(&ctx);
    CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len), TA_OK);
    check_ch_fields(&ctx.hs);
    CHECK(memcmp(&ctx.hs, &ref_ctx.hs, sizeof ctx.hs) == 0);
    int same = 1;
    for (size_t cut = 0; cut <= len; cut++) {
        ctx_reset(&ctx);
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, cut);
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire + cut, len - cut);
        if (memcmp(&ctx.hs, &ref_ctx.hs, sizeof ctx.hs) != 0)
            same = 0;
    }
    CHECK(same);
    ctx_reset(&ctx);
    for (size_t i = 0; i < len; i++)
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire + i, 1);
    CHECK(memcmp(&ctx.hs, &ref_ctx.hs, sizeof ctx.hs) == 0);
    /* A message cut short when the flow ends is a truncated hello. */
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len - 1);
    CHECK(!ctx.hs.ch.present);
    ta_dissector_tls.finish(&ctx);
    CHECK(ctx.hs.anomalies & TA_AN_TRUNCATED_HELLO);
}

/* A hello whose rest never arrives (a snap length that cut its segment, segments lost): what
 * its first bytes prove is kept, and nothing more. Record header (5) + handshake header (4) +
 * legacy_version (2) are the 11 bytes needed; the version is patched at offset 9. */
static void test_cut_hellos(void)
{
    static const struct { uint16_t ver, proves; } cv[] = {
        { 0x0301, 0x0301 }, { 0x0302, 0x0302 }, { 0x0300, 0x0300 }, { 0x0303, 0 },
    };
    size_t len;
    for (size_t i = 0; i < TA_ARRAY_LEN(cv); i++) {
        len = make_ch(16384);
        wire[9] = (uint8_t)(cv[i].ver >> 8), wire[10] = (uint8_t)cv[i].ver;
        ctx_reset(&ctx);
        CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, 14), TA_OK);
        ta_dissector_tls.finish(&ctx);
        CHECK(!ctx.hs.ch.present);
        CHECK_INT(ctx.hs.ch.cut_version, cv[i].ver);
        CHECK(ctx.hs.anomalies & TA_AN_TRUNCATED_HELLO);
        CHECK(ta_hs_has_hello(&ctx.hs));
        CHECK_INT(ta_hs_client_max_version(&ctx.hs), cv[i].proves);
        CHECK_INT(ta_hs_negotiated_version(&ctx.hs), 0);
        CHECK(!ta_hs_server_answered(&ctx.hs));
        /* the same hello arriving whole after all: the whole one wins */
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire + 14, len - 14);
        CHECK(ctx.hs.ch.present);
        CHECK_INT(ta_hs_client_max_version(&ctx.hs), 0x0304);   /* supported_versions */
    }
    /* Ten bytes: the version is not all there, nothing is kept. */
    make_ch(16384);
    wire[9] = 3, wire[10] = 1;
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, 10);
    ta_dissector_tls.finish(&ctx);
    CHECK_INT(ctx.hs.ch.cut_version, 0);
    CHECK(!ta_hs_has_hello(&ctx.hs));
    CHECK_INT(ta_hs_client_max_version(&ctx.hs), 0);
    /* A ServerHello cut short: TLS 1.0 and 1.1 are proved negotiated, 0x0303 proves nothing. */
    for (int v = 0x0301; v <= 0x0303; v++) {
        memset(&bb, 0, sizeof bb);
        b_server_hello(&bb, 0x11, 0, 0);
        len = b_records(wire, 22, bb.b, bb.n, 16384);
        CHECK(len > 11);           /* fed below cut to its first 11 bytes */
        wire[9] = 3, wire[10] = (uint8_t)v;
        ctx_reset(&ctx);
        sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire, 11);
        ta_dissector_tls.finish(&ctx);
        CHECK(!ctx.hs.sh.present);
        CHECK_INT(ctx.hs.sh.cut_version, v);
        CHECK(ta_hs_server_answered(&ctx.hs));
        CHECK_INT(ta_hs_negotiated_version(&ctx.hs), v < 0x0303 ? v : 0);
    }
    /* A handshake message that is not a hello (a Certificate) cut short keeps nothing. */
    memset(&bb, 0, sizeof bb);
    b_u8(&bb, 11); b_u24(&bb, 300); b_u16(&bb, 0x0301); b_fill(&bb, 0, 298);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    CHECK(len > 20);               /* fed below cut to its first 20 bytes */
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire, 20);
    ta_dissector_tls.finish(&ctx);
    CHECK_INT(ctx.hs.sh.cut_version, 0);
    CHECK_INT(ctx.hs.ch.cut_version, 0);
    CHECK(!ta_hs_has_hello(&ctx.hs));
}

/* A self-signed EC certificate with the CN cn (cnlen bytes, NULs allowed) and DNS/IP SANs, as
 * DER into out. */
static size_t make_cert_cn(uint8_t *out, size_t cap, const char *cn, int cnlen)
{
    EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = X509_new();
    X509_NAME *n = X509_get_subject_name(x);
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    unsigned char *p = out;
    int len;
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    ASN1_TIME_set(X509_getm_notBefore(x), 1700000000);
    ASN1_TIME_set(X509_getm_notAfter(x), 1800000000);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Test Org", -1, -1, 0);
    CHECK(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, cnlen, -1, 0));
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, pk);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
                              "DNS:mail.example.com,DNS:smtp.example.com,IP:192.0.2.7,IP:2001:db8::1");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    X509_sign(x, pk, EVP_sha256());
    len = i2d_X509(x, NULL);
    CHECK(len > 0 && (size_t)len <= cap);
    i2d_X509(x, &p);
    X509_free(x);
    EVP_PKEY_free(pk);
    return (size_t)len;
}

static size_t make_cert(uint8_t *out, size_t cap)
{
    return make_cert_cn(out, cap, "mail.example.com", -1);
}

/* ServerHello + Certificate + ServerHelloDone in one record, split at every offset. */
static void test_server_flight(void)
{
    static uint8_t der[2048];
    size_t dlen = make_cert(der, sizeof der), len;
    struct ta_ctx ref;
    memset(&bb, 0, sizeof bb);
    b_server_hello(&bb, 0x11, 0, 0);
    b_u8(&bb, 11); b_open(&bb, 3); b_open(&bb, 3); b_open(&bb, 3); b_bytes(&bb, der, dlen);
    b_close(&bb); b_open(&bb, 3); b_bytes(&bb, der, dlen); b_close(&bb); b_close(&bb); b_close(&bb);
    b_u8(&bb, 14); b_u24(&bb, 0);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    size_t chlen;
    static uint8_t chwire[4096];
    memset(&bb, 0, sizeof bb);
    b_client_hello(&bb, 0x11, 0x001D);
    chlen = b_records(chwire, 22, bb.b, bb.n, 16384);

    ctx_reset(&ref);
    sim_feed(&ref, TA_DIR_C2S, &sim_c, chwire, chlen);
    CHECK_INT(sim_feed(&ref, TA_DIR_S2C, &sim_s, wire, len), TA_DONE);
    const struct ta_hs *hs = &ref.hs;
    CHECK(hs->sh.present);
    CHECK_INT(hs->sh.legacy_version, 0x0303);
    CHECK_INT(hs->sh.cipher, 0xC02F);
    CHECK_INT(hs->sh.nexts, 3);
    CHECK(hs->sh.reneg_info);
    CHECK(hs->sh.ems);
    CHECK(!hs->sh.etm);
    CHECK_STR(hs->sh.alpn, "h2");
    CHECK(hs->sh.resumed);      /* session id 0x11.. echoed */
    CHECK(hs->handshake_done);
    CHECK(hs->cert.present);
    CHECK_INT(hs->cert.chain_len, 2);
    CHECK_STR(hs->cert.subject_cn, "mail.example.com");
    CHECK_STR(hs->cert.issuer, "CN=mail.example.com,O=Test Org");
    CHECK_STR(hs->cert.sans, "mail.example.com,smtp.example.com,192.0.2.7,2001:db8::1");
    CHECK_INT(hs->cert.not_before, 1700000000);
    CHECK_INT(hs->cert.not_after, 1800000000);
    CHECK_STR(hs->cert.key_type, "EC");
    CHECK_INT(hs->cert.key_bits, 256);
    CHECK_INT(hs->anomalies, 0);

    int same = 1;
    for (size_t cut = 0; cut <= len; cut++) {
        ctx_reset(&ctx);
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, chwire, chlen);
        sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire, cut);
        sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire + cut, len - cut);
        if (memcmp(&ctx.hs, &ref.hs, sizeof ctx.hs) != 0 || sim_s.rc != TA_DONE)
            same = 0;
    }
    CHECK(same);
    /* The same flight in 100-byte records, byte by byte. */
    {
        static uint8_t msgs[BLD_MAX];
        size_t mlen = 0, o = 0;
        while (o < len) {   /* unwrap the records built above */
            size_t rl = ((size_t)wire[o + 3] << 8) | wire[o + 4];
            memcpy(msgs + mlen, wire + o + 5, rl);
            mlen += rl;
            o += 5 + rl;
        }
        len = b_records(wire, 22, msgs, mlen, 100);
    }
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, chwire, chlen);
    for (size_t i = 0; i < len; i++)
        sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire + i, 1);
    CHECK(memcmp(&ctx.hs, &ref.hs, sizeof ctx.hs) == 0);
    CHECK_INT(sim_s.rc, TA_DONE);
}

/* Every length field +1, -1, 0xFFFF.., 0: no crash, and an anomaly (after finish) or an error. */
static void test_corrupt_lengths(void)
{
    static struct bld orig;
    static const int deltas[] = { 1, -1, 0x7FFFFFFF, -0x7FFFFFFF };
    int quiet = 0, total = 0;
    memset(&orig, 0, sizeof orig);
    b_client_hello(&orig, 0x11, 0x001D);
    for (int i = 0; i < orig.nlens; i++) {
        for (size_t k = 0; k < TA_ARRAY_LEN(deltas); k++) {
            uint8_t msg[BLD_MAX];
            size_t at = orig.len_at[i], len;
            int w = orig.len_w[i];
            uint32_t v = 0;
            memcpy(msg, orig.b, orig.n);
            for (int j = 0; j < w; j++)
                v = (v << 8) | msg[at + (size_t)j];
            if (deltas[k] == 0x7FFFFFFF)
                v = 0xFFFFFFFFu;
            else if (deltas[k] == -0x7FFFFFFF)
                v = 0;
            else
                v = (uint32_t)((int64_t)v + deltas[k]);
            for (int j = w - 1; j >= 0; j--, v >>= 8)
                msg[at + (size_t)j] = (uint8_t)(v & 0xFF);
            if (memcmp(msg, orig.b, orig.n) == 0)
                continue;   /* e.g. 0 on an already empty block */
            len = b_records(wire, 22, msg, orig.n, 16384);
            for (size_t cut = 0; cut <= len; cut += 7) {
                ctx_reset(&ctx);
                sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, cut);
                sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire + cut, len - cut);
                ta_dissector_tls.finish(&ctx);
                total++;
                if (ctx.hs.anomalies == 0 && sim_c.rc >= 0) {
                    quiet++;
                    fprintf(stderr, "length field %d (offset %zu, width %d) delta %d: no anomaly\n",
                            i, at, w, deltas[k]);
                    break;
                }
            }
        }
    }
    CHECK(total > 100);
    CHECK_INT(quiet, 0);
    /* The record length itself. */
    size_t len = make_ch(16384);
    wire[3] = 0xFF;
    wire[4] = 0xFF;
    ctx_reset(&ctx);
    CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len), TA_MALFORMED);
    CHECK(ctx.hs.anomalies & TA_AN_NOT_TLS);
}

/* Alerts: a fatal one ends the handshake; a warning is kept until a fatal replaces it; after
 * ChangeCipherSpec alert records are encrypted and ignored. */
static void test_alerts(void)
{
    static const uint8_t warn[] = { 21, 3, 3, 0, 2, 1, 112 };
    static const uint8_t fatal[] = { 21, 3, 3, 0, 2, 2, 70 };
    static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
    size_t len = make_ch(16384);
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len);
    CHECK_INT(sim_feed(&ctx, TA_DIR_S2C, &sim_s, warn, sizeof warn), TA_OK);
    CHECK(ctx.hs.alert.present);
    CHECK_INT(ctx.hs.alert.level, 1);
    CHECK(!ctx.hs.handshake_done);
    CHECK_INT(sim_feed(&ctx, TA_DIR_S2C, &sim_s, fatal, sizeof fatal), TA_DONE);
    CHECK_INT(ctx.hs.alert.level, 2);
    CHECK_INT(ctx.hs.alert.description, 70);
    CHECK_INT(ctx.hs.alert.dir, TA_DIR_S2C);
    CHECK(ctx.hs.handshake_done);
    CHECK(!ctx.hs.sh.present);

    /* Client alert before anything from the server. */
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len);
    CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, fatal, sizeof fatal), TA_DONE);
    CHECK_INT(ctx.hs.alert.dir, TA_DIR_C2S);

    /* TLS 1.2: server CCS ends the server side; nothing after it counts. */
    memset(&bb, 0, sizeof bb);
    b_server_hello(&bb, 0x22, 0, 0);
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    memcpy(wire + len, ccs, sizeof ccs);
    memcpy(wire + len + sizeof ccs, fatal, sizeof fatal);
    CHECK_INT(sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire, len + sizeof ccs + sizeof fatal), TA_DONE);
    CHECK(ctx.hs.sh.present);
    CHECK(!ctx.hs.sh.resumed);
    CHECK(!ctx.hs.alert.present);
    CHECK(ctx.hs.handshake_done);
}

/* HelloRetryRequest: CH1, HRR + CCS, CCS + CH2, final ServerHello. The first ClientHello is
 * kept; the second is not a duplicate. */
static void test_hrr(void)
{
    static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
    size_t len = make_ch(16384);
    ctx_reset(&ctx);
    CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len), TA_OK);
    memset(&bb, 0, sizeof bb);
    b_server_hello(&bb, 0x11, 1, 1);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    memcpy(wire + len, ccs, sizeof ccs);
    CHECK_INT(sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire, len + sizeof ccs), TA_OK);
    CHECK(ctx.hs.sh.hrr);
    CHECK(!ctx.hs.sh.present);
    CHECK(!ctx.hs.handshake_done);
    memset(&bb, 0, sizeof bb);
    b_client_hello(&bb, 0x11, 0x0017);
    memcpy(wire, ccs, sizeof ccs);
    len = sizeof ccs + b_records(wire + sizeof ccs, 22, bb.b, bb.n, 16384);
    CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len), TA_OK);
    CHECK_INT(ctx.hs.ch.key_shares[0], 0x001D);
    memset(&bb, 0, sizeof bb);
    b_server_hello(&bb, 0x11, 1, 0);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    CHECK_INT(sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire, len), TA_DONE);
    CHECK(ctx.hs.sh.present);
    CHECK(ctx.hs.sh.hrr);
    CHECK_INT(ctx.hs.sh.selected_version, 0x0304);
    CHECK_INT(ctx.hs.sh.key_share, 0x0017);
    CHECK(!ctx.hs.sh.resumed);   /* TLS 1.3 echoes the session id without resuming */
    CHECK(ctx.hs.handshake_done);
    CHECK_INT(ctx.hs.anomalies, 0);
    /* A third ClientHello begins another handshake: the dissector asks for a restart at its
     * record and leaves the record unconsumed; at the per-connection cap it is only flagged. */
    memset(&bb, 0, sizeof bb);
    b_client_hello(&bb, 0x11, 0x0017);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len), TA_RESTART);
    CHECK_INT(sim_c.n, len);
    CHECK_INT(ctx.hs.anomalies & TA_AN_DUPLICATE_HELLO, 0);
    ctx.hs.seq = TA_MAX_HANDSHAKES_PER_FLOW - 1;
    sim_c.rc = TA_OK;
    CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, 0), TA_OK);
    CHECK_INT(sim_c.n, 0);
    CHECK(ctx.hs.anomalies & TA_AN_DUPLICATE_HELLO);
}

/* SSLv2-compatible CLIENT-HELLO (2-byte header) offering TLS 1.0, then a TLS record. */
static void test_sslv2(void)
{
    static const uint8_t v2[] = {
        0x80, 0x2E, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
        0x00, 0x00, 0x39, 0x00, 0x00, 0x2F, 0x07, 0x00, 0xC0, 0x00, 0x00, 0xFF, 0x01, 0x00, 0x80,
        0x00, 0x00, 0x05, 0x00, 0x00, 0x04,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        0x15, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00 };
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_C2S, v2, 1, 443), TA_NEED_MORE);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_C2S, v2, sizeof v2, 443), TA_OK);
    for (size_t cut = 0; cut <= sizeof v2; cut++) {
        ctx_reset(&ctx);
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, v2, cut);
        sim_feed(&ctx, TA_DIR_C2S, &sim_c, v2 + cut, sizeof v2 - cut);
        if (cut == 0) {
            CHECK(ctx.hs.ch.present);
            CHECK(ctx.hs.ch.sslv2);
            CHECK_INT(ctx.hs.ch.record_version, 0x0002);
            CHECK_INT(ctx.hs.ch.legacy_version, 0x0301);
            CHECK_INT(ctx.hs.ch.nciphers, 5);
            CHECK_INT(ctx.hs.ch.ciphers[0], 0x0039);
            CHECK_INT(ctx.hs.ch.ciphers[1], 0x002F);
            CHECK_INT(ctx.hs.ch.ciphers[2], 0x00FF);
            CHECK_INT(ctx.hs.ch.ciphers[3], 0x0005);
            CHECK_INT(ctx.hs.ch.nciphers_v2, 0);
            CHECK(ctx.hs.ch.reneg_info);
            CHECK(ctx.hs.alert.present);   /* the TLS record after it was parsed */
            CHECK_INT(ctx.hs.anomalies, 0);
            memcpy(&ref_ctx, &ctx, sizeof ctx);
        } else {
            CHECK(memcmp(&ctx.hs, &ref_ctx.hs, sizeof ctx.hs) == 0);
        }
    }
}

/* The probe of a server's first bytes: a plaintext alert record (a refusal whose ClientHello
 * the capture does not hold) is TLS; from the client, encrypted, or with another level, no. */
static void test_server_alert_probe(void)
{
    static const uint8_t fatal[] = { 21, 3, 1, 0, 2, 2, 70 }, warn[] = { 21, 3, 3, 0, 2, 1, 0 };
    static const uint8_t sealed[] = { 21, 3, 3, 0, 26, 0x9a, 0x11 };
    static const uint8_t level3[] = { 21, 3, 3, 0, 2, 3, 70 }, v35[] = { 21, 3, 5, 0, 2, 2, 70 };

    CHECK_INT(ta_dissector_tls.probe(TA_DIR_S2C, fatal, sizeof fatal, 443), TA_OK);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_S2C, warn, sizeof warn, 443), TA_OK);
    for (size_t n = 1; n < 6; n++)   /* type, version, length, level decide */
        CHECK_INT(ta_dissector_tls.probe(TA_DIR_S2C, fatal, n, 443), TA_NEED_MORE);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_S2C, fatal, 6, 443), TA_OK);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_C2S, fatal, sizeof fatal, 443), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_S2C, sealed, sizeof sealed, 443), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_S2C, level3, sizeof level3, 443), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_S2C, v35, sizeof v35, 443), TA_UNSUPPORTED);
}

/* Not TLS at all; the strict hello probe; a capped cipher list. */
static void test_misc(void)
{
    static const uint8_t ehlo[] = "EHLO example.com\r\n";
    size_t len;
    ctx_reset(&ctx);
    CHECK_INT(sim_feed(&ctx, TA_DIR_C2S, &sim_c, ehlo, sizeof ehlo - 1), TA_MALFORMED);
    CHECK(ctx.hs.anomalies & TA_AN_NOT_TLS);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_C2S, ehlo, sizeof ehlo - 1, 25), TA_UNSUPPORTED);

    len = make_ch(16384);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_C2S, wire, 2, 443), TA_NEED_MORE);
    CHECK_INT(ta_dissector_tls.probe(TA_DIR_C2S, wire, len, 443), TA_OK);
    CHECK_INT(ta_tls_probe_hello(wire, len, true), TA_OK);
    CHECK_INT(ta_tls_probe_hello(wire, len, false), TA_UNSUPPORTED);
    CHECK_INT(ta_tls_probe_hello(wire, 20, true), TA_NEED_MORE);
    CHECK_INT(ta_tls_probe_hello(wire, 3, true), TA_NEED_MORE);
    CHECK_INT(ta_tls_probe_hello(ehlo, 3, true), TA_UNSUPPORTED);
    wire[5 + 4 + 2 + 32] = 33;   /* session id length */
    CHECK_INT(ta_tls_probe_hello(wire, len, true), TA_UNSUPPORTED);
    len = make_ch(60);           /* hello spans records: checks inside the first one suffice */
    CHECK(len > 65);
    CHECK_INT(ta_tls_probe_hello(wire, 65, true), TA_OK);
    memset(&bb, 0, sizeof bb);
    b_server_hello(&bb, 0, 0, 0);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    CHECK_INT(ta_tls_probe_hello(wire, len, false), TA_OK);

    /* 300 cipher suites: the first TA_MAX_CIPHERS are kept. */
    memset(&bb, 0, sizeof bb);
    b_u8(&bb, 1); b_open(&bb, 3); b_u16(&bb, 0x0301); b_fill(&bb, 1, 32); b_open(&bb, 1); b_close(&bb);
    b_open(&bb, 2);
    for (unsigned i = 0; i < 300; i++)
        b_u16(&bb, i + 1);
    b_close(&bb);
    b_open(&bb, 1); b_u8(&bb, 0); b_close(&bb);
    b_close(&bb);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len);
    CHECK(ctx.hs.ch.present);
    CHECK_INT(ctx.hs.ch.nciphers, TA_MAX_CIPHERS);
    CHECK_INT(ctx.hs.ch.nexts, 0);
    CHECK_INT(ctx.hs.anomalies, TA_AN_LIST_CAPPED);

    /* STARTTLS take-over keeps the application label. */
    ctx_reset(&ctx);
    ctx.hs.app = TA_APP_SMTP;
    ctx.hs.starttls = true;
    ctx.owner[TA_DIR_C2S] = TA_DIS_SMTP;
    ta_tls_takeover(&ctx, TA_DIR_C2S);
    CHECK_INT(ctx.owner[TA_DIR_C2S], TA_DIS_TLS);
    len = make_ch(16384);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len);
    CHECK(ctx.hs.ch.present);
    CHECK_INT(ctx.hs.app, TA_APP_SMTP);
    CHECK(ctx.hs.starttls);
}

/* A NUL inside a peer's text (SNI, ALPN, a certificate's CN) is kept as '?': the text is never
 * cut short at it, so the part after it stays visible and the name matches nothing it is not.
 * A host name with a NUL is also flagged as a bad extension (RFC 6066 3). */
static void test_nul_in_names(void)
{
    static const char host[] = "outlook.office365.com\0.evil.example", alpn[] = "h2\0x";
    static const char cn[] = "mail.example.com\0.evil.example";
    static uint8_t der[2048];
    size_t len;
    memset(&bb, 0, sizeof bb);
    b_u8(&bb, 1); b_open(&bb, 3); b_u16(&bb, 0x0301); b_fill(&bb, 1, 32); b_open(&bb, 1); b_close(&bb);
    b_open(&bb, 2); b_u16(&bb, 0x002F); b_close(&bb);
    b_open(&bb, 1); b_u8(&bb, 0); b_close(&bb);
    b_open(&bb, 2);
    b_u16(&bb, 0); b_open(&bb, 2); b_open(&bb, 2); b_u8(&bb, 0); b_open(&bb, 2);
    b_bytes(&bb, host, sizeof host - 1); b_close(&bb); b_close(&bb); b_close(&bb);
    b_u16(&bb, 16); b_open(&bb, 2); b_open(&bb, 2); b_open(&bb, 1); b_bytes(&bb, alpn, sizeof alpn - 1);
    b_close(&bb); b_close(&bb); b_close(&bb);
    b_close(&bb);
    b_close(&bb);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    ctx_reset(&ctx);
    sim_feed(&ctx, TA_DIR_C2S, &sim_c, wire, len);
    CHECK(ctx.hs.ch.present);
    CHECK_STR(ctx.hs.ch.sni, "outlook.office365.com?.evil.example");
    CHECK_STR(ctx.hs.ch.alpn, "h2?x");
    CHECK_INT(ctx.hs.anomalies, TA_AN_BAD_EXTENSION);

    /* the certificate's CN, in a server flight after that hello */
    size_t dlen = make_cert_cn(der, sizeof der, cn, (int)sizeof cn - 1);
    memset(&bb, 0, sizeof bb);
    b_server_hello(&bb, 0x11, 0, 0);
    b_u8(&bb, 11); b_open(&bb, 3); b_open(&bb, 3); b_open(&bb, 3); b_bytes(&bb, der, dlen);
    b_close(&bb); b_close(&bb); b_close(&bb);
    b_u8(&bb, 14); b_u24(&bb, 0);
    len = b_records(wire, 22, bb.b, bb.n, 16384);
    sim_feed(&ctx, TA_DIR_S2C, &sim_s, wire, len);
    CHECK(ctx.hs.cert.present);
    CHECK_STR(ctx.hs.cert.subject_cn, "mail.example.com?.evil.example");
}

int main(void)
{
    test_client_hello_splits();
    test_three_records();
    test_cut_hellos();
    test_server_alert_probe();
    test_server_flight();
    test_corrupt_lengths();
    test_alerts();
    test_hrr();
    test_sslv2();
    test_misc();
    test_nul_in_names();
    return CHECK_DONE();
}
