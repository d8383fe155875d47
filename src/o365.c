/* o365.c - classify stored connections as Office 365 or not, and say why: SNI, passive DNS,
 * certificate names, address ranges, mail banners, nDPI (rules in include/tlsaudit/o365.h).
 * Runs over the whole database after every capture and every endpoint import, so stored rows
 * follow the list in force without re-capture. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "o365_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/o365.h"

#define REASON_MAX 320
#define DNS_CHAIN_MAX 8     /* CNAME steps followed back from an address record */
#define DNS_ADDR_ROWS 16    /* names tried per server address, latest first (LIMIT below) */

/* Everything one classification pass needs: the list and the prepared DNS lookups. */
struct cls {
    sqlite3 *db;
    struct ta__o365_list list;
    sqlite3_stmt *q_addr, *q_cname;
};

/* The verdict for one row. */
struct verdict {
    int o365;
    char service[TA__O365_AREA_MAX];
    char reason[REASON_MAX];
};

/* Columns shared by the two row queries (handshakes, mail_sessions joined to handshakes). */
enum { C_ID, C_TS, C_SERVER, C_SNI, C_CN, C_SANS, C_GHOST, C_GREETING, C_NDPI, C_O365, C_SVC,
       C_REASON };

static void set_verdict(struct verdict *v, const char *area, const char *kind, const char *what)
{
    v->o365 = 1;
    snprintf(v->service, sizeof(v->service), "%s", area);
    snprintf(v->reason, sizeof(v->reason), "%s:%s", kind, what);
}

/* 'dns:' rule: names resolved to ip at or before ts, latest first; from each address record
 * follow CNAMEs backwards (who pointed at this name) up to DNS_CHAIN_MAX steps, and report the
 * first name on that walk that matches a pattern. */
static bool rule_dns(struct cls *c, const char *ip, int64_t ts, struct verdict *v)
{
    char names[DNS_ADDR_ROWS][TA__O365_NAME_MAX];
    int n = 0;

    sqlite3_bind_text(c->q_addr, 1, ip, -1, SQLITE_STATIC);
    sqlite3_bind_int64(c->q_addr, 2, ts);
    while (n < DNS_ADDR_ROWS && sqlite3_step(c->q_addr) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(c->q_addr, 0);
        if (name && strlen(name) < TA__O365_NAME_MAX)
            snprintf(names[n++], TA__O365_NAME_MAX, "%s", name);
    }
    sqlite3_reset(c->q_addr);
    for (int i = 0; i < n; i++) {
        char cur[TA__O365_NAME_MAX];
        memcpy(cur, names[i], sizeof(cur));
        for (int step = 0; step <= DNS_CHAIN_MAX; step++) {
            const struct ta__o365_pat *p = ta__o365_find_name(&c->list, cur);
            if (p) {
                set_verdict(v, p->area, "dns", cur);
                return true;
            }
            if (step == DNS_CHAIN_MAX)
                break;
            sqlite3_bind_text(c->q_cname, 1, cur, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(c->q_cname, 2, ts);
            bool more = false;
            if (sqlite3_step(c->q_cname) == SQLITE_ROW) {
                const char *prev = (const char *)sqlite3_column_text(c->q_cname, 0);
                if (prev && strlen(prev) < sizeof(cur)) {
                    snprintf(cur, sizeof(cur), "%s", prev);
                    more = true;
                }
            }
            sqlite3_reset(c->q_cname);
            if (!more)
                break;
        }
    }
    return false;
}

/* 'cert:' rule: the CN, then each comma-separated SAN ("DNS:" prefixes and spaces ignored). */
static bool rule_cert(struct cls *c, const char *cn, const char *sans, struct verdict *v)
{
    const struct ta__o365_pat *p;
    if (cn && (p = ta__o365_find_name(&c->list, cn))) {
        set_verdict(v, p->area, "cert", cn);
        return true;
    }
    while (sans && *sans) {
        char one[TA__O365_NAME_MAX];
        size_t len;
        while (*sans == ',' || *sans == ' ')
            sans++;
        len = strcspn(sans, ",");
        if (len < sizeof(one)) {
            memcpy(one, sans, len);
            one[len] = '\0';
            while (len && one[len - 1] == ' ')
                one[--len] = '\0';
            const char *name = strncasecmp(one, "DNS:", 4) == 0 ? one + 4 : one;
            if ((p = ta__o365_find_name(&c->list, name))) {
                set_verdict(v, p->area, "cert", name);
                return true;
            }
        }
        sans += len;
    }
    return false;
}

/* Case-insensitive (ASCII) substring search. */
static bool contains_ci(const char *hay, const char *needle)
{
    size_t m = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, m) == 0)
            return true;
    return false;
}

