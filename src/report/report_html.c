/* report_html.c - the report page: one HTML file with its CSS inline, no script and nothing
 * fetched from anywhere; printable on A4 and Letter at full size (the @page rule sets margins, the
 * layout is fluid, and in print every table cell is 8 pt with the long tokens - fingerprints,
 * Office 365 reasons, IPv6 clients - allowed to wrap: the legacy clients' table was 975 px wide
 * at A4's 710, and Chromium shrank the whole page to 73% to fit it). This file writes the frame,
 * the scope (period, sensors, coverage, endpoint list), the headline figures and the trend;
 * report_sections.c the tables.
 *
 * Figures a test reads back carry stable ids and data-value attributes (plain integers):
 *   h-legacy-clients h-o365-clients h-legacy-hs h-o365-hs h-refused-clients h-moved-clients
 *   h-all-legacy-clients h-all-legacy-hs h-weak-hs h-nofs-hs cov-runs cov-packets cov-drops
 *   cov-truncated (only when some packets were cut short by the snap length)
 *   cov-ip-incomplete (only when IP datagrams were given up for lack of fragments) */
#include <string.h>

#include "report_html.h"
#include "tlsaudit/common.h"

/* The style sheet. Colours have distinct lightness so a greyscale print keeps them apart; the
 * alert banner also has a border and a word, not only a colour. */
