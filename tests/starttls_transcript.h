/* starttls_transcript.h - transcripts for the STARTTLS dissector tests: hand-built hellos,
 * dialogues written as segments, replayed through the engine stand-in (starttls_sim.h) whole,
 * byte by byte and split at every offset (same outcome each time), and the checks of where each
 * direction went to TLS. Header-only like starttls_sim.h; needs _GNU_SOURCE (memmem) defined by
 * the including file before any system header. */
#ifndef TA_STARTTLS_TRANSCRIPT_H
#define TA_STARTTLS_TRANSCRIPT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "starttls_sim.h"

/* ---- hand-built hellos ---- */

static uint8_t client_hello[80], server_hello[60];
static size_t client_hello_len, server_hello_len;

/* A minimal TLS 1.2 ClientHello (two suites, null compression, no extensions) and a ServerHello
 * choosing one of them; the random bytes never contain 0x16 or a line feed. */
static inline void build_hellos(void)
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
static inline size_t seg_bytes(const struct seg *g, uint8_t *out, bool lf_only)
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
static inline void replay(const struct seg *t, size_t n, uint16_t port, size_t step,
                          size_t split, bool lf_only)
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

static inline void outcome_of(const struct sim *s, struct outcome *o)
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

static inline bool outcome_eq(const struct outcome *a, const struct outcome *b)
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
static inline void replay_all_ways(const char *name, const struct seg *t, size_t n,
                                   uint16_t port, struct outcome *o)
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
static inline void check_handoff(int d)
{
    CHECK(S.handoff[d] != NONE);
    if (S.handoff[d] == NONE)
        return;
    CHECK_INT(S.buf[d][S.handoff[d]], 0x16);
    CHECK(memcmp(S.buf[d] + S.handoff[d], d == TA_DIR_C2S ? client_hello : server_hello,
                 d == TA_DIR_C2S ? client_hello_len : server_hello_len) == 0);
}

static inline bool ctx_has(const char *secret)
{
    return memmem(&S.ctx, sizeof(S.ctx), secret, strlen(secret)) != NULL;
}

#define RUN(t, port, o) replay_all_ways(#t, t, TA_ARRAY_LEN(t), port, o)

#endif
