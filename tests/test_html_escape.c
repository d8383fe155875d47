/* test_html_escape.c - the HTML sink of the output layer (ta_out_html_text), the one function
 * the report page passes every wire string through: markup, both quote kinds and '&' become
 * entities, so a string is inert both as element text and inside a quoted attribute value;
 * terminal and bidi controls and invalid UTF-8 become visible \xNN; valid text passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tlsaudit/output.h"

/* The escaped form of s, malloc'd. */
static char *esc(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    ta_out_html_text(m, s);
    fclose(m);
    return buf;
}

static void expect(const char *in, const char *want)
{
    char *got = esc(in);
    CHECK_STR(got, want);
    free(got);
}

int main(void)
{
    expect("plain.example.com", "plain.example.com");
    expect("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
    expect("\"><img src=x onerror=alert(2)>", "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;");
    expect("'javascript:alert(3)", "&#39;javascript:alert(3)");
    expect("a&b&amp;", "a&amp;b&amp;amp;");
    /* ESC, CR, DEL, C1 NEL, RLO are shown; TAB and LF stay (whitespace in HTML) */
    expect("x\x1b[31m\r\x7f\xc2\x85\xe2\x80\xae\t\ny", "x\\x1B[31m\\x0D\\x7F\\xC2\\x85\\xE2\\x80\\xAE\t\ny");
    /* invalid UTF-8: lone continuation, overlong '<', truncated sequence, surrogate */
    expect("\x80|\xc0\xbc|\xe2\x80|\xed\xa0\x80", "\\x80|\\xC0\\xBC|\\xE2\\x80|\\xED\\xA0\\x80");
    expect("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x92");
    /* nothing markup-significant survives, whatever the byte */
    for (int b = 1; b < 256; b++) {
        char in[2] = { (char)b, 0 };
        char *got = esc(in);
        CHECK(strpbrk(got, "<>\"'") == NULL);
        CHECK(got[0] != '&' || strcmp(got, "&amp;") == 0 || strcmp(got, "&lt;") == 0 ||
              strcmp(got, "&gt;") == 0 || strcmp(got, "&quot;") == 0 || strcmp(got, "&#39;") == 0);
        free(got);
    }
    char *none = esc(NULL);
    CHECK_STR(none, "");
    free(none);
    return CHECK_DONE();
}
