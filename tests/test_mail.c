/* test_mail.c - the plaintext STARTTLS dissectors (SMTP, IMAP, POP3, FTP) and the generic prelude
 * fallback, driven the way the engine drives them (tests/starttls_sim.h): probes in registry
 * order, per-direction buffers, unconsumed bytes given back with more, hand-off to TLS at the
 * exact byte. Transcripts are replayed whole, byte by byte and split at every offset (same
 * outcome each time). The shared captures: test_starttls_pcaps.c. */
#define _GNU_SOURCE  /* memmem */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "starttls_sim.h"
#include "tlsaudit/dissector.h"

/* ---- hand-built hellos ---- */

static uint8_t client_hello[80], server_hello[60];
static size_t client_hello_len, server_hello_len;

/* A minimal TLS 1.2 ClientHello (two suites, null compression, no extensions) and a ServerHello
 * choosing one of them; the random bytes never contain 0x16 or a line feed. */
static void build_hellos(void)
{
    uint8_t *p = client_hello;
    static const uint8_t ch_head[] = { 0x16, 0x03, 0x01, 0x00, 0x2f, 0x01, 0x00, 0x00, 0x2b,
                                       0x03, 0x03 };
    static const uint8_t ch_tail[] = { 0x00, 0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f, 0x01, 0x00 };
    static const uint8_t sh_head[] = { 0x16, 0x03, 0x03, 0x00, 0x2a, 0x02, 0x00, 0x00, 0x26,
                                       0x03, 0x03 };
    static const uint8_t sh_tail[] = { 0x00, 0xc0, 0x2f, 0x00 };

    memcpy(p, ch_head, sizeof(ch_head));
    p += sizeof(ch_head);
    for (int i = 0; i < 32; i++)
        *p++ = (uint8_t)(0x40 + i);
    memcpy(p, ch_tail, sizeof(ch_tail));
    client_hello_len = (size_t)(p + sizeof(ch_tail) - client_hello);
    p = server_hello;
    memcpy(p, sh_head, sizeof(sh_head));
    p += sizeof(sh_head);
    for (int i = 0; i < 32; i++)
        *p++ = (uint8_t)(0x60 + i);
    memcpy(p, sh_tail, sizeof(sh_tail));
    server_hello_len = (size_t)(p + sizeof(sh_tail) - server_hello);
}

/* ---- transcripts ---- */

#define CH "\001CH"  /* placeholders replaced by the hellos */
#define SH "\001SH"

struct seg {
    enum ta_dir dir;
    const char *txt;
    size_t len;  /* 0: txt is a C string with placeholders; else raw bytes */
};
#define C(t) { TA_DIR_C2S, t, 0 }
#define Sv(t) { TA_DIR_S2C, t, 0 }
#define CB(t, n) { TA_DIR_C2S, t, n }

/* Expand placeholders and, when lf_only, turn every CR LF into a bare LF. */
static size_t seg_bytes(const struct seg *g, uint8_t *out, bool lf_only)
{
    size_t n = 0;
    if (g->len) {
        memcpy(out, g->txt, g->len);
        return g->len;
    }
    for (const char *t = g->txt; *t; t++) {
        if (strncmp(t, CH, 3) == 0 || strncmp(t, SH, 3) == 0) {
            bool c = t[1] == 'C';
            memcpy(out + n, c ? client_hello : server_hello, c ? client_hello_len : server_hello_len);
            n += c ? client_hello_len : server_hello_len;
            t += 2;
        } else if (!(lf_only && t[0] == '\r' && t[1] == '\n')) {
            out[n++] = (uint8_t)*t;
        }
    }
    return n;
}

/* Replay a transcript: each segment delivered whole (step 0), in pieces of step bytes, or cut
 * in two at offset split. */
static void replay(const struct seg *t, size_t n, uint16_t port, size_t step, size_t split,
                   bool lf_only)
{
    static uint8_t tmp[8192];

    sim_init(&S, port);
    for (size_t i = 0; i < n; i++) {
        size_t len = seg_bytes(&t[i], tmp, lf_only), off = 0;
        while (off < len) {
            size_t k = len - off;
            if (step && k > step)
                k = step;
            if (split && off == 0 && split < len)
                k = split;
            sim_bytes(&S, t[i].dir, tmp + off, k);
            off += k;
        }
    }
}

