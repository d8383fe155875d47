/* output.c - the row writer of the query tool: table, CSV, JSON, JSON lines (rules: output.h).
 *
 * Hostile input is the normal case here: SNI, banners and certificate names are whatever a peer
 * sent. Each cell is decoded as strict UTF-8 (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF) one sequence at a time; a byte that does not start a valid sequence is handled
 * alone, so the output never depends on what follows a bad byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tlsaudit/output.h"
#include "tlsaudit/utf8.h"

struct ta_out {
    FILE *fp;
    enum ta_out_format fmt;
    const struct ta_out_col *cols;
    size_t ncols;
    size_t nrows;
    char **cells;          /* table mode: escaped cells, nrows * ncols, row-major */
    size_t cap_rows;
};

/* Print n bytes as \xNN each. */
static void put_hex_bytes(FILE *fp, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(fp, "\\x%02X", p[i]);
}

/* See output.h (table rule). */
void ta_out_table_text(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    if (!s)
        return;
    while (*p) {
        size_t n = ta_utf8_plain(p);
        if (n > 0) {
            fwrite(p, 1, n, fp);
        } else if ((n = ta_utf8_seq(p, &cp)) == 0) {
            put_hex_bytes(fp, p, 1);
            n = 1;
        } else {
            put_hex_bytes(fp, p, n);   /* a terminal control */
        }
        p += n;
    }
}

/* True when s is a plain decimal number: [+-]?[0-9]+(\.[0-9]+)? */
static int is_plain_number(const char *s)
{
    if (*s == '+' || *s == '-')
        s++;
    if (*s < '0' || *s > '9')
        return 0;
    while (*s >= '0' && *s <= '9')
        s++;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

/* See output.h (CSV rule). */
void ta_out_csv_cell(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    if (!s)
        return;
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        fputc('"', fp);
    if (strchr("=+-@\t\r", s[0]) && s[0] && !is_plain_number(s))
        fputc('\'', fp);
    while (*p) {
        size_t n = ta_utf8_seq(p, &cp);
        if (n == 0) {
            fputs("\xEF\xBF\xBD", fp);
            n = 1;
        } else if (cp == '"') {
            fputs("\"\"", fp);
        } else if (ta_utf8_term_control(cp) && cp != '\t' && cp != '\r' && cp != '\n' &&
                   cp < 0x2000) {
            put_hex_bytes(fp, p, n);
        } else {
            fwrite(p, 1, n, fp);
        }
        p += n;
    }
    if (quote)
        fputc('"', fp);
}

/* See output.h (JSON rule). */
void ta_out_json_string(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    uint32_t cp;
    fputc('"', fp);
    while (*p) {
        size_t n = ta_utf8_seq(p, &cp);
        if (n == 0) {
            fputs("\xEF\xBF\xBD", fp);
            n = 1;
        } else if (cp == '"' || cp == '\\') {
            fputc('\\', fp);
            fputc((int)cp, fp);
        } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
            fprintf(fp, "\\u%04x", (unsigned)cp);
        } else {
            fwrite(p, 1, n, fp);
        }
        p += n;
    }
    fputc('"', fp);
}

/* True when s is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)? (no exponent: we never make one). */
static int is_json_number(const char *s)
{
    if (*s == '-')
        s++;
    if (*s == '0')
        s++;
    else if (*s >= '1' && *s <= '9')
        while (*s >= '0' && *s <= '9')
            s++;
    else
        return 0;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

int ta_out_format_parse(const char *s, enum ta_out_format *fmt)
{
    static const char *const names[] = { "table", "csv", "json", "jsonl" };
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0) {
            *fmt = (enum ta_out_format)i;
            return 0;
        }
    return -1;
}

