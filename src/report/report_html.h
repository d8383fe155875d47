/* report_html.h - the sections of the report page: report_html.c (page, head, scope, headline,
 * trend) calls report_sections.c (tables) and report_detail.c (per client). Private to
 * src/report/. The formatters they share are report_fmt.h's. */
#ifndef TLSAUDIT_REPORT_HTML_H
#define TLSAUDIT_REPORT_HTML_H

#include <stdio.h>

#include "report_fmt.h"
#include "report_model.h"

/* The table sections (report_sections.c). max is the page cap of long lists. */
void ta__rp_sec_breakdowns(FILE *fp, const struct ta_rp *rp, size_t max);
void ta__rp_sec_ciphers(FILE *fp, const struct ta_rp *rp, size_t max);
void ta__rp_sec_offenders(FILE *fp, const struct ta_rp *rp, size_t max);
void ta__rp_sec_mail(FILE *fp, const struct ta_rp *rp, size_t max);
/* Detail sections of the first max offenders; returns -1 when a question to src failed. */
int ta__rp_sec_details(FILE *fp, struct ta_rd *src, const struct ta_rp *rp, size_t max);

#endif
