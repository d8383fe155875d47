/* report_html.h - helpers and sections of the report page, shared by report_html.c (page, head,
 * scope, headline, trend) and report_sections.c (tables). Private to src/report/.
 * Every string that is not a literal of this layer goes through ta_out_html_text (TA_H). */
#ifndef TLSAUDIT_REPORT_HTML_H
#define TLSAUDIT_REPORT_HTML_H

#include <stdio.h>

#include "report_model.h"
#include "tlsaudit/output.h"

#define TA_H(fp, s) ta_out_html_text((fp), (s))

/* A count with thousands separators ("12,345"). */
void ta__rp_num(FILE *fp, long long v);
/* A share as "12.3%" ("–" when the whole is 0). */
void ta__rp_pct(FILE *fp, long long part, long long whole);
/* "N more not shown (complete in --format csv/json)" when total > shown. */
void ta__rp_more(FILE *fp, size_t shown, size_t total, const char *table);

/* The table sections (report_sections.c). max is the page cap of long lists. */
void ta__rp_sec_breakdowns(FILE *fp, const struct ta_rp *rp, size_t max);
void ta__rp_sec_ciphers(FILE *fp, const struct ta_rp *rp, size_t max);
void ta__rp_sec_offenders(FILE *fp, const struct ta_rp *rp, size_t max);
void ta__rp_sec_mail(FILE *fp, const struct ta_rp *rp, size_t max);
/* Detail sections of the first max offenders; returns -1 when a question to src failed. */
int ta__rp_sec_details(FILE *fp, struct ta_rd *src, const struct ta_rp *rp, size_t max);

#endif
