/* text.c - the line machinery shared by the STARTTLS text protocols (SMTP, IMAP, POP3, FTP):
 * a streaming line reader (CRLF or bare LF, RFC 5321 2.3.8 / RFC 3501 2.2), the pipelined
 * command queue (RFC 2920), the STARTTLS hold/hand-off, and capped recording into hs.mail.
 *
 * Streaming contract: only whole lines are consumed; a partial line stays with the engine. A
 * line longer than TA__TEXT_LINE_MAX is handed over truncated, the rest dropped up to its LF,
 * and TA_AN_LONG_LINE set. After the client's STARTTLS command its bytes are held (consumed 0)
 * until the server's answer decides between hand-off and plain text. */
#include <string.h>

#include "text_int.h"

/* The text state of a flow: ctx->text_state, whose size the header asserts. */
struct ta__text *ta__text_state(struct ta_ctx *ctx)
{
    return (struct ta__text *)(void *)ctx->text_state;
}

/* Take ownership of a flow for a text protocol: clean state, application label, mail record. */
void ta__text_start(struct ta_ctx *ctx, uint8_t app)
{
    memset(ctx->text_state, 0, sizeof(ctx->text_state));
    ctx->hs.app = app;
    ctx->hs.mail.present = true;
}

/* Offset of the first LF within the next max bytes of c; false when there is none. */
static bool text_find_lf(const struct ta_cur *c, size_t max, size_t *at)
{
    size_t n = ta_cur_left(c);
    const uint8_t *lf;

    if (n > max)
        n = max;
    lf = n ? memchr(c->p, '\n', n) : NULL;
    if (!lf)
        return false;
    *at = (size_t)(lf - c->p);
    return true;
}

/* Drop bytes the protocol said to pass over (literal, BDAT chunk) or the tail of an over-long
 * line. Returns TA_HANDOFF when a skipped over-long line was the server's STARTTLS acceptance,
 * else TA_OK; does nothing (TA_NEED_MORE) when there is nothing to skip. */
static int text_skip(struct ta__text *st, enum ta_dir dir, struct ta_cur *cur)
{
    size_t n = ta_cur_left(cur), at;

    if ((unsigned)dir > TA_DIR_S2C) /* never: lets the compiler see the arrays' bounds hold */
        return TA_NEED_MORE;
    if (st->skip[dir]) {
        if (n > st->skip[dir])
            n = st->skip[dir];
        ta_cur_skip(cur, n);
        st->skip[dir] -= (uint32_t)n;
        return TA_OK;
    }
    if (!st->eol_skip[dir])
        return TA_NEED_MORE;
    if (!text_find_lf(cur, n, &at)) {
        ta_cur_skip(cur, n);
        return TA_OK;
    }
    ta_cur_skip(cur, at + 1);
    st->eol_skip[dir] = 0;
    if (dir == TA_DIR_S2C && st->eol_handoff) {
        st->eol_handoff = 0;
        return TA_HANDOFF;
    }
    return TA_OK;
}

/* A side that speaks TLS where a text line was due: the upgrade happened, but what asked for it
 * or accepted it was not seen. A server's ServerHello: a capture of the server's direction only,
 * as asymmetric routing leaves it, or the client's segment lost. A client's ClientHello after
 * its first line: the segment with its STARTTLS lost (the capture missed it; the server's
 * acknowledgement made the stream step over it). A strictly valid hello at a line start is taken
 * as the hand-off: no text line begins with a TLS record header. Returns TA_HANDOFF,
 * TA_NEED_MORE (a hello may be arriving) or TA_UNSUPPORTED (text). */
static int text_tls_start(const struct ta_cur *cur, enum ta_dir dir)
{
    uint8_t b;
    int rc;

    if (!ta_cur_peek8(cur, 0, &b) || b != 0x16)
        return TA_UNSUPPORTED;
    rc = ta_tls_probe_hello(cur->p, ta_cur_left(cur), dir == TA_DIR_C2S);
    return rc == TA_OK ? TA_HANDOFF : rc;
}

