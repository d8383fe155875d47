/* test_quic.c - the QUIC dissector: the RFC 9001 appendix A and RFC 9369 appendix A test
 * vectors (keys, the protected client and server Initials), varints (RFC 9000 A.1), then
 * hand-sealed Initials: a ClientHello in CRYPTO frames over several packets out of order,
 * coalesced packets, the reassembly cap, Retry, Version Negotiation and a new attempt, forged
 * Initials and the per-flow budget, a packet cut by the snap length. */
#include <string.h>

#include "check.h"
#include "dis_mem_fixture.h"
#include "quic_int.h"
#include "test_tls_build.h"

/* RFC 9001 A.2: the client's first Initial (DCID 8394c8f03e515708, packet number 2). */
static const char rfc9001_client[] =
    "c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

/* RFC 9001 A.3: the server's Initial (ServerHello, TLS_AES_128_GCM_SHA256, packet number 1). */
static const char rfc9001_server[] =
    "cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

/* RFC 9369 A.2: the same ClientHello in a QUIC v2 Initial. */
static const char rfc9369_client[] =
    "d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

/* The first bytes of the decrypted payload of A.2 (a CRYPTO frame, offset 0, 241 bytes). */
static const char rfc9001_plain_prefix[] = "060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40b";

static const uint8_t rfc_dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

static size_t unhex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; h[0] && h[1] && n < cap; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void hexstr(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static struct ta_quic_crypto *qc;
static struct ta_ctx ctx;
static struct ta_quic_state st;
static uint8_t pkt[4096], dgram[8192];

/* A fresh flow whose first datagram is d. */
static void flow_start(const uint8_t *d, size_t n)
{
    memset(&ctx, 0, sizeof ctx);
    ctx.mem = test_dis_mem();
    ta_quic_start(&ctx, &st, d, n);
}

/* RFC 9001 A.1: the Initial keys of both directions for DCID 0x8394c8f03e515708. */
static void test_rfc9001_keys(void)
{
    struct ta__quic_keys k;
    char hex[80];
    const struct ta__quic_ver *v1 = ta__quic_version(1);
    CHECK(v1 != NULL);
    CHECK_INT(ta__quic_keys_derive(qc, v1, rfc_dcid, 8, TA_DIR_C2S, &k), TA_OK);
    hexstr(k.key, 16, hex); CHECK_STR(hex, "1f369613dd76d5467730efcbe3b1a22d");
    hexstr(k.iv, 12, hex); CHECK_STR(hex, "fa044b2f42a3fd3b46fb255c");
    hexstr(k.hp, 16, hex); CHECK_STR(hex, "9f50449e04a0e810283a1e9933adedd2");
    CHECK_INT(ta__quic_keys_derive(qc, v1, rfc_dcid, 8, TA_DIR_S2C, &k), TA_OK);
    hexstr(k.key, 16, hex); CHECK_STR(hex, "cf3a5331653c364c88f0f379b6067e37");
    hexstr(k.iv, 12, hex); CHECK_STR(hex, "0ac1493ca1905853b0bba03e");
    hexstr(k.hp, 16, hex); CHECK_STR(hex, "c206b8d9b9f0f37644430b490eeaa314");
}

/* RFC 9001 A.2 and A.3: open the client Initial (packet number 2, 1162 bytes of payload that
 * start with the CRYPTO frame), then run both packets through the dissector: the ClientHello
 * (SNI example.com, ALPN "alpn", TLS_AES_128_GCM_SHA256 and _256_GCM_SHA384) and the
 * ServerHello (TLS 1.3, TLS_AES_128_GCM_SHA256, x25519) end the flow. */
static void test_rfc9001_packets(void)
{
    size_t cn = unhex(rfc9001_client, pkt, sizeof pkt), sn;
    struct ta_cur d = ta_cur_make(pkt, cn);
    struct ta__quic_hdr h;
    struct ta__quic_keys k;
    const uint8_t *plain = NULL;
    size_t plen = 0;
    uint64_t pn = 0;
    char hex[64];
    CHECK_INT(cn, 1200);
    CHECK_INT(ta__quic_header(&d, &h), TA_OK);
    CHECK_INT(h.type, QUIC_PT_INITIAL);
    CHECK_INT(h.dcid.len, 8);
    CHECK_INT(h.pn_off, 18);
    CHECK_INT(h.size, 1200);
    CHECK(!h.cut);
    CHECK_INT(ta__quic_keys_derive(qc, h.ver, h.dcid.ptr, h.dcid.len, TA_DIR_C2S, &k), TA_OK);
    CHECK_INT(ta__quic_open(qc, &k, &h, 0, &pn, &plain, &plen), TA_OK);
    CHECK_INT(pn, 2);
    CHECK_INT(plen, 1162);
    if (plain) {
        hexstr(plain, 26, hex);
        CHECK_STR(hex, rfc9001_plain_prefix);
    }
    CHECK_INT(ta_quic_probe(qc, pkt, cn, false), TA_OK);
    flow_start(pkt, cn);
    CHECK_INT(ctx.hs.app, TA_APP_QUIC);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, cn, false), TA_OK);
    CHECK(ctx.hs.ch.present);
    CHECK_STR(ctx.hs.ch.sni, "example.com");
    CHECK_STR(ctx.hs.ch.alpn, "alpn");
    CHECK_INT(ctx.hs.ch.nciphers, 2);
    CHECK_INT(ctx.hs.ch.ciphers[0], 0x1301);
    CHECK_INT(ctx.hs.ch.record_version, 0);
    CHECK_INT(ctx.hs.anomalies, 0);
    sn = unhex(rfc9001_server, pkt, sizeof pkt);
    CHECK_INT(ta_quic_probe(qc, pkt, sn, false), TA_UNSUPPORTED);   /* not a client's first */
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_S2C, pkt, sn, false), TA_DONE);
    CHECK(ctx.hs.sh.present);
    CHECK_INT(ctx.hs.sh.cipher, 0x1301);
    CHECK_INT(ctx.hs.sh.selected_version, 0x0304);
    CHECK_INT(ctx.hs.sh.key_share, 0x001d);
    CHECK(ctx.hs.handshake_done);
    CHECK_INT(ctx.hs.anomalies, 0);
}

