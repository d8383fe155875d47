/* pg_copy.c - the COPY sink: sensor rows reach the central database only as COPY data, in
 * PostgreSQL's text format (one row per line, fields separated by TAB, \N for NULL), streamed
 * through a fixed 64 KiB buffer, so a batch of any size costs no more memory.
 *
 * The one escaping rule of this sink (ta__copy_field): backslash, TAB, LF and CR are written as
 * \\, \t, \n, \r; the text is made valid UTF-8 because the server rejects invalid UTF-8 and
 * the whole batch with it: each byte that does not start a valid UTF-8 sequence (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF), and each NUL, becomes U+FFFD, the rule of
 * the JSON sink. Hostile SNI bytes therefore arrive as U+FFFD centrally (documented). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "central_int.h"

/* Send the buffer to the server. */
static void copy_flush(struct ta__copy *w)
{
    if (w->len > 0 && !w->failed && PQputCopyData(w->c->conn, w->buf, (int)w->len) != 1)
        w->failed = true;
    w->len = 0;
}

static void copy_put(struct ta__copy *w, const char *p, size_t n)
{
    if (n > sizeof w->buf - w->len)
        copy_flush(w);
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

/* Length (1..4) of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t copy_utf8_len(const unsigned char *p, size_t n)
{
    size_t k;
    uint32_t v, min;
    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf) { k = 2; v = p[0] & 0x1f; min = 0x80; }
    else if (p[0] >= 0xe0 && p[0] <= 0xef) { k = 3; v = p[0] & 0x0f; min = 0x800; }
    else if (p[0] >= 0xf0 && p[0] <= 0xf4) { k = 4; v = p[0] & 0x07; min = 0x10000; }
    else return 0;
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    return v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ? 0 : k;
}

/* See central_int.h. */
void ta__copy_field(struct ta__copy *w, const char *s, size_t len, bool first)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!first)
        copy_put(w, "\t", 1);
    if (!s) {
        copy_put(w, "\\N", 2);
        return;
    }
    for (size_t i = 0; i < len;) {
        size_t k = copy_utf8_len(p + i, len - i);
        if (k == 0 || p[i] == 0) {
            copy_put(w, "\xEF\xBF\xBD", 3);
            i++;
            continue;
        }
        switch (p[i]) {
        case '\\': copy_put(w, "\\\\", 2); break;
        case '\t': copy_put(w, "\\t", 2); break;
        case '\n': copy_put(w, "\\n", 2); break;
        case '\r': copy_put(w, "\\r", 2); break;
        default: copy_put(w, (const char *)p + i, k); break;
        }
        i += k;
    }
}

/* See central_int.h. */
void ta__copy_end_row(struct ta__copy *w)
{
    copy_put(w, "\n", 1);
}

/* See central_int.h. */
int ta__copy_begin(struct ta__copy *w, struct ta_central *c, const char *sql, char *errbuf)
{
    w->c = c;
    w->len = 0;
    w->failed = false;
    PGresult *r = PQexec(c->conn, sql);
    int ok = PQresultStatus(r) == PGRES_COPY_IN;
    if (!ok)
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: COPY: %s", c->target,
                 PQresultErrorMessage(r)[0] ? PQresultErrorMessage(r) : PQerrorMessage(c->conn));
    PQclear(r);
    return ok ? TA_OK : TA_ERR_IO;
}

/* See central_int.h. */
int ta__copy_finish(struct ta__copy *w, char *errbuf)
{
    copy_flush(w);
    int rc = TA_OK;
    errbuf[0] = '\0';
    if (PQputCopyEnd(w->c->conn, w->failed ? "tlsaudit: sending failed" : NULL) != 1)
        rc = TA_ERR_IO;
    PGresult *r;
    while ((r = PQgetResult(w->c->conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == TA_OK) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: COPY: %s", w->c->target,
                     PQresultErrorMessage(r));
            rc = TA_ERR_IO;
        }
        PQclear(r);
        if (PQstatus(w->c->conn) != CONNECTION_OK)
            break;
    }
    if ((rc != TA_OK || w->failed) && errbuf[0] == '\0')
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: COPY: %s", w->c->target, PQerrorMessage(w->c->conn));
    return w->failed ? TA_ERR_IO : rc;
}
