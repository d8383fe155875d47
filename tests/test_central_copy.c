/* test_central_copy.c - the COPY sink's one escaping rule (src/central/pg_copy.c) on hostile
 * fields: every byte sequence that could end a field or a row, NULL, invalid UTF-8 and NUL,
 * compared in full. (The rows then travel to a real server in tests/it_sync.sh.) */
#include <string.h>

#include "central_int.h"
#include "check.h"

/* The buffered COPY text of one row of fields (no server: the buffer never fills here). */
static const char *row(struct ta__copy *w, const char *const *f, const size_t *len, int n)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < n; i++)
        ta__copy_field(w, f[i], len[i], i == 0);
    ta__copy_end_row(w);
    w->buf[w->len] = '\0';
    return w->buf;
}

int main(void)
{
    static struct ta__copy w;
    const char *f1[] = { "plain", NULL, "tab\there", "nl\nand\rcr", "back\\slash\\N" };
    size_t l1[] = { 5, 0, 8, 9, 12 };
    CHECK_STR(row(&w, f1, l1, 5),
              "plain\t\\N\ttab\\there\tnl\\nand\\rcr\tback\\\\slash\\\\N\n");

    /* invalid UTF-8: a lone continuation byte, 0xFF, an overlong '/', a surrogate, a sequence
     * cut short by the end of the field; and an embedded NUL: each bad byte one U+FFFD */
    const char bad[] = "a\x80" "b\xff" "c\xc0\xaf" "d\xed\xa0\x80" "e\x00" "f\xe2\x82";
    const char *f2[] = { bad };
    size_t l2[] = { sizeof bad - 1 };
    CHECK_STR(row(&w, f2, l2, 1),
              "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xef\xbf\xbd\xef\xbf\xbd"
              "d\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "e\xef\xbf\xbd" "f\xef\xbf\xbd\xef\xbf\xbd\n");

    /* valid multi-byte text passes untouched, the empty string is not NULL */
    const char *f3[] = { "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92", "" };
    size_t l3[] = { strlen(f3[0]), 0 };
    CHECK_STR(row(&w, f3, l3, 2), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x92\t\n");

    /* the length is what counts, not a NUL: bytes after it are data */
    const char *f4[] = { "x\0y" };
    size_t l4[] = { 3 };
    CHECK_STR(row(&w, f4, l4, 1), "x\xef\xbf\xbdy\n");
    return CHECK_DONE();
}