/* Case-insensitive: does s end with suffix (a trailing dot on s ignored)? */
static bool ends_with_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n && s[n - 1] == '.')
        n--;
    return n > m && strncasecmp(s + n - m, suffix, m) == 0;
}

/* 'banner:' rule. Exchange Online's SMTP greeting names its host (*.outlook.com,
 * *.office365.com) and says "Microsoft ESMTP MAIL Service"; its IMAP4/POP3 greetings say
 * "The Microsoft Exchange IMAP4/POP3 service is ready". On-premises Exchange says the same
 * words, which is why this rule comes after the address-range rule. */
static bool rule_banner(const char *host, const char *greeting, struct verdict *v)
{
    static const char *const hosts[] = { ".outlook.com", ".office365.com" };
    static const char *const words[] = { "Microsoft ESMTP MAIL Service", "Microsoft Exchange" };
    for (size_t i = 0; host && i < TA_ARRAY_LEN(hosts); i++)
        if (ends_with_ci(host, hosts[i])) {
            set_verdict(v, "Exchange", "banner", host);
            return true;
        }
    for (size_t i = 0; greeting && i < TA_ARRAY_LEN(words); i++)
        if (contains_ci(greeting, words[i])) {
            set_verdict(v, "Exchange", "banner", words[i]);
            return true;
        }
    return false;
}

/* 'ndpi:' rule: nDPI protocol names of Microsoft 365 applications, mapped to a service area. */
static bool rule_ndpi(const char *name, struct verdict *v)
{
    static const struct { const char *word, *area; } map[] = {
        { "Outlook", "Exchange" }, { "Skype_Teams", "Skype" }, { "Teams", "Skype" },
        { "OneDrive", "SharePoint" }, { "Microsoft 365", "Common" },
        { "Microsoft365", "Common" }, { "Microsoft", "Common" },
    };
    for (size_t i = 0; name && i < TA_ARRAY_LEN(map); i++)
        if (contains_ci(name, map[i].word)) {
            set_verdict(v, map[i].area, "ndpi", name);
            return true;
        }
    return false;
}

#define COL(s, i) ((const char *)sqlite3_column_text((s), (i)))

/* Apply the rules, first match wins, to the current row of s. */
static void classify_row(struct cls *c, sqlite3_stmt *s, struct verdict *v)
{
    const char *sni = COL(s, C_SNI), *ip = COL(s, C_SERVER);
    const struct ta__o365_pat *p;
    const struct ta__o365_net *n;

    memset(v, 0, sizeof(*v));
    if (sni && *sni) {
        if ((p = ta__o365_find_name(&c->list, sni))) {
            set_verdict(v, p->area, "sni", p->pattern);
            return;
        }
    } else if (ip && rule_dns(c, ip, sqlite3_column_int64(s, C_TS), v)) {
        return;
    }
    if (rule_cert(c, COL(s, C_CN), COL(s, C_SANS), v))
        return;
    if (ip && (n = ta__o365_find_addr(&c->list, ip))) {
        set_verdict(v, n->area, "ip", n->cidr);
        return;
    }
    if (rule_banner(COL(s, C_GHOST), COL(s, C_GREETING), v))
        return;
    rule_ndpi(COL(s, C_NDPI), v);
}

/* Has the stored verdict changed? (Unchanged rows are not rewritten.) */
static bool verdict_differs(sqlite3_stmt *s, const struct verdict *v)
{
    const char *svc = COL(s, C_SVC), *why = COL(s, C_REASON);
    if (sqlite3_column_int(s, C_O365) != v->o365)
        return true;
    if (!v->o365)
        return svc != NULL || why != NULL;
    return !svc || !why || strcmp(svc, v->service) != 0 || strcmp(why, v->reason) != 0;
}

/* A pending update: ids and verdicts are collected while the SELECT runs and written after it,
 * because SQLite leaves undefined whether a running scan sees rows changed under it. */
struct change {
    int64_t id;
    struct verdict v;
};