/* RFC 9369 A.2: QUIC v2's salt, labels and Initial packet type. */
static void test_rfc9369_client(void)
{
    size_t n = unhex(rfc9369_client, pkt, sizeof pkt);
    CHECK_INT(n, 1200);
    CHECK_INT(ta_quic_probe(qc, pkt, n, false), TA_OK);
    flow_start(pkt, n);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, n, false), TA_OK);
    CHECK(ctx.hs.ch.present);
    CHECK_STR(ctx.hs.ch.sni, "example.com");
    /* the v1 keys do not open it: a v1 reader would call it forged */
    pkt[1] = 0; pkt[2] = 0; pkt[3] = 0; pkt[4] = 1;
    CHECK_INT(ta_quic_probe(qc, pkt, n, false), TA_UNSUPPORTED);
}

/* RFC 9000 A.1: the sample varints, and a short one. */
static void test_varint(void)
{
    static const struct { const char *hex; uint64_t v; } t[] = {
        { "c2197c5eff14e88c", 151288809941952652ull }, { "9d7f3e7d", 494878333 },
        { "7bbd", 15293 }, { "25", 37 }, { "4025", 37 },
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(t); i++) {
        uint8_t b[8];
        size_t n = unhex(t[i].hex, b, sizeof b);
        struct ta_cur c = ta_cur_make(b, n);
        uint64_t v = 0;
        CHECK(ta__quic_varint(&c, &v));
        CHECK(v == t[i].v);
        CHECK(ta_cur_empty(&c));
        c = ta_cur_make(b, n - 1);
        CHECK(n == 1 || !ta__quic_varint(&c, &v));
    }
}

