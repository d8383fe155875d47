/* report_fmt.c - the small formatters every section of the page uses: counts with thousands
 * separators, shares, and the "N more not shown" line under a capped table. */
#include <stdio.h>

#include "report_fmt.h"

/* See report_fmt.h. */
void ta__rp_num(FILE *fp, long long v)
{
    char b[32], out[48];
    size_t n, o = 0;
    if (v < 0) {
        fputc('-', fp);
        v = -v;
    }
    n = (size_t)snprintf(b, sizeof b, "%lld", v);
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = b[i];
    }
    out[o] = '\0';
    fputs(out, fp);
}

/* See report_fmt.h. */
void ta__rp_pct(FILE *fp, long long part, long long whole)
{
    if (whole <= 0)
        fputs("\xE2\x80\x93", fp);
    else
        fprintf(fp, "%.1f%%", 100.0 * (double)part / (double)whole);
}

/* See report_fmt.h. */
void ta__rp_more(FILE *fp, size_t shown, size_t total, const char *table)
{
    if (total <= shown)
        return;
    fprintf(fp, "<p class=\"more\" data-more=\"%zu\">", total - shown);
    ta__rp_num(fp, (long long)(total - shown));
    fprintf(fp, " more not shown: the complete list is in <code>tlsaudit report --format csv "
            "--table %s</code> and <code>--format json</code>.</p>\n", table);
}