/* Classify every row that `select` returns and update `table` by id. */
static int classify_table(struct cls *c, const char *select, const char *table, char *errbuf)
{
    sqlite3_stmt *s = NULL, *u = NULL;
    struct change *ch = NULL;
    size_t n = 0, cap = 0;
    int rc = TA_OK;
    char sql[160];

    snprintf(sql, sizeof(sql), "UPDATE %s SET o365 = ?2, o365_service = ?3, o365_reason = ?4 "
             "WHERE id = ?1", table);
    if (sqlite3_prepare_v2(c->db, select, -1, &s, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, sql, -1, &u, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "classify %s: %s", table, sqlite3_errmsg(c->db));
        rc = TA_ERR_IO;
    }
    while (rc == TA_OK && sqlite3_step(s) == SQLITE_ROW) {
        struct verdict v;
        classify_row(c, s, &v);
        if (!verdict_differs(s, &v))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 1024;
            struct change *nch = realloc(ch, ncap * sizeof(*ch));
            if (!nch) {
                snprintf(errbuf, TA_ERRBUF_SIZE, "classify %s: out of memory", table);
                rc = TA_ERR_NOMEM;
                break;
            }
            ch = nch;
            cap = ncap;
        }
        ch[n].id = sqlite3_column_int64(s, C_ID);
        ch[n++].v = v;
    }
    for (size_t i = 0; rc == TA_OK && i < n; i++) {
        sqlite3_bind_int64(u, 1, ch[i].id);
        sqlite3_bind_int(u, 2, ch[i].v.o365);
        if (ch[i].v.o365) {
            sqlite3_bind_text(u, 3, ch[i].v.service, -1, SQLITE_STATIC);
            sqlite3_bind_text(u, 4, ch[i].v.reason, -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(u, 3);
            sqlite3_bind_null(u, 4);
        }
        if (sqlite3_step(u) != SQLITE_DONE) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "classify %s: %s", table, sqlite3_errmsg(c->db));
            rc = TA_ERR_IO;
        }
        sqlite3_reset(u);
    }
    free(ch);
    sqlite3_finalize(s);
    sqlite3_finalize(u);
    return rc;
}

static const char SEL_HANDSHAKES[] =
    "SELECT id, ts_us, server_ip, sni, cert_cn, cert_sans, greeting_host, greeting, ndpi_name, "
    "o365, o365_service, o365_reason FROM handshakes";
static const char SEL_MAIL[] =
    "SELECT m.id, m.ts_us, m.server_ip, h.sni, h.cert_cn, h.cert_sans, m.greeting_host, "
    "m.greeting, h.ndpi_name, m.o365, m.o365_service, m.o365_reason "
    "FROM mail_sessions m LEFT JOIN handshakes h ON h.id = m.handshake_id";

/* Everything after BEGIN: default list, load, both tables (only run_id's rows when > 0). */
static int classify_locked(sqlite3 *db, int64_t run_id, char *errbuf)
{
    struct cls c;
    char sel_h[512], sel_m[512];
    int rc;

    snprintf(sel_h, sizeof(sel_h), "%s%s", SEL_HANDSHAKES, run_id > 0 ? " WHERE run_id = " : "");
    snprintf(sel_m, sizeof(sel_m), "%s%s", SEL_MAIL, run_id > 0 ? " WHERE m.run_id = " : "");
    if (run_id > 0) {
        size_t lh = strlen(sel_h), lm = strlen(sel_m);
        snprintf(sel_h + lh, sizeof(sel_h) - lh, "%lld", (long long)run_id);
        snprintf(sel_m + lm, sizeof(sel_m) - lm, "%lld", (long long)run_id);
    }
    memset(&c, 0, sizeof(c));
    c.db = db;
    rc = ta__o365_ensure_default_locked(db, errbuf);
    if (rc == TA_OK)
        rc = ta__o365_list_load(db, &c.list, errbuf);
    if (rc != TA_OK)
        return rc;
    if (sqlite3_prepare_v2(db, "SELECT name FROM dns_answers WHERE addr = ?1 AND ts_us <= ?2 "
                           "ORDER BY ts_us DESC, id DESC LIMIT 16", -1, &c.q_addr, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT name FROM dns_answers WHERE cname = ?1 AND ts_us <= ?2 "
                           "ORDER BY ts_us DESC, id DESC LIMIT 1", -1, &c.q_cname, NULL)
            != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "classify: %s", sqlite3_errmsg(db));
        rc = TA_ERR_IO;
    }
    if (rc == TA_OK)
        rc = classify_table(&c, sel_h, "handshakes", errbuf);
    if (rc == TA_OK)
        rc = classify_table(&c, sel_m, "mail_sessions", errbuf);
    sqlite3_finalize(c.q_addr);
    sqlite3_finalize(c.q_cname);
    ta__o365_list_free(&c.list);
    return rc;
}

int ta_o365_classify(sqlite3 *db, char *errbuf)
{
    return ta_o365_classify_run(db, 0, errbuf);
}

int ta_o365_classify_run(sqlite3 *db, int64_t run_id, char *errbuf)
{
    int rc;
    if (!db)
        return TA_ERR_ARG;
    if (ta__o365_exec(db, "BEGIN IMMEDIATE", errbuf) != TA_OK)
        return TA_ERR_IO;
    rc = classify_locked(db, run_id, errbuf);
    if (rc == TA_OK)
        rc = ta__o365_exec(db, "COMMIT", errbuf);
    if (rc != TA_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
