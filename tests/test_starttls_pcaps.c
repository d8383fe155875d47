/* test_starttls_pcaps.c - the plaintext STARTTLS dissectors and the generic prelude on real
 * captures of the shared corpus (TA_SHARED_PCAPS): one flow of each, replayed packet by packet
 * (tests/pcap_replay.c) into the engine stand-in (tests/starttls_sim.h); the hand-off lands on
 * the TLS record byte at the prelude length tshark shows, and the mail fields are those of the
 * dialogue. Skips loudly, capture by capture, when the corpus is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "check.h"
#include "pcap_replay.h"
#include "starttls_sim.h"
#include "tlsaudit/dissector.h"

/* ---- shared captures, replayed packet by packet ---- */

/* pcap_replay_fn: the contiguous bytes go to the simulated engine. */
static void deliver(void *arg, enum ta_dir d, const uint8_t *p, size_t n)
{
    sim_bytes(arg, d, p, n);
}

/* Replay flow number `which` (order of first appearance) of a capture whose server listens on
 * port. Returns false (and says so loudly) when the capture cannot be read. */
static bool replay_pcap(const char *name, uint16_t port, int which)
{
    char path[1024], err[512];
    const char *dir = getenv("TA_SHARED_PCAPS");

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/work/shared/pcaps", name);
    sim_init(&S, port);
    if (!pcap_replay_flow(path, port, which, deliver, &S, err, sizeof(err))) {
        printf("SKIPPED: capture %s not readable (%s)\n", name, err);
        return false;
    }
    return true;
}

/* Where a replayed capture handed direction d to TLS: on a 0x16 record byte. */
static void check_pcap_handoff(const char *name, int d)
{
    bool ok = S.handoff[d] != NONE && S.handoff[d] < S.len[d] && S.buf[d][S.handoff[d]] == 0x16;
    if (!ok)
        fprintf(stderr, "%s: direction %d hand-off at %zd (len %zu)\n", name, d,
                S.handoff[d] == NONE ? (ssize_t)-1 : (ssize_t)S.handoff[d], S.len[d]);
    CHECK(ok);
}

struct pcap_case {
    const char *file;
    uint16_t port;
    int flow;
    const struct ta_dissector *d;
    const char *host, *client, *caps;   /* NULL: not checked */
    bool offered, auth;
    size_t c2s_handoff;                 /* client prelude length (tshark follow) */
};

static const struct pcap_case pcap_cases[] = {
    { "zeek__smtp-starttls.pcap", 25, 0, &ta_dissector_smtp, "mx.google.com", "openssl.client.net",
      "SIZE 8BITMIME STARTTLS ENHANCEDSTATUSCODES CHUNKING", true, false, 35 },
    { "ndpi__smtp-starttls.pcap", 25, 0, &ta_dissector_smtp, "mx.google.com",
      "xxxxxxxxxxxxx.xxx.com", NULL, true, false, 38 },
    { "ndpi__smtp-starttls.pcap", 25, 1, &ta_dissector_smtp, "jw-vm08-int-dns.webernetz.net",
      "[IPv6:2003:de:2016:125:fc36:8317:4e86:cb72]", NULL, true, false, 60 },
    { "suricata__smtp-startssl__input.pcap", 25, 0, &ta_dissector_smtp, "firewall.unx.ca",
      "desktop.unx.ca", "PIPELINING SIZE VRFY ETRN STARTTLS ENHANCEDSTATUSCODES 8BITMIME DSN SMTPUTF8",
      true, false, 31 },
    { "zeek__imap-starttls.pcap", 143, 0, &ta_dissector_imap, "", "", NULL, true, false, 26 },
    { "zeek__pop3-starttls.pcap", 110, 0, &ta_dissector_pop3, "ladymacbeth.local", "", NULL,
      false, false, 6 },
    { "ndpi__pop3_stls.pcap", 110, 0, &ta_dissector_pop3, "", "",
      "TOP USER UIDL STLS PIPELINING EXPIRE LOGIN-DELAY RESP-CODES AUTH-RESP-CODE IMPLEMENTATION",
      true, false, 18 },
    { "ndpi__ftp-start-tls.pcap", 21, 0, &ta_dissector_ftp, "", "", NULL, false, false, 10 },
    { "zeek__ftp-auth-tls.pcap", 21, 0, &ta_dissector_ftp, "", "",
      "EPRT EPSV MDTM PASV PBSZ PROT REST SIZE TVFS", false, false, 16 },
    /* generic preludes: XMPP, LDAP extended op, PostgreSQL SSLRequest, MySQL SSL request, IRC,
     * SOCKS5, RDP X.224 */
    { "zeek__xmpp-starttls.pcap", 5222, 0, &ta_dissector_generic, NULL, NULL, NULL, false, false, 0 },
    { "zeek__ldap-starttls.pcap", 389, 0, &ta_dissector_generic, NULL, NULL, NULL, false, false, 31 },
    { "zeek__psql-aws-ssl-require.pcap", 5432, 0, &ta_dissector_generic, NULL, NULL, NULL, false,
      false, 8 },
    { "zeek__mysql__encrypted.pcap", 3306, 0, &ta_dissector_generic, NULL, NULL, NULL, false, false,
      36 },
    { "zeek__irc-starttls.pcap", 6667, 0, &ta_dissector_generic, NULL, NULL, NULL, false, false, 10 },
    { "zeek__socks-with-ssl.pcap", 1080, 0, &ta_dissector_generic, NULL, NULL, NULL, false, false,
      24 },
    { "ndpi__rdp_over_tls.pcap", 3389, 0, &ta_dissector_generic, NULL, NULL, NULL, false, false, 47 },
};