struct outcome {
    struct ta_mail mail;
    const struct ta_dissector *d;
    uint8_t app;
    bool starttls, done[2];
    uint32_t anomalies;
    size_t handoff[2];
};

static void outcome_of(const struct sim *s, struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    o->mail = s->ctx.hs.mail;
    o->d = s->d;
    o->app = s->ctx.hs.app;
    o->starttls = s->ctx.hs.starttls;
    o->anomalies = s->ctx.hs.anomalies;
    memcpy(o->handoff, s->handoff, sizeof(o->handoff));
    memcpy(o->done, s->done, sizeof(o->done));
}

static bool outcome_eq(const struct outcome *a, const struct outcome *b)
{
    const struct ta_mail *x = &a->mail, *y = &b->mail;
    return a->d == b->d && a->app == b->app && a->starttls == b->starttls &&
           a->anomalies == b->anomalies && a->handoff[0] == b->handoff[0] &&
           a->handoff[1] == b->handoff[1] && a->done[0] == b->done[0] && a->done[1] == b->done[1] &&
           x->present == y->present && x->greeting_code == y->greeting_code &&
           !strcmp(x->greeting_host, y->greeting_host) && !strcmp(x->greeting, y->greeting) &&
           !strcmp(x->client_name, y->client_name) && !strcmp(x->capabilities, y->capabilities) &&
           x->starttls_offered == y->starttls_offered && x->starttls_sent == y->starttls_sent &&
           x->starttls_refused == y->starttls_refused &&
           x->starttls_accepted == y->starttls_accepted && x->auth_in_clear == y->auth_in_clear &&
           x->mail_in_clear == y->mail_in_clear && x->prelude_bytes == y->prelude_bytes;
}

/* Replay whole, with bare LF (same but offsets), byte by byte, in small pieces and split at every
 * offset of every segment: all must give the whole-segment outcome, left in S and *o. */
static void replay_all_ways(const char *name, const struct seg *t, size_t n, uint16_t port,
                            struct outcome *o)
{
    struct outcome x;
    size_t maxlen = 0, bad = 0;
    static uint8_t tmp[8192];

    for (size_t i = 0; i < n; i++) {
        size_t l = seg_bytes(&t[i], tmp, false);
        maxlen = l > maxlen ? l : maxlen;
    }
    replay(t, n, port, 0, 0, false);
    outcome_of(&S, o);
    for (size_t step = 1; step <= 7; step += 3) {
        replay(t, n, port, step, 0, false);
        outcome_of(&S, &x);
        bad += !outcome_eq(o, &x);
    }
    for (size_t split = 1; split < maxlen; split++) {
        replay(t, n, port, 0, split, false);
        outcome_of(&S, &x);
        bad += !outcome_eq(o, &x);
    }
    /* Bare LF: the same record; hand-off offsets shift by the CRs removed. */
    replay(t, n, port, 0, 0, true);
    outcome_of(&S, &x);
    x.handoff[0] = o->handoff[0];
    x.handoff[1] = o->handoff[1];
    x.mail.prelude_bytes = o->mail.prelude_bytes;
    bad += !outcome_eq(o, &x);
    for (int d = 0; d < 2; d++)
        if (S.handoff[d] != NONE)
            CHECK_INT(S.buf[d][S.handoff[d]], 0x16);
    if (bad)
        fprintf(stderr, "%s: %zu replays differ from the whole-segment one\n", name, bad);
    CHECK_INT(bad, 0);
    replay(t, n, port, 0, 0, false);  /* leave the plain replay in S */
}

/* The hand-off of direction d lands exactly on the hello that follows the prelude. */
static void check_handoff(int d)
{
    CHECK(S.handoff[d] != NONE);
    if (S.handoff[d] == NONE)
        return;
    CHECK_INT(S.buf[d][S.handoff[d]], 0x16);
    CHECK(memcmp(S.buf[d] + S.handoff[d], d == TA_DIR_C2S ? client_hello : server_hello,
                 d == TA_DIR_C2S ? client_hello_len : server_hello_len) == 0);
}

