/* report_fmt.h - the formatters every section of the report page shares (report_fmt.c). Every
 * string that is not a literal of this layer goes through ta_out_html_text (TA_H). Private to
 * src/report/. */
#ifndef TLSAUDIT_REPORT_FMT_H
#define TLSAUDIT_REPORT_FMT_H

#include <stddef.h>
#include <stdio.h>

#include "tlsaudit/output.h"

#define TA_H(fp, s) ta_out_html_text((fp), (s))

/* A count with thousands separators ("12,345"). */
void ta__rp_num(FILE *fp, long long v);
/* A share as "12.3%" (an en dash when the whole is 0). */
void ta__rp_pct(FILE *fp, long long part, long long whole);
/* "N more not shown (complete in --format csv/json)" when total > shown. */
void ta__rp_more(FILE *fp, size_t shown, size_t total, const char *table);

#endif