static const char css[] =
    ":root{--ink:#1c2430;--mute:#5b6675;--line:#d9dee5;--band:#12355b;--accent:#c2410c;"
    "--ok:#1f6f43;--bg:#f5f7fa}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Liberation Sans',"
    "Arial,sans-serif;color:var(--ink);background:#fff}"
    "main{max-width:1180px;margin:0 auto;padding:0 28px 40px}"
    "header.top{background:var(--band);color:#fff;padding:26px 28px 22px}"
    "header.top .in{max-width:1180px;margin:0 auto}"
    "header.top h1{margin:0 0 4px;font-size:26px;font-weight:650;letter-spacing:-.01em}"
    "header.top p{margin:0;color:#cfdbea;font-size:14px}"
    "h2{font-size:19px;margin:34px 0 10px;padding-bottom:6px;border-bottom:2px solid var(--band)}"
    "h3{font-size:15px;margin:20px 0 6px}"
    "p.lead{color:var(--mute);margin:0 0 12px;max-width:860px}"
    ".banner{margin:18px 0 0;padding:12px 16px;border:2px solid #9a3412;border-left-width:8px;"
    "background:#fff4ec;font-weight:600}"
    ".banner.info{border-color:#64748b;background:#f3f5f8;font-weight:400}"
    ".scope{display:grid;grid-template-columns:repeat(auto-fit,minmax(210px,1fr));gap:8px 22px;"
    "margin:18px 0 0;padding:14px 18px;background:var(--bg);border:1px solid var(--line)}"
    ".scope div b{display:block;font-size:11px;text-transform:uppercase;letter-spacing:.06em;"
    "color:var(--mute);font-weight:600}"
    ".cards{display:grid;grid-template-columns:repeat(3,1fr);gap:12px;"
    "margin:14px 0 4px}"
    ".card{border:1px solid var(--line);border-top:5px solid var(--band);padding:12px 14px 10px;"
    "background:#fff}"
    ".card.warn{border-top-color:var(--accent)}.card.good{border-top-color:var(--ok)}"
    ".card .v{font-size:32px;font-weight:700;line-height:1.1}"
    ".card .l{font-size:13px;font-weight:600;margin-top:2px}"
    ".card .s{font-size:12px;color:var(--mute);margin-top:4px}"
    ".todo{margin:12px 0 0;padding-left:20px}.todo li{margin:3px 0}"
    ".charts{display:grid;grid-template-columns:1fr 1fr;gap:14px 22px}"
    "figure{margin:0}figcaption{font-weight:600;font-size:13px;margin:0 0 2px}"
    "svg.chart{width:100%;height:auto;display:block;font-family:inherit}"
    "svg .grid{stroke:#e3e7ec;stroke-width:1}svg .axis{stroke:#555;stroke-width:1}"
    "svg .ax{font-size:11px;fill:#555}svg .lg{font-size:12px;fill:#222}"
    "svg .empty{font-size:14px;fill:#777}"
    "table{border-collapse:collapse;width:100%;margin:6px 0 4px;font-size:12.5px}"
    "th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);"
    "vertical-align:top}"
    "th{background:var(--bg);font-weight:600;font-size:12px;border-bottom:2px solid #b8c1cc}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.w{overflow-wrap:anywhere;font-size:11.5px}td.ip{white-space:nowrap;font-weight:600}"
    "tr.total td{font-weight:700;border-top:2px solid #b8c1cc}"
    "table.compact{font-size:11.5px;max-width:760px}table.compact td{padding:1px 8px}"
    ".tag{display:inline-block;padding:1px 7px;border-radius:9px;font-size:11px;"
    "font-weight:600;border:1px solid #888;white-space:nowrap}"
    ".tag.refused{background:#fde2d0;border-color:#9a3412}.tag.moved{background:#dcefe3;"
    "border-color:#1f6f43}.tag.server{background:#e5ecf6;border-color:#12355b}"
    ".tag.client{background:#fff1c2;border-color:#8a6100}"
    ".more{color:var(--mute);font-style:italic;margin:4px 0 0}"
    ".muted{color:var(--mute)}.small{font-size:12px}"
    "section.client{border:1px solid var(--line);padding:4px 16px 10px;margin:14px 0;"
    "break-inside:avoid}"
    "section.client h3 a{color:inherit}"
    "a{color:#12355b}"
    "footer{margin-top:36px;color:var(--mute);font-size:12px;border-top:1px solid var(--line);"
    "padding-top:10px}"
    "@media screen and (max-width:800px){.charts,.cards{grid-template-columns:1fr}}"
    "svg.mini{max-width:640px}td.fp{word-break:break-all;font-size:10.5px;min-width:150px}"
    "td.ts{white-space:nowrap;font-size:12px}p.glance{font-size:16px;max-width:900px;"
    "margin:6px 0 4px}"
    "@page{margin:12mm 11mm}"
    "@media print{body{font-size:10pt}main{max-width:none;padding:0}"
    "header.top{padding:10px 0 8px;background:#fff;color:#000;border-bottom:3px solid #000}"
    "header.top p{color:#333}header.top .in{max-width:none}"
    "h2{break-after:avoid;margin-top:18px}table{font-size:8pt}th,td{padding:2px 3px}"
    "th,td.w,td.ts,td.fp,td.small{font-size:8pt}th.n{white-space:normal}"
    "td.fp{min-width:0}td.why{overflow-wrap:anywhere}"
    "thead{display:table-header-group}tr,.card,figure,.scope,.banner{break-inside:avoid}"
    ".charts{grid-template-columns:1fr 1fr}.card .v{font-size:20pt}"
    "a{color:inherit;text-decoration:none}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

/* The period as people read it: the days asked for, or the days that hold data. */
static void period_text(FILE *fp, const struct ta_rp *rp)
{
    const struct ta_rd_filter *f = &rp->f;
    const char *from = f->since[0] ? f->since : rp->meta.data_first;
    if (!from[0] && !f->until[0]) {
        fputs("no data", fp);
        return;
    }
    char day[TA_RD_DAY];
    snprintf(day, sizeof day, "%.10s", from[0] ? from : "the start");
    TA_H(fp, day);
    fputs(" \xE2\x80\x93 ", fp);
    snprintf(day, sizeof day, "%.10s", f->until_last[0] ? f->until_last :
             rp->meta.data_last[0] ? rp->meta.data_last : "now");
    TA_H(fp, day);
}

