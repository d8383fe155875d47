/* ftp.c - FTP control connection up to AUTH TLS: greeting, FEAT, USER/PASS and transfers in
 * clear, and the hand-off to TLS (RFC 959, RFC 2228 AUTH, RFC 4217 FTP over TLS, RFC 2389 FEAT).
 *
 * RFC 4217 4: the client sends "AUTH TLS"; on "234" the TLS negotiation starts right after that
 * reply line; 4xx/5xx refuse it. Multi-line replies run from "ddd-" to "ddd " (RFC 959 4.2), with
 * free-form lines between (FEAT lists one feature per line, each starting with a space).
 * Preliminary 1xx replies do not complete a command. */
#include "text_int.h"

enum ftp_cmd { FTP_OTHER = 1, FTP_FEAT, FTP_AUTH_TLS, FTP_QUIT };

/* Decide from a "220" greeting: on port 21, or elsewhere when the banner names FTP. When the
 * client's bytes come first: its AUTH TLS (or SSL, TLS-C, TLS-P: RFC 4217, RFC 2228), or USER
 * or FEAT on port 21. */
static int ftp_probe(enum ta_dir dir, const uint8_t *data, size_t len, uint16_t server_port)
{
    struct ta_cur line;
    bool partial;
    int rc;

    if (dir == TA_DIR_C2S) {
        static const char *const first[] = { "AUTH", "USER", "FEAT", NULL };
        struct ta_slice arg;
        int which = 0;
        rc = ta__text_probe_command(data, len, false, first, &which, &line);
        if (rc != TA_OK)
            return rc;
        if (which > 0)
            return server_port == 21 ? TA_OK : TA_UNSUPPORTED;
        return ta__text_word(&line, &arg) &&
                       (ta__text_is(arg, "TLS") || ta__text_is(arg, "SSL") ||
                        ta__text_is(arg, "TLS-C") || ta__text_is(arg, "TLS-P"))
                   ? TA_OK
                   : TA_UNSUPPORTED;
    }
    if (!ta__text_starts(data, len, "220 ", &partial) &&
        !ta__text_starts(data, len, "220-", NULL))
        return partial ? TA_NEED_MORE : TA_UNSUPPORTED;
    if (server_port == 21)
        return TA_OK;
    rc = ta__text_probe_line(data, len, &line);
    if (rc != TA_OK)
        return rc;
    if (!ta__text_contains(line.p, ta_cur_left(&line), "SMTP") &&
        (ta__text_contains(line.p, ta_cur_left(&line), "FTP") ||
         ta__text_contains(line.p, ta_cur_left(&line), "FileZilla")))
        return TA_OK;
    return TA_UNSUPPORTED;
}

static void ftp_start(struct ta_ctx *ctx)
{
    ta__text_start(ctx, TA_APP_FTP);
}

/* One client command, queued for its reply. */
static int ftp_client(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_mail *m = &ctx->hs.mail;
    struct ta_slice cmd, arg;
    uint8_t kind = FTP_OTHER;

    if (!ta__text_word(&line, &cmd))
        return TA_OK;  /* an empty line draws no reply we could count on */
    if (ta__text_is(cmd, "USER") || ta__text_is(cmd, "PASS") || ta__text_is(cmd, "ACCT")) {
        m->auth_in_clear = true;
    } else if (ta__text_is(cmd, "AUTH")) {
        if (ta__text_word(&line, &arg) &&
            (ta__text_is(arg, "TLS") || ta__text_is(arg, "SSL") || ta__text_is(arg, "TLS-C") ||
             ta__text_is(arg, "TLS-P"))) {
            kind = FTP_AUTH_TLS;
            m->starttls_sent = true;
            st->hold = TA__HOLD_STARTTLS;
        }
    } else if (ta__text_is(cmd, "RETR") || ta__text_is(cmd, "STOR") ||
               ta__text_is(cmd, "STOU") || ta__text_is(cmd, "APPE")) {
        m->mail_in_clear = true;
    } else if (ta__text_is(cmd, "FEAT")) {
        kind = FTP_FEAT;
    } else if (ta__text_is(cmd, "QUIT")) {
        kind = FTP_QUIT;
    }
    ta__text_push(st, kind);
    return TA_OK;
}

