/* test_generic.c - the generic STARTTLS fallback (dissectors/generic.c): a plaintext prelude of
 * any protocol (XMPP, PostgreSQL SSLRequest, HTTP CONNECT) handed to TLS at the hello, streams
 * that never turn into TLS (SSH, HTTP) given up, the 4096-byte scan budget, and random bytes
 * never taken for a hello. */
#define _GNU_SOURCE  /* memmem */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "starttls_transcript.h"
#include "tlsaudit/dissector.h"

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
    S.ctx.mem = test_dis_mem();
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
        S.ctx.mem = test_dis_mem();
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
    test_generic();
    test_generic_budget();
    test_generic_random();
    return CHECK_DONE();
}
