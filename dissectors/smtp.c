/* smtp.c - SMTP session up to STARTTLS: greeting, EHLO keywords, AUTH/MAIL in clear, DATA
 * bodies skipped, and the hand-off to TLS (RFC 5321, RFC 3207 STARTTLS, RFC 2920 pipelining,
 * RFC 3030 BDAT, RFC 4954 AUTH).
 *
 * RFC 3207 4: "The server [answers] 220 Ready to start TLS" and the TLS negotiation "begins
 * immediately after the CRLF at the end of the 220 reply"; 454 or 5xx refuse it. RFC 2920 3.1:
 * replies come back in command order, so pending commands are kept in the shared queue.
 * Nothing a client sends after AUTH or inside DATA is ever copied. */
#include <string.h>

#include "text_int.h"

enum smtp_cmd {
    SMTP_OTHER = 1,
    SMTP_EHLO,      /* reply lists the extension keywords */
    SMTP_STARTTLS,
    SMTP_DATA,      /* 354 opens the message body */
    SMTP_DATA_END,  /* the "." that ends a body */
    SMTP_QUIT
};

/* Decide from the server greeting: "220 " or "220-", not on an FTP port and not an FTP banner.
 * The server speaks first (RFC 5321 3.1), so client bytes come first only when the greeting was
 * lost or the capture holds the clients' direction alone: then the client's first command,
 * EHLO or HELO (RFC 5321 4.1.1.1), decides. */
static int smtp_probe(enum ta_dir dir, const uint8_t *data, size_t len, uint16_t server_port)
{
    static const char *const first[] = { "EHLO", "HELO", NULL };
    struct ta_cur line;
    bool partial;
    int rc, which;

    if (server_port == 21 || server_port == 990)
        return TA_UNSUPPORTED;
    if (dir == TA_DIR_C2S)
        return ta__text_probe_command(data, len, false, first, &which, &line);
    if (!ta__text_starts(data, len, "220 ", &partial) &&
        !ta__text_starts(data, len, "220-", NULL))
        return partial ? TA_NEED_MORE : TA_UNSUPPORTED;
    rc = ta__text_probe_line(data, len, &line);
    if (rc != TA_OK)
        return rc;
    if (ta__text_contains(line.p, ta_cur_left(&line), "SMTP"))
        return TA_OK;
    if (ta__text_contains(line.p, ta_cur_left(&line), "FTP") ||
        ta__text_contains(line.p, ta_cur_left(&line), "FileZilla"))
        return TA_UNSUPPORTED;
    return TA_OK;
}

static void smtp_start(struct ta_ctx *ctx)
{
    ta__text_start(ctx, TA_APP_SMTP);
}

