/* fuzz_mail.c - libFuzzer target for the plaintext dissectors of the registry ta_dissectors
 * (SMTP, IMAP, POP3, FTP, generic prelude; include/dissectors/tlsaudit/dissector.h), fed both directions
 * of one flow the way the engine's stream sink feeds them, STARTTLS hand-off to TLS included.
 *
 * Input: byte 0 picks the dissector (SMTP..GENERIC, modulo), bytes 1-2 the server port; then
 * chunks, each a 2-byte header (bit 15: direction, 1 = server to client; bit 14: a loss follows
 * the chunk, as after a segment a snap length cut, of 1 + the next byte's value; low 14 bits:
 * length) and its bytes. Every probe is also run on the first bytes of each direction.
 * Unconsumed bytes are given back with the next chunk, up to 32 KiB per direction (the engine's
 * cap). A loss is offered to the owner's .gap with those bytes, as the engine's stream does;
 * declined, nothing more of that direction is delivered. */
#include <stdint.h>
#include <string.h>

#include "fuzz_mem.h"
#include "tlsaudit/dissector.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_STREAM_MAX 32768u

struct fuzz_dir {
    uint8_t buf[FUZZ_STREAM_MAX];
    size_t held;
    int done;
    int probed;
    int handoffs;
    int stuck;
};

static struct ta_ctx fuzz_ctx;

static struct fuzz_dir fuzz_dirs[2];

/* Give direction d's held bytes to whoever owns it, as engine_sink does. */
static void fuzz_deliver(enum ta_dir d)
{
    struct fuzz_dir *fd = &fuzz_dirs[d];
    size_t off = 0;

    while (off < fd->held && !fd->done) {
        uint8_t owner = fuzz_ctx.owner[d];
        size_t used = 0;
        int rc;
        if (owner == TA_DIS_NONE || owner >= TA_DIS_COUNT)
            __builtin_trap();
        rc = ta_dissectors[owner]->feed(&fuzz_ctx, d, fd->buf + off, fd->held - off, &used);
        if (used > fd->held - off)
            __builtin_trap(); /* contract: never consume more than given */
        off += used;
        if (rc == TA_OK)
            break;
        if (rc == TA_HANDOFF && owner != TA_DIS_TLS && fd->handoffs++ < 2) {
            ta_tls_takeover(&fuzz_ctx, d);
            if (fuzz_ctx.owner[d] != TA_DIS_TLS)
                __builtin_trap();
        } else {
            fd->done = 1;
        }
    }
    if (fd->done)
        off = fd->held;
    memmove(fd->buf, fd->buf + off, fd->held - off);
    fd->held -= off;
}

/* Bytes of direction d lost after those held, handled as the engine's stream gap callback. */
static void fuzz_gap(enum ta_dir d, uint32_t lost)
{
    struct fuzz_dir *fd = &fuzz_dirs[d];
    uint8_t owner = fuzz_ctx.owner[d];
    int rc;

    if (fd->done || fd->stuck)
        return;
    if (owner == TA_DIS_NONE || owner >= TA_DIS_COUNT)
        __builtin_trap();
    rc = ta_dissectors[owner]->gap ? ta_dissectors[owner]->gap(&fuzz_ctx, d, fd->buf, fd->held,
                                                               lost)
                                   : TA_NEED_MORE;
    if (rc == TA_NEED_MORE) {
        fd->stuck = 1;
        return;
    }
    fd->held = 0;
    if (rc == TA_HANDOFF && owner != TA_DIS_TLS && fd->handoffs++ < 2)
        ta_tls_takeover(&fuzz_ctx, d);
    else if (rc != TA_OK)
        fd->done = 1;
}

/* Run every registered probe on the first bytes of a direction (pure functions). */
static void fuzz_probe_all(enum ta_dir d, const uint8_t *p, size_t n, uint16_t port)
{
    for (unsigned i = 1; i < TA_DIS_COUNT; i++)
        if (ta_dissectors[i] && ta_dissectors[i]->probe)
            (void)ta_dissectors[i]->probe(d, p, n, port);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct ta_dissector *dis;
    uint16_t port;
    uint8_t o0, o1;

    if (size < 3)
        return 0;
    dis = ta_dissectors[TA_DIS_SMTP + data[0] % (TA_DIS_COUNT - TA_DIS_SMTP)];
    port = (uint16_t)(data[1] << 8 | data[2]);
    data += 3;
    size -= 3;
    memset(&fuzz_ctx, 0, sizeof fuzz_ctx);
    fuzz_ctx.mem = fuzz_mem();
    memset(fuzz_dirs, 0, sizeof fuzz_dirs);
    dis->start(&fuzz_ctx);
    fuzz_ctx.owner[0] = fuzz_ctx.owner[1] = (uint8_t)dis->id;
    while (size >= 2) {
        enum ta_dir d = (data[0] & 0x80) ? TA_DIR_S2C : TA_DIR_C2S;
        int cut = data[0] & 0x40;
        size_t len = (size_t)(data[0] & 0x3f) << 8 | data[1];
        struct fuzz_dir *fd = &fuzz_dirs[d];
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        if (fd->stuck) {
            data += len;
            size -= len;
            continue;
        }
        if (!fd->probed) {
            fuzz_probe_all(d, data, len, port);
            fd->probed = 1;
        }
        if (len > FUZZ_STREAM_MAX - fd->held)
            len = FUZZ_STREAM_MAX - fd->held; /* engine cap: the rest is a gap */
        memcpy(fd->buf + fd->held, data, len);
        fd->held += len;
        data += len;
        size -= len;
        fuzz_deliver(d);
        if (cut && size > 0) {
            fuzz_gap(d, 1u + data[0]);
            data++;
            size--;
        }
        /* After a hand-off in one direction, the other may now be read differently. */
        fuzz_deliver(d == TA_DIR_C2S ? TA_DIR_S2C : TA_DIR_C2S);
    }
    o0 = fuzz_ctx.owner[0];
    o1 = fuzz_ctx.owner[1];
    if (ta_dissectors[o0]->finish)
        ta_dissectors[o0]->finish(&fuzz_ctx);
    if (o1 != o0 && ta_dissectors[o1]->finish)
        ta_dissectors[o1]->finish(&fuzz_ctx);
    if (!memchr(fuzz_ctx.hs.mail.greeting, 0, sizeof fuzz_ctx.hs.mail.greeting) ||
        !memchr(fuzz_ctx.hs.mail.greeting_host, 0, sizeof fuzz_ctx.hs.mail.greeting_host) ||
        !memchr(fuzz_ctx.hs.mail.client_name, 0, sizeof fuzz_ctx.hs.mail.client_name) ||
        !memchr(fuzz_ctx.hs.mail.capabilities, 0, sizeof fuzz_ctx.hs.mail.capabilities) ||
        !memchr(fuzz_ctx.hs.ch.sni, 0, sizeof fuzz_ctx.hs.ch.sni))
        __builtin_trap();
    return 0;
}
