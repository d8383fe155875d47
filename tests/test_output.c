/* test_output.c - the row writer on hostile strings: every format, full expected output. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlsaudit/common.h"
#include "tlsaudit/output.h"

static const struct ta_out_col cols[] = { { "name", false }, { "n", true } };

/* Hostile cells: terminal escapes, quotes and commas, newline, a spreadsheet formula, invalid
 * UTF-8 (0xFF, and 0xC3 cut short by the end), a C1 CSI and DEL, NULL. */
static const char *const rows[][2] = {
    { "\x1b[31mred\x1b[0m", "1" },
    { "say \"hi\", ok", "-1" },
    { "line1\nline2", NULL },
    { "=cmd|'/C calc'!A0", "2" },
    { "bad\xff\xc3", "3" },
    { "a\xc2\x9b" "b\x7f", "x" },
};

/* Render rows in fmt into a malloc'd string. */
static char *render(enum ta_out_format fmt, const struct ta_out_col *c, size_t nc,
                    const char *const (*r)[2], size_t nr)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    struct ta_out *o = ta_out_new(m, fmt, c, nc);
    for (size_t i = 0; i < nr; i++)
        CHECK_INT(ta_out_row(o, r[i]), 0);
    CHECK_INT(ta_out_count(o), nr);
    CHECK_INT(ta_out_end(o), 0);
    fclose(m);
    return buf;
}

static void test_csv(void)
{
    char *s = render(TA_OUT_CSV, cols, 2, rows, 6);
    CHECK_STR(s, "name,n\n"
                 "\\x1B[31mred\\x1B[0m,1\n"
                 "\"say \"\"hi\"\", ok\",-1\n"
                 "\"line1\nline2\",\n"
                 "'=cmd|'/C calc'!A0,2\n"
                 "bad\xEF\xBF\xBD\xEF\xBF\xBD,3\n"
                 "a\\xC2\\x9Bb\\x7F,x\n");
    free(s);
}

static void test_json(void)
{
    const char *want_rows =
        "{\"name\":\"\\u001b[31mred\\u001b[0m\",\"n\":1},\n"
        "{\"name\":\"say \\\"hi\\\", ok\",\"n\":-1},\n"
        "{\"name\":\"line1\\u000aline2\",\"n\":null},\n"
        "{\"name\":\"=cmd|'/C calc'!A0\",\"n\":2},\n"
        "{\"name\":\"bad\xEF\xBF\xBD\xEF\xBF\xBD\",\"n\":3},\n"
        "{\"name\":\"a\\u009bb\\u007f\",\"n\":\"x\"}";
    char want[1024];
    char *s = render(TA_OUT_JSON, cols, 2, rows, 6);
    snprintf(want, sizeof want, "[\n%s\n]\n", want_rows);
    CHECK_STR(s, want);
    free(s);

    /* jsonl: the same objects, one per line, no array and no commas between lines. */
    s = render(TA_OUT_JSONL, cols, 2, rows, 6);
    CHECK_STR(s, "{\"name\":\"\\u001b[31mred\\u001b[0m\",\"n\":1}\n"
                 "{\"name\":\"say \\\"hi\\\", ok\",\"n\":-1}\n"
                 "{\"name\":\"line1\\u000aline2\",\"n\":null}\n"
                 "{\"name\":\"=cmd|'/C calc'!A0\",\"n\":2}\n"
                 "{\"name\":\"bad\xEF\xBF\xBD\xEF\xBF\xBD\",\"n\":3}\n"
                 "{\"name\":\"a\\u009bb\\u007f\",\"n\":\"x\"}\n");
    free(s);

    s = render(TA_OUT_JSON, cols, 2, rows, 0);
    CHECK_STR(s, "[]\n");
    free(s);
}

static void test_table(void)
{
    char *s = render(TA_OUT_TABLE, cols, 2, rows, 6);
    CHECK_STR(s, "name                 n\n"
                 "------------------  --\n"
                 "\\x1B[31mred\\x1B[0m   1\n"
                 "say \"hi\", ok        -1\n"
                 "line1\\x0Aline2        \n"
                 "=cmd|'/C calc'!A0    2\n"
                 "bad\\xFF\\xC3          3\n"
                 "a\\xC2\\x9Bb\\x7F       x\n");
    free(s);
    /* No raw ESC, DEL or invalid byte may reach a terminal. */
    s = render(TA_OUT_TABLE, cols, 2, rows, 6);
    CHECK(strchr(s, 0x1b) == NULL && strchr(s, 0x7f) == NULL && memchr(s, 0xff, strlen(s)) == NULL);
    free(s);
}