/* BDAT <size> [LAST] (RFC 3030 2): size octets follow the command line at once. */
static void smtp_bdat(struct ta__text *st, struct ta_cur args)
{
    struct ta_slice w;
    struct ta_cur c;
    uint64_t n = 0;
    uint8_t b;

    if (!ta__text_word(&args, &w))
        return;
    c = ta_cur_make(w.ptr, w.len);
    while (ta_cur_u8(&c, &b)) {
        if (b < '0' || b > '9' || n > UINT32_MAX / 10)
            return;
        n = n * 10 + (uint64_t)(b - '0');
    }
    st->skip[TA_DIR_C2S] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

/* One client line: a command (its kind queued for the reply), or a line of a DATA body, which
 * is skipped up to the lone dot without being looked at. */
static int smtp_client(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_mail *m = &ctx->hs.mail;
    struct ta_slice cmd, arg;
    uint8_t kind = SMTP_OTHER;

    if (st->body[TA_DIR_C2S]) {
        if (ta__text_is_dot(line)) {
            st->body[TA_DIR_C2S] = 0;
            ta__text_push(st, SMTP_DATA_END);
        }
        return TA_OK;
    }
    if (!ta__text_word(&line, &cmd)) {
        ta__text_push(st, SMTP_OTHER);  /* an empty line still draws a reply */
        return TA_OK;
    }
    if (ta__text_is(cmd, "EHLO") || ta__text_is(cmd, "HELO")) {
        kind = SMTP_EHLO;
        if (!m->client_name[0] && ta__text_word(&line, &arg) && ta__text_whole(ctx, arg))
            ta__text_copy(m->client_name, sizeof(m->client_name), arg.ptr, arg.len);
    } else if (ta__text_is(cmd, "STARTTLS")) {
        kind = SMTP_STARTTLS;
        m->starttls_sent = true;
        st->hold = TA__HOLD_STARTTLS;
    } else if (ta__text_is(cmd, "AUTH")) {
        m->auth_in_clear = true;  /* the initial response may carry the credentials */
    } else if (ta__text_is(cmd, "MAIL")) {
        m->mail_in_clear = true;
    } else if (ta__text_is(cmd, "DATA")) {
        kind = SMTP_DATA;
        m->mail_in_clear = true;
        st->hold = TA__HOLD_DATA;  /* the body follows only a 354 */
    } else if (ta__text_is(cmd, "BDAT")) {
        m->mail_in_clear = true;
        smtp_bdat(st, line);
    } else if (ta__text_is(cmd, "QUIT")) {
        kind = SMTP_QUIT;
    }
    ta__text_push(st, kind);
    return TA_OK;
}

/* The final line of a reply to a command of the given kind. Returns TA_HANDOFF when STARTTLS
 * was accepted, TA_DONE when the session ends, else TA_OK. */
static int smtp_final(struct ta_ctx *ctx, struct ta__text *st, uint8_t kind, uint16_t code)
{
    if (kind == SMTP_STARTTLS) {
        if (code == 220)
            return TA_HANDOFF;
        ta__text_starttls_refused(ctx, st);
    } else if (kind == SMTP_DATA) {
        st->hold = TA__HOLD_NONE;
        if (code == 354)
            st->body[TA_DIR_C2S] = 1;
    }
    if ((kind == SMTP_QUIT && code == 221) || code == 421)
        return TA_DONE;  /* RFC 5321 3.8: 421 closes the channel */
    return TA_OK;
}

/* One server line: the greeting, or a line of the reply to the oldest pending command. */
static int smtp_server(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_cur text = line;
    struct ta_slice host;
    uint16_t code;
    uint8_t sep;

    if (!ta__text_reply(&text, &code, &sep))
        return TA_OK;  /* not a reply line: ignored */
    ta__text_lost_greeting(st, code, SMTP_STARTTLS);   /* the client spoke first (smtp_probe) */
    if (!st->greeted) {
        if (!ctx->hs.mail.greeting[0]) {
            ta__text_greeting(ctx, line, code);
            if (ta__text_word(&text, &host) && ta__text_whole(ctx, host))
                ta__text_copy(ctx->hs.mail.greeting_host, TA_TEXT_MAX, host.ptr, host.len);
        }
        st->greeted = sep != '-';
        return (st->greeted && code == 421) ? TA_DONE : TA_OK;
    }
    if (st->resp_lines == 0) {
        st->resp_kind = ta__text_peek(st);
        st->resp_code = code;
        if (st->resp_kind == SMTP_EHLO && code == 250)
            ctx->hs.mail.capabilities[0] = '\0';  /* keep the latest EHLO list */
    } else if (st->resp_kind == SMTP_EHLO && st->resp_code == 250) {
        ta__text_cap_add(ctx, text, "AUTH");  /* line 1 is the domain, then keywords */
    }
    if (sep == '-') {
        if (st->resp_lines < UINT8_MAX)
            st->resp_lines++;
        return TA_OK;
    }
    st->resp_lines = 0;
    ta__text_pop(st);
    return smtp_final(ctx, st, st->resp_kind, code);
}

static int smtp_line(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir, struct ta_cur line)
{
    return dir == TA_DIR_C2S ? smtp_client(ctx, st, line) : smtp_server(ctx, st, line);
}

static int smtp_feed(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                     size_t *consumed)
{
    return ta__text_feed(smtp_line, ctx, dir, data, len, consumed);
}

/* Server bytes lost: the greeting or the multi-line reply in progress ended with them (every
 * line of a reply carries its code, RFC 5321 4.2.1). A client's DATA body goes on. */
static int smtp_gap_end(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir)
{
    if (dir != TA_DIR_S2C)
        return TA_OK;
    if (!st->greeted) {
        st->greeted = 1;
        return TA_OK;
    }
    if (st->resp_lines == 0)
        return TA_OK;
    st->resp_lines = 0;
    ta__text_pop(st);
    return smtp_final(ctx, st, st->resp_kind, st->resp_code);
}

static int smtp_gap(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *partial, size_t len,
                    uint32_t lost)
{
    return ta__text_gap(smtp_line, smtp_gap_end, ctx, dir, partial, len, lost);
}

const struct ta_dissector ta_dissector_smtp = {
    .name = "smtp",
    .id = TA_DIS_SMTP,
    .probe = smtp_probe,
    .start = smtp_start,
    .feed = smtp_feed,
    .gap = smtp_gap,
    .finish = NULL,
};
