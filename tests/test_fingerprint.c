/* test_fingerprint.c - JA3/JA3S/JA4 against independent oracles: the hello fields and the
 * tls.handshake.ja3 / ja3s values tshark 4.0 prints for shared captures, and the JA4 values FoxIO
 * publishes for its own captures (rust/ja4/src/snapshots/ja4__insta@*.snap) and in JA4.md.
 *
 * The input lists below were taken with
 *   tshark -r F -Y 'tls.handshake.type==1' -T fields -e tcp.stream -e tls.handshake.version
 *     -e tls.handshake.ciphersuite -e tls.handshake.extension.type
 *     -e tls.handshake.extensions_supported_group -e tls.handshake.extensions_ec_point_format
 *     -e tls.handshake.sig_hash_alg -e tls.handshake.extensions.supported_version
 *     -e tls.handshake.extensions_alpn_str -e tls.handshake.ja3 -e tls.handshake.ja3_full
 * (and type==2 with -e tls.handshake.ja3s for the server side). */
#include <stdlib.h>

#include "check.h"
#include "tlsaudit/fingerprint.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Fill a ClientHello from wire-order lists (GREASE kept, as the TLS dissector stores them). */
static void fill_ch(struct ta_client_hello *ch, uint16_t legacy, const uint16_t *c, size_t nc,
                    const uint16_t *e, size_t ne, const uint16_t *g, size_t ng, const uint8_t *pf,
                    size_t npf)
{
    memset(ch, 0, sizeof(*ch));
    ch->present = true;
    ch->record_version = 0x0301;
    ch->legacy_version = legacy;
    for (size_t i = 0; i < nc; i++)
        ch->ciphers[i] = c[i];
    ch->nciphers = (uint16_t)nc;
    for (size_t i = 0; i < ne; i++)
        ch->exts[i] = e[i];
    ch->nexts = (uint8_t)ne;
    for (size_t i = 0; i < ng; i++)
        ch->groups[i] = g[i];
    ch->ngroups = (uint8_t)ng;
    for (size_t i = 0; i < npf; i++)
        ch->point_formats[i] = pf[i];
    ch->npoint_formats = (uint8_t)npf;
}

static void set_sigalgs(struct ta_client_hello *ch, const uint16_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ch->sigalgs[i] = s[i];
    ch->nsigalgs = (uint8_t)n;
}

static void set_versions(struct ta_client_hello *ch, const uint16_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ch->versions[i] = v[i];
    ch->nversions = (uint8_t)n;
    ch->has_supported_versions = true;
}

static const uint8_t PF_UNCOMPRESSED[] = { 0 };

