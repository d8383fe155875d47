/* test_imap_pop3_ftp.c - the IMAP (RFC 9051, RFC 2595), POP3 (RFC 2595 STLS, RFC 2449 CAPA) and
 * FTP (RFC 4217 AUTH TLS) STARTTLS dissectors driven the way the engine drives them
 * (tests/starttls_sim.h): accepted, pipelined and refused upgrades, logins and mail in clear, and
 * literals or message bodies that look like commands and must be neither parsed nor kept. Every
 * transcript is replayed whole, byte by byte and split at every offset. */
#define _GNU_SOURCE  /* memmem */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "starttls_transcript.h"
#include "tlsaudit/dissector.h"

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

/* ---- bytes lost to a snap length (sim_cut): the dialogue goes on at the next segment ---- */

#define CUT(dir, lit, keep) sim_cut(&S, dir, lit, strlen(lit), keep)
#define S2C TA_DIR_S2C
#define C2S TA_DIR_C2S

static void test_cut_dialogues(void)
{
    /* FTP: a multi-line greeting and a FEAT list each lose their closing line; AUTH TLS's 234
     * is cut after its code. */
    sim_init(&S, 21);
    CUT(S2C, "220-ftp.example.com FTP server\r\n220-second line\r\n220 ready\r\n", 40);
    CHECK(S.d == &ta_dissector_ftp);
    CUT(C2S, "FEAT\r\n", 100);
    CUT(S2C, "211-Features:\r\n EPRT\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n", 30);
    CUT(C2S, "AUTH TLS\r\n", 100);
    CUT(S2C, "234 Proceed with negotiation.\r\n", 10);
    CHECK(S.ctx.hs.mail.starttls_accepted);
    CHECK(S.handoff[S2C] != NONE);
    CHECK_STR(S.ctx.hs.mail.greeting_host, "ftp.example.com");
    CHECK_STR(S.ctx.hs.mail.capabilities, "EPRT AUTH");  /* " AUTH T": the argument was cut */

    /* POP3: the CAPA body loses its terminating dot; STLS is then answered. */
    sim_init(&S, 110);
    CUT(S2C, "+OK pop.example.com ready\r\n", 100);
    CUT(C2S, "CAPA\r\n", 100);
    CUT(S2C, "+OK\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n", 13);
    CUT(C2S, "STLS\r\n", 100);
    CUT(S2C, "+OK Begin TLS\r\n", 4);
    CHECK(S.ctx.hs.mail.starttls_offered && S.ctx.hs.mail.starttls_accepted);
    CHECK(S.handoff[S2C] != NONE);
    CHECK_STR(S.ctx.hs.mail.capabilities, "STLS");       /* "US" was cut: not recorded */

    /* IMAP: a loss inside a literal is passed over with it; one that runs past it ends the line
     * the literal continued, so the next line is read afresh. */
    sim_init(&S, 143);
    CUT(S2C, "* OK IMAP4rev1 ready\r\n", 100);
    CUT(C2S, "a1 CAPABILITY\r\n", 100);
    CUT(S2C, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na1 OK done\r\n", 29);
    /* 6 of a 40-byte literal kept, 24 lost, the last 10 in the next segment */
    CUT(S2C, "* 1 FETCH (BODY[] {40}\r\n012345678901234567890123456789", 30);
    CUT(S2C, "0123456789)\r\n", 100);
    CUT(S2C, "* OK [CAPABILITY IMAP4rev1 STARTTLS]\r\n", 100);
    CHECK_STR(S.ctx.hs.mail.capabilities, "IMAP4rev1 STARTTLS");   /* read afresh */
    CUT(S2C, "* 2 FETCH (BODY[] {10}\r\n0123456789)\r\n", 28);
    CUT(C2S, "a2 STARTTLS\r\n", 100);
    CUT(S2C, "a2 OK Begin TLS negotiation now\r\n", 9);
    CHECK(S.ctx.hs.mail.starttls_offered);
    CHECK(S.ctx.hs.mail.starttls_accepted);
    CHECK(S.handoff[S2C] != NONE);

    /* SMTP: a line over TA__TEXT_LINE_MAX being dropped ends with the loss. */
    static char longline[2200];
    memset(longline, 'A', sizeof(longline) - 1);
    memcpy(longline, "250-X", 5);
    sim_init(&S, 25);
    CUT(S2C, "220 mx.example.com ESMTP\r\n", 100);
    CUT(C2S, "EHLO c\r\n", 100);
    CUT(S2C, longline, 2100);
    CHECK(S.ctx.hs.anomalies & TA_AN_LONG_LINE);
    CUT(C2S, "STARTTLS\r\n", 100);
    CUT(S2C, "220 go ahead\r\n", 100);
    CHECK(S.ctx.hs.mail.starttls_accepted);

    /* The client's bytes after STARTTLS are TLS's: a loss there is declined, not stepped over. */
    sim_init(&S, 143);
    CUT(S2C, "* OK IMAP4rev1 ready\r\n", 100);
    CUT(C2S, "a2 STARTTLS\r\n", 100);
    sim_cut(&S, C2S, "\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x01", 11, 5);
    CHECK(S.stuck[C2S]);
    CUT(S2C, "a2 OK Begin TLS negotiation now\r\n", 100);
    CHECK(S.handoff[S2C] != NONE && S.handoff[C2S] != NONE);
}

/* ---- The client first: the greeting lost, or the clients' side alone captured ---- */

static const struct seg imap_client_only[] = {
    C("a1 CAPABILITY\r\n"),
    C("a2 STARTTLS\r\n"),
    C(CH),
};
static const struct seg imap_greeting_lost[] = {
    C("a1 CAPABILITY\r\n"),
    Sv("* CAPABILITY IMAP4rev1 STARTTLS\r\na1 OK done\r\n"),
    C("a2 STARTTLS\r\n"),
    Sv("a2 OK Begin TLS negotiation now\r\n" SH),
    C(CH),
};
static const struct seg pop3_client_only[] = {
    C("CAPA\r\n"),
    C("STLS\r\n"),
    C(CH),
};
static const struct seg pop3_greeting_lost[] = {
    C("CAPA\r\n"),
    Sv("+OK Capability list follows\r\nUSER\r\nSTLS\r\n.\r\n"),
    C("STLS\r\n"),
    Sv("+OK Begin TLS\r\n" SH),
    C(CH),
};
static const struct seg pop3_client_only_plain[] = {
    C("USER scanner\r\n"),
    C("PASS secret\r\n"),
    C("RETR 1\r\n"),
};
static const struct seg ftp_client_only[] = {
    C("AUTH TLS\r\n"),
    C(CH),
};
static const struct seg ftp_greeting_lost[] = {
    C("FEAT\r\n"),
    Sv("211-Features:\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n"),
    C("AUTH TLS\r\n"),
    Sv("234 AUTH TLS OK.\r\n" SH),
    C(CH),
};

static void test_client_first(void)
{
    struct outcome o;

    RUN(imap_client_only, 143, &o);
    CHECK(S.d == &ta_dissector_imap);
    CHECK_INT(S.handoff[TA_DIR_C2S], strlen("a1 CAPABILITY\r\na2 STARTTLS\r\n"));
    check_handoff(TA_DIR_C2S);
    CHECK(o.starttls && o.mail.starttls_sent && o.mail.starttls_accepted);
    CHECK_STR(o.mail.greeting, "");
    RUN(imap_greeting_lost, 143, &o);
    CHECK(S.d == &ta_dissector_imap);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
    CHECK_STR(o.mail.greeting, "");
    CHECK_STR(o.mail.capabilities, "IMAP4rev1 STARTTLS");
    CHECK(o.mail.starttls_offered && o.mail.starttls_accepted);

    RUN(pop3_client_only, 110, &o);
    CHECK(S.d == &ta_dissector_pop3);
    check_handoff(TA_DIR_C2S);
    CHECK(o.starttls && o.mail.starttls_sent && o.mail.starttls_accepted);
    RUN(pop3_greeting_lost, 110, &o);
    CHECK(S.d == &ta_dissector_pop3);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
    CHECK_STR(o.mail.greeting, "");
    CHECK_STR(o.mail.capabilities, "USER STLS");
    CHECK(o.mail.starttls_offered && o.mail.starttls_accepted);
    RUN(pop3_client_only_plain, 110, &o);
    CHECK(S.d == &ta_dissector_pop3);
    CHECK(o.mail.auth_in_clear && o.mail.mail_in_clear && !o.mail.starttls_sent);
    CHECK_INT(S.pos[TA_DIR_C2S], S.len[TA_DIR_C2S]);
    RUN(pop3_client_only_plain, 2110, &o);   /* USER elsewhere than port 110: not claimed */
    CHECK(S.d != &ta_dissector_pop3);

    RUN(ftp_client_only, 21, &o);
    CHECK(S.d == &ta_dissector_ftp);
    check_handoff(TA_DIR_C2S);
    CHECK(o.starttls && o.mail.starttls_sent && o.mail.starttls_accepted);
    RUN(ftp_greeting_lost, 21, &o);
    CHECK(S.d == &ta_dissector_ftp);
    check_handoff(TA_DIR_C2S);
    check_handoff(TA_DIR_S2C);
    CHECK_STR(o.mail.greeting, "");
    CHECK(o.mail.starttls_accepted && !o.mail.starttls_refused);
}

int main(void)
{
    build_hellos();
    test_imap_accepted();
    test_imap_more();
    test_pop3();
    test_ftp();
    test_cut_dialogues();
    test_client_first();
    return CHECK_DONE();
}
