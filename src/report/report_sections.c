/* report_sections.c - the tables of the report page: breakdowns (service area and port,
 * application, version), the offender table, weak suites, plaintext mail, and one detail section
 * per offender shown. Long lists stop at the page cap and say how many rows are left out.
 *
 * Rows a test reads back carry data- attributes with plain values: offender rows
 * tr.off[data-client][data-hs][data-refused][data-hint], version rows
 * tr.vrow[data-group][data-version][data-hs][data-clients]. Wire strings in attributes go
 * through the same escaper as text. */
#include <string.h>

#include "report_html.h"

/* <td class="n"> with a formatted count. */
static void td_num(FILE *fp, long long v)
{
    fputs("<td class=\"n\">", fp);
    ta__rp_num(fp, v);
    fputs("</td>", fp);
}

/* <td> with escaped text (class cls when not NULL). */
static void td_text(FILE *fp, const char *cls, const char *s)
{
    if (cls)
        fprintf(fp, "<td class=\"%s\">", cls);
    else
        fputs("<td>", fp);
    TA_H(fp, s);
    fputs("</td>", fp);
}

static void services(FILE *fp, const struct ta_rp *rp, size_t max)
{
    size_t shown = 0;
    fputs("<h3>Office 365 by service area and port</h3><table id=\"by-service\"><thead><tr>"
          "<th>Service area</th><th class=\"n\">Port</th><th>Used for</th>"
          "<th class=\"n\">Legacy clients</th><th class=\"n\">Legacy handshakes</th>"
          "<th class=\"n\">of which refused</th><th class=\"n\">All handshakes</th>"
          "<th class=\"n\">Legacy share</th></tr></thead><tbody>", fp);
    for (size_t i = 0; i < rp->services.n && shown < max; i++, shown++) {
        const struct ta_rd_group *g = TA_RD_AT(&rp->services, struct ta_rd_group, i);
        fputs("<tr>", fp);
        td_text(fp, NULL, g->service[0] ? g->service : "(not known)");
        fprintf(fp, "<td class=\"n\">%d</td>", g->port);
        td_text(fp, NULL, ta__rp_port_role(g->port, g->app));
        td_num(fp, g->legacy_clients);
        td_num(fp, g->legacy_hs);
        td_num(fp, g->legacy_refused);
        td_num(fp, g->hs);
        fputs("<td class=\"n\">", fp);
        ta__rp_pct(fp, g->legacy_hs, g->hs);
        fputs("</td></tr>", fp);
    }
    if (!rp->services.n)
        fputs("<tr><td colspan=\"8\" class=\"muted\">No handshakes toward Office 365.</td></tr>",
              fp);
    fputs("</tbody></table>\n", fp);
    ta__rp_more(fp, shown, rp->services.n, "services");
}

static void apps(FILE *fp, const struct ta_rp *rp, size_t max)
{
    size_t shown = 0;
    fputs("<h3>Every destination by application</h3><table id=\"by-app\"><thead><tr>"
          "<th>Application</th><th class=\"n\">Legacy clients</th>"
          "<th class=\"n\">Legacy handshakes</th><th class=\"n\">All clients</th>"
          "<th class=\"n\">All handshakes</th><th class=\"n\">Legacy share</th></tr></thead>"
          "<tbody>", fp);
    for (size_t i = 0; i < rp->apps.n && shown < max; i++, shown++) {
        const struct ta_rd_group *g = TA_RD_AT(&rp->apps, struct ta_rd_group, i);
        fputs("<tr>", fp);
        td_text(fp, NULL, g->app[0] ? g->app : "(unknown)");
        td_num(fp, g->legacy_clients);
        td_num(fp, g->legacy_hs);
        td_num(fp, g->clients);
        td_num(fp, g->hs);
        fputs("<td class=\"n\">", fp);
        ta__rp_pct(fp, g->legacy_hs, g->hs);
        fputs("</td></tr>", fp);
    }
    fputs("</tbody></table>\n", fp);
    ta__rp_more(fp, shown, rp->apps.n, "apps");
}