/* zeek__tls1.2.pcap stream 0: an OpenSSL 1.0.x client, 80 suites, no GREASE. */
static void test_zeek_tls12(void)
{
    static const uint16_t c[] = { 0xc030, 0xc02c, 0xc028, 0xc024, 0xc014, 0xc00a, 0xc022, 0xc021,
        0x00a3, 0x009f, 0x006b, 0x006a, 0x0039, 0x0038, 0x0088, 0x0087, 0xc032, 0xc02e, 0xc02a,
        0xc026, 0xc00f, 0xc005, 0x009d, 0x003d, 0x0035, 0x0084, 0xc012, 0xc008, 0xc01c, 0xc01b,
        0x0016, 0x0013, 0xc00d, 0xc003, 0x000a, 0xc02f, 0xc02b, 0xc027, 0xc023, 0xc013, 0xc009,
        0xc01f, 0xc01e, 0x00a2, 0x009e, 0x0067, 0x0040, 0x0033, 0x0032, 0x009a, 0x0099, 0x0045,
        0x0044, 0xc031, 0xc02d, 0xc029, 0xc025, 0xc00e, 0xc004, 0x009c, 0x003c, 0x002f, 0x0096,
        0x0041, 0x0007, 0xc011, 0xc007, 0xc00c, 0xc002, 0x0005, 0x0004, 0x0015, 0x0012, 0x0009,
        0x0014, 0x0011, 0x0008, 0x0006, 0x0003, 0x00ff };
    static const uint16_t e[] = { 11, 10, 35, 13, 15 };
    static const uint16_t g[] = { 0x000e, 0x000d, 0x0019, 0x000b, 0x000c, 0x0018, 0x0009, 0x000a,
        0x0016, 0x0017, 0x0008, 0x0006, 0x0007, 0x0014, 0x0015, 0x0004, 0x0005, 0x0012, 0x0013,
        0x0001, 0x0002, 0x0003, 0x000f, 0x0010, 0x0011 };
    static const uint8_t pf[] = { 0, 1, 2 };
    static struct ta_client_hello ch;
    char ja3[TA_JA3_HEX], str[4096];

    fill_ch(&ch, 0x0303, c, N(c), e, N(e), g, N(g), pf, N(pf));
    CHECK_INT(ta_ja3(&ch, ja3, str, sizeof(str)), 0);
    CHECK_STR(ja3, "bd9c99b3a0f752c3ab8b052a79e9de3e");
    CHECK_STR(str, "771,49200-49196-49192-49188-49172-49162-49186-49185-163-159-107-106-57-56-136-"
                   "135-49202-49198-49194-49190-49167-49157-157-61-53-132-49170-49160-49180-49179-"
                   "22-19-49165-49155-10-49199-49195-49191-49187-49171-49161-49183-49182-162-158-"
                   "103-64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156-156-60-47-150-"
                   "65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,14-13-"
                   "25-11-12-24-9-10-22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2");

    /* Its ServerHello: TLS 1.2, RC4-MD5, renegotiation_info only. */
    static struct ta_server_hello sh;
    memset(&sh, 0, sizeof(sh));
    sh.present = true;
    sh.legacy_version = 0x0303;
    sh.cipher = 0x0004;
    sh.exts[0] = 65281;
    sh.nexts = 1;
    CHECK_INT(ta_ja3s(&sh, ja3, str, sizeof(str)), 0);
    CHECK_STR(str, "771,4,65281");
    CHECK_STR(ja3, "c253ec3ad88e42f8da4032682892f9a0");
}

/* ja4__tls-alpn-h2.pcap (FoxIO's pcap/tls-alpn-h2.pcap): TLS 1.2 client without
 * supported_versions; sigalgs include the non-GREASE private values 0xefef/0xeeee/0xeded. */
static void test_alpn_h2(void)
{
    static const uint16_t c[] = { 0xc030, 0xc02c, 0xc028, 0xc024, 0xc014, 0xc00a, 0x009f, 0x006b,
        0x0039, 0xcca9, 0xcca8, 0xccaa, 0xff85, 0x00c4, 0x0088, 0x0081, 0x009d, 0x003d, 0x0035,
        0x00c0, 0x0084, 0xc02f, 0xc02b, 0xc027, 0xc023, 0xc013, 0xc009, 0x009e, 0x0067, 0x0033,
        0x00be, 0x0045, 0x009c, 0x003c, 0x002f, 0x00ba, 0x0041, 0xc011, 0xc007, 0x0005, 0x0004,
        0xc012, 0xc008, 0x0016, 0x000a, 0x00ff };
    static const uint16_t e[] = { 0, 11, 10, 13, 16 };
    static const uint16_t g[] = { 0x001d, 0x0017, 0x0018 };
    static const uint16_t s[] = { 0x0601, 0x0603, 0xefef, 0x0501, 0x0503, 0x0401, 0x0403, 0xeeee,
        0xeded, 0x0301, 0x0303, 0x0201, 0x0203 };
    static struct ta_client_hello ch;
    char ja3[TA_JA3_HEX], ja4[TA_JA4_LEN];

    fill_ch(&ch, 0x0303, c, N(c), e, N(e), g, N(g), PF_UNCOMPRESSED, 1);
    set_sigalgs(&ch, s, N(s));
    snprintf(ch.sni, sizeof(ch.sni), "www.cloudflare.com");
    snprintf(ch.alpn, sizeof(ch.alpn), "h2,http/1.1");
    CHECK_INT(ta_ja3(&ch, ja3, NULL, 0), 0);
    CHECK_STR(ja3, "3faa4ad39f690c4ef1c3160caa375465");              /* tshark */
    CHECK_INT(ta_ja4(&ch, 't', ja4), 0);
    CHECK_STR(ja4, "t12d4605h2_85626a9a5f7f_aaf95bb78ec9");          /* FoxIO snapshot */

    static struct ta_server_hello sh;
    char str[256];
    memset(&sh, 0, sizeof(sh));
    sh.present = true;
    sh.legacy_version = 0x0303;
    sh.cipher = 0xcca9;
    static const uint16_t se[] = { 0, 65281, 11, 16 };
    memcpy(sh.exts, se, sizeof(se));
    sh.nexts = (uint8_t)N(se);
    CHECK_INT(ta_ja3s(&sh, ja3, str, sizeof(str)), 0);
    CHECK_STR(str, "771,52393,0-65281-11-16");
    CHECK_STR(ja3, "7f76f3e952a1bc7d407366fafe1db7ed");              /* tshark */
}