/* A CRYPTO frame (offset, data) with 2-byte varints for offset and length. */
static size_t crypto_frame(uint8_t *out, size_t off, const uint8_t *data, size_t n)
{
    out[0] = 0x06;
    out[1] = (uint8_t)(0x40 | (off >> 8)); out[2] = (uint8_t)off;
    out[3] = (uint8_t)(0x40 | (n >> 8)); out[4] = (uint8_t)n;
    memcpy(out + 5, data, n);
    return 5 + n;
}

/* Seal frames (padded with PADDING to at least pad bytes) into an Initial of version ver sent
 * in direction dir, keys from key_dcid, header DCID hdr_dcid and SCID scid. */
static size_t seal(uint32_t version, enum ta_dir dir, const uint8_t *key_dcid, size_t kn,
                   const uint8_t *hdr_dcid, size_t hn, const uint8_t *scid, size_t sn, uint32_t pn,
                   const uint8_t *frames, size_t fn, size_t pad, uint8_t *out, size_t cap)
{
    static uint8_t f[4096];
    struct ta__quic_keys k;
    const struct ta__quic_ver *v = ta__quic_version(version);
    memcpy(f, frames, fn);
    if (fn < pad) {
        memset(f + fn, 0, pad - fn);
        fn = pad;
    }
    if (!v || ta__quic_keys_derive(qc, v, key_dcid, kn, dir, &k) != TA_OK)
        return 0;
    return ta__quic_seal_initial(qc, &k, v, hdr_dcid, hn, scid, sn, pn, f, fn, out, cap);
}

static const uint8_t dcid8[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const uint8_t ccid[4] = { 0xc1, 0xc2, 0xc3, 0xc4 };
static const uint8_t scid5[5] = { 0x51, 0x52, 0x53, 0x54, 0x55 };

/* A ClientHello in three CRYPTO frames carried by three Initials that arrive last piece first;
 * coalesced behind the second one, a Handshake packet the dissector must skip. For each
 * version we decrypt. Then the ServerHello. */
static void test_fragments(uint32_t version)
{
    static struct bld ch, sh;
    uint8_t fr[3][1024];
    size_t cut[4], n[3], len[3];
    uint8_t p[3][2048];
    ch.n = 0; ch.depth = 0; sh.n = 0; sh.depth = 0;
    b_client_hello(&ch, 0, 0x001d);
    b_server_hello(&sh, 0, 1, 0);
    cut[0] = 0; cut[1] = 40; cut[2] = 100; cut[3] = ch.n;
    for (int i = 0; i < 3; i++) {
        n[i] = crypto_frame(fr[i], cut[i], ch.b + cut[i], cut[i + 1] - cut[i]);
        len[i] = seal(version, TA_DIR_C2S, dcid8, 8, dcid8, 8, ccid, 4, (uint32_t)i, fr[i], n[i],
                      i == 0 ? 1100 : 20, p[i], sizeof p[i]);
        CHECK(len[i] > 0);
    }
    /* a Handshake packet (type 2, undecryptable here) after the second Initial */
    memcpy(dgram, p[1], len[1]);
    {
        uint8_t hsk[] = { 0xE0, 0, 0, 0, 1, 0, 0, 0x40, 0x10, 1, 2, 3, 4, 5, 6, 7, 8,
                          9, 10, 11, 12, 13, 14, 15, 16 };
        const struct ta__quic_ver *v = ta__quic_version(version);
        for (int i = 0; i < 4; i++)
            hsk[1 + i] = (uint8_t)(version >> (24 - 8 * i));
        if (v && v->v2)
            hsk[0] = 0xF0;   /* v2: Handshake is type 0b11 */
        memcpy(dgram + len[1], hsk, sizeof hsk);
        len[1] += sizeof hsk;
        memcpy(p[1], dgram, len[1]);
    }
    CHECK_INT(ta_quic_probe(qc, p[0], len[0], false), TA_OK);
    flow_start(p[0], len[0]);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, p[2], len[2], false), TA_OK);
    CHECK(!ctx.hs.ch.present);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, p[1], len[1], false), TA_OK);
    CHECK(!ctx.hs.ch.present);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, p[0], len[0], false), TA_OK);
    CHECK(ctx.hs.ch.present);
    CHECK_STR(ctx.hs.ch.sni, "example.com");
    CHECK_STR(ctx.hs.ch.alpn, "h2,http/1.1");
    CHECK_INT(ctx.hs.anomalies, 0);
    n[0] = crypto_frame(fr[0], 0, sh.b, sh.n);
    len[0] = seal(version, TA_DIR_S2C, dcid8, 8, ccid, 4, scid5, 5, 0, fr[0], n[0], 0, p[0],
                  sizeof p[0]);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_S2C, p[0], len[0], false), TA_DONE);
    CHECK(ctx.hs.sh.present);
    CHECK_INT(ctx.hs.sh.cipher, 0x1301);
    CHECK(ctx.hs.handshake_done);
}

