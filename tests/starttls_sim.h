/* starttls_sim.h - an engine stand-in for the plaintext STARTTLS dissectors (SMTP, IMAP, POP3,
 * FTP and the generic prelude fallback), shared by their unit tests: probes in registry order,
 * per-direction buffers, unconsumed bytes given back with more, hand-off to TLS at the exact byte.
 * Header-only (static inline) so that its CHECKs count in the test that includes it: check.h
 * keeps its counters per file. */
#ifndef TA_STARTTLS_SIM_H
#define TA_STARTTLS_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "dis_mem_fixture.h"
#include "tlsaudit/dissector.h"

#define SIM_BUF 65536
#define NONE ((size_t)-1)

/* Probe order of the engine's registry, without TLS (no transcript starts with a hello). */
static const struct ta_dissector *const registry[] = {
    &ta_dissector_smtp, &ta_dissector_imap, &ta_dissector_pop3, &ta_dissector_ftp,
    &ta_dissector_generic,
};

/* An engine stand-in for one flow: whole streams so far, what the dissector consumed, where
 * each direction went to TLS. */
struct sim {
    const struct ta_dissector *d;
    struct ta_ctx ctx;
    uint16_t port;
    uint8_t buf[2][SIM_BUF];
    size_t len[2], pos[2], handoff[2];
    bool done[2];
    bool stuck[2];  /* a loss the dissector declined: nothing after it is ever delivered */
};

static struct sim S;

static inline void sim_init(struct sim *s, uint16_t port)
{
    memset(s, 0, sizeof(*s));
    s->ctx.mem = test_dis_mem();
    s->port = port;
    s->handoff[0] = s->handoff[1] = NONE;
}

/* Choose a dissector like the engine: first TA_OK wins; TA_NEED_MORE below 64 bytes waits. */
static inline bool sim_choose(struct sim *s, enum ta_dir dir)
{
    const uint8_t *p = s->buf[dir] + s->pos[dir];
    size_t n = s->len[dir] - s->pos[dir];

    for (size_t i = 0; i < TA_ARRAY_LEN(registry); i++) {
        int rc = registry[i]->probe(dir, p, n, s->port);
        if (rc == TA_OK) {
            s->d = registry[i];
            s->d->start(&s->ctx);
            return true;
        }
        if (rc == TA_NEED_MORE && n < 64)
            return false;
    }
    return false;
}

/* Give direction dir its unconsumed bytes, as the engine's sink does. */
static inline void sim_run(struct sim *s, enum ta_dir dir)
{
    while (!s->done[dir] && s->handoff[dir] == NONE && s->pos[dir] < s->len[dir]) {
        size_t avail = s->len[dir] - s->pos[dir], used = 0;
        int rc;
        if (!s->d && !sim_choose(s, dir))
            return;
        rc = s->d->feed(&s->ctx, dir, s->buf[dir] + s->pos[dir], avail, &used);
        CHECK(used <= avail);
        s->pos[dir] += used <= avail ? used : avail;
        if (rc == TA_OK)
            return;
        if (rc == TA_HANDOFF) {
            s->handoff[dir] = s->pos[dir];
            sim_run(s, (enum ta_dir)!dir);  /* the engine's kick: redeliver the other side */
            return;
        }
        s->done[dir] = true;
    }
}

static inline void sim_bytes(struct sim *s, enum ta_dir dir, const void *p, size_t n)
{
    if (s->stuck[dir])
        return;
    if (n > SIM_BUF - s->len[dir])
        n = SIM_BUF - s->len[dir];
    memcpy(s->buf[dir] + s->len[dir], p, n);
    s->len[dir] += n;
    s->ctx.dirs_seen |= (uint8_t)(1u << dir);   /* as the engine marks each packet's direction */
    sim_run(s, dir);
}

/* A segment of which the capture kept only the first keep bytes (a snap length), handled as the
 * engine handles the loss: the dissector is offered the bytes it left and the count lost; if it
 * steps over them they are dropped and the next segment follows, else the direction is stuck. */
static inline void sim_cut(struct sim *s, enum ta_dir dir, const void *p, size_t n, size_t keep)
{
    int rc;

    if (keep >= n) {
        sim_bytes(s, dir, p, n);
        return;
    }
    sim_bytes(s, dir, p, keep);
    if (s->stuck[dir] || s->done[dir] || s->handoff[dir] != NONE || !s->d)
        return;
    rc = s->d->gap ? s->d->gap(&s->ctx, dir, s->buf[dir] + s->pos[dir], s->len[dir] - s->pos[dir],
                               (uint32_t)(n - keep))
                   : TA_NEED_MORE;
    if (rc == TA_NEED_MORE) {
        s->stuck[dir] = true;
        return;
    }
    s->pos[dir] = s->len[dir];
    if (rc == TA_HANDOFF) {
        s->handoff[dir] = s->pos[dir];
        sim_run(s, (enum ta_dir)!dir);
    } else if (rc != TA_OK) {
        s->done[dir] = true;
    }
}

#endif