/* ja4__tls-handshake.pcapng (FoxIO's pcap/tls-handshake.pcapng): Chrome-like hellos with GREASE
 * in ciphers, extensions, groups and supported_versions, each at a different value. */
struct chrome_case {
    int stream;
    uint16_t grease_c, grease_v, grease_g;
    uint16_t exts[20];
    size_t nexts;
    const char *alpn;
    const char *ja3;     /* tshark tls.handshake.ja3 */
    const char *ja4;     /* FoxIO rust snapshot */
};

static const struct chrome_case chrome_cases[] = {
    { 0, 0xaaaa, 0x0a0a, 0x0a0a,
      { 39578, 65281, 51, 45, 5, 17513, 13, 16, 35, 27, 43, 0, 18, 10, 23, 11, 27242, 21 }, 18,
      "h2,http/1.1", "1c258ebef8eee2dfa3df6d8d07285af9", "t13d1516h2_8daaf6152771_e5627efa2ab1" },
    { 5, 0x4a4a, 0xaaaa, 0xaaaa,
      { 43690, 13, 51, 0, 65281, 43, 35, 45, 5, 18, 11, 23, 17513, 16, 27, 10, 6682, 21 }, 18,
      "http/1.1", "bee6dc22161d532d945e0daa64213c43", "t13d1516h1_8daaf6152771_e5627efa2ab1" },
    { 6, 0xaaaa, 0x9a9a, 0x1a1a,
      { 6682, 51, 43, 27, 0, 18, 45, 13, 10, 5, 35, 23, 65281, 11, 51914, 21 }, 16,
      "", "bfc66ad4d55e0c1a1847863d4d5c301a", "t13d151400_8daaf6152771_de4a06bb82e3" },
    { 31, 0xbaba, 0xeaea, 0xeaea,
      { 60138, 0, 23, 5, 43, 18, 35, 10, 51, 16, 45, 27, 17513, 11, 13, 65281, 64250, 21, 41 }, 19,
      "http/1.1", "e2ce5351e791ab3c3f63764919302aca", "t13d1517h1_8daaf6152771_6cdcb247c39b" },
};