/* One step of the reader: skip what must be skipped, or cut one line and give it to fn.
 * Returns fn's answer, TA_OK after a skip, TA_HANDOFF at unannounced TLS, or
 * TA_NEED_MORE when only a partial line is left (nothing consumed). */
static int text_step(ta__text_line_fn fn, struct ta_ctx *ctx, struct ta__text *st,
                     enum ta_dir dir, struct ta_cur *cur)
{
    struct ta_cur line;
    size_t at;
    uint8_t last;
    int rc = text_skip(st, dir, cur);

    if (rc != TA_NEED_MORE)
        return rc;
    if ((rc = text_tls_start(cur, dir)) != TA_UNSUPPORTED)
        return rc;
    if (text_find_lf(cur, TA__TEXT_LINE_MAX + 2, &at)) {
        if (!ta_cur_sub(cur, at, &line) || !ta_cur_skip(cur, 1))
            return TA_NEED_MORE;   /* cannot happen: the LF is at offset at */
        if (at > 0 && ta_cur_peek8(&line, at - 1, &last) && last == '\r')
            line.end--;
        if (ta_cur_left(&line) > TA__TEXT_LINE_MAX) {
            ctx->hs.anomalies |= TA_AN_LONG_LINE;
            line.end = line.p + TA__TEXT_LINE_MAX;
        }
        return fn(ctx, st, dir, line);
    }
    if (ta_cur_left(cur) < TA__TEXT_LINE_MAX + 2)
        return TA_NEED_MORE;
    /* No LF in sight: hand over the head, drop the rest of the line as it comes. */
    ctx->hs.anomalies |= TA_AN_LONG_LINE;
    if (!ta_cur_sub(cur, TA__TEXT_LINE_MAX, &line))
        return TA_NEED_MORE;       /* cannot happen: more than that is left (checked above) */
    st->eol_skip[dir] = 1;
    rc = fn(ctx, st, dir, line);
    if (rc == TA_HANDOFF) {
        st->eol_handoff = 1;  /* TLS starts after the LF we have not seen yet */
        rc = TA_OK;
    }
    return rc;
}

/* A client that opens with a TLS hello instead of a command (implicit TLS aimed at a server
 * that greeted in plain text, e.g. port 465 answering "220") goes to TLS at once, while the
 * server side stays text. Returns TA_HANDOFF, TA_NEED_MORE (a hello may be arriving) or TA_OK
 * (text: parse as usual). Checked once, on the first client bytes only. */
static int text_client_first(struct ta__text *st, const uint8_t *data, size_t len)
{
    struct ta_cur c = ta_cur_make(data, len);
    uint8_t b;
    int rc;

    if (!ta_cur_peek8(&c, 0, &b))
        return TA_OK;
    rc = b == 0x16 ? ta_tls_probe_hello(data, len, true) : TA_UNSUPPORTED;
    if (rc == TA_NEED_MORE)
        return TA_NEED_MORE;
    st->c2s_seen = 1;
    st->c2s_tls = rc == TA_OK;
    return rc == TA_OK ? TA_HANDOFF : TA_OK;
}

/* The upgrade to TLS was accepted (the record says so). */
static void text_accepted(struct ta_ctx *ctx)
{
    ctx->hs.starttls = true;
    ctx->hs.mail.starttls_accepted = true;
}

/* Apply a line handler's answer to the session: the hand-off to TLS, or its end. Returns the
 * answer (TA_OK for anything else). */
static int text_settle(struct ta_ctx *ctx, struct ta__text *st, int rc)
{
    if (rc == TA_HANDOFF) {
        st->phase = TA__TX_HANDOFF;
        st->hold = TA__HOLD_NONE;
        text_accepted(ctx);
    } else if (rc == TA_DONE) {
        st->phase = TA__TX_DONE;
    } else {
        rc = TA_OK;
    }
    return rc;
}

