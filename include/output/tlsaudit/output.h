/* output.h - rows of text cells printed as an aligned table, CSV, JSON or JSON lines.
 *
 * Every string that came off the wire (SNI, banners, certificate names) reaches the user through
 * this writer, so each format has one escaping rule, applied to every cell:
 *
 * table  Aligned columns (two spaces apart; numeric columns right-aligned), widths computed over
 *        all rows, so rows are held until ta_out_end. A cell wider than TA_OUT_CELL_MAX characters
 *        is cut to TA_OUT_CELL_MAX - 1 characters plus U+2026 '…'. Nothing that can drive a
 *        terminal is printed raw: C0 controls (including TAB, CR, LF and ESC), DEL, C1 controls
 *        (U+0080..U+009F), the bidi controls U+202A..U+202E and U+2066..U+2069, and bytes that
 *        are not valid UTF-8 are printed as "\xNN" per byte (upper-case hex). A NULL cell is "".
 * csv    RFC 4180 fields: a field containing ',' '"' CR or LF is quoted and its '"' doubled.
 *        Records end with LF (not CRLF: Unix tools expect it; RFC 4180 readers accept it). The
 *        first line holds the column names. Text is made valid UTF-8 (each invalid byte becomes
 *        U+FFFD); C0 controls other than TAB, CR and LF, DEL and C1 controls become "\xNN".
 *        Formula injection: a cell that starts with '=', '+', '-', '@', TAB or CR gets a leading
 *        "'" so a spreadsheet shows it as text -- unless the whole cell is a plain decimal number
 *        (optional sign, digits, optional '.' and digits: "-1", "+3.5"), which stays a number.
 * json   One array of objects, one object per line: "[\n{...},\n{...}\n]\n" ("[]\n" when empty).
 *        Keys are the column names. Output is always valid UTF-8: each invalid byte becomes
 *        U+FFFD; '"' and '\\' are escaped; C0 controls, DEL, C1 controls and U+2028/U+2029 are
 *        escaped as \u00XX / \u2028 (lower-case hex). A NULL cell is null; a cell of a numeric
 *        column that is a JSON number is printed bare, an empty one is null.
 * jsonl  The same objects, one per line, no enclosing array.
 * html   (ta_out_html_text, for the report page) Text that is safe both as element content and
 *        inside a double- or single-quoted attribute value: '&' '<' '>' '"' '\'' become
 *        &amp; &lt; &gt; &quot; &#39;; C0 controls other than TAB and LF, DEL, C1 controls and the
 *        bidi controls, and bytes that are not valid UTF-8, become the visible text "\xNN" per
 *        byte, as in tables. A NULL string prints nothing. Never used for URLs: the page links
 *        only to its own anchors, which it names itself.
 */
#ifndef TLSAUDIT_OUTPUT_H
#define TLSAUDIT_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TA_OUT_CELL_MAX 60   /* table mode: characters shown per cell */

enum ta_out_format { TA_OUT_TABLE = 0, TA_OUT_CSV, TA_OUT_JSON, TA_OUT_JSONL };

struct ta_out_col {
    const char *name;   /* header / JSON key (trusted text) */
    bool numeric;       /* right-aligned in tables, bare number in JSON */
};

struct ta_out;

/* "table", "csv", "json" or "jsonl" (exact, lower case). Returns 0, or -1 when unknown. */
int ta_out_format_parse(const char *s, enum ta_out_format *fmt);

/* Start a result set written to fp. cols must outlive the writer. NULL when out of memory. */
struct ta_out *ta_out_new(FILE *fp, enum ta_out_format fmt, const struct ta_out_col *cols,
                          size_t ncols);

/* One row: ncols cells, each NUL-terminated (any bytes) or NULL. Copied when the format needs
 * all rows first (table). Returns 0, or -1 when out of memory. */
int ta_out_row(struct ta_out *o, const char *const *cells);

/* Rows written so far. */
size_t ta_out_count(const struct ta_out *o);

/* Finish: print the table / close the JSON array, free the writer. Returns 0, or -1 when a write
 * to fp failed. NULL is accepted. */
int ta_out_end(struct ta_out *o);

/* The escaping rules above, one cell at a time (used by the writer; exposed for tests and for
 * free-form lines such as the summary's headings). */
void ta_out_table_text(FILE *fp, const char *s);
void ta_out_csv_cell(FILE *fp, const char *s);
void ta_out_json_string(FILE *fp, const char *s);
void ta_out_html_text(FILE *fp, const char *s);

#endif