/* By negotiated version, Office 365 first: the figures of `query summary`. */
static void versions(FILE *fp, const struct ta_rp *rp)
{
    fputs("<h3>By negotiated version</h3><table id=\"by-version\"><thead><tr><th>Destination"
          "</th><th>Version</th><th class=\"n\">Handshakes</th><th class=\"n\">Clients</th>"
          "<th class=\"n\">Share of the destination's handshakes</th></tr></thead><tbody>", fp);
    for (int o = 1; o >= 0; o--) {
        long long total = 0;
        for (size_t i = 0; i < rp->versions.n; i++) {
            const struct ta_rd_group *g = TA_RD_AT(&rp->versions, struct ta_rd_group, i);
            total += g->o365 == o ? g->hs : 0;
        }
        for (size_t i = 0; i < rp->versions.n; i++) {
            const struct ta_rd_group *g = TA_RD_AT(&rp->versions, struct ta_rd_group, i);
            char lab[40];
            if (g->o365 != o)
                continue;
            ta__rp_version(g->version, lab, sizeof lab);
            fprintf(fp, "<tr class=\"vrow\" data-group=\"%s\" data-version=\"", o ? "o365" :
                    "other");
            TA_H(fp, lab);
            fprintf(fp, "\" data-hs=\"%lld\" data-clients=\"%ld\"><td>%s</td>", g->hs, g->clients,
                    o ? "Office 365" : "Other");
            td_text(fp, NULL, g->version ? lab : "none (refused or unanswered)");
            td_num(fp, g->hs);
            td_num(fp, g->clients);
            fputs("<td class=\"n\">", fp);
            ta__rp_pct(fp, g->hs, total);
            fputs("</td></tr>", fp);
        }
    }
    if (!rp->versions.n)
        fputs("<tr><td colspan=\"5\" class=\"muted\">No handshakes in the period.</td></tr>", fp);
    fputs("</tbody></table>\n", fp);
}

void ta__rp_sec_breakdowns(FILE *fp, const struct ta_rp *rp, size_t max)
{
    fputs("<h2 id=\"breakdowns\">Where legacy TLS is used</h2>\n<p class=\"lead\">Port 587 is "
          "SMTP AUTH client submission (printers, scanners, line-of-business applications), "
          "port 25 is mail to Exchange Online MX. Counts per service and application cover the "
          "inventory rows seen in the period.</p>\n", fp);
    services(fp, rp, max);
    apps(fp, rp, max);
    versions(fp, rp);
}

void ta__rp_sec_ciphers(FILE *fp, const struct ta_rp *rp, size_t max)
{
    size_t shown = 0;
    fputs("<h2 id=\"ciphers\">Weak cipher suites and no forward secrecy</h2>\n<p class=\"lead\">"
          "Suites negotiated in the period that are weak (NULL, export, RC4, DES/3DES, MD5, "
          "anonymous, or CBC with SHA-1 under SSL 3.0/TLS 1.0) or whose key exchange has no "
          "forward secrecy (static RSA or static (EC)DH). Microsoft asks for TLS 1.2 with "
          "forward secrecy.</p><table id=\"ciphers-table\"><thead><tr><th>Cipher suite</th>"
          "<th>Version</th><th>Destination</th><th>Problem</th><th class=\"n\">Handshakes</th>"
          "<th class=\"n\">Clients</th></tr></thead><tbody>", fp);
    for (size_t i = 0; i < rp->ciphers.n && shown < max; i++, shown++) {
        const struct ta_rd_cipher *c = TA_RD_AT(&rp->ciphers, struct ta_rd_cipher, i);
        char name[96], lab[40];
        bool weak = ta__rp_cipher_weak(c), nofs = ta__rp_cipher_no_fs(c);
        fputs("<tr>", fp);
        td_text(fp, "w", ta__rp_cipher(c->cipher_id, c->cipher_v2, name, sizeof name));
        td_text(fp, NULL, ta__rp_version(c->version, lab, sizeof lab));
        fprintf(fp, "<td>%s</td><td>%s%s%s</td>", c->o365 ? "Office 365" : "Other",
                weak ? "weak" : "", weak && nofs ? ", " : "", nofs ? "no forward secrecy" : "");
        td_num(fp, c->hs);
        td_num(fp, c->clients);
        fputs("</tr>", fp);
    }
    if (!rp->ciphers.n)
        fputs("<tr><td colspan=\"6\" class=\"muted\">None: every negotiated suite is strong and "
              "has forward secrecy.</td></tr>", fp);
    fputs("</tbody></table>\n", fp);
    ta__rp_more(fp, shown, rp->ciphers.n, "ciphers");
}

