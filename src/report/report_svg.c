/* report_svg.c - the report's charts as inline SVG, drawn here (no script, no external file).
 *
 * Each chart has <title> and <desc> (named by aria-labelledby) and every mark a <title> of its
 * own; the page adds the same figures as a table. Versions are told apart by fill pattern and
 * line dash as well as by colour, so a greyscale print still separates them. All text in a chart
 * is made here (days formatted by strftime from the range, fixed version labels, numbers): none
 * comes from the database or the wire, so it is written as it is. A chart that ever shows a
 * stored text must pass it through the page's one HTML escaper (TA_H). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report_model.h"
#include "tlsaudit/output.h"

#define W 640
#define H 230
#define ML 52   /* margins: left (axis labels), right, top (legend), bottom (day labels) */
#define MR 12
#define MT 34
#define MB 30
#define MAX_DAYS 400

/* The legacy versions a chart separates, darkest first; each with a fill pattern and a dash. */
static const struct series {
    uint16_t version;
    const char *label, *colour, *dash;
} series[] = {
    { 0x0002, "SSL 2.0", "#3b0a0a", "1 3" },
    { 0x0300, "SSL 3.0", "#7f1d1d", "2 2" },
    { 0x0301, "TLS 1.0", "#c2410c", "" },
    { 0x0302, "TLS 1.1", "#f2b134", "7 3" },
    { 0x0000, "none (refused)", "#9aa3ae", "3 2 1 2" },
};
#define NSER (sizeof series / sizeof series[0])

/* The pattern of series k, id "<chart>-p<k>": solid, hatched, dotted, cross-hatched. */
static void pattern(FILE *fp, const char *id, size_t k)
{
    const char *c = series[k].colour;
    fprintf(fp, "<pattern id=\"%s-p%zu\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
            "<rect width=\"6\" height=\"6\" fill=\"%s\"/>", id, k, c);
    if (k == 2)
        fprintf(fp, "<path d=\"M0 6L6 0M-1 1L1 -1M5 7L7 5\" stroke=\"#fff\" stroke-width=\"1.4\"/>");
    else if (k == 3)
        fprintf(fp, "<circle cx=\"3\" cy=\"3\" r=\"1.3\" fill=\"#5a3b00\"/>");
    else if (k == 4)
        fprintf(fp, "<path d=\"M0 0L6 6M6 0L0 6\" stroke=\"#fff\" stroke-width=\"1\"/>");
    fprintf(fp, "</pattern>");
}

