/* report_detail.c - one detail section per offender shown in the table: every inventory row of
 * the client in the period (legacy and not, so a reader sees what it does right too), its
 * retained handshakes per day as a small chart, and its latest retained handshakes. */
#include <string.h>

#include "report_html.h"

#define DETAIL_ROWS 12     /* inventory rows per client on the page */
#define DETAIL_RECENT 6    /* latest handshakes per client */
#define DETAIL_DAYS 60     /* days in the per-client chart (the latest) */

/* The client's inventory rows. */
static void rows_table(FILE *fp, const struct ta_rd_vec *inv)
{
    char lab[40], cip[96], ts[24];
    size_t shown = 0;
    fputs("<table class=\"detail\"><thead><tr><th>Destination</th><th>App/port</th>"
          "<th>Version</th><th>Cipher suite</th><th class=\"n\">Handshakes</th>"
          "<th class=\"n\">Refused</th><th>First seen<br>Last seen</th><th>Office 365 reason"
          "</th></tr></thead><tbody>", fp);
    for (size_t i = 0; i < inv->n && shown < DETAIL_ROWS; i++, shown++) {
        const struct ta_rd_inv *r = TA_RD_AT(inv, struct ta_rd_inv, i);
        fputs(r->legacy ? "<tr><td class=\"w\"><b>" : "<tr><td class=\"w\">", fp);
        TA_H(fp, r->sni[0] ? r->sni : r->server_ip);
        fputs(r->legacy ? "</b>" : "", fp);
        if (r->sni[0] || r->name[0]) {
            fputs("<br><span class=\"muted\">", fp);
            TA_H(fp, r->sni[0] ? r->server_ip : r->name);
            fputs("</span>", fp);
        }
        fputs("</td><td>", fp);
        TA_H(fp, r->app[0] ? r->app : r->transport);
        fprintf(fp, "/%d</td><td>", r->port);
        TA_H(fp, ta__rp_version(r->version, lab, sizeof lab));
        if (!r->version && r->client_max) {
            fputs(" (offered ", fp);
            TA_H(fp, ta__rp_version(r->client_max, lab, sizeof lab));
            fputs(")", fp);
        }
        fputs("</td><td class=\"w\">", fp);
        if (r->cipher_id >= 0 || r->cipher_v2)
            TA_H(fp, ta__rp_cipher(r->cipher_id, r->cipher_v2, cip, sizeof cip));
        fputs("</td><td class=\"n\">", fp);
        ta__rp_num(fp, r->hs);
        fputs("</td><td class=\"n\">", fp);
        ta__rp_num(fp, r->refused);
        fputs("</td><td class=\"ts\">", fp);
        TA_H(fp, ta__rp_short_ts(r->first_seen, ts, sizeof ts));
        fputs("<br>", fp);
        TA_H(fp, ta__rp_short_ts(r->last_seen, ts, sizeof ts));
        fputs("</td><td class=\"small\">", fp);
        TA_H(fp, r->reason);
        fputs("</td></tr>", fp);
    }
    fputs("</tbody></table>", fp);
    if (inv->n > shown)
        fprintf(fp, "<p class=\"more\">%zu more destinations not shown.</p>", inv->n - shown);
}

/* Retained handshakes per day: legacy (dark, hatched) over the rest (light). */
static void days_chart(FILE *fp, const struct ta_rd_vec *days, size_t idx)
{
    size_t first = days->n > DETAIL_DAYS ? days->n - DETAIL_DAYS : 0, nd = days->n - first;
    long long max = 1, legacy = 0, all = 0;
    for (size_t i = first; i < days->n; i++) {
        const struct ta_rd_cday *d = TA_RD_AT(days, struct ta_rd_cday, i);
        if (d->hs > max)
            max = d->hs;
        legacy += d->legacy_hs;
        all += d->hs;
    }
    fprintf(fp, "<svg class=\"chart mini\" role=\"img\" viewBox=\"0 0 640 74\" aria-labelledby="
            "\"cd%zu-t cd%zu-d\" xmlns=\"http://www.w3.org/2000/svg\"><title id=\"cd%zu-t\">"
            "Retained handshakes per day</title><desc id=\"cd%zu-d\">%zu days with handshakes, "
            "%lld handshakes of which %lld legacy; the tallest bar is %lld.</desc>"
            "<defs><pattern id=\"cd%zu-h\" width=\"5\" height=\"5\" patternUnits=\"userSpaceOnUse\">"
            "<rect width=\"5\" height=\"5\" fill=\"#c2410c\"/><path d=\"M0 5L5 0\" stroke=\"#fff\" "
            "stroke-width=\"1.2\"/></pattern></defs>", idx, idx, idx, idx, nd, all, legacy, max,
            idx);
    double pw = 600.0 / (double)(nd ? nd : 1), bw = pw > 4 ? pw * 0.7 : pw;
    if (bw > 24)
        bw = 24;
    for (size_t i = first; i < days->n; i++) {
        const struct ta_rd_cday *d = TA_RD_AT(days, struct ta_rd_cday, i);
        double x = 30 + pw * (double)(i - first) + (pw - bw) / 2;
        double h = 50.0 * (double)d->hs / (double)max, hl = 50.0 * (double)d->legacy_hs /
                   (double)max;
        fputs("<g><title>", fp);
        TA_H(fp, d->day);
        fprintf(fp, ": %lld handshakes, %lld legacy, %lld refused</title>"
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#c9d3df\"/>"
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"url(#cd%zu-h)\"/>"
                "</g>", d->hs, d->legacy_hs, d->refused, x, 56 - h, bw, h - hl, x,
                56 - hl, bw, hl, idx);
    }
    if (nd) {
        const struct ta_rd_cday *a = TA_RD_AT(days, struct ta_rd_cday, first);
        const struct ta_rd_cday *b = TA_RD_AT(days, struct ta_rd_cday, days->n - 1);
        fputs("<text x=\"30\" y=\"70\" class=\"ax\">", fp);
        TA_H(fp, a->day);
        fputs("</text><text x=\"630\" y=\"70\" class=\"ax\" text-anchor=\"end\">", fp);
        TA_H(fp, b->day);
        fputs("</text>", fp);
    }
    fputs("<line x1=\"30\" x2=\"630\" y1=\"56\" y2=\"56\" class=\"axis\"/></svg>", fp);
}