/* An address, escaped, with a line-break opportunity after each ':' of an IPv6 address, so that a
 * long one does not widen the legacy clients' table past a printed page. */
static void h_addr(FILE *fp, const char *ip)
{
    char part[64];
    size_t n = 0;
    for (; *ip; ip++) {
        part[n++] = *ip;
        if (*ip == ':' || n == sizeof(part) - 1) {
            part[n] = '\0';
            TA_H(fp, part);
            n = 0;
            if (*ip == ':' && ip[1])
                fputs("<wbr>", fp);
        }
    }
    part[n] = '\0';
    TA_H(fp, part);
}

/* The fingerprint cell: JA3 and JA4, labelled. */
static void td_prints(FILE *fp, const struct ta_rp_offender *o)
{
    fputs("<td class=\"fp\">", fp);
    if (o->ja4[0]) {
        fputs("JA4 ", fp);
        TA_H(fp, o->ja4);
    }
    if (o->ja3[0]) {
        fputs(o->ja4[0] ? "<br>JA3 " : "JA3 ", fp);
        TA_H(fp, o->ja3);
    }
    fputs("</td>", fp);
}

/* First and last seen, shortened, one above the other; the full times in the title. */
static void td_seen(FILE *fp, const char *first, const char *last)
{
    char a[24], b[24];
    fputs("<td class=\"ts\" title=\"", fp);
    TA_H(fp, first);
    fputs(" \xE2\x80\x93 ", fp);
    TA_H(fp, last);
    fputs("\">", fp);
    TA_H(fp, ta__rp_short_ts(first, a, sizeof a));
    fputs("<br>", fp);
    TA_H(fp, ta__rp_short_ts(last, b, sizeof b));
    fputs("</td>", fp);
}

void ta__rp_sec_offenders(FILE *fp, const struct ta_rp *rp, size_t max)
{
    size_t shown = 0;
    char lab[40];
    fprintf(fp, "<h2 id=\"offenders\">Clients using legacy TLS%s</h2>\n<p class=\"lead\">One row "
            "per client, most legacy handshakes first. The client address links to its detail."
            "</p><table id=\"offender-table\"><thead><tr><th>Client</th><th>Destinations</th>"
            "<th>App/port</th><th>Versions used<br>(highest offered)</th><th>First seen<br>"
            "Last seen</th><th class=\"n\">Hand\xC2\xADshakes</th><th class=\"n\">Refused</th>"
            "<th>Fingerprints</th><th>Office 365 reason</th><th>What to do</th></tr></thead>"
            "<tbody>", rp->f.all ? ", every destination" : " toward Office 365");
    for (size_t i = 0; i < rp->noff && shown < max; i++, shown++) {
        const struct ta_rp_offender *o = &rp->off[i];
        fprintf(fp, "<tr class=\"off\" id=\"o-%zu\" data-client=\"", i);
        TA_H(fp, o->ip);
        fprintf(fp, "\" data-hs=\"%lld\" data-refused=\"%lld\" data-hint=\"%s\"><td class=\"ip\">"
                "<a href=\"#c-%zu\">", o->hs, o->refused, ta__rp_hint_key(o->hint), i);
        h_addr(fp, o->ip);
        fputs("</a></td><td class=\"w\">", fp);
        TA_H(fp, o->dests);
        if (o->names[0]) {
            fputs("<br><span class=\"muted\">names: ", fp);
            TA_H(fp, o->names);
            fputs("</span>", fp);
        }
        fputs("</td>", fp);
        td_text(fp, NULL, o->apps);
        fputs("<td>", fp);
        TA_H(fp, o->versions);
        fputs("<br><span class=\"muted\">(", fp);
        TA_H(fp, o->max_offered ? ta__rp_version(o->max_offered, lab, sizeof lab) : "no hello");
        fputs(")</span></td>", fp);
        td_seen(fp, o->first_seen, o->last_seen);
        td_num(fp, o->hs);
        td_num(fp, o->refused);
        td_prints(fp, o);
        td_text(fp, "small why", o->reasons);   /* "why": long names break in print */
        fprintf(fp, "<td class=\"small\"><span class=\"tag %s\">%s</span> ",
                ta__rp_hint_key(o->hint), ta__rp_hint_key(o->hint));
        TA_H(fp, ta__rp_hint_short(o->hint));
        fputs("</td></tr>\n", fp);
    }
    if (!rp->noff)
        fputs("<tr><td colspan=\"10\" class=\"muted\">No client used legacy TLS in the period."
              "</td></tr>", fp);
    fputs("</tbody></table>\n", fp);
    ta__rp_more(fp, shown, rp->noff, "offenders");
}