struct ta_out *ta_out_new(FILE *fp, enum ta_out_format fmt, const struct ta_out_col *cols,
                          size_t ncols)
{
    struct ta_out *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->fp = fp;
    o->fmt = fmt;
    o->cols = cols;
    o->ncols = ncols;
    if (fmt == TA_OUT_CSV) {
        for (size_t i = 0; i < ncols; i++) {
            if (i)
                fputc(',', fp);
            ta_out_csv_cell(fp, cols[i].name);
        }
        fputc('\n', fp);
    }
    return o;
}

/* One JSON object for a row. */
static void json_object(struct ta_out *o, const char *const *cells)
{
    fputc('{', o->fp);
    for (size_t i = 0; i < o->ncols; i++) {
        const char *c = cells[i];
        if (i)
            fputc(',', o->fp);
        ta_out_json_string(o->fp, o->cols[i].name);
        fputc(':', o->fp);
        if (!c || (o->cols[i].numeric && c[0] == '\0'))
            fputs("null", o->fp);
        else if (o->cols[i].numeric && is_json_number(c))
            fputs(c, o->fp);
        else
            ta_out_json_string(o->fp, c);
    }
    fputc('}', o->fp);
}

/* The table form of one cell: escaped, then cut to TA_OUT_CELL_MAX characters. malloc'd. */
static char *table_cell(const char *s)
{
    char *buf = NULL;
    size_t len = strlen(s), chars = 0, i;
    if (ta_utf8_plain((const unsigned char *)s) == len) {
        /* nothing to escape (the common case): a copy, without a memory stream per cell */
        if (!(buf = strdup(s)))
            return NULL;
    } else {
        FILE *m = open_memstream(&buf, &len);
        if (!m)
            return NULL;
        ta_out_table_text(m, s);
        if (fclose(m) != 0 || !buf)
            return NULL;
    }
    for (i = 0; i < len; i++) {
        if (((unsigned char)buf[i] & 0xc0) == 0x80)
            continue;
        if (++chars == TA_OUT_CELL_MAX)
            break;
    }
    if (i < len) {
        /* i is the start of the 60th character: is there more after it? */
        size_t j = i + 1;
        while (j < len && ((unsigned char)buf[j] & 0xc0) == 0x80)
            j++;
        if (j < len) {
            char *t = realloc(buf, i + 4);
            if (!t) {
                free(buf);
                return NULL;
            }
            memcpy(t + i, "\xE2\x80\xA6", 4);
            buf = t;
        }
    }
    return buf;
}

int ta_out_row(struct ta_out *o, const char *const *cells)
{
    if (o->fmt == TA_OUT_CSV) {
        for (size_t i = 0; i < o->ncols; i++) {
            if (i)
                fputc(',', o->fp);
            ta_out_csv_cell(o->fp, cells[i]);
        }
        fputc('\n', o->fp);
    } else if (o->fmt == TA_OUT_JSON || o->fmt == TA_OUT_JSONL) {
        if (o->fmt == TA_OUT_JSON)
            fputs(o->nrows ? ",\n" : "[\n", o->fp);
        json_object(o, cells);
        if (o->fmt == TA_OUT_JSONL)
            fputc('\n', o->fp);
    } else {
        if (o->nrows == o->cap_rows) {
            size_t cap = o->cap_rows ? o->cap_rows * 2 : 64;
            char **t = realloc(o->cells, cap * o->ncols * sizeof *t);
            if (!t)
                return -1;
            o->cells = t;
            o->cap_rows = cap;
        }
        for (size_t i = 0; i < o->ncols; i++) {
            char *c = table_cell(cells[i] ? cells[i] : "");
            if (!c) {
                for (size_t k = 0; k < i; k++)
                    free(o->cells[o->nrows * o->ncols + k]);
                return -1;
            }
            o->cells[o->nrows * o->ncols + i] = c;
        }
    }
    o->nrows++;
    return 0;
}

size_t ta_out_count(const struct ta_out *o)
{
    return o->nrows;
}