/* The dark band with the title, and the scope box below it. */
static void head(FILE *fp, const struct ta_rp *rp)
{
    const struct ta_rd_meta *m = &rp->meta;
    const struct ta_rd_cov *c = &m->cov;
    unsigned long long lost = c->drops + c->if_drops + c->pool_exhausted;
    fputs("<header class=\"top\"><div class=\"in\"><h1>Legacy TLS toward Office 365</h1><p>"
          "Compliance report by tlsaudit \xC2\xB7 period <span id=\"period\">", fp);
    period_text(fp, rp);
    fprintf(fp, "</span> (UTC) \xC2\xB7 generated %s</p></div></header>\n<main>\n", rp->generated);
    if (lost || c->flows_evicted || c->truncated || c->ip_incomplete) {
        const char *sep = "";
        fputs("<div class=\"banner\" id=\"drop-banner\" role=\"alert\">Warning: the capture "
              "was incomplete: ", fp);
        if (c->drops + c->if_drops) {
            ta__rp_num(fp, (long long)(c->drops + c->if_drops));
            fputs(" packets were dropped by the kernel or the interface", fp);
            sep = "; ";
        }
        if (c->pool_exhausted) {
            fputs(sep, fp);
            ta__rp_num(fp, (long long)c->pool_exhausted);
            fputs(" flows could not be analysed (no analysis slot free)", fp);
            sep = "; ";
        }
        if (c->flows_evicted) {
            fputs(sep, fp);
            ta__rp_num(fp, (long long)c->flows_evicted);
            fputs(" flows were evicted from a full flow table", fp);
            sep = "; ";
        }
        if (c->ip_incomplete) {
            fputs(sep, fp);
            ta__rp_num(fp, (long long)c->ip_incomplete);
            fputs(" IP datagrams were given up because some of their fragments never came", fp);
            sep = "; ";
        }
        if (c->truncated) {
            fputs(sep, fp);
            ta__rp_num(fp, (long long)c->truncated);
            fputs(" packets were cut short by the capture's snap length, so the hellos in them "
                  "could be read only in part (capture whole packets, without slicing)", fp);
        }
        fputs(". The real figures may be higher than shown.</div>\n", fp);
    }
    if (m->refresh_pending)
        fputs("<div class=\"banner info\">An Office 365 re-classification is pending in this "
              "database: figures by destination may change after the next capture.</div>\n", fp);
    fputs("<div class=\"scope\"><div><b>Period (UTC)</b>", fp);
    period_text(fp, rp);
    fputs("</div><div><b>Sensors</b><span id=\"sensors\">", fp);
    for (size_t i = 0; i < m->nsensors; i++) {
        fputs(i ? ", " : "", fp);
        TA_H(fp, m->sensors[i][0] ? m->sensors[i] : "(unnamed)");
    }
    if (!m->nsensors)
        fputs("none", fp);
    if (m->more_sensors)
        fprintf(fp, " and %zu more", m->more_sensors);
    if (rp->f.sensor) {
        fputs(" (report limited to ", fp);
        TA_H(fp, rp->f.sensor);
        fputs(")", fp);
    }
    fprintf(fp, "</span></div><div><b>Coverage</b><span id=\"cov-runs\" data-value=\"%ld\">",
            c->runs);
    ta__rp_num(fp, c->runs);
    fprintf(fp, "</span> capture run%s%s, <span id=\"cov-packets\" data-value=\"%llu\">",
            c->runs == 1 ? "" : "s", c->runs_unclean ? " (some ended with an error)" : "",
            c->packets);
    ta__rp_num(fp, (long long)c->packets);
    fprintf(fp, "</span> packets</div><div><b>Dropped</b><span id=\"cov-drops\" "
            "data-value=\"%llu\">", lost);
    ta__rp_num(fp, (long long)(c->drops + c->if_drops));
    fputs("</span> by kernel/interface, ", fp);
    ta__rp_num(fp, (long long)c->pool_exhausted);
    fputs(" by tlsaudit (no analysis slot)", fp);
    if (c->truncated) {
        fprintf(fp, ", <span id=\"cov-truncated\" data-value=\"%llu\">", c->truncated);
        ta__rp_num(fp, (long long)c->truncated);
        fputs("</span> cut short by the snap length", fp);
    }
    if (c->ip_incomplete) {
        fprintf(fp, ", <span id=\"cov-ip-incomplete\" data-value=\"%llu\">", c->ip_incomplete);
        ta__rp_num(fp, (long long)c->ip_incomplete);
        fputs("</span> IP datagrams incomplete (fragments lost)", fp);
    }
    fputs("</div><div><b>Office 365 endpoint list</b>", fp);
    if (m->has_list) {
        TA_H(fp, m->list_instance);
        fputs(" version ", fp);
        TA_H(fp, m->list_version);
        fputs(m->list_builtin ? " (built in)" : " (imported ", fp);
        if (!m->list_builtin) {
            TA_H(fp, m->list_imported);
            fputs(")", fp);
        }
    } else {
        fputs("none recorded", fp);
    }
    fputs("</div>", fp);
    if (m->pruned_until[0]) {
        fputs("<div><b>Detail kept since</b>", fp);
        TA_H(fp, m->pruned_until);
        fputs(" (older handshakes are counted, not kept)</div>", fp);
    }
    fputs("</div>\n", fp);
}

