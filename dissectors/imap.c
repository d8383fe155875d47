/* imap.c - IMAP session up to STARTTLS: greeting, CAPABILITY, LOGIN/AUTHENTICATE and message
 * access in clear, and the hand-off to TLS (RFC 3501, RFC 9051; RFC 2595 STARTTLS; RFC 7888
 * LITERAL+).
 *
 * RFC 3501 6.2.1: after "<tag> OK" to STARTTLS "the client MUST proceed with a TLS negotiation"
 * right after that line; NO/BAD refuse. Replies are matched by tag, so only the tag of the one
 * command that matters (STARTTLS or LOGOUT) is kept. Literals {n} / {n+} (RFC 3501 4.3) are
 * skipped as raw bytes: they may hold a password (LOGIN) or a message (APPEND, FETCH). */
#include <string.h>

#include "text_int.h"

enum imap_cmd { IMAP_STARTTLS = 1, IMAP_LOGOUT };

/* Decide from the server greeting "* OK" or "* PREAUTH" (RFC 3501 7.1), or, when the client's
 * bytes come first, from its first command. */
static int imap_probe(enum ta_dir dir, const uint8_t *data, size_t len, uint16_t server_port)
{
    bool p1, p2;

    (void)server_port;
    if (dir == TA_DIR_C2S) {
        /* the client first (greeting lost, or its side only): a tagged opening command */
        static const char *const first[] = { "CAPABILITY", "STARTTLS", "LOGIN", "AUTHENTICATE",
                                             "ID", "NOOP", NULL };
        struct ta_cur rest;
        int which;
        return ta__text_probe_command(data, len, true, first, &which, &rest);
    }
    if (ta__text_starts(data, len, "* OK", &p1) || ta__text_starts(data, len, "* PREAUTH", &p2))
        return TA_OK;
    return (p1 || p2) ? TA_NEED_MORE : TA_UNSUPPORTED;
}

static void imap_start(struct ta_ctx *ctx)
{
    ta__text_start(ctx, TA_APP_IMAP);
}

/* A line ending in a literal announcement "{n}" or "{n+}" (also "~{n}", RFC 3516): the n raw
 * bytes that follow are skipped and the next line continues the same command or response. */
static void imap_literal(struct ta__text *st, enum ta_dir dir, struct ta_cur line)
{
    size_t n = ta_cur_left(&line), i;
    uint64_t v = 0, mul = 1;
    uint8_t b;

    st->cont[dir] = 0;
    if (n < 3 || !ta_cur_peek8(&line, n - 1, &b) || b != '}')
        return;
    i = n - 2;
    if (ta_cur_peek8(&line, i, &b) && b == '+')
        i--;
    for (; i > 0 && ta_cur_peek8(&line, i, &b) && b >= '0' && b <= '9'; i--) {
        if (mul > 1000000000)
            return;  /* more than 10 digits: not a literal we trust */
        v += (uint64_t)(b - '0') * mul;
        mul *= 10;
    }
    if (mul == 1 || !ta_cur_peek8(&line, i, &b) || b != '{' || v > UINT32_MAX)
        return;
    st->skip[dir] = (uint32_t)v;
    st->cont[dir] = 1;
}

/* Add the atoms of a capability list; a closing ']' of a response code ends it. */
static void imap_caps(struct ta_ctx *ctx, struct ta_cur c)
{
    struct ta_slice w;
    uint8_t b;

    ctx->hs.mail.capabilities[0] = '\0';  /* keep the latest list */
    while (ta__text_word(&c, &w)) {
        struct ta_cur wc = ta_cur_make(w.ptr, w.len);
        bool last = ta_cur_peek8(&wc, w.len - 1, &b) && b == ']';
        if (last)
            wc.end--;
        if (!ta_cur_empty(&wc))
            ta__text_cap_add(ctx, wc, NULL);
        if (last)
            break;
    }
}

/* Status text after OK/NO/BAD/BYE/PREAUTH: look for a "[CAPABILITY ...]" response code. */
static void imap_resp_code(struct ta_ctx *ctx, struct ta_cur c)
{
    struct ta_slice w;

    if (ta__text_word(&c, &w) && ta__text_is(w, "[CAPABILITY"))
        imap_caps(ctx, c);
}

/* Keep the tag of a command whose tagged reply matters. */
static void imap_keep_tag(struct ta__text *st, struct ta_slice tag, uint8_t kind)
{
    size_t n = tag.len < TA__TEXT_TAG_MAX ? tag.len : TA__TEXT_TAG_MAX;

    memcpy(st->tag, tag.ptr, n);
    st->tag_len = tag.len > UINT16_MAX ? UINT16_MAX : (uint16_t)tag.len;
    st->tag_kind = kind;
}

static bool imap_tag_match(const struct ta__text *st, struct ta_slice tag)
{
    size_t n = tag.len < TA__TEXT_TAG_MAX ? tag.len : TA__TEXT_TAG_MAX;

    return st->tag_kind && tag.len == st->tag_len && memcmp(st->tag, tag.ptr, n) == 0;
}

/* One client line "<tag> <command> ...", or the continuation of one after a literal. SASL
 * responses after AUTHENTICATE look like lone words and match nothing. */