/* Client bytes held for the server's answer where the server's direction was never seen (a
 * capture of the clients' side only): that answer never comes. The client's next bytes tell
 * it: a TLS hello after STARTTLS means the upgrade was accepted (TA_HANDOFF); anything else
 * after STARTTLS, that the client went on in plain text; after DATA, a body, which a client
 * sends only after the server's 354. Returns TA_HANDOFF, TA_NEED_MORE (keep holding: a hello
 * may be arriving) or TA_OK (the hold is released). */
static int text_release_hold(struct ta__text *st, const uint8_t *data, size_t len)
{
    if (st->hold == TA__HOLD_DATA) {
        st->body[TA_DIR_C2S] = 1;
    } else {
        int rc = ta_tls_probe_hello(data, len, true);
        if (rc == TA_OK || rc == TA_NEED_MORE)
            return rc == TA_OK ? TA_HANDOFF : TA_NEED_MORE;
    }
    st->hold = TA__HOLD_NONE;
    return TA_OK;
}

/* The feed entry point shared by the text dissectors (see dissector.h for the codes). Client
 * bytes are held while a STARTTLS (or DATA) answer is pending; after the hand-off every feed of
 * the client direction answers TA_HANDOFF with nothing consumed, so the engine gives those bytes
 * to TLS. Once the session is over both directions answer TA_DONE. */
int ta__text_feed(ta__text_line_fn fn, struct ta_ctx *ctx, enum ta_dir dir, const uint8_t *data,
                  size_t len, size_t *consumed)
{
    struct ta__text *st = ta__text_state(ctx);
    struct ta_cur cur = ta_cur_make(data, len);
    int rc = TA_OK;

    *consumed = 0;
    if (st->phase == TA__TX_DONE) {
        *consumed = len;
        return TA_DONE;
    }
    if (st->phase == TA__TX_HANDOFF || (dir == TA_DIR_C2S && st->c2s_tls))
        return TA_HANDOFF;
    if (dir == TA_DIR_C2S && !st->c2s_seen) {
        rc = text_client_first(st, data, len);
        if (rc != TA_OK)
            return rc == TA_HANDOFF ? TA_HANDOFF : TA_OK;
    }
    if (dir == TA_DIR_C2S && st->hold && len && !(ctx->dirs_seen & (1u << TA_DIR_S2C))) {
        rc = text_release_hold(st, data, len);
        if (rc == TA_HANDOFF) {
            /* the client's direction only: should the server's bytes turn up after all (the
             * directions reordered), they are read as text up to their own hand-off */
            st->c2s_tls = 1;
            text_accepted(ctx);
            return TA_HANDOFF;
        }
        if (rc != TA_OK)
            return TA_OK;
    }
    while (rc == TA_OK && !ta_cur_empty(&cur) && !(dir == TA_DIR_C2S && st->hold))
        rc = text_step(fn, ctx, st, dir, &cur);
    *consumed = (size_t)(cur.p - data);
    rc = text_settle(ctx, st, rc);
    if (rc == TA_DONE)
        *consumed = len;
    return rc;
}

/* How much of a loss of n bytes the bytes being passed over (literal, BDAT chunk) absorb. */
static uint32_t text_absorb(struct ta__text *st, enum ta_dir dir, uint32_t n)
{
    uint32_t k;

    if ((unsigned)dir > TA_DIR_S2C)
        return 0;
    k = st->skip[dir] < n ? st->skip[dir] : n;
    st->skip[dir] -= k;
    return k;
}

int ta__text_gap(ta__text_line_fn fn, ta__text_gap_fn gap_fn, struct ta_ctx *ctx,
                 enum ta_dir dir, const uint8_t *partial, size_t len, uint32_t lost)
{
    static const uint8_t none[1];
    struct ta__text *st = ta__text_state(ctx);
    struct ta_cur line = partial ? ta_cur_make(partial, len) : ta_cur_make(none, 0);
    int rc = TA_OK;
    uint8_t last;

