/* pop3.c - POP3 session up to STLS: greeting, CAPA, USER/PASS/APOP/AUTH and RETR/TOP in clear,
 * and the hand-off to TLS (RFC 1939, RFC 2449 CAPA and PIPELINING, RFC 2595 STLS, RFC 5034).
 *
 * RFC 2595 4: after "+OK" to STLS "the client MUST begin a TLS negotiation" right after that
 * line; -ERR refuses. Multi-line replies (CAPA, LIST, UIDL, RETR, TOP, AUTH listing) end with a
 * lone dot (RFC 1939 3); their bodies are skipped unread, except CAPA's keyword lines. */
#include "text_int.h"

enum pop3_cmd {
    POP3_OTHER = 1,
    POP3_MULTI,   /* "+OK" opens a dot-terminated body */
    POP3_CAPA,    /* ... whose lines are capabilities */
    POP3_STLS,
    POP3_QUIT
};

/* Decide from the server greeting "+OK" (RFC 1939 4), or, when the client's bytes come first,
 * from its first command: CAPA or STLS alone on the line (RFC 2449, RFC 2595), or USER, APOP
 * and AUTH on port 110 (FTP and IRC have a USER too). */
static int pop3_probe(enum ta_dir dir, const uint8_t *data, size_t len, uint16_t server_port)
{
    bool partial;

    if (dir == TA_DIR_C2S) {
        static const char *const first[] = { "CAPA", "STLS", "USER", "APOP", "AUTH", NULL };
        struct ta_cur rest;
        int which = 0;
        int rc = ta__text_probe_command(data, len, false, first, &which, &rest);
        if (rc != TA_OK)
            return rc;
        if (which <= 1)
            return ta_cur_empty(&rest) ? TA_OK : TA_UNSUPPORTED;
        return server_port == 110 ? TA_OK : TA_UNSUPPORTED;
    }
    if (ta__text_starts(data, len, "+OK", &partial))
        return TA_OK;
    return partial ? TA_NEED_MORE : TA_UNSUPPORTED;
}

static void pop3_start(struct ta_ctx *ctx)
{
    ta__text_start(ctx, TA_APP_POP3);
}

/* One client command; its kind is queued for the reply (RFC 2449 6.6 pipelining keeps order).
 * SASL responses after AUTH are queued as plain commands: each draws exactly one reply line. */
static int pop3_client(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_mail *m = &ctx->hs.mail;
    struct ta_slice cmd, arg;
    bool has_arg;
    uint8_t kind = POP3_OTHER;

    if (!ta__text_word(&line, &cmd)) {
        ta__text_push(st, POP3_OTHER);
        return TA_OK;
    }
    has_arg = ta__text_word(&line, &arg);
    if (ta__text_is(cmd, "USER") || ta__text_is(cmd, "PASS") || ta__text_is(cmd, "APOP")) {
        m->auth_in_clear = true;
    } else if (ta__text_is(cmd, "AUTH")) {
        if (has_arg)
            m->auth_in_clear = true;
        else
            kind = POP3_MULTI;  /* bare AUTH lists the mechanisms (RFC 5034 3) */
    } else if (ta__text_is(cmd, "CAPA")) {
        kind = POP3_CAPA;
    } else if (ta__text_is(cmd, "STLS")) {
        kind = POP3_STLS;
        m->starttls_sent = true;
        st->hold = TA__HOLD_STARTTLS;
    } else if (ta__text_is(cmd, "RETR") || ta__text_is(cmd, "TOP")) {
        kind = POP3_MULTI;
        m->mail_in_clear = true;
    } else if (ta__text_is(cmd, "LIST") || ta__text_is(cmd, "UIDL")) {
        kind = has_arg ? POP3_OTHER : POP3_MULTI;
    } else if (ta__text_is(cmd, "QUIT")) {
        kind = POP3_QUIT;
    }
    ta__text_push(st, kind);
    return TA_OK;
}

/* A line of a multi-line body: the dot ends it; CAPA lines are recorded. */
static int pop3_body(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    if (ta__text_is_dot(line)) {
        st->body[TA_DIR_S2C] = 0;
        st->resp_kind = 0;
    } else if (st->resp_kind == POP3_CAPA) {
        ta__text_cap_add(ctx, line, "SASL");
    }
    return TA_OK;
}

/* One server line: greeting, body line, or the status line answering the oldest command. */
static int pop3_server(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_cur rest = line;
    struct ta_slice status;
    uint8_t kind;

    if (st->body[TA_DIR_S2C])
        return pop3_body(ctx, st, line);
    if (!ta__text_word(&rest, &status))
        return TA_OK;
    if (!st->greeted && (ta__text_peek(st) || st->extra))
        st->greeted = 1;   /* the client spoke first: a status line answers it (a greeting
                            * looks the same; one lost is far likelier than one reordered) */
    if (!st->greeted) {
        st->greeted = 1;
        ta__text_greeting(ctx, line, 0);
        ta__text_banner_host(ctx, rest);
        return ta__text_is(status, "-ERR") ? TA_DONE : TA_OK;
    }
    if (ta__text_is(status, "+")) {
        ta__text_pop(st);  /* SASL challenge: answers one client line */
        return TA_OK;
    }
    if (!ta__text_is(status, "+OK") && !ta__text_is(status, "-ERR"))
        return TA_OK;
    kind = ta__text_pop(st);
    if (ta__text_is(status, "-ERR")) {
        if (kind == POP3_STLS)
            ta__text_starttls_refused(ctx, st);
        return TA_OK;
    }
    if (kind == POP3_MULTI || kind == POP3_CAPA) {
        st->body[TA_DIR_S2C] = 1;
        st->resp_kind = kind;
        if (kind == POP3_CAPA)
            ctx->hs.mail.capabilities[0] = '\0';  /* keep the latest list */
    }
    if (kind == POP3_STLS)
        return TA_HANDOFF;
    return kind == POP3_QUIT ? TA_DONE : TA_OK;
}

static int pop3_line(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir, struct ta_cur line)
{
    return dir == TA_DIR_C2S ? pop3_client(ctx, st, line) : pop3_server(ctx, st, line);
}

static int pop3_feed(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                     size_t *consumed)
{
    return ta__text_feed(pop3_line, ctx, dir, data, len, consumed);
}

/* Server bytes lost: the multi-line body in progress (a CAPA list) ended with them. */
static int pop3_gap_end(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir)
{
    (void)ctx;
    if (dir == TA_DIR_S2C && st->body[TA_DIR_S2C]) {
        st->body[TA_DIR_S2C] = 0;
        st->resp_kind = 0;
    }
    return TA_OK;
}

static int pop3_gap(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *partial, size_t len,
                    uint32_t lost)
{
    return ta__text_gap(pop3_line, pop3_gap_end, ctx, dir, partial, len, lost);
}

const struct ta_dissector ta_dissector_pop3 = {
    .name = "pop3",
    .id = TA_DIS_POP3,
    .probe = pop3_probe,
    .start = pop3_start,
    .feed = pop3_feed,
    .gap = pop3_gap,
    .finish = NULL,
};
