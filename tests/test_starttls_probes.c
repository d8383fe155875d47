/* test_starttls_probes.c - which plaintext dissector takes a stream: the probes of SMTP, FTP,
 * IMAP, POP3 and the generic prelude on first bytes, by direction, port and banner, waiting for
 * a whole first line. */
#include <stdint.h>

#include "check.h"
#include "tlsaudit/dissector.h"

/* Probe decisions: SMTP vs FTP by port and banner, waiting for a whole first line. */
static void test_probes(void)
{
    const uint8_t *smtp = (const uint8_t *)"220 mx ESMTP\r\n", *ftp = (const uint8_t *)"220 ProFTPD\r\n";
    const uint8_t *plain = (const uint8_t *)"220 host ready\r\n";

    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, smtp, 14, 25), TA_OK);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, smtp, 14, 21), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_C2S, smtp, 14, 25), TA_UNSUPPORTED);
    /* client first (greeting lost, or the clients' side only): its EHLO or HELO decides */
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_C2S, (const uint8_t *)"EHLO pr\r\n", 9, 587), TA_OK);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_C2S, (const uint8_t *)"helo pr\r\n", 9, 25), TA_OK);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_C2S, (const uint8_t *)"EHL", 3, 587), TA_NEED_MORE);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_C2S, (const uint8_t *)"EHLOX", 5, 587), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_C2S, (const uint8_t *)"EHLO pr\r\n", 9, 21), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_smtp.probe(TA_DIR_S2C, (const uint8_t *)"EHLO pr\r\n", 9, 25), TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_imap.probe(TA_DIR_C2S, (const uint8_t *)"a1 STARTTLS\r\n", 13, 143), TA_OK);
    CHECK_INT(ta_dissector_imap.probe(TA_DIR_C2S, (const uint8_t *)"a1 STAR", 7, 143), TA_NEED_MORE);
    /* PostgreSQL's SSLRequest: binary, not a tag; declined at once, not waited on */
    CHECK_INT(ta_dissector_imap.probe(TA_DIR_C2S, (const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x2f", 8, 5432),
              TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_pop3.probe(TA_DIR_C2S, (const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x2f", 8, 5432),
              TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_ftp.probe(TA_DIR_C2S, (const uint8_t *)"\0\0\0\x08\x04\xd2\x16\x2f", 8, 5432),
              TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_imap.probe(TA_DIR_C2S, (const uint8_t *)"a1 FETCH 1\r\n", 12, 143),
              TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_pop3.probe(TA_DIR_C2S, (const uint8_t *)"CAPA\r\n", 6, 8110), TA_OK);
    CHECK_INT(ta_dissector_pop3.probe(TA_DIR_C2S, (const uint8_t *)"CAPA x\r\n", 8, 110),
              TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_pop3.probe(TA_DIR_C2S, (const uint8_t *)"USER a\r\n", 8, 110), TA_OK);
    CHECK_INT(ta_dissector_pop3.probe(TA_DIR_C2S, (const uint8_t *)"USER a\r\n", 8, 21),
              TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_ftp.probe(TA_DIR_C2S, (const uint8_t *)"AUTH TLS\r\n", 10, 2121), TA_OK);
    CHECK_INT(ta_dissector_ftp.probe(TA_DIR_C2S, (const uint8_t *)"AUTH PLAIN\r\n", 12, 21),
              TA_UNSUPPORTED);
    CHECK_INT(ta_dissector_ftp.probe(TA_DIR_C2S, (const uint8_t *)"USER a\r\n", 8, 21), TA_OK);
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

int main(void)
{
    test_probes();
    return CHECK_DONE();
}