/* Returns how many cases were skipped because their capture is absent. */
static int test_pcaps(void)
{
    int skipped = 0;

    for (size_t i = 0; i < TA_ARRAY_LEN(pcap_cases); i++) {
        const struct pcap_case *pc = &pcap_cases[i];
        const struct ta_mail *m = &S.ctx.hs.mail;
        if (!replay_pcap(pc->file, pc->port, pc->flow)) {
            skipped++;
            continue;
        }
        if (S.d != pc->d)
            fprintf(stderr, "%s: dissector %s\n", pc->file, S.d ? S.d->name : "none");
        CHECK(S.d == pc->d);
        check_pcap_handoff(pc->file, TA_DIR_C2S);
        check_pcap_handoff(pc->file, TA_DIR_S2C);
        CHECK(S.ctx.hs.starttls);
        if (pc->c2s_handoff)
            CHECK_INT(S.handoff[TA_DIR_C2S], pc->c2s_handoff);
        if (pc->d == &ta_dissector_generic) {
            CHECK_INT(S.ctx.hs.app, TA_APP_OTHER);
            CHECK(!m->present);
            if (pc->c2s_handoff)
                CHECK_INT(m->prelude_bytes, pc->c2s_handoff);
            continue;
        }
        CHECK(m->present && m->starttls_sent && m->starttls_accepted && !m->starttls_refused);
        CHECK_INT(m->starttls_offered, pc->offered);
        CHECK_INT(m->auth_in_clear, pc->auth);
        CHECK(!m->mail_in_clear);
        CHECK_STR(m->greeting_host, pc->host);
        CHECK_STR(m->client_name, pc->client);
        if (pc->caps)
            CHECK_STR(m->capabilities, pc->caps);
        CHECK_INT(m->greeting_code, pc->d == &ta_dissector_smtp || pc->d == &ta_dissector_ftp ? 220 : 0);
    }
    if (skipped)
        printf("SKIPPED: %d of %zu shared captures absent (TA_SHARED_PCAPS=%s)\n", skipped,
               TA_ARRAY_LEN(pcap_cases), getenv("TA_SHARED_PCAPS") ? getenv("TA_SHARED_PCAPS") : "unset");
    return skipped;
}

/* Exit 77 (skipped, for ctest) when no capture at all could be read. */
int main(void)
{
    int skipped = test_pcaps();
    int rc = CHECK_DONE();
    return rc == 0 && skipped == (int)TA_ARRAY_LEN(pcap_cases) ? 77 : rc;
}