static bool ctx_has(const char *secret)
{
    return memmem(&S.ctx, sizeof(S.ctx), secret, strlen(secret)) != NULL;
}

#define RUN(t, port, o) replay_all_ways(#t, t, TA_ARRAY_LEN(t), port, o)

/* ---- SMTP ---- */

static const struct seg smtp_ok[] = {
    Sv("220 mx.example.com ESMTP Postfix\r\n"),
    C("EHLO client.example.org\r\n"),
    Sv("250-mx.example.com\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-STARTTLS\r\n"
       "250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n"),
    C("STARTTLS\r\n"),
    Sv("220 2.0.0 Ready to start TLS\r\n" SH),
    C(CH),
};

static void test_smtp_accepted(void)
{
    struct outcome o;
    RUN(smtp_ok, 25, &o);
    CHECK(S.d == &ta_dissector_smtp);
    CHECK_INT(S.ctx.hs.app, TA_APP_SMTP);
    CHECK(S.ctx.hs.starttls);
    CHECK(o.mail.present);
    CHECK_INT(o.mail.greeting_code, 220);
    CHECK_STR(o.mail.greeting_host, "mx.example.com");
    CHECK_STR(o.mail.greeting, "220 mx.example.com ESMTP Postfix");
    CHECK_STR(o.mail.client_name, "client.example.org");
    CHECK_STR(o.mail.capabilities, "PIPELINING SIZE STARTTLS AUTH=PLAIN,LOGIN 8BITMIME");
    CHECK(o.mail.starttls_offered && o.mail.starttls_sent && o.mail.starttls_accepted);
    CHECK(!o.mail.starttls_refused && !o.mail.auth_in_clear && !o.mail.mail_in_clear);
    CHECK_INT(S.handoff[TA_DIR_C2S], strlen("EHLO client.example.org\r\nSTARTTLS\r\n"));
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
    CHECK_INT(o.anomalies, 0);
}

/* Pipelined EHLO + STARTTLS (RFC 3207 allows STARTTLS last in a group): the replies are matched
 * in order and the hand-off lands right after the 220. */
static const struct seg smtp_pipelined[] = {
    Sv("220-mail.example.net ESMTP\r\n220 second greeting line\r\n"),
    C("EHLO me.example\r\nSTARTTLS\r\n"),
    Sv("250-mail.example.net\r\n250-PIPELINING\r\n250 STARTTLS\r\n220 go ahead\r\n" SH),
    C(CH),
};

static void test_smtp_pipelined(void)
{
    struct outcome o;
    RUN(smtp_pipelined, 587, &o);
    CHECK_STR(o.mail.greeting, "220-mail.example.net ESMTP");
    CHECK_STR(o.mail.greeting_host, "mail.example.net");
    CHECK_STR(o.mail.capabilities, "PIPELINING STARTTLS");
    CHECK(o.mail.starttls_accepted);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
}

static const struct seg smtp_refused[] = {
    Sv("220 relay.example.com ESMTP\r\n"),
    C("EHLO c\r\n"),
    Sv("250-relay.example.com\r\n250 STARTTLS\r\n"),
    C("STARTTLS\r\n"),
    Sv("454 4.7.0 TLS not available due to local problem\r\n"),
    C("QUIT\r\n"),
    Sv("221 2.0.0 Bye\r\n"),
};

static void test_smtp_refused(void)
{
    struct outcome o;
    RUN(smtp_refused, 25, &o);
    CHECK(o.mail.starttls_offered && o.mail.starttls_sent && o.mail.starttls_refused);
    CHECK(!o.mail.starttls_accepted && !S.ctx.hs.starttls);
    CHECK(S.handoff[0] == NONE && S.handoff[1] == NONE);
    CHECK(S.done[TA_DIR_S2C]);  /* QUIT answered */
}

/* No STARTTLS offered; pipelined MAIL/RCPT/DATA; the body holds command-looking lines and a
 * dot-stuffed line, none of which may be parsed or kept. */