/* A hello longer than the client's reassembly cap: flagged cap_reached, never parsed. */
static void test_cap(void)
{
    static uint8_t big[QUIC_CRYPTO_CAP_C + 64];
    uint8_t fr[1100];
    size_t n, len;
    memset(big, 0, sizeof big);
    big[0] = 1;   /* ClientHello, 3-byte length over the cap */
    big[1] = (uint8_t)((QUIC_CRYPTO_CAP_C + 16) >> 16);
    big[2] = (uint8_t)((QUIC_CRYPTO_CAP_C + 16) >> 8);
    big[3] = (uint8_t)(QUIC_CRYPTO_CAP_C + 16);
    n = crypto_frame(fr, 0, big, 1000);
    len = seal(1, TA_DIR_C2S, dcid8, 8, dcid8, 8, ccid, 4, 0, fr, n, 1100, pkt, sizeof pkt);
    flow_start(pkt, len);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    CHECK(!ctx.hs.ch.present);
    CHECK(ctx.hs.anomalies & TA_AN_CAP_REACHED);
    /* a frame that reaches past the cap is flagged too, and never written past it */
    n = crypto_frame(fr, QUIC_CRYPTO_CAP_C - 10, big, 100);
    len = seal(1, TA_DIR_C2S, dcid8, 8, dcid8, 8, ccid, 4, 1, fr, n, 20, pkt, sizeof pkt);
    flow_start(dcid8, 0);
    ta__quic_conn(&st)->dcid_len = 8;
    memcpy(ta__quic_conn(&st)->dcid, dcid8, 8);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    CHECK(ctx.hs.anomalies & TA_AN_CAP_REACHED);
    CHECK_INT(ta__quic_conn(&st)->rs[TA_DIR_C2S].contig, 0);
}

/* Retry (v1 type 3): the client's next Initial has the Retry's SCID (4 bytes, below the 8 a
 * first DCID needs) as DCID and keys derived from it. Recorded, not fatal. */
static void test_retry(void)
{
    static struct bld ch;
    uint8_t fr[1100], retry[64];
    size_t n, len, rn = 0;
    ch.n = 0; ch.depth = 0;
    b_client_hello(&ch, 0, 0x001d);
    n = crypto_frame(fr, 0, ch.b, ch.n);
    len = seal(1, TA_DIR_C2S, dcid8, 8, dcid8, 8, ccid, 4, 0, fr, n, 1100, pkt, sizeof pkt);
    flow_start(pkt, len);
    retry[rn++] = 0xF0;
    retry[rn++] = 0; retry[rn++] = 0; retry[rn++] = 0; retry[rn++] = 1;
    retry[rn++] = 4; memcpy(retry + rn, ccid, 4); rn += 4;
    retry[rn++] = 4; memcpy(retry + rn, "\x0a\x0b\x0c\x0d", 4); rn += 4;
    memset(retry + rn, 0x77, 24); rn += 24;   /* token and integrity tag */
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_S2C, retry, rn, false), TA_OK);
    CHECK(ctx.hs.anomalies & TA_AN_QUIC_RETRY);
    len = seal(1, TA_DIR_C2S, (const uint8_t *)"\x0a\x0b\x0c\x0d", 4,
               (const uint8_t *)"\x0a\x0b\x0c\x0d", 4, ccid, 4, 1, fr, n, 1100, pkt, sizeof pkt);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    CHECK(ctx.hs.ch.present);
    CHECK(!(ctx.hs.anomalies & TA_AN_QUIC_UNDECRYPTED));
}