/* Problems of a mail row as words. */
static void mail_kinds(FILE *fp, int k)
{
    const char *sep = "";
    if (k & TA_RD_MAIL_AUTH) {
        fputs("<b>credentials in clear</b>", fp);
        sep = "; ";
    }
    if (k & TA_RD_MAIL_UNUSED) {
        fprintf(fp, "%sSTARTTLS offered, not used", sep);
        sep = "; ";
    }
    if (k & TA_RD_MAIL_O365_CLEAR)
        fprintf(fp, "%sto Exchange Online without TLS", sep);
}

void ta__rp_sec_mail(FILE *fp, const struct ta_rp *rp, size_t max)
{
    size_t shown = 0;
    long long n[3] = { 0, 0, 0 };
    for (size_t i = 0; i < rp->mail.n; i++) {
        const struct ta_rd_mail *m = TA_RD_AT(&rp->mail, struct ta_rd_mail, i);
        for (int b = 0; b < 3; b++)
            n[b] += (m->kinds >> b) & 1 ? m->sessions : 0;
    }
    fputs("<h2 id=\"plaintext\">Mail in clear text</h2>\n<p class=\"lead\">", fp);
    fprintf(fp, "<span id=\"m-auth\" data-value=\"%lld\">", n[0]);
    ta__rp_num(fp, n[0]);
    fprintf(fp, "</span> session%s sent credentials in clear, <span id=\"m-unused\" "
            "data-value=\"%lld\">", n[0] == 1 ? "" : "s", n[1]);
    ta__rp_num(fp, n[1]);
    fprintf(fp, "</span> %s offered STARTTLS and did not use it, <span id=\"m-o365\" "
            "data-value=\"%lld\">", n[1] == 1 ? "was" : "were", n[2]);
    ta__rp_num(fp, n[2]);
    fputs("</span> reached Exchange Online with no TLS at all (opportunistic TLS falls back to "
          "clear).</p><table id=\"mail-table\"><thead><tr><th>Client</th><th>Server</th>"
          "<th>Greeting</th><th>App/port</th><th>Problem</th><th class=\"n\">Sessions</th>"
          "<th class=\"n\">Mail in clear</th><th>First seen<br>Last seen</th></tr></thead><tbody>",
          fp);
    for (size_t i = 0; i < rp->mail.n && shown < max; i++, shown++) {
        const struct ta_rd_mail *m = TA_RD_AT(&rp->mail, struct ta_rd_mail, i);
        fputs("<tr class=\"mail\">", fp);
        td_text(fp, "ip", m->client_ip);
        fputs("<td>", fp);
        TA_H(fp, m->server_ip);
        if (m->o365) {
            fputs(" <span class=\"muted\">(Office 365", fp);
            if (m->service[0]) {
                fputs(" ", fp);
                TA_H(fp, m->service);
            }
            fputs(")</span>", fp);
        }
        fputs("</td>", fp);
        fputs("<td class=\"w\">", fp);
        TA_H(fp, m->host);
        if (m->banner[0]) {
            fputs("<br><span class=\"muted small\">", fp);
            TA_H(fp, m->banner);
            fputs("</span>", fp);
        }
        fputs("</td>", fp);
        fputs("<td>", fp);
        TA_H(fp, m->app);
        fprintf(fp, "/%d</td><td>", m->port);
        mail_kinds(fp, m->kinds);
        fputs("</td>", fp);
        td_num(fp, m->sessions);
        td_num(fp, m->mail_in_clear);
        td_seen(fp, m->first_seen, m->last_seen);
        fputs("</tr>\n", fp);
    }
    if (!rp->mail.n)
        fputs("<tr><td colspan=\"8\" class=\"muted\">No mail session in clear in the period."
              "</td></tr>", fp);
    fputs("</tbody></table>\n", fp);
    ta__rp_more(fp, shown, rp->mail.n, "mail");
}