static const struct seg smtp_plain[] = {
    Sv("220 old.example.com Sendmail ready\r\n"),
    C("EHLO host\r\n"),
    Sv("250-old.example.com Hello\r\n250-SIZE\r\n250 HELP\r\n"),
    C("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"),
    Sv("250 ok\r\n250 ok\r\n354 go ahead\r\n"),
    C("Subject: SECRETSUBJECT\r\n\r\nSTARTTLS\r\nAUTH PLAIN AGFsaWNl\r\n..dotted\r\n .\r\n.\r\n"),
    Sv("250 queued\r\n"),
    C("QUIT\r\n"),
    Sv("221 bye\r\n"),
};

static void test_smtp_plain(void)
{
    struct outcome o;
    RUN(smtp_plain, 25, &o);
    CHECK_STR(o.mail.capabilities, "SIZE HELP");
    CHECK(!o.mail.starttls_offered && !o.mail.starttls_sent && !o.mail.auth_in_clear);
    CHECK(o.mail.mail_in_clear);
    CHECK(S.done[TA_DIR_S2C]);
    CHECK(!ctx_has("SECRETSUBJECT") && !ctx_has("AGFsaWNl") && !ctx_has("dotted"));
}

/* AUTH LOGIN dialogue then AUTH PLAIN with an initial response, before any TLS. */
static const struct seg smtp_auth[] = {
    Sv("220 smtp.example.org ESMTP\r\n"),
    C("EHLO laptop\r\n"),
    Sv("250-smtp.example.org\r\n250-AUTH=LOGIN\r\n250 AUTH LOGIN PLAIN\r\n"),
    C("AUTH LOGIN\r\n"),
    Sv("334 VXNlcm5hbWU6\r\n"),
    C("YWxpY2U=\r\n"),
    Sv("334 UGFzc3dvcmQ6\r\n"),
    C("czNjcjN0UGFzcw==\r\n"),
    Sv("535 5.7.8 failed\r\n"),
    C("AUTH PLAIN AGFsaWNlAHMzY3IzdFBhc3M=\r\n"),
    Sv("235 ok\r\n"),
    C("QUIT\r\n"),
    Sv("221 bye\r\n"),
};

static void test_smtp_auth(void)
{
    struct outcome o;
    RUN(smtp_auth, 25, &o);
    CHECK(o.mail.auth_in_clear && !o.mail.starttls_offered);
    CHECK_STR(o.mail.capabilities, "AUTH=LOGIN AUTH=LOGIN,PLAIN");
    CHECK(S.done[TA_DIR_S2C]);  /* the queue stayed in step through the SASL lines */
    CHECK(!ctx_has("czNjcjN0UGFzcw") && !ctx_has("AGFsaWNlAHMzY3IzdFBhc3M") &&
          !ctx_has("YWxpY2U"));
}

/* BDAT chunk bytes (RFC 3030) are skipped raw even when they look like commands. */
static const struct seg smtp_bdat[] = {
    Sv("220 x.example ESMTP\r\n"),
    C("EHLO y\r\n"),
    Sv("250-x.example\r\n250 CHUNKING\r\n"),
    C("MAIL FROM:<>\r\nRCPT TO:<z@x.example>\r\nBDAT 12 LAST\r\nSTARTTLS\nxyz"),
    Sv("250 ok\r\n250 ok\r\n250 got it\r\n"),
    C("QUIT\r\n"),
    Sv("221 bye\r\n"),
};

static void test_smtp_bdat(void)
{
    struct outcome o;
    RUN(smtp_bdat, 25, &o);
    CHECK(!o.mail.starttls_sent && o.mail.mail_in_clear);
    CHECK(S.done[TA_DIR_S2C]);
}

/* Over-long lines on both sides are consumed, flagged, and do not break the hand-off. */
static void test_smtp_long_lines(void)
{
    static char cl[4000], sl[4000];
    struct seg t[] = {
        Sv("220 long.example ESMTP\r\n"), C(cl), Sv(sl), C("STARTTLS\r\n"),
        Sv("220 ready\r\n" SH), C(CH),
    };
    struct outcome o;

    strcpy(cl, "EHLO ");
    memset(cl + 5, 'a', 3000);
    strcpy(cl + 3005, "\r\n");
    strcpy(sl, "250-long.example\r\n250-X-LONG ");
    memset(sl + strlen(sl), 'b', 3000);
    strcat(sl, "\r\n250 STARTTLS\r\n");
    RUN(t, 25, &o);
    CHECK(o.anomalies & TA_AN_LONG_LINE);
    CHECK_INT(strlen(o.mail.client_name), TA_TEXT_MAX - 1);
    CHECK_STR(o.mail.capabilities, "X-LONG STARTTLS");
    CHECK(o.mail.starttls_accepted);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
}