/* A free-form line inside a multi-line reply: FEAT feature lines start with a space. */
static void ftp_feature(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_cur c = line;
    struct ta_slice w, a;
    uint8_t b;

    if (st->resp_kind != FTP_FEAT || !ta_cur_peek8(&line, 0, &b) || b != ' ')
        return;
    ta__text_cap_add(ctx, line, "AUTH");
    if (ta__text_word(&c, &w) && ta__text_is(w, "AUTH") && ta__text_word(&c, &a) &&
        (ta__text_contains(a.ptr, a.len, "TLS") || ta__text_contains(a.ptr, a.len, "SSL")))
        ctx->hs.mail.starttls_offered = true;
}

/* The final line of a reply (code known): complete the greeting or the oldest command. */
static int ftp_final(struct ta_ctx *ctx, struct ta__text *st, uint16_t code)
{
    uint8_t kind;

    if (code == 421)
        return TA_DONE;  /* RFC 959: service closing the control connection */
    if (code / 100 == 1)
        return TA_OK;    /* preliminary: the final reply is still to come */
    if (!st->greeted) {
        st->greeted = 1;
        return TA_OK;
    }
    kind = ta__text_pop(st);
    if (kind == FTP_AUTH_TLS) {
        if (code == 234)
            return TA_HANDOFF;
        ta__text_starttls_refused(ctx, st);
    }
    return (kind == FTP_QUIT && code == 221) ? TA_DONE : TA_OK;
}

/* Greeting text: the first word after the code when it is a host name, else the first host-like
 * word of the banner ("220 (vsFTPd 3.0.5)" names none). */
static void ftp_greeting(struct ta_ctx *ctx, struct ta_cur line, struct ta_cur text, uint16_t code)
{
    if (ctx->hs.mail.greeting[0])
        return;
    ta__text_greeting(ctx, line, code);
    ta__text_banner_host(ctx, text);
}

/* One server line: reply lines and the free-form lines of multi-line replies. */
static int ftp_server(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_cur text = line;
    uint16_t code;
    uint8_t sep;
    bool is_reply = ta__text_reply(&text, &code, &sep);

    if (st->resp_lines) {  /* inside "ddd-" ... "ddd " */
        if (!is_reply || code != st->resp_code || sep == '-') {
            ftp_feature(ctx, st, line);
            return TA_OK;
        }
        st->resp_lines = 0;
        return ftp_final(ctx, st, code);
    }
    if (!is_reply)
        return TA_OK;
    ta__text_lost_greeting(st, code, FTP_AUTH_TLS);    /* the client spoke first (ftp_probe) */
    if (!st->greeted)
        ftp_greeting(ctx, line, text, code);
    if (sep == '-') {
        st->resp_lines = 1;
        st->resp_code = code;
        st->resp_kind = st->greeted ? ta__text_peek(st) : 0;
        if (st->resp_kind == FTP_FEAT)
            ctx->hs.mail.capabilities[0] = '\0';  /* keep the latest list */
        return TA_OK;
    }
    return ftp_final(ctx, st, code);
}

static int ftp_line(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir, struct ta_cur line)
{
    return dir == TA_DIR_C2S ? ftp_client(ctx, st, line) : ftp_server(ctx, st, line);
}

static int ftp_feed(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                    size_t *consumed)
{
    return ta__text_feed(ftp_line, ctx, dir, data, len, consumed);
}

/* Server bytes lost: the multi-line reply in progress ended with them (its closing line
 * repeats the code, RFC 959 4.2). */
static int ftp_gap_end(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir)
{
    if (dir != TA_DIR_S2C || st->resp_lines == 0)
        return TA_OK;
    st->resp_lines = 0;
    return ftp_final(ctx, st, st->resp_code);
}

static int ftp_gap(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *partial, size_t len,
                   uint32_t lost)
{
    return ta__text_gap(ftp_line, ftp_gap_end, ctx, dir, partial, len, lost);
}

const struct ta_dissector ta_dissector_ftp = {
    .name = "ftp",
    .id = TA_DIS_FTP,
    .probe = ftp_probe,
    .start = ftp_start,
    .feed = ftp_feed,
    .gap = ftp_gap,
    .finish = NULL,
};