    if ((unsigned)dir > TA_DIR_S2C)
        return TA_NEED_MORE;
    if (st->phase == TA__TX_DONE)
        return TA_DONE;
    if (st->phase == TA__TX_HANDOFF || (dir == TA_DIR_C2S && (st->hold || st->c2s_tls)))
        return TA_NEED_MORE;
    if (dir == TA_DIR_C2S && !st->c2s_seen) {
        /* The client's first bytes were lost: it speaks text after them (a TLS hello cut at
         * its start, implicit TLS, is waited for as at any hole). */
        uint8_t b;
        if (ta_cur_peek8(&line, 0, &b) && b == 0x16)
            return TA_NEED_MORE;
        st->c2s_seen = 1;
    }
    if (text_absorb(st, dir, lost) == lost && ta_cur_empty(&line))
        return TA_OK;       /* all of it inside a literal or chunk passed over */
    if (st->eol_skip[dir]) {  /* the over-long line being dropped ends with the loss */
        st->eol_skip[dir] = 0;
        if (dir == TA_DIR_S2C && st->eol_handoff) {
            st->eol_handoff = 0;
            rc = TA_HANDOFF;
        }
    } else if (!ta_cur_empty(&line)) {
        if (ta_cur_left(&line) > TA__TEXT_LINE_MAX)
            line.end = line.p + TA__TEXT_LINE_MAX;
        if (ta_cur_peek8(&line, ta_cur_left(&line) - 1, &last) && last == '\r')
            line.end--;     /* only the LF is missing: the line is whole */
        else
            st->cut_end = line.end;
        rc = fn(ctx, st, dir, line);
        st->cut_end = NULL;
    }
    if (rc == TA_OK)
        rc = gap_fn(ctx, st, dir);
    return text_settle(ctx, st, rc);
}

bool ta__text_whole(const struct ta_ctx *ctx, struct ta_slice w)
{
    const struct ta__text *st = (const struct ta__text *)(const void *)ctx->text_state;

    return !st->cut_end || w.ptr + w.len < st->cut_end;
}

/* Remember the kind of a command sent, for matching its reply. Past the queue's capacity only
 * the count is kept: those replies are matched as kind 0 (unknown). */
void ta__text_push(struct ta__text *st, uint8_t kind)
{
    if (st->extra || st->qlen >= TA__TEXT_QUEUE) {
        if (st->extra < UINT16_MAX)
            st->extra++;
        return;
    }
    st->queue[(st->qhead + st->qlen) % TA__TEXT_QUEUE] = kind;
    st->qlen++;
}

/* Kind of the oldest command without a final reply, 0 when none or unknown. */
uint8_t ta__text_peek(const struct ta__text *st)
{
    return st->qlen ? st->queue[st->qhead] : 0;
}

/* See text_int.h. */
void ta__text_lost_greeting(struct ta__text *st, uint16_t code, uint8_t upgrade)
{
    uint8_t pending = ta__text_peek(st);
    if (!st->greeted && pending && (code != 220 || pending == upgrade))
        st->greeted = 1;
}

/* Take the oldest pending command off the queue: its final reply arrived. */
uint8_t ta__text_pop(struct ta__text *st)
{
    uint8_t k;

    if (!st->qlen) {
        if (st->extra)
            st->extra--;
        return 0;
    }
    k = st->queue[st->qhead];
    st->qhead = (uint8_t)((st->qhead + 1) % TA__TEXT_QUEUE);
    st->qlen--;
    return k;
}

static bool text_blank(uint8_t b)
{
    return b == ' ' || b == '\t';
}

static uint8_t text_lower(uint8_t b)
{
    return (b >= 'A' && b <= 'Z') ? (uint8_t)(b + 32) : b;
}