static int imap_client(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_mail *m = &ctx->hs.mail;
    struct ta_slice tag, cmd;
    struct ta_cur rest = line;

    if (st->cont[TA_DIR_C2S]) {
        imap_literal(st, TA_DIR_C2S, line);
        return TA_OK;
    }
    imap_literal(st, TA_DIR_C2S, line);
    if (!ta__text_word(&rest, &tag) || !ta__text_word(&rest, &cmd))
        return TA_OK;
    if (ta__text_is(cmd, "UID") && !ta__text_word(&rest, &cmd))
        return TA_OK;
    if (ta__text_is(cmd, "STARTTLS")) {
        m->starttls_sent = true;
        imap_keep_tag(st, tag, IMAP_STARTTLS);
        st->hold = TA__HOLD_STARTTLS;
    } else if (ta__text_is(cmd, "LOGIN") || ta__text_is(cmd, "AUTHENTICATE")) {
        m->auth_in_clear = true;
    } else if (ta__text_is(cmd, "FETCH") || ta__text_is(cmd, "APPEND") ||
               ta__text_is(cmd, "SELECT") || ta__text_is(cmd, "EXAMINE")) {
        m->mail_in_clear = true;
    } else if (ta__text_is(cmd, "LOGOUT")) {
        imap_keep_tag(st, tag, IMAP_LOGOUT);
    }
    return TA_OK;
}

/* The first server line: "* OK", "* PREAUTH" or "* BYE", with an optional capability code. */
static int imap_greeting(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_cur rest = line;
    struct ta_slice star, status;

    st->greeted = 1;
    ta__text_greeting(ctx, line, 0);
    if (!ta__text_word(&rest, &star) || !ta__text_word(&rest, &status))
        return TA_OK;
    imap_resp_code(ctx, rest);
    ta__text_banner_host(ctx, rest);
    return ta__text_is(status, "BYE") ? TA_DONE : TA_OK;
}

/* A greeting's opening: "* OK", "* PREAUTH" or "* BYE" (RFC 3501 7.1). */
static bool imap_greeting_like(struct ta_cur line)
{
    return ta__text_starts(line.p, ta_cur_left(&line), "* OK", NULL) ||
           ta__text_starts(line.p, ta_cur_left(&line), "* PREAUTH", NULL) ||
           ta__text_starts(line.p, ta_cur_left(&line), "* BYE", NULL);
}

/* One server line: untagged data, a continuation request, or a tagged completion. */
static int imap_server(struct ta_ctx *ctx, struct ta__text *st, struct ta_cur line)
{
    struct ta_slice tag, word;
    struct ta_cur rest = line;
    uint8_t kind;

    if (st->cont[TA_DIR_S2C]) {
        imap_literal(st, TA_DIR_S2C, line);
        return TA_OK;
    }
    imap_literal(st, TA_DIR_S2C, line);
    if (!st->greeted && !imap_greeting_like(line))
        st->greeted = 1;   /* the client spoke first and the greeting was lost */
    if (!st->greeted)
        return imap_greeting(ctx, st, line);
    if (!ta__text_word(&rest, &tag) || !ta__text_word(&rest, &word))
        return TA_OK;
    if (ta__text_is(tag, "*")) {
        if (ta__text_is(word, "CAPABILITY"))
            imap_caps(ctx, rest);
        else if (ta__text_is(word, "OK"))
            imap_resp_code(ctx, rest);
        return TA_OK;
    }
    if (ta__text_is(tag, "+"))
        return TA_OK;
    if (ta__text_is(word, "OK"))
        imap_resp_code(ctx, rest);  /* e.g. LOGIN's OK may list the new capabilities */
    if (!imap_tag_match(st, tag))
        return TA_OK;
    kind = st->tag_kind;
    st->tag_kind = 0;
    if (ta__text_is(word, "OK"))
        return kind == IMAP_STARTTLS ? TA_HANDOFF : TA_DONE;
    if (kind == IMAP_STARTTLS)
        ta__text_starttls_refused(ctx, st);
    return TA_OK;
}

static int imap_line(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir, struct ta_cur line)
{
    return dir == TA_DIR_C2S ? imap_client(ctx, st, line) : imap_server(ctx, st, line);
}

static int imap_feed(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data, size_t len,
                     size_t *consumed)
{
    return ta__text_feed(imap_line, ctx, dir, data, len, consumed);
}

/* Bytes lost beyond a literal: the line a literal continued is gone; IMAP has no multi-line
 * reply to end (each response line stands alone). */
static int imap_gap_end(struct ta_ctx *ctx, struct ta__text *st, enum ta_dir dir)
{
    (void)ctx;
    if ((unsigned)dir <= TA_DIR_S2C)
        st->cont[dir] = 0;
    return TA_OK;
}

static int imap_gap(struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *partial, size_t len,
                    uint32_t lost)
{
    return ta__text_gap(imap_line, imap_gap_end, ctx, dir, partial, len, lost);
}

const struct ta_dissector ta_dissector_imap = {
    .name = "imap",
    .id = TA_DIS_IMAP,
    .probe = imap_probe,
    .start = imap_start,
    .feed = imap_feed,
    .gap = imap_gap,
    .finish = NULL,
};
