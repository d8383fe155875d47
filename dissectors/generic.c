/* generic.c - the protocol-independent STARTTLS fallback: a plaintext prelude of any protocol
 * (XMPP RFC 6120 5.4, LDAP StartTLS RFC 4511 4.14, PostgreSQL SSLRequest, MySQL SSL, IRC
 * STARTTLS, SOCKS RFC 1928, RDP X.224, HTTP CONNECT RFC 9110 9.3.6 ...) followed by a TLS hello
 * (RFC 8446 5.1 record, 4.1.2 ClientHello).
 *
 * Each direction's first TA__GEN_BUDGET bytes are scanned for an offset where a strictly valid
 * hello begins (ta_tls_probe_hello); there the direction is handed to TLS. Bytes that cannot
 * start a hello are consumed as they come, so at most a split record header stays buffered.
 * Protocols that never upgrade in-band (SSH, plain HTTP) are given up at once: this runs on
 * every TCP flow no other dissector claimed, and must stay cheap. */
#include <string.h>

#include "text_int.h"

#define TA__GEN_BUDGET 4096u   /* prelude bytes scanned per direction */
#define TA__GEN_TLS_HANDSHAKE 0x16

enum gen_dir_state { GEN_SCAN = 0, GEN_HANDED, GEN_GAVE_UP };

struct gen_state {
    uint32_t seen[2];      /* prelude bytes consumed so far, per direction */
    uint8_t state[2];      /* enum gen_dir_state */
    uint8_t connect;       /* the client began with an HTTP CONNECT */
};

_Static_assert(sizeof(struct gen_state) <= TA_TEXT_STATE_SIZE, "generic state must fit");

static struct gen_state *gen_state(struct ta_ctx *ctx)
{
    return (struct gen_state *)(void *)ctx->text_state;
}

/* Anything may carry a prelude: the fallback takes every flow offered to it. */
static int gen_probe(enum ta_dir dir, const uint8_t *data, size_t len, uint16_t server_port)
{
    (void)dir;
    (void)data;
    (void)len;
    (void)server_port;
    return TA_OK;
}

/* hs.app is left unknown until a hello is found: most flows seen here never carry TLS. */
static void gen_start(struct ta_ctx *ctx)
{
    memset(ctx->text_state, 0, sizeof(ctx->text_state));
}

/* Openings of protocols that never switch to TLS in-band. */
static const char *const gen_never_c2s[] = {
    "SSH-", "GET ", "POST ", "HEAD ", "PUT ", "DELETE ", "PATCH ", "TRACE ",
};

enum gen_first { GEN_FIRST_SCAN, GEN_FIRST_WAIT, GEN_FIRST_GIVE_UP };

/* Look at the very first bytes of a direction. Returns GEN_FIRST_GIVE_UP for SSH, plain HTTP
 * requests, and HTTP responses not answering a CONNECT; GEN_FIRST_WAIT while the bytes are a
 * proper prefix of such an opening; else GEN_FIRST_SCAN. */
static enum gen_first gen_first_bytes(struct gen_state *gs, enum ta_dir dir, const uint8_t *data,
                                      size_t len)
{
    bool partial, wait = false;

    if (dir == TA_DIR_C2S) {
        for (size_t i = 0; i < TA_ARRAY_LEN(gen_never_c2s); i++) {
            if (ta__text_starts(data, len, gen_never_c2s[i], &partial))
                return GEN_FIRST_GIVE_UP;
            wait |= partial;
        }
        if (ta__text_starts(data, len, "CONNECT ", &partial))
            gs->connect = 1;
        wait |= partial;
    } else {
        if (ta__text_starts(data, len, "SSH-", &partial))
            return GEN_FIRST_GIVE_UP;
        wait |= partial;
        if (ta__text_starts(data, len, "HTTP/", &partial) && !gs->connect)
            return GEN_FIRST_GIVE_UP;
        wait |= partial;
    }
    return wait ? GEN_FIRST_WAIT : GEN_FIRST_SCAN;
}