/* Next blank-separated word of c into w, advancing c past it. False at the end of the line. */
bool ta__text_word(struct ta_cur *c, struct ta_slice *w)
{
    uint8_t b;
    size_t n = 0;

    while (ta_cur_peek8(c, 0, &b) && text_blank(b))
        ta_cur_skip(c, 1);
    while (ta_cur_peek8(c, n, &b) && !text_blank(b))
        n++;
    return n > 0 && ta_cur_slice(c, n, w);
}

/* Case-insensitive prefix test of data against lit. Returns true on a full match; *partial (if
 * not NULL) tells whether data is shorter than lit but matches as far as it goes. */
bool ta__text_starts(const uint8_t *data, size_t len, const char *lit, bool *partial)
{
    struct ta_cur c = ta_cur_make(data, len);
    size_t n = strlen(lit);
    uint8_t b;

    if (partial)
        *partial = false;
    for (size_t i = 0; i < n; i++) {
        if (!ta_cur_u8(&c, &b)) {
            if (partial)
                *partial = true;
            return false;
        }
        if (text_lower(b) != text_lower((uint8_t)lit[i]))
            return false;
    }
    return true;
}

/* Case-insensitive equality of a word and a literal. */
bool ta__text_is(struct ta_slice w, const char *lit)
{
    return w.len == strlen(lit) && ta__text_starts(w.ptr, w.len, lit, NULL);
}

/* Case-insensitive search of lit inside data (short banners only: quadratic). */
bool ta__text_contains(const uint8_t *data, size_t len, const char *lit)
{
    struct ta_cur c = ta_cur_make(data, len);

    while (!ta_cur_empty(&c)) {
        if (ta__text_starts(c.p, ta_cur_left(&c), lit, NULL))
            return true;
        ta_cur_skip(&c, 1);
    }
    return false;
}

/* True for the body terminator: a line holding a single dot (RFC 5321 4.5.2, RFC 1939 3). */
bool ta__text_is_dot(struct ta_cur line)
{
    uint8_t b;
    return ta_cur_left(&line) == 1 && ta_cur_u8(&line, &b) && b == '.';
}

/* A numeric reply line (RFC 5321 4.2, RFC 959 4.2): three digits then ' ', '-' or the end of
 * the line. On success *line is left past the separator and *sep is ' ', '-' or 0 (end). */
bool ta__text_reply(struct ta_cur *line, uint16_t *code, uint8_t *sep)
{
    struct ta_cur c = *line;
    uint16_t v = 0;
    uint8_t b;

    for (int i = 0; i < 3; i++) {
        if (!ta_cur_u8(&c, &b) || b < '0' || b > '9')
            return false;
        v = (uint16_t)(v * 10 + (b - '0'));
    }
    if (!ta_cur_u8(&c, &b))
        b = 0;
    else if (b != ' ' && b != '-')
        return false;
    *code = v;
    *sep = b;
    *line = c;
    return true;
}

/* Record the first greeting line (as sent) and its code, once. Of a line cut short only the
 * whole words are kept. */
void ta__text_greeting(struct ta_ctx *ctx, struct ta_cur line, uint16_t code)
{
    struct ta_mail *m = &ctx->hs.mail;
    size_t n = ta_cur_left(&line);
    uint8_t b;

    if (m->greeting[0])
        return;
    m->greeting_code = code;
    if (ta__text_state(ctx)->cut_end == line.end) {
        while (n > 0 && ta_cur_peek8(&line, n - 1, &b) && !text_blank(b))
            n--;
        while (n > 0 && ta_cur_peek8(&line, n - 1, &b) && text_blank(b))
            n--;
    }
    ta__text_copy(m->greeting, sizeof(m->greeting), line.p, n);
}

/* Does w look like a DNS host name: letters, digits, '-' and '.', at least two non-empty labels,
 * the last starting with a letter (so "v2.3.16" and "10.0.0.1" do not qualify)? */