/* Version Negotiation, then the client starts over with a new 8-byte DCID: the attempt's keys
 * are adopted and its hello read. A forged Initial in between is counted, not fatal; forged
 * Initials past the budget end the flow. */
static void test_vn_and_forged(void)
{
    static struct bld ch;
    static const uint8_t dcid2[8] = { 9, 9, 9, 9, 8, 8, 8, 8 };
    uint8_t fr[1100], vn[32];
    size_t n, len, vl = 0;
    ch.n = 0; ch.depth = 0;
    b_client_hello(&ch, 0, 0x001d);
    n = crypto_frame(fr, 0, ch.b, 60);   /* only the start of the hello in the first attempt */
    len = seal(0xff00001d, TA_DIR_C2S, dcid8, 8, dcid8, 8, ccid, 4, 0, fr, n, 1100, pkt, sizeof pkt);
    CHECK_INT(ta_quic_probe(qc, pkt, len, false), TA_OK);
    flow_start(pkt, len);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    vn[vl++] = 0x80; vn[vl++] = 0; vn[vl++] = 0; vn[vl++] = 0; vn[vl++] = 0;
    vn[vl++] = 4; memcpy(vn + vl, ccid, 4); vl += 4;
    vn[vl++] = 8; memcpy(vn + vl, dcid8, 8); vl += 8;
    memcpy(vn + vl, "\x00\x00\x00\x01\x6b\x33\x43\xcf", 8); vl += 8;
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_S2C, vn, vl, false), TA_OK);
    CHECK(ctx.hs.anomalies & TA_AN_QUIC_VN);
    n = crypto_frame(fr, 0, ch.b, ch.n);
    len = seal(0x6b3343cf, TA_DIR_C2S, dcid2, 8, dcid2, 8, ccid, 4, 0, fr, n, 1100, pkt, sizeof pkt);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    CHECK(ctx.hs.ch.present);
    CHECK_STR(ctx.hs.ch.sni, "example.com");
    /* forged: a valid header around bytes that do not authenticate */
    pkt[len - 1] ^= 1;
    CHECK_INT(ta_quic_probe(qc, pkt, len, false), TA_UNSUPPORTED);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    CHECK(ctx.hs.anomalies & TA_AN_QUIC_UNDECRYPTED);
    int rc = TA_OK, sent = 1;
    while (rc == TA_OK && sent < 100) {
        rc = ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false);
        sent++;
    }
    CHECK_INT(rc, TA_DONE);
    CHECK(sent <= (int)QUIC_MAX_FAILS + 1);
    CHECK(!ctx.hs.handshake_done);
}

/* Once the ClientHello is read (and no Version Negotiation came), an Initial that
 * authenticates under another DCID (injected by a third party) does not take over the keys:
 * the real server's Initial is still read. */
