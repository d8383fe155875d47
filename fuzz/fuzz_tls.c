/* fuzz_tls.c - libFuzzer target for the TLS dissector: the input is fed to both directions of
 * one flow, in chunks whose sizes come from its first bytes, through the engine's streaming
 * contract (unconsumed bytes given back with more, 32 KiB per direction like the engine). Also
 * runs the pure probes on it. Built by clang with -fsanitize=fuzzer, and by any compiler with
 * replay_main.c to replay the corpus under sanitizers. */
#include <stdint.h>
#include <string.h>

#include "fuzz_mem.h"
#include "tls_int.h"

#define FUZZ_STREAM_MAX 32768u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ta_ctx fuzz_ctx;

static uint8_t fuzz_buf[2][FUZZ_STREAM_MAX];

/* Feed msg[0..len) to direction d in chunks of step bytes (0: all at once), as the engine does. */
static void fuzz_dir(enum ta_dir d, const uint8_t *msg, size_t len, size_t step)
{
    size_t held = 0, pos = 0;
    while (pos < len) {
        size_t n = step ? step : len;
        size_t used = 0;
        int rc;
        if (n > len - pos)
            n = len - pos;
        if (n > FUZZ_STREAM_MAX - held)
            return;   /* engine cap: the stream is closed */
        memcpy(fuzz_buf[d] + held, msg + pos, n);
        held += n;
        pos += n;
        rc = ta_dissector_tls.feed(&fuzz_ctx, d, fuzz_buf[d], held, &used);
        if (used > held)
            __builtin_trap();   /* contract: never consume more than given */
        memmove(fuzz_buf[d], fuzz_buf[d] + used, held - used);
        held -= used;
        while (rc == TA_RESTART) {
            /* As the engine does: a fresh record for the next handshake, same bytes again. */
            uint8_t seq = fuzz_ctx.hs.seq;
            if (seq + 1 >= TA_MAX_HANDSHAKES_PER_FLOW)
                __builtin_trap();   /* contract: no restart past the cap */
            memset(&fuzz_ctx.hs, 0, sizeof fuzz_ctx.hs);
            fuzz_ctx.hs.seq = (uint8_t)(seq + 1);
            ta_tls_restart(&fuzz_ctx);
            used = 0;
            rc = ta_dissector_tls.feed(&fuzz_ctx, d, fuzz_buf[d], held, &used);
            if (used > held)
                __builtin_trap();
            memmove(fuzz_buf[d], fuzz_buf[d] + used, held - used);
            held -= used;
        }
        if (rc != TA_OK || fuzz_ctx.hs.handshake_done)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ta_cur c = ta_cur_make(data, size);
    uint8_t s0 = 0, s1 = 0, mode = 0;
    (void)ta_cur_u8(&c, &s0);
    (void)ta_cur_u8(&c, &s1);
    (void)ta_cur_u8(&c, &mode);
    const uint8_t *msg = c.p;
    size_t len = ta_cur_left(&c);

    (void)ta_dissector_tls.probe(TA_DIR_C2S, msg, len, 443);
    (void)ta_tls_probe_hello(msg, len, true);
    (void)ta_tls_probe_hello(msg, len, false);

    memset(&fuzz_ctx, 0, sizeof fuzz_ctx);
    fuzz_ctx.mem = fuzz_mem();
    ta_dissector_tls.start(&fuzz_ctx);
    if (mode & 1)
        ta_tls_takeover(&fuzz_ctx, TA_DIR_C2S);
    /* mode bit 1: the server direction first (a ServerHello before any ClientHello). */
    if (mode & 2) {
        fuzz_dir(TA_DIR_S2C, msg, len, s1);
        fuzz_dir(TA_DIR_C2S, msg, len, s0);
    } else {
        fuzz_dir(TA_DIR_C2S, msg, len, s0);
        fuzz_dir(TA_DIR_S2C, msg, len, s1);
    }
    ta_dissector_tls.finish(&fuzz_ctx);
    /* Every text field must still be a NUL-terminated string inside its array. */
    if (!memchr(fuzz_ctx.hs.ch.sni, 0, sizeof fuzz_ctx.hs.ch.sni) ||
        !memchr(fuzz_ctx.hs.ch.alpn, 0, sizeof fuzz_ctx.hs.ch.alpn) ||
        !memchr(fuzz_ctx.hs.sh.alpn, 0, sizeof fuzz_ctx.hs.sh.alpn) ||
        !memchr(fuzz_ctx.hs.cert.sans, 0, sizeof fuzz_ctx.hs.cert.sans) ||
        !memchr(fuzz_ctx.hs.cert.issuer, 0, sizeof fuzz_ctx.hs.cert.issuer))
        __builtin_trap();
    return 0;
}