/* One headline card: value (with id and data-value), label, sub-line (literal HTML). */
static void card(FILE *fp, const char *cls, const char *id, long long v, const char *label)
{
    fprintf(fp, "<div class=\"card %s\"><div class=\"v\" id=\"%s\" data-value=\"%lld\">", cls,
            id, v);
    ta__rp_num(fp, v);
    fprintf(fp, "</div><div class=\"l\">%s</div><div class=\"s\">", label);
}

/* The headline figures and what to do about them. */
static void headline(FILE *fp, const struct ta_rp *rp)
{
    const struct ta_rd_counts *c = &rp->counts;
    fputs("<h2 id=\"summary\">Summary</h2>\n<p class=\"glance\">", fp);
    if (c->o365_legacy_clients) {
        fprintf(fp, "<b>%ld</b> client%s still use%s SSL or TLS 1.0/1.1 toward Office 365 (",
                c->o365_legacy_clients, c->o365_legacy_clients == 1 ? "" : "s",
                c->o365_legacy_clients == 1 ? "s" : "");
        ta__rp_pct(fp, c->o365_legacy_clients, c->o365_clients);
        fprintf(fp, " of the clients seen toward it). %ld %s already refused and failing; "
                "%ld moved to TLS 1.2 or newer during the period.", rp->refused_clients,
                rp->refused_clients == 1 ? "is" : "are", rp->moved_clients);
    } else {
        fputs("No client used legacy TLS toward Office 365 in this period.", fp);
    }
    fputs("</p>\n<div class=\"cards\">", fp);
    card(fp, c->o365_legacy_clients ? "warn" : "good", "h-legacy-clients",
         c->o365_legacy_clients, "clients still using legacy TLS toward Office 365");
    ta__rp_pct(fp, c->o365_legacy_clients, c->o365_clients);
    fprintf(fp, " of <span id=\"h-o365-clients\" data-value=\"%ld\">", c->o365_clients);
    ta__rp_num(fp, c->o365_clients);
    fputs("</span> clients seen toward Office 365</div></div>", fp);
    card(fp, c->o365_legacy_hs ? "warn" : "good", "h-legacy-hs", c->o365_legacy_hs,
         "legacy handshakes toward Office 365");
    fprintf(fp, "<span id=\"h-legacy-hs-share\">");
    ta__rp_pct(fp, c->o365_legacy_hs, c->o365_hs);
    fprintf(fp, "</span> of <span id=\"h-o365-hs\" data-value=\"%lld\">", c->o365_hs);
    ta__rp_num(fp, c->o365_hs);
    fputs("</span> handshakes toward Office 365</div></div>", fp);
    card(fp, rp->refused_clients ? "warn" : "", "h-refused-clients", rp->refused_clients,
         "clients already refused");
    fputs("legacy handshakes the server refused: these are failing today</div></div>", fp);
    card(fp, "good", "h-moved-clients", rp->moved_clients, "clients moved to TLS 1.2+");
    fputs("used legacy TLS in the period, then only TLS 1.2 or 1.3</div></div>", fp);
    card(fp, "", "h-all-legacy-clients", c->all_legacy_clients,
         "legacy clients, every destination");
    fprintf(fp, "<span id=\"h-all-legacy-hs\" data-value=\"%lld\">", c->all_legacy_hs);
    ta__rp_num(fp, c->all_legacy_hs);
    fputs("</span> legacy handshakes (", fp);
    ta__rp_pct(fp, c->all_legacy_hs, c->all_hs);
    fputs(" of all)</div></div>", fp);
    card(fp, rp->nofs_hs ? "warn" : "", "h-nofs-hs", rp->nofs_hs,
         "handshakes without forward secrecy");
    fprintf(fp, "<span id=\"h-weak-hs\" data-value=\"%lld\">", rp->weak_hs);
    ta__rp_num(fp, rp->weak_hs);
    fputs("</span> with a weak cipher suite</div></div></div>\n", fp);
    long n[5] = { 0 };
    for (size_t i = 0; i < rp->noff; i++)
        if (rp->off[i].o365 || rp->f.all)
            n[rp->off[i].hint]++;
    fputs("<ul class=\"todo\">", fp);
    fprintf(fp, "<li><b>%ld</b> client%s cannot offer more than legacy TLS: update or replace "
            "them, or relay them through a TLS 1.2 gateway.</li>", n[TA_RP_HINT_CLIENT],
            n[TA_RP_HINT_CLIENT] == 1 ? "" : "s");
    fprintf(fp, "<li><b>%ld</b> client%s TLS 1.2 or newer, but the server chose less: "
            "look at the server or a middlebox.</li>", n[TA_RP_HINT_SERVER],
            n[TA_RP_HINT_SERVER] == 1 ? " offers" : "s offer");
    fprintf(fp, "<li><b>%ld</b> client%s refused every time: already broken.</li>",
            n[TA_RP_HINT_REFUSED], n[TA_RP_HINT_REFUSED] == 1 ? " is" : "s are");
    fprintf(fp, "<li><b>%ld</b> client%s moved to TLS 1.2+ during the period: confirm and close."
            "</li></ul>\n", n[TA_RP_HINT_MOVED], n[TA_RP_HINT_MOVED] == 1 ? "" : "s");
}