/* Implicit TLS aimed at a plaintext server (port 465 answering "220"): the client's hello goes
 * to TLS at its first byte, the server's error replies stay text. */
static const struct seg smtp_implicit[] = {
    Sv("220 v02.example.org ESMTP Postfix\r\n"),
    C(CH),
    Sv("502 5.5.2 Error: command not recognized\r\n"),
};

static void test_smtp_implicit_tls(void)
{
    struct outcome o;
    RUN(smtp_implicit, 465, &o);
    CHECK(S.d == &ta_dissector_smtp);
    CHECK_INT(S.handoff[TA_DIR_C2S], 0);
    check_handoff(TA_DIR_C2S);
    CHECK(S.handoff[TA_DIR_S2C] == NONE);
    CHECK_INT(S.pos[TA_DIR_S2C], S.len[TA_DIR_S2C]);
    CHECK(!o.starttls && !o.mail.starttls_sent && o.mail.present);
    CHECK_STR(o.mail.greeting_host, "v02.example.org");
}

/* Probe decisions: SMTP vs FTP by port and banner, waiting for a whole first line. */
static void test_probes(void)
{
    const uint8_t *smtp = (const uint8_t *)"220 mx ESMTP\r\n", *ftp = (const uint8_t *)"220 ProFTPD\r\n";
    const uint8_t *plain = (const uint8_t *)"220 host ready\r\n";

    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, smtp, 14, 25), TA_OK);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, smtp, 14, 21), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_C2S, smtp, 14, 25), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, smtp, 8, 25), TA_NEED_MORE);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, smtp, 2, 25), TA_NEED_MORE);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, ftp, 13, 2121), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_ftp.probe(TA_DIR_S2C, ftp, 13, 2121), TA_OK);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, plain, 16, 2525), TA_OK);
    CHECK_INT(ta_dissector_ftp.probe(TA_DIR_S2C, plain, 16, 2525), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_ftp.probe(TA_DIR_S2C, plain, 16, 21), TA_OK);
    CHECK_INT(ta_dissector_imap.probe(TA_DIR_S2C, (const uint8_t *)"* O", 3, 143), TA_NEED_MORE);
    CHECK_INT(ta_dissector_imap.probe(TA_DIR_S2C, (const uint8_t *)"* PREAUTH x", 11, 143), TA_OK);
    CHECK_INT(ta_dissector_imap.probe(TA_DIR_S2C, (const uint8_t *)"* BAD", 5, 143), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_pop3.probe(TA_DIR_S2C, (const uint8_t *)"+O", 2, 110), TA_NEED_MORE);
    CHECK_INT(ta_dissector_pop3.probe(TA_DIR_S2C, (const uint8_t *)"+OK", 3, 110), TA_OK);
    CHECK_INT(ta_dissector_pop3.probe(TA_DIR_C2S, (const uint8_t *)"+OK", 3, 110), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_generic.probe(TA_DIR_C2S, (const uint8_t *)"\x00", 1, 9), TA_OK);
}

/* ---- IMAP ---- */

static const struct seg imap_ok[] = {
    Sv("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] imap.example.net IMAP4 ready\r\n"),
    C("a1 CAPABILITY\r\n"),
    Sv("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED ID\r\na1 OK done\r\n"),
    C("a2 STARTTLS\r\n"),
    Sv("* OK still here\r\na22 OK not yours\r\na2 OK Begin TLS negotiation now\r\n" SH),
    C(CH),
};

static void test_imap_accepted(void)
{
    struct outcome o;
    RUN(imap_ok, 143, &o);
    CHECK(S.d == &ta_dissector_imap);
    CHECK_INT(o.app, TA_APP_IMAP);
    CHECK_INT(o.mail.greeting_code, 0);
    CHECK_STR(o.mail.greeting_host, "imap.example.net");
    CHECK_STR(o.mail.capabilities, "IMAP4rev1 STARTTLS LOGINDISABLED ID");
    CHECK(o.mail.starttls_offered && o.mail.starttls_sent && o.mail.starttls_accepted);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
}