/* Days from first to last inclusive ("YYYY-MM-DD" each), at most MAX_DAYS (the latest). */
static size_t day_range(const struct ta_rd_vec *pts, char (*days)[TA_RD_DAY])
{
    char lo[TA_RD_DAY] = "", hi[TA_RD_DAY] = "";
    struct tm tm = { 0 };
    size_t n = 0;
    for (size_t i = 0; i < pts->n; i++) {
        const struct ta_rd_point *p = TA_RD_AT(pts, struct ta_rd_point, i);
        if (!lo[0] || strcmp(p->day, lo) < 0)
            memcpy(lo, p->day, TA_RD_DAY);
        if (strcmp(p->day, hi) > 0)
            memcpy(hi, p->day, TA_RD_DAY);
    }
    if (!lo[0] || sscanf(lo, "%4d-%2d-%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    time_t t = timegm(&tm), end;
    struct tm th = { 0 };
    if (sscanf(hi, "%4d-%2d-%2d", &th.tm_year, &th.tm_mon, &th.tm_mday) != 3)
        return 0;
    th.tm_year -= 1900;
    th.tm_mon -= 1;
    end = timegm(&th);
    if ((end - t) / 86400 >= MAX_DAYS)
        t = end - (time_t)(MAX_DAYS - 1) * 86400;
    for (; t <= end && n < MAX_DAYS; t += 86400, n++) {
        struct tm d;
        gmtime_r(&t, &d);
        strftime(days[n], TA_RD_DAY, "%Y-%m-%d", &d);
    }
    return n;
}

/* Value of (day, version, group) in the trend, measure clients or handshakes. */
static long long value_of(const struct ta_rd_vec *pts, const char *day, uint16_t v, int o365,
                          int clients)
{
    for (size_t i = 0; i < pts->n; i++) {
        const struct ta_rd_point *p = TA_RD_AT(pts, struct ta_rd_point, i);
        if (p->version == v && p->o365 == o365 && strcmp(p->day, day) == 0)
            return clients ? p->clients : p->hs;
    }
    return 0;
}

/* A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above v. */
static long long nice_max(long long v)
{
    long long m = 1;
    if (v <= 4)
        return 4;
    while (m * 10 <= v)
        m *= 10;
    if (v <= 2 * m)
        return 2 * m;
    if (v <= 5 * m)
        return 5 * m;
    return 10 * m;
}

/* Axes, grid and day labels; returns the pixel width of one day. */
static double axes(FILE *fp, char (*days)[TA_RD_DAY], size_t nd, long long ymax)
{
    double pw = (double)(W - ML - MR) / (double)nd;
    size_t step = nd > 8 ? (nd + 7) / 8 : 1;
    for (int k = 0; k <= 4; k++) {
        double y = MT + (double)(H - MT - MB) * (4 - k) / 4.0;
        fprintf(fp, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%lld</text>",
                ML, W - MR, y, y, ML - 6, y + 4, ymax * k / 4);
    }
    for (size_t i = 0; i < nd; i += step)
        fprintf(fp, "<text x=\"%.1f\" y=\"%d\" class=\"ax\" text-anchor=\"middle\">%.5s</text>",
                ML + pw * ((double)i + 0.5), H - MB + 16, days[i] + 5);
    return pw;
}

/* The legend across the top: a swatch (pattern or dashed line) and a label per series. */
static void legend(FILE *fp, const char *id, const bool *used, int clients)
{
    int x = ML;
    for (size_t k = 0; k < NSER; k++) {
        if (!used[k])
            continue;
        if (clients)
            fprintf(fp, "<line x1=\"%d\" x2=\"%d\" y1=\"12\" y2=\"12\" stroke=\"%s\" "
                    "stroke-width=\"2.5\" stroke-dasharray=\"%s\"/>", x, x + 22,
                    series[k].colour, series[k].dash);
        else
            fprintf(fp, "<rect x=\"%d\" y=\"5\" width=\"14\" height=\"14\" fill=\"url(#%s-p%zu)\" "
                    "stroke=\"#333\" stroke-width=\".5\"/>", x, id, k);
        fprintf(fp, "<text x=\"%d\" y=\"16\" class=\"lg\">%s</text>", x + (clients ? 27 : 19),
                series[k].label);
        x += 28 + 8 * (int)strlen(series[k].label);
    }
    if (clients)
        fprintf(fp, "<line x1=\"%d\" x2=\"%d\" y1=\"12\" y2=\"12\" stroke=\"#111\" "
                "stroke-width=\"3.5\"/><text x=\"%d\" y=\"16\" class=\"lg\">all legacy</text>",
                x, x + 22, x + 27);
}

/* See report_model.h. Handshakes: stacked bars per day by version. Clients: one line per
 * version and a thick line for the distinct legacy clients of any version (not the sum: a
 * client that used two versions is one client). */
void ta__rp_svg_trend(FILE *fp, const struct ta_rp *rp, int o365, int clients, const char *id)
{
    char (*days)[TA_RD_DAY] = malloc(MAX_DAYS * sizeof *days);
    size_t nd = days ? day_range(&rp->trend, days) : 0;
    bool used[NSER] = { false };
    long long ymax = 0, total = 0, peak = 0;
    const char *peak_day = "";
    const char *what = clients ? "distinct clients using legacy TLS" : "legacy handshakes";
    const char *grp = o365 ? "toward Office 365" : "toward other destinations";
    for (size_t i = 0; i < nd; i++) {
        long long all = value_of(&rp->trend, days[i], TA_RD_ALLV, o365, clients);
        for (size_t k = 0; k < NSER; k++)
            used[k] |= value_of(&rp->trend, days[i], series[k].version, o365, clients) > 0;
        if (all > ymax)
            ymax = all;
        if (all > peak) {
            peak = all;
            peak_day = days[i];
        }
        total += all;
    }
    ymax = nice_max(ymax);
    fprintf(fp, "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 %d %d\" "
            "aria-labelledby=\"%s-t %s-d\" xmlns=\"http://www.w3.org/2000/svg\">", W, H, id, id);
    fprintf(fp, "<title id=\"%s-t\">", id);
    ta_out_html_text(fp, what);
    fprintf(fp, " per day %s</title><desc id=\"%s-d\">", grp, id);
    if (nd == 0 || total == 0)
        fprintf(fp, "No legacy handshakes %s in the period.", grp);
    else
        fprintf(fp, "%zu days from %s to %s. %s peak at %lld on %s; %lld on the last day. "
                "The table below the charts gives every value.", nd, days[0], days[nd - 1],
                clients ? "Distinct legacy clients" : "Legacy handshakes", peak, peak_day,
                value_of(&rp->trend, days[nd - 1], TA_RD_ALLV, o365, clients));
    fprintf(fp, "</desc><defs>");
    for (size_t k = 0; k < NSER; k++)
        pattern(fp, id, k);
    fprintf(fp, "</defs>");
    if (nd == 0 || total == 0) {
        fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"empty\" text-anchor=\"middle\">"
                "No legacy handshakes %s in this period</text></svg>", W / 2, H / 2, grp);
        free(days);
        return;
    }
    double pw = axes(fp, days, nd, ymax), ph = (double)(H - MT - MB);
    legend(fp, id, used, clients);
    if (!clients) {
        for (size_t i = 0; i < nd; i++) {
            double y = MT + ph, bw = pw > 3 ? pw * 0.72 : pw;
            if (bw > 36)
                bw = 36;
            for (size_t k = 0; k < NSER; k++) {
                long long v = value_of(&rp->trend, days[i], series[k].version, o365, 0);
                double h = ph * (double)v / (double)ymax;
                if (v <= 0)
                    continue;
                y -= h;
                fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"url(#%s-p%zu)\" stroke=\"#222\" stroke-width=\".4\"><title>%s "
                        "%s: %lld handshakes</title></rect>", ML + pw * (double)i + (pw - bw) / 2,
                        y, bw, h, id, k, days[i], series[k].label, v);
            }
        }
    } else {
        for (size_t k = 0; k <= NSER; k++) {
            uint16_t v = k < NSER ? series[k].version : TA_RD_ALLV;
            if (k < NSER && !used[k])
                continue;
            fprintf(fp, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
                    "stroke-dasharray=\"%s\" points=\"", k < NSER ? series[k].colour : "#111",
                    k < NSER ? "2.5" : "3.5", k < NSER ? series[k].dash : "");
            for (size_t i = 0; i < nd; i++)
                fprintf(fp, "%.1f,%.1f ", ML + pw * ((double)i + 0.5),
                        MT + ph - ph * (double)value_of(&rp->trend, days[i], v, o365, 1) /
                        (double)ymax);
            fprintf(fp, "\"/>");
        }
        for (size_t i = 0; i < nd; i++) {
            long long v = value_of(&rp->trend, days[i], TA_RD_ALLV, o365, 1);
            fprintf(fp, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#111\"><title>%s: %lld "
                    "distinct legacy clients</title></circle>", ML + pw * ((double)i + 0.5),
                    MT + ph - ph * (double)v / (double)ymax, days[i], v);
        }
    }
    fprintf(fp, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"axis\"/></svg>", ML,
            W - MR, H - MB, H - MB);
    free(days);
}
