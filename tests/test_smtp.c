/* test_smtp.c - the SMTP STARTTLS dissector (RFC 5321, RFC 3207) driven the way the engine drives
 * it (tests/starttls_sim.h): accepted, pipelined, refused and unused STARTTLS, AUTH and mail in
 * clear, BDAT chunks, over-long lines, implicit TLS sent to a plaintext server. Every transcript
 * is replayed whole, byte by byte and split at every offset (same outcome each time). */
#define _GNU_SOURCE  /* memmem */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "starttls_transcript.h"
#include "tlsaudit/dissector.h"

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

/* Only the server's direction was captured (asymmetric routing, a span of one direction): its
 * ServerHello where a reply line was due is the upgrade, at the exact byte. A line that merely
 * begins with 0x16 and is no hello stays text. */
static const struct seg smtp_server_only[] = {
    Sv("220 mx.example.com ESMTP\r\n"),
    Sv("250-mx.example.com\r\n250-STARTTLS\r\n250 8BITMIME\r\n"),
    Sv("220 2.0.0 Ready to start TLS\r\n" SH),
};
static const struct seg smtp_server_0x16[] = {
    Sv("220 mx.example.com ESMTP\r\n"),
    Sv("\x16\x03\x01 is not a hello\r\n250 ok\r\n"),
};

static void test_smtp_server_only(void)
{
    struct outcome o;
    RUN(smtp_server_only, 587, &o);
    check_handoff(TA_DIR_S2C);
    CHECK(o.starttls && o.mail.starttls_accepted && !o.mail.starttls_sent);
    CHECK_STR(o.mail.greeting_host, "mx.example.com");
    RUN(smtp_server_0x16, 25, &o);
    CHECK(S.handoff[TA_DIR_S2C] == NONE);
    CHECK(!o.starttls && !o.mail.starttls_accepted);
    CHECK_INT(S.pos[TA_DIR_S2C], S.len[TA_DIR_S2C]);
}

/* The client spoke first. Only the clients' side was captured (a span of one direction,
 * asymmetric routing): no server packet at all, so the answers the client waits for never
 * come; what it sends next tells them. Or the greeting was lost, or came after the client's
 * first line (the two directions reordered). */
static const struct seg smtp_client_only[] = {
    C("EHLO printer.example\r\n"),
    C("STARTTLS\r\n"),
    C(CH),
};
static const struct seg smtp_client_only_plain[] = {
    C("EHLO printer.example\r\n"),
    C("STARTTLS\r\n"),
    C("MAIL FROM:<scan@example.org>\r\nRCPT TO:<a@example.org>\r\nDATA\r\n"),
    C("Subject: scan\r\n\r\nAUTH PLAIN is body text here\r\n.\r\n"),
    C("QUIT\r\n"),
};
static const struct seg smtp_server_late[] = {
    C("EHLO c.example\r\n"),
    C("STARTTLS\r\n"),
    C(CH),
    Sv("220 mx.example.com ESMTP\r\n"),
    Sv("250 mx.example.com\r\n"),
    Sv("220 2.0.0 Ready\r\n" SH),
};
static const struct seg smtp_greeting_lost[] = {
    C("EHLO c.example\r\n"),
    Sv("250-mx.example.com\r\n250-STARTTLS\r\n250 8BITMIME\r\n"),
    C("STARTTLS\r\n"),
    Sv("220 2.0.0 Ready\r\n" SH),
    C(CH),
};
static const struct seg smtp_reordered[] = {
    C("EHLO c.example\r\n"),
    Sv("220 mx.example.com ESMTP\r\n"),
    Sv("250-mx.example.com\r\n250 STARTTLS\r\n"),
    C("STARTTLS\r\n"),
    Sv("220 2.0.0 Ready\r\n" SH),
    C(CH),
};

static void test_smtp_client_first(void)
{
    struct outcome o;
    RUN(smtp_client_only, 587, &o);
    CHECK(S.d == &ta_dissector_smtp);
    CHECK_INT(S.handoff[TA_DIR_C2S], strlen("EHLO printer.example\r\nSTARTTLS\r\n"));
    check_handoff(TA_DIR_C2S);
    CHECK(o.starttls && o.mail.present && o.mail.starttls_sent && o.mail.starttls_accepted);
    CHECK_STR(o.mail.client_name, "printer.example");
    CHECK_STR(o.mail.greeting, "");
    CHECK(!o.mail.starttls_offered && !o.mail.starttls_refused);

    RUN(smtp_client_only_plain, 587, &o);
    CHECK(S.d == &ta_dissector_smtp);
    CHECK(S.handoff[TA_DIR_C2S] == NONE);
    CHECK_INT(S.pos[TA_DIR_C2S], S.len[TA_DIR_C2S]);
    CHECK(!o.starttls && o.mail.starttls_sent && !o.mail.starttls_accepted);
    CHECK(o.mail.mail_in_clear);
    CHECK(!o.mail.auth_in_clear);        /* the body after DATA is not read as commands */

    /* every server byte after the client's hello: read as text up to its own hand-off */
    RUN(smtp_server_late, 587, &o);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
    CHECK_INT(S.handoff[TA_DIR_S2C], strlen("220 mx.example.com ESMTP\r\n250 mx.example.com\r\n"
                                            "220 2.0.0 Ready\r\n"));
    CHECK_STR(o.mail.greeting, "220 mx.example.com ESMTP");
    CHECK(o.starttls && o.mail.starttls_accepted && !o.mail.starttls_refused);

    RUN(smtp_greeting_lost, 25, &o);
    CHECK(S.d == &ta_dissector_smtp);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
    CHECK_STR(o.mail.greeting, "");
    CHECK_STR(o.mail.capabilities, "STARTTLS 8BITMIME");
    CHECK(o.mail.starttls_offered && o.mail.starttls_sent && o.mail.starttls_accepted);

    RUN(smtp_reordered, 25, &o);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
    CHECK_STR(o.mail.greeting, "220 mx.example.com ESMTP");
    CHECK_STR(o.mail.capabilities, "STARTTLS");
    CHECK(o.mail.starttls_offered && o.mail.starttls_accepted);
}

int main(void)
{
    build_hellos();
    test_smtp_accepted();
    test_smtp_pipelined();
    test_smtp_refused();
    test_smtp_plain();
    test_smtp_auth();
    test_smtp_bdat();
    test_smtp_long_lines();
    test_smtp_server_only();
    test_smtp_implicit_tls();
    test_smtp_client_first();
    return CHECK_DONE();
}