/* The client's latest retained handshakes. */
static void recent_table(FILE *fp, const struct ta_rd_vec *hs)
{
    char lab[40];
    fputs("<table class=\"detail\"><thead><tr><th>Time</th><th>Server</th><th>App/port</th>"
          "<th>Version (offered)</th><th>Outcome</th></tr></thead><tbody>", fp);
    for (size_t i = 0; i < hs->n; i++) {
        const struct ta_rd_hs *h = TA_RD_AT(hs, struct ta_rd_hs, i);
        fputs("<tr><td class=\"small\">", fp);
        TA_H(fp, h->ts);
        fputs("</td><td class=\"w\">", fp);
        TA_H(fp, h->sni[0] ? h->sni : h->server_ip);
        fputs("</td><td>", fp);
        TA_H(fp, h->app);
        fprintf(fp, "/%d</td><td>", h->port);
        TA_H(fp, ta__rp_version(h->version, lab, sizeof lab));
        fputs(" (", fp);
        TA_H(fp, ta__rp_version(h->client_max, lab, sizeof lab));
        fprintf(fp, ")</td><td>%s</td></tr>", h->established ? "established" : "refused");
    }
    fputs("</tbody></table>", fp);
}

int ta__rp_sec_details(FILE *fp, struct ta_rd *src, const struct ta_rp *rp, size_t max)
{
    const struct ta_rd_ops *op = ta__rd_ops(src);
    char lab[40];
    int rc = 0;
    if (!rp->noff)
        return 0;
    fputs("<h2 id=\"details\">Client details</h2>\n", fp);
    for (size_t i = 0; i < rp->noff && i < max && rc == 0; i++) {
        const struct ta_rp_offender *o = &rp->off[i];
        struct ta_rd_vec inv = TA_RD_VEC(struct ta_rd_inv);
        struct ta_rd_vec days = TA_RD_VEC(struct ta_rd_cday);
        struct ta_rd_vec hs = TA_RD_VEC(struct ta_rd_hs);
        if (op->client_rows(src, &rp->f, o->ip, &inv) ||
            op->client_days(src, &rp->f, o->ip, &days) ||
            op->client_recent(src, &rp->f, o->ip, DETAIL_RECENT, &hs))
            rc = -1;
        fprintf(fp, "<section class=\"client\" id=\"c-%zu\"><h3><a href=\"#o-%zu\">", i, i);
        TA_H(fp, o->ip);
        fprintf(fp, "</a> <span class=\"tag %s\">%s</span></h3><p>", ta__rp_hint_key(o->hint),
                ta__rp_hint_key(o->hint));
        TA_H(fp, ta__rp_hint_text(o));
        fputs(" ", fp);
        ta__rp_num(fp, o->hs);
        fputs(" legacy handshakes (", fp);
        ta__rp_num(fp, o->refused);
        fputs(" refused); highest version offered: ", fp);
        TA_H(fp, o->max_offered ? ta__rp_version(o->max_offered, lab, sizeof lab) : "unknown");
        fputs(".</p>", fp);
        rows_table(fp, &inv);
        if (days.n) {
            days_chart(fp, &days, i);
            recent_table(fp, &hs);
        } else {
            fputs("<p class=\"muted small\">No retained handshakes in the period: retention "
                  "removed them; the counts above come from the inventory.</p>", fp);
        }
        fputs("</section>\n", fp);
        ta__rd_vec_free(&inv);
        ta__rd_vec_free(&days);
        ta__rd_vec_free(&hs);
    }
    ta__rp_more(fp, rp->noff < max ? rp->noff : max, rp->noff, "offenders");
    return rc;
}