/* Cells longer than 60 characters are cut to 59 + '…' in tables only; exactly 60 stay whole. */
static void test_truncate(void)
{
    static const struct ta_out_col one[] = { { "v", false } };
    char long70[71], exact60[61], want[256];
    memset(long70, 'a', 70);
    long70[70] = '\0';
    memset(exact60, 'b', 60);
    exact60[60] = '\0';
    const char *const r[][2] = { { long70, NULL }, { exact60, NULL } };
    char *s = render(TA_OUT_TABLE, one, 1, r, 2);
    snprintf(want, sizeof want, "v\n%.60s\n%.59s\xE2\x80\xA6\n%s\n",
             "------------------------------------------------------------", long70, exact60);
    CHECK_STR(s, want);
    free(s);
    s = render(TA_OUT_CSV, one, 1, r, 1);
    snprintf(want, sizeof want, "v\n%s\n", long70);
    CHECK_STR(s, want);
    free(s);
}

/* Formula neutralisation rule: plain numbers stay numbers, everything else starting with a
 * trigger character becomes text. */
static void test_csv_formula(void)
{
    static const struct { const char *in, *out; } cases[] = {
        { "-1", "-1" }, { "+3.5", "+3.5" }, { "-x", "'-x" }, { "@SUM(A1)", "'@SUM(A1)" },
        { "+1+1", "'+1+1" }, { "\tTAB", "'\tTAB" }, { "\rx", "\"'\rx\"" }, { "-", "'-" },
        { "1.", "1." }, { "a=b", "a=b" }, { "", "" }, { "-1.5e3", "'-1.5e3" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&buf, &len);
        ta_out_csv_cell(m, cases[i].in);
        fclose(m);
        CHECK_STR(buf, cases[i].out);
        free(buf);
    }
}

/* Strict UTF-8: overlong, surrogate and too-large sequences are invalid byte by byte; valid
 * multibyte text passes through; bidi overrides are escaped in tables. */
static void test_utf8(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ta_out_json_string(m, "\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|caf\xc3\xa9|\xe2\x80\xa8");
    fclose(m);
    CHECK_STR(buf, "\"\xEF\xBF\xBD\xEF\xBF\xBD|\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
                   "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|caf\xc3\xa9|\\u2028\"");
    free(buf);
    m = open_memstream(&buf, &len);
    ta_out_table_text(m, "x\xe2\x80\xaey\xc3\xa9");
    fclose(m);
    CHECK_STR(buf, "x\\xE2\\x80\\xAEy\xc3\xa9");
    free(buf);
}

/* Error and log lines (ta_fprint_err, in base) follow the same rule as the table: C0, DEL, C1
 * (raw or as UTF-8), bidi overrides and bytes that start no UTF-8 sequence as \xNN; valid
 * UTF-8 as it is. */
static void test_error_line(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ta_fprint_err(m, "tlsaudit: ", "db \x1b[2J\n|\x9b" "31m|\xc2\x9b|x\xe2\x80\xaey|caf\xc3\xa9|\x7f|\xc3");
    fclose(m);
    CHECK_STR(buf, "tlsaudit: db \\x1B[2J\\x0A|\\x9B31m|\\xC2\\x9B|x\\xE2\\x80\\xAEy|"
                   "caf\xc3\xa9|\\x7F|\\xC3\n");
    free(buf);
}

static void test_parse(void)
{
    enum ta_out_format f = TA_OUT_TABLE;
    CHECK_INT(ta_out_format_parse("jsonl", &f), 0);
    CHECK_INT(f, TA_OUT_JSONL);
    CHECK_INT(ta_out_format_parse("csv", &f), 0);
    CHECK_INT(f, TA_OUT_CSV);
    CHECK_INT(ta_out_format_parse("xml", &f), -1);
    CHECK_INT(ta_out_format_parse(NULL, &f), -1);
}

int main(void)
{
    test_csv();
    test_json();
    test_table();
    test_truncate();
    test_csv_formula();
    test_utf8();
    test_error_line();
    test_parse();
    return CHECK_DONE();
}