bool ta__text_hostlike(struct ta_slice w)
{
    struct ta_cur c = ta_cur_make(w.ptr, w.len);
    size_t labels = 0, cur_len = 0;
    bool last_alpha = false;
    uint8_t b;

    if (w.len == 0 || w.len >= TA_TEXT_MAX)
        return false;
    while (ta_cur_u8(&c, &b)) {
        bool alpha = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z');
        if (b == '.') {
            if (cur_len == 0)
                return false;
            labels++;
            cur_len = 0;
        } else if (alpha || (b >= '0' && b <= '9') || b == '-') {
            if (cur_len++ == 0)
                last_alpha = alpha;
        } else {
            return false;
        }
    }
    return cur_len > 0 && labels >= 1 && last_alpha;
}

/* Strip one layer of punctuation around a banner word: "(host)", "host,", "host." */
static struct ta_slice text_trim_word(struct ta_slice w)
{
    static const char lead[] = "(<\"'", trail[] = ")>\"',;:.";
    struct ta_cur c = ta_cur_make(w.ptr, w.len);
    uint8_t b;

    if (ta_cur_peek8(&c, 0, &b) && b && strchr(lead, b)) {
        w.ptr++;
        w.len--;
        c = ta_cur_make(w.ptr, w.len);
    }
    while (w.len && ta_cur_peek8(&c, w.len - 1, &b) && b && strchr(trail, b))
        w.len--;
    return w;
}

/* Put the first host-like word of a banner into greeting_host, skipping bracketed response
 * codes such as IMAP's "[CAPABILITY ...]". Leaves it empty when there is none. */
void ta__text_banner_host(struct ta_ctx *ctx, struct ta_cur c)
{
    struct ta_slice w;
    bool in_bracket = false;
    uint8_t b;

    while (ta__text_word(&c, &w)) {
        struct ta_cur wc = ta_cur_make(w.ptr, w.len);
        if (!in_bracket && ta_cur_peek8(&wc, 0, &b) && b == '[')
            in_bracket = true;
        if (in_bracket) {
            if (ta_cur_peek8(&wc, w.len - 1, &b) && b == ']')
                in_bracket = false;
            continue;
        }
        if (!ta__text_whole(ctx, w))
            return;
        w = text_trim_word(w);
        if (ta__text_hostlike(w)) {
            ta__text_copy(ctx->hs.mail.greeting_host, TA_TEXT_MAX, w.ptr, w.len);
            return;
        }
    }
}

/* Append one token to the space-separated capability list unless present or it does not fit. */
static void text_cap_append(char *caps, const char *tok, size_t tlen)
{
    size_t have = strlen(caps);
    const char *p = caps;

    while ((p = strstr(p, tok)) != NULL) {
        if ((p == caps || p[-1] == ' ') && (p[tlen] == ' ' || p[tlen] == '\0'))
            return;
        p++;
    }
    if (have + (have ? 1 : 0) + tlen + 1 > TA_TEXT_MAX)
        return;
    if (have)
        caps[have++] = ' ';
    memcpy(caps + have, tok, tlen + 1);
}

/* Record the capability named by the first word of c (an EHLO keyword line, a CAPA line, a FEAT
 * line or one IMAP atom). When the keyword equals arg_kw (e.g. "AUTH", "SASL") its arguments are
 * kept too, comma-joined: "AUTH=PLAIN,LOGIN"; other arguments (SIZE 35882577) are dropped. A
 * STARTTLS or STLS keyword marks the upgrade as offered. */