static const struct seg imap_pipelined[] = {
    Sv("* OK ready\r\n"),
    C("t1 CAPABILITY\r\nt2 STARTTLS\r\n"),
    Sv("* CAPABILITY IMAP4rev1 STARTTLS\r\nt1 OK\r\nt2 OK go\r\n" SH),
    C(CH),
};

static const struct seg imap_refused[] = {
    Sv("* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
    C("a2 STARTTLS\r\n"),
    Sv("a2 NO TLS unavailable\r\n"),
    C("a3 LOGOUT\r\n"),
    Sv("* BYE\r\na3 OK bye\r\n"),
};

/* No STARTTLS; LOGIN with a literal password that looks like a command; SELECT; a FETCH whose
 * literal holds lines that look like capabilities; LOGOUT. */
static const struct seg imap_plain[] = {
    Sv("* OK mail.example.org Cyrus IMAP v2.3.16 ready\r\n"),
    C("a1 LOGIN alice {13}\r\n"),
    Sv("+ go ahead\r\n"),
    C("x STARTTLS pw\r\n"),
    Sv("a1 OK [CAPABILITY IMAP4rev1 IDLE] logged in\r\n"),
    C("a2 SELECT INBOX\r\na3 UID FETCH 1 BODY[]\r\n"),
    Sv("a2 OK\r\n* 1 FETCH (UID 1 BODY[] {32}\r\n* CAPABILITY STARTTLS\nMSGSECRET\n)\r\n"
       "a3 OK\r\n"),
    C("a4 LOGOUT\r\n"),
    Sv("* BYE\r\na4 OK\r\n"),
};

static void test_imap_more(void)
{
    struct outcome o;
    RUN(imap_pipelined, 143, &o);
    CHECK(o.mail.starttls_accepted);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);

    RUN(imap_refused, 143, &o);
    CHECK(o.mail.starttls_refused && !o.mail.starttls_accepted && !o.starttls);
    CHECK(S.done[TA_DIR_S2C]);

    RUN(imap_plain, 143, &o);
    CHECK_STR(o.mail.greeting_host, "mail.example.org");
    CHECK(!o.mail.starttls_sent && !o.mail.starttls_offered);
    CHECK(o.mail.auth_in_clear && o.mail.mail_in_clear);
    CHECK_STR(o.mail.capabilities, "IMAP4rev1 IDLE");
    CHECK(S.done[TA_DIR_S2C]);
    CHECK(!ctx_has("STARTTLS pw") && !ctx_has("MSGSECRET"));
}

/* ---- POP3 ---- */

static const struct seg pop3_ok[] = {
    Sv("+OK mail.example.com POP3 server ready <1896.697170952@mail.example.com>\r\n"),
    C("CAPA\r\n"),
    Sv("+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL PLAIN LOGIN\r\nSTLS\r\n.\r\n"),
    C("STLS\r\n"),
    Sv("+OK Begin TLS\r\n" SH),
    C(CH),
};

static const struct seg pop3_refused[] = {
    Sv("+OK ready\r\n"),
    C("STLS\r\n"),
    Sv("-ERR not now\r\n"),
    C("USER alice\r\n"),
    Sv("+OK\r\n"),
    C("PASS pop3S3cret\r\n"),
    Sv("+OK maildrop has 1 message\r\n"),
    C("RETR 1\r\n"),
    Sv("+OK 40 octets\r\nSTLS\r\n+OK BODYSECRET\r\n..\r\n.x\r\n.\r\n"),
    C("QUIT\r\n"),
    Sv("+OK bye\r\n"),
};

/* RFC 2449 pipelining: a burst of commands, the replies in one segment. */
static const struct seg pop3_pipelined[] = {
    Sv("+OK pop.example.org ready\r\n"),
    C("CAPA\r\nUSER bob\r\nPASS hunter2pw\r\nLIST\r\nQUIT\r\n"),
    Sv("+OK\r\nUSER\r\nPIPELINING\r\n.\r\n+OK\r\n+OK\r\n+OK 2 messages\r\n1 100\r\n2 200\r\n.\r\n"
       "+OK bye\r\n"),
};