/* Hand direction dir to TLS at offset off of this feed. */
static int gen_handoff(struct ta_ctx *ctx, struct gen_state *gs, enum ta_dir dir, size_t off,
                       size_t *consumed)
{
    uint32_t prelude = gs->seen[dir] + (uint32_t)off;

    gs->state[dir] = GEN_HANDED;
    *consumed = off;
    ctx->hs.app = TA_APP_OTHER;
    if (prelude > 0)
        ctx->hs.starttls = true;
    /* The client's prelude is the telling one; the server's stands in until it is known. */
    if (dir == TA_DIR_C2S || ctx->hs.mail.prelude_bytes == 0)
        ctx->hs.mail.prelude_bytes = prelude;
    return TA_HANDOFF;
}

/* Scan [data, data + len) for a hello start within the budget. A 0x16 byte is the only possible
 * start of a handshake record; ta_tls_probe_hello decides strictly. */
static int gen_scan(struct ta_ctx *ctx, struct gen_state *gs, enum ta_dir dir,
                    const uint8_t *data, size_t len, size_t *consumed)
{
    size_t budget = TA__GEN_BUDGET - gs->seen[dir];
    size_t limit = len < budget ? len : budget;
    struct ta_cur c = ta_cur_make(data, limit);

    while (!ta_cur_empty(&c)) {
        const uint8_t *hit = memchr(c.p, TA__GEN_TLS_HANDSHAKE, ta_cur_left(&c));
        size_t off;
        int rc;

        if (!hit)
            break;
        off = (size_t)(hit - data);
        rc = ta_tls_probe_hello(hit, len - off, dir == TA_DIR_C2S);
        if (rc == TA_OK)
            return gen_handoff(ctx, gs, dir, off, consumed);
        if (rc == TA_NEED_MORE) {
            *consumed = off;  /* may be a hello still arriving: keep it */
            gs->seen[dir] += (uint32_t)off;
            return TA_OK;
        }
        c.p = hit + 1;
    }
    *consumed = limit;
    gs->seen[dir] += (uint32_t)limit;
    if (gs->seen[dir] >= TA__GEN_BUDGET) {
        gs->state[dir] = GEN_GAVE_UP;
        *consumed = len;
        return TA_DONE;
    }
    return TA_OK;
}

/* Feed one direction: give up on non-upgrading protocols, else scan for the hello. */
static int gen_feed(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                    size_t *consumed)
{
    struct gen_state *gs = gen_state(ctx);

    *consumed = 0;
    if (gs->state[dir] == GEN_HANDED)
        return TA_HANDOFF;
    if (gs->state[dir] == GEN_GAVE_UP) {
        *consumed = len;
        return TA_DONE;
    }
    if (gs->seen[dir] == 0) {
        enum gen_first f = gen_first_bytes(gs, dir, data, len);
        if (f == GEN_FIRST_WAIT)
            return TA_OK;
        if (f == GEN_FIRST_GIVE_UP) {
            for (int d = 0; d < 2; d++)
                if (gs->state[d] == GEN_SCAN)
                    gs->state[d] = GEN_GAVE_UP;
            *consumed = len;
            return TA_DONE;
        }
    }
    return gen_scan(ctx, gs, dir, data, len, consumed);
}

/* .gap: bytes of a prelude were lost (cut by the snap length, or a segment the capture missed).
 * They are plaintext passed over like the rest of the prelude: the scan goes on after them,
 * within the budget. What was held (a split record header, a hello still arriving) is dropped
 * with them: a hello a loss cut cannot be read. */
static int gen_gap(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *partial, size_t len,
                   uint32_t lost)
{
    struct gen_state *gs = gen_state(ctx);
    uint64_t n;

    (void)partial;
    if ((unsigned)dir > TA_DIR_S2C || gs->state[dir] == GEN_HANDED)
        return TA_NEED_MORE;
    n = (uint64_t)gs->seen[dir] + len + lost;
    if (gs->state[dir] == GEN_GAVE_UP || n >= TA__GEN_BUDGET) {
        gs->state[dir] = GEN_GAVE_UP;
        return TA_DONE;
    }
    gs->seen[dir] = (uint32_t)n;
    return TA_OK;
}

const struct ta_dissector ta_dissector_generic = {
    .name = "generic",
    .id = TA_DIS_GENERIC,
    .probe = gen_probe,
    .start = gen_start,
    .feed = gen_feed,
    .gap = gen_gap,
    .finish = NULL,
};