/* Display width of an escaped table cell: its UTF-8 characters. */
static size_t width_of(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

/* Write n blanks to fp: in runs of a constant, not a printf per cell (a table of 16,000 rows
 * pads 100,000 cells). */
static void pad_blanks(FILE *fp, size_t n)
{
    static const char blanks[] = "                                                                ";
    while (n > 0) {
        size_t k = n < sizeof blanks - 1 ? n : sizeof blanks - 1;
        fwrite(blanks, 1, k, fp);
        n -= k;
    }
}

/* Print one table line; the last column is not padded (no trailing blanks). */
static void table_line(struct ta_out *o, const char *const *cells, const size_t *w)
{
    for (size_t i = 0; i < o->ncols; i++) {
        size_t pad = w[i] - width_of(cells[i]);
        bool last = i + 1 == o->ncols;
        if (i)
            fputs("  ", o->fp);
        if (o->cols[i].numeric)
            pad_blanks(o->fp, pad);
        fputs(cells[i], o->fp);
        if (!o->cols[i].numeric && !last)
            pad_blanks(o->fp, pad);
    }
    fputc('\n', o->fp);
}

/* Print the held table: header, dashes, rows. */
static void table_flush(struct ta_out *o)
{
    size_t *w = calloc(o->ncols ? o->ncols : 1, sizeof *w);
    const char **hdr = calloc(o->ncols ? o->ncols : 1, sizeof *hdr);
    char **dash = calloc(o->ncols ? o->ncols : 1, sizeof *dash);
    if (!w || !hdr || !dash)
        goto out;
    for (size_t i = 0; i < o->ncols; i++) {
        hdr[i] = o->cols[i].name;
        w[i] = width_of(hdr[i]);
        for (size_t r = 0; r < o->nrows; r++) {
            size_t cw = width_of(o->cells[r * o->ncols + i]);
            if (cw > w[i])
                w[i] = cw;
        }
        dash[i] = malloc(w[i] + 1);
        if (!dash[i])
            goto out;
        memset(dash[i], '-', w[i]);
        dash[i][w[i]] = '\0';
    }
    table_line(o, hdr, w);
    table_line(o, (const char *const *)dash, w);
    for (size_t r = 0; r < o->nrows; r++)
        table_line(o, (const char *const *)&o->cells[r * o->ncols], w);
out:
    for (size_t i = 0; dash && i < o->ncols; i++)
        free(dash[i]);
    free(dash);
    free(hdr);
    free(w);
}

int ta_out_end(struct ta_out *o)
{
    int rc;
    if (!o)
        return 0;
    if (o->fmt == TA_OUT_JSON)
        fputs(o->nrows ? "\n]\n" : "[]\n", o->fp);
    else if (o->fmt == TA_OUT_TABLE)
        table_flush(o);
    for (size_t i = 0; o->cells && i < o->nrows * o->ncols; i++)
        free(o->cells[i]);
    free(o->cells);
    rc = fflush(o->fp) == 0 && !ferror(o->fp) ? 0 : -1;
    free(o);
    return rc;
}

/* See output.h (html rule). One function for element text and attribute values, so the page
 * never has to know which context a wire string lands in. */
void ta_out_html_text(FILE *fp, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    uint32_t cp;
    if (!s)
        return;
    while (*p) {
        size_t n = ta_utf8_seq(p, &cp);
        if (n == 0) {
            put_hex_bytes(fp, p, 1);
            n = 1;
        } else if (cp == '&') {
            fputs("&amp;", fp);
        } else if (cp == '<') {
            fputs("&lt;", fp);
        } else if (cp == '>') {
            fputs("&gt;", fp);
        } else if (cp == '"') {
            fputs("&quot;", fp);
        } else if (cp == '\'') {
            fputs("&#39;", fp);
        } else if (ta_utf8_term_control(cp) && cp != '\t' && cp != '\n') {
            put_hex_bytes(fp, p, n);
        } else {
            fwrite(p, 1, n, fp);
        }
        p += n;
    }
}