static void test_pop3(void)
{
    struct outcome o;
    RUN(pop3_ok, 110, &o);
    CHECK(S.d == &ta_dissector_pop3);
    CHECK_INT(o.app, TA_APP_POP3);
    CHECK_STR(o.mail.greeting_host, "mail.example.com");
    CHECK_STR(o.mail.capabilities, "TOP USER SASL=PLAIN,LOGIN STLS");
    CHECK(o.mail.starttls_offered && o.mail.starttls_accepted);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);

    RUN(pop3_refused, 110, &o);
    CHECK(o.mail.starttls_refused && !o.mail.starttls_accepted);
    CHECK(o.mail.auth_in_clear && o.mail.mail_in_clear);
    CHECK_STR(o.mail.greeting_host, "");
    CHECK(S.done[TA_DIR_S2C]);
    CHECK(!ctx_has("pop3S3cret") && !ctx_has("BODYSECRET"));

    RUN(pop3_pipelined, 110, &o);
    CHECK(!o.mail.starttls_offered && o.mail.auth_in_clear && !o.mail.mail_in_clear);
    CHECK_STR(o.mail.capabilities, "USER PIPELINING");
    CHECK(S.done[TA_DIR_S2C]);
    CHECK(!ctx_has("hunter2pw"));
}

/* ---- FTP ---- */

static const struct seg ftp_ok[] = {
    Sv("220 (vsFTPd 3.0.5)\r\n"),
    C("FEAT\r\n"),
    Sv("211-Features:\r\n EPRT\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n REST STREAM\r\n211 End\r\n"),
    C("AUTH TLS\r\n"),
    Sv("234 Proceed with negotiation.\r\n" SH),
    C(CH),
};

static const struct seg ftp_refused[] = {
    Sv("220-ftp.example.com FTP server\r\n220-second line\r\nno code here\r\n220 ready\r\n"),
    C("AUTH TLS\r\n"),
    Sv("534 Policy requires no TLS\r\n"),
    C("USER anonymous\r\n"),
    Sv("331 send password\r\n"),
    C("PASS ftpS3cretPw\r\n"),
    Sv("230 in\r\n"),
    C("RETR file.txt\r\nQUIT\r\n"),
    Sv("150 Opening\r\n226 done\r\n221 Goodbye\r\n"),
};

static void test_ftp(void)
{
    struct outcome o;
    RUN(ftp_ok, 21, &o);
    CHECK(S.d == &ta_dissector_ftp);
    CHECK_INT(o.app, TA_APP_FTP);
    CHECK_INT(o.mail.greeting_code, 220);
    CHECK_STR(o.mail.greeting, "220 (vsFTPd 3.0.5)");
    CHECK_STR(o.mail.greeting_host, "");
    CHECK_STR(o.mail.capabilities, "EPRT AUTH=TLS PBSZ PROT REST");
    CHECK(o.mail.starttls_offered && o.mail.starttls_sent && o.mail.starttls_accepted);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);

    RUN(ftp_refused, 21, &o);
    CHECK_STR(o.mail.greeting_host, "ftp.example.com");
    CHECK(o.mail.starttls_refused && !o.mail.starttls_offered);
    CHECK(o.mail.auth_in_clear && o.mail.mail_in_clear);
    CHECK(S.done[TA_DIR_S2C]);  /* 150 was preliminary: 226 answered RETR, 221 QUIT */
    CHECK(!ctx_has("ftpS3cretPw"));
}

/* ---- generic prelude ---- */