void ta__text_cap_add(struct ta_ctx *ctx, struct ta_cur c, const char *arg_kw)
{
    char tok[64];
    size_t n = 0;
    struct ta_slice w, a;

    if (!ta__text_word(&c, &w) || w.len >= sizeof(tok) || !ta__text_whole(ctx, w))
        return;
    if (ta__text_is(w, "STARTTLS") || ta__text_is(w, "STLS"))
        ctx->hs.mail.starttls_offered = true;
    ta__text_copy(tok, sizeof(tok), w.ptr, w.len);
    n = strlen(tok);
    if (arg_kw && ta__text_is(w, arg_kw)) {
        char sepc = '=';
        while (ta__text_word(&c, &a) && ta__text_whole(ctx, a) && n + 1 + a.len < sizeof(tok)) {
            tok[n++] = sepc;
            ta__text_copy(tok + n, sizeof(tok) - n, a.ptr, a.len);
            n += strlen(tok + n);
            sepc = ',';
        }
    }
    text_cap_append(ctx->hs.mail.capabilities, tok, n);
}

/* The server refused STARTTLS: record it and let the held client bytes be parsed as text. */
void ta__text_starttls_refused(struct ta_ctx *ctx, struct ta__text *st)
{
    ctx->hs.mail.starttls_refused = true;
    st->hold = TA__HOLD_NONE;
}

/* First line of probe data: TA_OK with *line (CR stripped) once an LF is seen or the engine's
 * probe window is full, TA_NEED_MORE before. */
int ta__text_probe_line(const uint8_t *data, size_t len, struct ta_cur *line)
{
    struct ta_cur c = ta_cur_make(data, len);
    size_t at;
    uint8_t b;

    if (text_find_lf(&c, len, &at))
        c.end = c.p + at;
    else if (len < TA__TEXT_PROBE_WAIT)
        return TA_NEED_MORE;
    if (!ta_cur_empty(&c) && ta_cur_peek8(&c, ta_cur_left(&c) - 1, &b) && b == '\r')
        c.end--;
    *line = c;
    return TA_OK;
}

/* An IMAP tag (RFC 9051 9: astring characters but "+"): printable ASCII without "(){ %*\"\\]",
 * at most TA__TEXT_TAG_MAX bytes. Binary openings (PostgreSQL's SSLRequest ...) fail at once. */
static bool text_tag_ok(struct ta_slice w)
{
    struct ta_cur c = ta_cur_make(w.ptr, w.len);
    uint8_t b;

    if (w.len > TA__TEXT_TAG_MAX)
        return false;
    while (ta_cur_u8(&c, &b))
        if (b < 0x21 || b > 0x7e || strchr("(){%*\"\\]+", b))
            return false;
    return true;
}

/* See text_int.h. Before the line is whole, a word that cannot begin any of cmds (the tag, a
 * lone word's end, excepted) declines at once: a server's bytes, or another protocol's. */
int ta__text_probe_command(const uint8_t *data, size_t len, bool tagged,
                           const char *const cmds[], int *which, struct ta_cur *rest)
{
    struct ta_cur line;
    struct ta_slice w;
    int rc = ta__text_probe_line(data, len, &line);
    bool whole = rc == TA_OK;

    if (rc == TA_NEED_MORE) {
        uint8_t b;
        line = ta_cur_make(data, len);
        if (ta_cur_peek8(&line, len - 1, &b) && b == '\r')
            line.end--;    /* the LF is still to come */
    } else if (rc != TA_OK) {
        return rc;
    }
    if (tagged && !ta__text_word(&line, &w))
        return whole ? TA_UNSUPPORTED : TA_NEED_MORE;
    if (tagged && !text_tag_ok(w))
        return TA_UNSUPPORTED;
    if (!ta__text_word(&line, &w))
        return whole ? TA_UNSUPPORTED : TA_NEED_MORE;
    for (int i = 0; cmds[i]; i++) {
        bool partial = false;
        if (ta__text_is(w, cmds[i])) {
            *which = i;
            *rest = line;
            return whole ? TA_OK : TA_NEED_MORE;
        }
        if (!whole && ta_cur_empty(&line) &&
            !ta__text_starts(w.ptr, w.len, cmds[i], &partial) && partial)
            return TA_NEED_MORE;   /* the word may be a command cut short */
    }
    return TA_UNSUPPORTED;
}