static void test_injected(void)
{
    static struct bld ch, sh;
    static const uint8_t other[8] = { 6, 6, 6, 6, 6, 6, 6, 6 };
    uint8_t fr[1100];
    size_t n, len;
    ch.n = 0; ch.depth = 0; sh.n = 0; sh.depth = 0;
    b_client_hello(&ch, 0, 0x001d);
    b_server_hello(&sh, 0, 1, 0);
    n = crypto_frame(fr, 0, ch.b, ch.n);
    len = seal(1, TA_DIR_C2S, dcid8, 8, dcid8, 8, ccid, 4, 0, fr, n, 1100, pkt, sizeof pkt);
    flow_start(pkt, len);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    CHECK(ctx.hs.ch.present);
    len = seal(1, TA_DIR_C2S, other, 8, other, 8, ccid, 4, 1, fr, n, 1100, pkt, sizeof pkt);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    CHECK(ctx.hs.anomalies & TA_AN_QUIC_UNDECRYPTED);
    CHECK(memcmp(ta__quic_conn(&st)->dcid, dcid8, 8) == 0);
    n = crypto_frame(fr, 0, sh.b, sh.n);
    len = seal(1, TA_DIR_S2C, dcid8, 8, ccid, 4, scid5, 5, 0, fr, n, 0, pkt, sizeof pkt);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_S2C, pkt, len, false), TA_DONE);
    CHECK(ctx.hs.sh.present);
}

/* A client Initial cut by the snap length: accepted only when the capture says so; the
 * server's Initial is still read with keys from its DCID, and the flow ends with
 * truncated_hello. */
static void test_truncated(void)
{
    static struct bld ch, sh;
    uint8_t fr[1100];
    size_t n, len;
    ch.n = 0; ch.depth = 0; sh.n = 0; sh.depth = 0;
    b_client_hello(&ch, 0, 0x001d);
    b_server_hello(&sh, 0, 1, 0);
    n = crypto_frame(fr, 0, ch.b, ch.n);
    len = seal(1, TA_DIR_C2S, dcid8, 8, dcid8, 8, ccid, 4, 0, fr, n, 1100, pkt, sizeof pkt);
    CHECK(len > 256);              /* the datagram below is its first 256 bytes */
    CHECK_INT(ta_quic_probe(qc, pkt, 256, false), TA_UNSUPPORTED);
    CHECK_INT(ta_quic_probe(qc, pkt, 256, true), TA_OK);
    flow_start(pkt, 256);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, 256, true), TA_OK);
    n = crypto_frame(fr, 0, sh.b, sh.n);
    len = seal(1, TA_DIR_S2C, dcid8, 8, ccid, 4, scid5, 5, 0, fr, n, 0, pkt, sizeof pkt);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_S2C, pkt, len, false), TA_DONE);
    CHECK(ctx.hs.sh.present);
    CHECK(!ctx.hs.ch.present);
    ta_quic_finish(&ctx, &st);
    CHECK(ctx.hs.anomalies & TA_AN_TRUNCATED_HELLO);
}

/* Frames an Initial may not carry (a STREAM frame) stop the packet, flagged bad_record. */
static void test_bad_frame(void)
{
    uint8_t fr[32] = { 0x01, 0x08, 0x00, 0x00 };
    size_t len = seal(1, TA_DIR_C2S, dcid8, 8, dcid8, 8, ccid, 4, 0, fr, 4, 1100, pkt, sizeof pkt);
    flow_start(pkt, len);
    CHECK_INT(ta_quic_datagram(qc, &ctx, &st, TA_DIR_C2S, pkt, len, false), TA_OK);
    CHECK(ctx.hs.anomalies & TA_AN_BAD_RECORD);
}

int main(void)
{
    (void)b_records;   /* test_tls_build.h's record wrapper: QUIC has no records */
    qc = ta_quic_crypto_new();
    CHECK(qc != NULL);
    if (!qc)
        return CHECK_DONE();
    test_rfc9001_keys();
    test_rfc9001_packets();
    test_rfc9369_client();
    test_varint();
    test_fragments(0x00000001);
    test_fragments(0x6b3343cf);
    test_fragments(0xff00001d);
    test_cap();
    test_retry();
    test_vn_and_forged();
    test_injected();
    test_truncated();
    test_bad_frame();
    ta_quic_crypto_free(qc);
    return CHECK_DONE();
}