static const struct seg gen_xmpp[] = {
    C("<?xml version='1.0'?><stream:stream to='example.com' xmlns='jabber:client' "
      "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"),
    Sv("<?xml version='1.0'?><stream:stream from='example.com' id='a1' version='1.0'>"
       "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
       "</starttls></stream:features>"),
    C("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
    Sv("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" SH),
    C(CH),
};

static const struct seg gen_psql[] = {
    CB("\x00\x00\x00\x08\x04\xd2\x16\x2f", 8),  /* SSLRequest: note the 0x16 inside */
    Sv("S"),
    C(CH),
    Sv(SH),
};

static const struct seg gen_connect[] = {
    C("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
    Sv("HTTP/1.1 200 Connection established\r\n\r\n"),
    C(CH),
    Sv(SH),
};

static const struct seg gen_ssh[] = {
    Sv("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
    C("SSH-2.0-OpenSSH_9.2\r\n" CH),
};

static const struct seg gen_http[] = {
    C("GET / HTTP/1.1\r\nHost: x\r\n\r\n" CH),
    Sv("HTTP/1.1 200 OK\r\n\r\n" SH),
};

static void test_generic(void)
{
    struct outcome o;

    RUN(gen_xmpp, 5222, &o);
    CHECK(S.d == &ta_dissector_generic);
    CHECK_INT(o.app, TA_APP_OTHER);
    CHECK(o.starttls && !o.mail.present);
    CHECK_INT(o.mail.prelude_bytes, strlen(gen_xmpp[0].txt) + strlen(gen_xmpp[2].txt));
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);

    RUN(gen_psql, 5432, &o);
    CHECK(S.d == &ta_dissector_generic);
    CHECK_INT(S.handoff[TA_DIR_C2S], 8);
    CHECK_INT(S.handoff[TA_DIR_S2C], 1);
    CHECK_INT(o.mail.prelude_bytes, 8);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);

    RUN(gen_connect, 3128, &o);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);

    RUN(gen_ssh, 22, &o);
    CHECK(S.done[0] && S.done[1] && S.handoff[0] == NONE && S.handoff[1] == NONE);
    CHECK_INT(S.pos[TA_DIR_S2C], S.len[TA_DIR_S2C]);  /* given up at the first bytes */
    CHECK_INT(o.app, TA_APP_UNKNOWN);

    RUN(gen_http, 80, &o);
    CHECK(S.done[0] && S.done[1] && S.handoff[0] == NONE && S.handoff[1] == NONE);
}

/* The scan budget: a hello after 4096 bytes of prelude is not looked for. */
static void test_generic_budget(void)
{
    static uint8_t big[5000];
    int rc;
    size_t used = 0;

    memset(big, 'A', sizeof(big));
    memcpy(big + 4500, client_hello, client_hello_len);
    memset(&S.ctx, 0, sizeof(S.ctx));
    ta_dissector_generic.start(&S.ctx);
    rc = ta_dissector_generic.feed(&S.ctx, TA_DIR_C2S, big, 4500 + client_hello_len, &used);
    CHECK_INT(rc, TA_DONE);
    memcpy(big + 4000, client_hello, client_hello_len);
    ta_dissector_generic.start(&S.ctx);
    rc = ta_dissector_generic.feed(&S.ctx, TA_DIR_C2S, big, 4000 + client_hello_len, &used);
    CHECK_INT(rc, TA_HANDOFF);
    CHECK_INT(used, 4000);
}

/* Random bytes are never taken for a hello (fixed seed, 10000 buffers, both directions). */
static void test_generic_random(void)
{
    static uint8_t buf[1024];
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int handoffs = 0, candidates = 0;

    for (int i = 0; i < 10000; i++) {
        size_t len, used;
        for (size_t j = 0; j < sizeof(buf); j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[j] = (uint8_t)(x >> 24);
        }
        len = 1 + (size_t)(x % sizeof(buf));
        candidates += memchr(buf, 0x16, len) != NULL;
        memset(&S.ctx, 0, sizeof(S.ctx));
        ta_dissector_generic.start(&S.ctx);
        handoffs += ta_dissector_generic.feed(&S.ctx, (enum ta_dir)(i & 1), buf, len, &used) ==
                    TA_HANDOFF;
    }
    CHECK_INT(handoffs, 0);
    CHECK(candidates > 5000);  /* the scan really met many 0x16 bytes */
}

int main(void)
{
    build_hellos();
    test_probes();
    test_smtp_accepted();
    test_smtp_pipelined();
    test_smtp_refused();
    test_smtp_plain();
    test_smtp_auth();
    test_smtp_bdat();
    test_smtp_long_lines();
    test_smtp_implicit_tls();
    test_imap_accepted();
    test_imap_more();
    test_pop3();
    test_ftp();
    test_generic();
    test_generic_budget();
    test_generic_random();
    return CHECK_DONE();
}