static void test_chrome_grease(void)
{
    static const uint16_t c15[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
        0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
    static const uint16_t s[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601 };
    static struct ta_client_hello ch;
    uint16_t c[16], g[4], v[3];
    char ja3[TA_JA3_HEX], ja4[TA_JA4_LEN];

    for (size_t k = 0; k < N(chrome_cases); k++) {
        const struct chrome_case *t = &chrome_cases[k];
        c[0] = t->grease_c;
        memcpy(c + 1, c15, sizeof(c15));
        g[0] = t->grease_g; g[1] = 0x001d; g[2] = 0x0017; g[3] = 0x0018;
        v[0] = t->grease_v; v[1] = 0x0304; v[2] = 0x0303;
        fill_ch(&ch, 0x0303, c, N(c), t->exts, t->nexts, g, N(g), PF_UNCOMPRESSED, 1);
        set_sigalgs(&ch, s, N(s));
        set_versions(&ch, v, N(v));
        snprintf(ch.alpn, sizeof(ch.alpn), "%s", t->alpn);
        CHECK_INT(ta_ja3(&ch, ja3, NULL, 0), 0);
        if (strcmp(ja3, t->ja3) != 0)
            fprintf(stderr, "stream %d:\n", t->stream);
        CHECK_STR(ja3, t->ja3);
        CHECK_INT(ta_ja4(&ch, 't', ja4), 0);
        CHECK_STR(ja4, t->ja4);
    }

    /* The TLS 1.3 ServerHellos of streams 0 and 31 (supported_versions + key_share). */
    static struct ta_server_hello sh;
    memset(&sh, 0, sizeof(sh));
    sh.present = true;
    sh.legacy_version = 0x0303;
    sh.selected_version = 0x0304;
    sh.cipher = 0x1301;
    sh.exts[0] = 51; sh.exts[1] = 43;
    sh.nexts = 2;
    CHECK_INT(ta_ja3s(&sh, ja3, NULL, 0), 0);
    CHECK_STR(ja3, "eb1d94daa7e0344597e756a1fb6e7054");
    sh.exts[0] = 43; sh.exts[1] = 51; sh.exts[2] = 41;
    sh.nexts = 3;
    CHECK_INT(ta_ja3s(&sh, ja3, NULL, 0), 0);
    CHECK_STR(ja3, "fcb2d4d0991292272fcb1e464eedfd43");
}

/* ndpi__tls_with_huge_ch.pcapng: a ClientHello spread over many segments (TLS 1.3, no GREASE). */
static void test_huge_ch(void)
{
    static const uint16_t c[] = { 0x1303, 0x1302, 0x1301, 0x003c, 0xc030, 0xc023, 0xcca9, 0xc02b,
        0x009c, 0xc027, 0xc02c, 0xc00a, 0xc009, 0x0035, 0xc013, 0x000a, 0xc012, 0x002f };
    static const uint16_t e[] = { 45, 13, 35, 10, 51, 43, 11, 16, 65281, 23, 21 };
    static const uint16_t g[] = { 0x001d, 0x0017, 0x0018 };
    static struct ta_client_hello ch;
    char ja3[TA_JA3_HEX];

    fill_ch(&ch, 0x0303, c, N(c), e, N(e), g, N(g), PF_UNCOMPRESSED, 1);
    CHECK_INT(ta_ja3(&ch, ja3, NULL, 0), 0);
    CHECK_STR(ja3, "66d6080b942b0b593896bf729f3fd326");
}

/* JA4.md's worked example without signature algorithms: "...,4469,ff01 = 6d807ffa2a79". */
static void test_ja4_spec_examples(void)
{
    static const uint16_t c[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
        0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035 };
    static const uint16_t e[] = { 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d,
        0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015 };
    static const uint16_t v[] = { 0x0304, 0x0303 };
    static struct ta_client_hello ch;
    char ja4[TA_JA4_LEN];

    fill_ch(&ch, 0x0303, c, N(c), e, N(e), NULL, 0, NULL, 0);
    set_versions(&ch, v, N(v));
    snprintf(ch.alpn, sizeof(ch.alpn), "h2");
    CHECK_INT(ta_ja4(&ch, 't', ja4), 0);
    CHECK_STR(ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");

    /* No ciphers and no extensions: both hashes are the "no values" marker, no SNI -> 'i'. */
    fill_ch(&ch, 0x0301, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
    CHECK_INT(ta_ja4(&ch, 't', ja4), 0);
    CHECK_STR(ja4, "t10i000000_000000000000_000000000000");
    CHECK_INT(ta_ja4(&ch, 'q', ja4), 0);
    CHECK_STR(ja4, "q10i000000_000000000000_000000000000");

    /* Version characters: legacy only, SSL 3.0, GREASE-only supported_versions, draft. */
    ch.legacy_version = 0x0300;
    CHECK_INT(ta_ja4(&ch, 't', ja4), 0);
    CHECK_INT(strncmp(ja4, "ts3i", 4), 0);
    static const uint16_t only_grease[] = { 0x7a7a };
    set_versions(&ch, only_grease, 1);
    ch.legacy_version = 0x0302;
    CHECK_INT(ta_ja4(&ch, 't', ja4), 0);
    CHECK_INT(strncmp(ja4, "t11i", 4), 0);
    static const uint16_t draft[] = { 0x7f1c, 0x0303 };
    set_versions(&ch, draft, 2);
    CHECK_INT(ta_ja4(&ch, 't', ja4), 0);
    CHECK_INT(strncmp(ja4, "t00i", 4), 0);

    /* Counts cap at 99 (JA4.md: "If there's > 99 ... output 99"). */
    static struct ta_client_hello big;
    memset(&big, 0, sizeof(big));
    big.present = true;
    big.legacy_version = 0x0303;
    for (uint16_t i = 0; i < 150; i++)
        big.ciphers[i] = (uint16_t)(0x0100 + i);
    big.nciphers = 150;
    CHECK_INT(ta_ja4(&big, 't', ja4), 0);
    CHECK_INT(strncmp(ja4, "t12i9900", 8), 0);
}

/* ALPN characters, JA4.md's examples of the hex rule and the one-character rule. */
static void test_ja4_alpn(void)
{
    static const struct { const char *alpn; const char *want; } cases[] = {
        { "h2", "h2" }, { "http/1.1,h2", "h1" }, { "h2,http/1.1", "h2" }, { "q", "qq" },
        { "\xab", "ab" }, { "\xab\xcd", "ad" }, { "\x30\xab", "3b" }, { "\x30\x31\xab\xcd", "3d" },
        { "\x30\xab\xcd\x31", "01" }, { "", "00" }, { "acme-tls/1", "a1" }, { "h3-29/", "6f" },
    };
    static struct ta_client_hello ch;
    char ja4[TA_JA4_LEN];

    fill_ch(&ch, 0x0303, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
    for (size_t i = 0; i < N(cases); i++) {
        snprintf(ch.alpn, sizeof(ch.alpn), "%s", cases[i].alpn);
        CHECK_INT(ta_ja4(&ch, 't', ja4), 0);
        char got[3] = { ja4[8], ja4[9], '\0' };
        CHECK_STR(got, cases[i].want);
    }
    CHECK_INT(strlen(ja4), 36);   /* "t12i0000xx" + "_" + 12 + "_" + 12 */
}

/* No hello: -1 and empty outputs; SSLv2 server hello uses its 24-bit spec. */
static void test_absent_and_sslv2(void)
{
    static struct ta_client_hello ch;
    static struct ta_server_hello sh;
    char ja3[TA_JA3_HEX] = "x", ja4[TA_JA4_LEN] = "x", str[64] = "x";

    memset(&ch, 0, sizeof(ch));
    memset(&sh, 0, sizeof(sh));
    CHECK_INT(ta_ja3(&ch, ja3, str, sizeof(str)), -1);
    CHECK_STR(ja3, "");
    CHECK_STR(str, "");
    CHECK_INT(ta_ja4(&ch, 't', ja4), -1);
    CHECK_STR(ja4, "");
    CHECK_INT(ta_ja3s(&sh, ja3, str, sizeof(str)), -1);
    CHECK_STR(ja3, "");
    CHECK_INT(ta_ja3(NULL, ja3, NULL, 0), -1);

    sh.sslv2 = true;
    sh.cipher_v2 = 0x0700c0;
    CHECK_INT(ta_ja3s(&sh, ja3, str, sizeof(str)), 0);
    CHECK_STR(str, "2,458944,");
    CHECK_INT(strlen(ja3), 32);

    /* A short str buffer gets a truncated, terminated copy; the hash is of the full text. */
    static const uint16_t c[] = { 47, 53 };
    fill_ch(&ch, 0x0301, c, 2, NULL, 0, NULL, 0, NULL, 0);
    char tiny[6];
    CHECK_INT(ta_ja3(&ch, ja3, tiny, sizeof(tiny)), 0);
    CHECK_STR(tiny, "769,4");
    char full[64];
    CHECK_INT(ta_ja3(&ch, ja3, full, sizeof(full)), 0);
    CHECK_STR(full, "769,47-53,,,");
}

int main(void)
{
    test_zeek_tls12();
    test_alpn_h2();
    test_chrome_grease();
    test_huge_ch();
    test_ja4_spec_examples();
    test_ja4_alpn();
    test_absent_and_sslv2();
    return CHECK_DONE();
}