/* Trend: four charts and their figures as a table (the charts' text alternative). */
static void trend(FILE *fp, const struct ta_rp *rp, size_t max)
{
    size_t days = 0, shown = 0;
    fputs("<h2 id=\"trend\">Trend per day</h2>\n<p class=\"lead\">Legacy handshakes by version "
          "(bars) and distinct clients using legacy TLS (lines), per UTC day.</p>\n"
          "<div class=\"charts\">", fp);
    static const struct { int o365, clients; const char *id, *cap; } ch[] = {
        { 1, 0, "t-o365-hs", "Office 365: legacy handshakes" },
        { 1, 1, "t-o365-cl", "Office 365: clients using legacy TLS" },
        { 0, 0, "t-other-hs", "Other destinations: legacy handshakes" },
        { 0, 1, "t-other-cl", "Other destinations: clients using legacy TLS" },
    };
    for (size_t i = 0; i < sizeof ch / sizeof ch[0]; i++) {
        fprintf(fp, "<figure><figcaption>%s</figcaption>", ch[i].cap);
        ta__rp_svg_trend(fp, rp, ch[i].o365, ch[i].clients, ch[i].id);
        fputs("</figure>", fp);
    }
    fputs("</div>\n<table id=\"trend-table\" class=\"compact\"><caption class=\"muted small\">The charts' figures"
          "</caption><thead><tr><th>Day</th><th class=\"n\">O365 legacy handshakes</th>"
          "<th class=\"n\">O365 legacy clients</th><th class=\"n\">Other legacy handshakes</th>"
          "<th class=\"n\">Other legacy clients</th></tr></thead><tbody>", fp);
    /* the days, in order (rows come sorted by day) */
    const char *last = "";
    for (size_t i = 0; i < rp->trend.n; i++) {
        const struct ta_rd_point *p = TA_RD_AT(&rp->trend, struct ta_rd_point, i);
        if (strcmp(p->day, last) != 0)
            days++;
        last = p->day;
    }
    /* newest first, one row per day with both groups */
    last = "";
    for (size_t i = rp->trend.n; i-- > 0 && shown < max;) {
        const struct ta_rd_point *p = TA_RD_AT(&rp->trend, struct ta_rd_point, i);
        long long v[4] = { 0, 0, 0, 0 };
        bool exact = true;
        if (strcmp(p->day, last) == 0)
            continue;
        last = p->day;
        for (size_t k = 0; k < rp->trend.n; k++) {
            const struct ta_rd_point *q = TA_RD_AT(&rp->trend, struct ta_rd_point, k);
            if (q->version != TA_RD_ALLV || strcmp(q->day, p->day) != 0)
                continue;
            v[q->o365 ? 0 : 2] = q->hs;
            v[q->o365 ? 1 : 3] = q->clients;
            exact &= q->clients_exact;
        }
        fputs("<tr><td>", fp);
        TA_H(fp, p->day);
        fputs("</td>", fp);
        for (int k = 0; k < 4; k++) {
            fputs("<td class=\"n\">", fp);
            if (k % 2 && !exact)
                fputs("\xE2\x89\xA5", fp);
            ta__rp_num(fp, v[k]);
            fputs("</td>", fp);
        }
        fputs("</tr>", fp);
        shown++;
    }
    if (!days)
        fputs("<tr><td colspan=\"5\" class=\"muted\">No legacy handshakes in the period.</td></tr>",
              fp);
    fputs("</tbody></table>\n", fp);
    ta__rp_more(fp, shown, days, "trend");
}

/* See report_model.h. */
int ta__rp_html(FILE *fp, struct ta_rd *src, const struct ta_rp *rp, size_t max_rows)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; img-src data:\">"
          "<meta name=\"generator\" content=\"tlsaudit\"><title>Legacy TLS report ", fp);
    period_text(fp, rp);
    fprintf(fp, "</title><style>%s</style></head>\n<body>\n", css);
    head(fp, rp);
    headline(fp, rp);
    trend(fp, rp, max_rows);
    ta__rp_sec_breakdowns(fp, rp, max_rows);
    ta__rp_sec_offenders(fp, rp, max_rows);
    ta__rp_sec_ciphers(fp, rp, max_rows);
    ta__rp_sec_mail(fp, rp, max_rows);
    int rc = ta__rp_sec_details(fp, src, rp, max_rows);
    fputs("<footer><p>How this page counts: a handshake is <b>legacy</b> when it negotiated SSL "
          "2.0/3.0 or TLS 1.0/1.1, or negotiated nothing (refused, unanswered) while the client "
          "offered nothing newer. Handshakes per day come from the daily rollups; distinct "
          "clients from the per-day client keys (\xE2\x89\xA5 marks days whose keys retention "
          "removed); per-client and per-destination counts from the client inventory rows seen "
          "in the period (a row's counts cover its whole life). Detail over time comes from the "
          "handshakes retention still keeps. Every name on this page that came from the network "
          "is shown as text, never interpreted.</p><p>tlsaudit ", fp);
    fputs(TA_VERSION, fp);
    fputs("</p></footer>\n</main>\n</body></html>\n", fp);
    return rc;
}
