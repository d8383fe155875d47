/* o365.c - classify stored connections as Office 365 or not, and say why: SNI, passive DNS,
 * certificate names, address ranges, mail banners, nDPI (rules in include/o365/tlsaudit/o365.h).
 * Runs over the whole database after every capture and every endpoint import, so stored rows
 * follow the list in force without re-capture. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "o365_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/o365.h"

#define DNS_CHAIN_MAX 8     /* CNAME steps followed back from an address record */
#define DNS_ADDR_ROWS TA__O365_DNS_ROWS  /* answers read per server address (LIMIT below) */

/* See o365_int.h. Statements prepared once per classifier, reused for every row. */
struct ta__o365_cls {
    sqlite3 *db;
    struct ta__o365_list list;
    sqlite3_stmt *q_addr, *q_cname;
    struct ta__o365_memo *memo;     /* NULL: every row walks (the memo could not be set up) */
    struct ta__o365_addr_ix *aix;   /* list.nets hashed (o365_lookup.c) */
    struct ta__o365_excl_ix *eix;   /* the exclusion table by key */
};

/* Columns shared by the two row queries (handshakes, mail_sessions joined to handshakes). */
enum { C_ID, C_TS, C_SERVER, C_SNI, C_CN, C_SANS, C_GHOST, C_GREETING, C_NDPI, C_O365, C_SVC,
       C_REASON };

/* o365 = 1, the area, and "kind:what" as the reason. */
static void set_verdict(struct ta__o365_verdict *v, const char *area, const char *kind, const char *what)
{
    v->o365 = 1;
    snprintf(v->service, sizeof(v->service), "%s", area);
    snprintf(v->reason, sizeof(v->reason), "%s:%s", kind, what);
}

/* A name the name rules can match: not NULL, not empty, shorter than TA__O365_NAME_MAX (what
 * ta__o365_find_name and ta__o365_excluded check); key gets its lookup key. */
static bool name_usable(const char *name, char *key)
{
    if (!name || !*name || strlen(name) >= TA__O365_NAME_MAX)
        return false;
    ta__o365_name_key(name, key);
    return true;
}

/* The CNAME walk from one name of the 'dns:' rule: does name, or a name that pointed at it
 * (CNAMEs followed backwards, latest at or before ts first, up to DNS_CHAIN_MAX steps), match a
 * pattern? Every name looked up as a CNAME target goes to deps (up to TA__O365_MEMO_DEPS;
 * *ndeps counts them all), for the memo. */
static bool walk_name(void *arg, const char *name, int64_t ts, struct ta__o365_verdict *v,
                      char (*deps)[TA__O365_NAME_MAX], unsigned *ndeps)
{
    struct ta__o365_cls *c = arg;
    char cur[TA__O365_NAME_MAX];

    if (strlen(name) >= sizeof(cur))
        return false;
    memcpy(cur, name, strlen(name) + 1);
    for (int step = 0; step <= DNS_CHAIN_MAX; step++) {
        const struct ta__o365_pat *p = ta__o365_find_name(&c->list, cur);
        if (p) {
            set_verdict(v, p->area, "dns", cur);
            return true;
        }
        if (step == DNS_CHAIN_MAX)
            break;
        if (*ndeps < TA__O365_MEMO_DEPS)
            memcpy(deps[*ndeps], cur, sizeof(cur));
        (*ndeps)++;
        /* cur is bound without a copy, so the answer goes to prev until the reset */
        char prev[TA__O365_NAME_MAX];
        bool more = false;
        sqlite3_bind_text(c->q_cname, 1, cur, -1, SQLITE_STATIC);
        sqlite3_bind_int64(c->q_cname, 2, ts);
        if (sqlite3_step(c->q_cname) == SQLITE_ROW) {
            const char *pn = (const char *)sqlite3_column_text(c->q_cname, 0);
            if (pn && strlen(pn) < sizeof(prev)) {
                memcpy(prev, pn, strlen(pn) + 1);
                more = true;
            }
        }
        sqlite3_reset(c->q_cname);
        if (!more)
            break;
        memcpy(cur, prev, sizeof(cur));
    }
    return false;
}

/* The 'dns:' rule's walk: names resolved to ip at or before ts, latest first (at most
 * DNS_ADDR_ROWS answers), each walked back through CNAMEs (walk_name); the first name on that
 * walk that matches a pattern gives the verdict. A name answered several times (every lookup
 * stores a row) is walked once: the walk depends only on the name and ts, and a walk that matched
 * would have returned. w gets what the memo needs: answers read, position of the matching one. */
static bool dns_walk(struct ta__o365_cls *c, const char *ip, int64_t ts, struct ta__o365_verdict *v,
                     struct ta__o365_walk *w)
{
    char names[DNS_ADDR_ROWS][TA__O365_NAME_MAX];
    unsigned pos[DNS_ADDR_ROWS];
    int n = 0;

    w->rows = 0;
    w->match_row = 0;
    sqlite3_bind_text(c->q_addr, 1, ip, -1, SQLITE_STATIC);
    sqlite3_bind_int64(c->q_addr, 2, ts);
    while (n < DNS_ADDR_ROWS && sqlite3_step(c->q_addr) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(c->q_addr, 0);
        w->rows++;
        if (name && strlen(name) < TA__O365_NAME_MAX) {
            pos[n] = w->rows;
            snprintf(names[n++], TA__O365_NAME_MAX, "%s", name);
        }
    }
    sqlite3_reset(c->q_addr);
    for (int i = 0; i < n; i++) {
        int j = 0;
        while (j < i && strcmp(names[j], names[i]) != 0)
            j++;
        if (j < i)
            continue;
        if (walk_name(c, names[i], ts, v, w->deps, &w->ndeps)) {
            w->match_row = pos[i];
            return true;
        }
    }
    return false;
}

/* 'dns:' rule: the walk above, or its verdict remembered for this server address when no answer
 * stored since can change it (o365_dns_memo.c). */
static bool rule_dns(struct ta__o365_cls *c, const char *ip, int64_t ts, struct ta__o365_verdict *v)
{
    struct ta__o365_walk w;
    bool matched;

    w.ndeps = 0;
    if (c->memo && ta__o365_memo_get(c->memo, ip, ts, walk_name, c, &matched, v))
        return matched;
    matched = dns_walk(c, ip, ts, v, &w);
    if (c->memo)
        ta__o365_memo_put(c->memo, ip, ts, &w, matched, v);
    return matched;
}

/* The next name of a comma-separated SAN list ("DNS:" prefixes and spaces ignored), copied into
 * one[TA__O365_NAME_MAX]; *sans advances past it. NULL at the end. A name too long to copy is
 * skipped (it could match no pattern). */
static const char *next_san(const char **sans, char *one)
{
    while (*sans && **sans) {
        const char *s = *sans;
        size_t len;
        while (*s == ',' || *s == ' ')
            s++;
        len = strcspn(s, ",");
        *sans = s + len;
        if (len == 0 || len >= TA__O365_NAME_MAX)
            continue;
        memcpy(one, s, len);
        one[len] = '\0';
        while (len && one[len - 1] == ' ')
            one[--len] = '\0';
        return strncasecmp(one, "DNS:", 4) == 0 ? one + 4 : one;
    }
    return NULL;
}

/* 'excluded-name:' verdict: not Office 365, because name (an SNI or certificate name that no
 * pattern of the list matched) is a Microsoft name the list leaves out on purpose
 * (o365_exclude.c). Stops the rules: the address, banner and nDPI rules would otherwise take
 * Microsoft's shared networks and labels for Office 365. */
static void set_excluded(const char *name, const struct ta__o365_excl *x,
                         struct ta__o365_verdict *v)
{
    v->o365 = 0;
    v->service[0] = '\0';
    snprintf(v->reason, sizeof(v->reason), "excluded-name: %s (%s)", name, x->why);
}

/* 'cert:' rule (the CN, then each SAN: the first name the list matches), then the exclusion on
 * the certificate (the first of those names the exclusion table holds). One pass over the
 * names, each split and keyed once: the first excluded name is kept aside until no name of the
 * certificate matched the list. */
static bool rule_cert(struct ta__o365_cls *c, const char *cn, const char *sans,
                      struct ta__o365_verdict *v)
{
    const struct ta__o365_pat *p;
    const struct ta__o365_excl *x = NULL;
    char one[TA__O365_NAME_MAX], xname[TA__O365_NAME_MAX], key[TA__O365_KEY_MAX];
    const char *name = cn ? cn : next_san(&sans, one);

    for (; name; name = next_san(&sans, one)) {
        if (!name_usable(name, key))
            continue;
        if ((p = ta__o365_find_name_key(&c->list, name, key))) {
            set_verdict(v, p->area, "cert", name);
            return true;
        }
        if (!x && (x = ta__o365_excl_ix_find(c->eix, name, key)))
            memcpy(xname, name, strlen(name) + 1);
    }
    if (!x)
        return false;
    set_excluded(xname, x, v);
    return true;
}

/* Case-insensitive (ASCII) substring search. */
static bool contains_ci(const char *hay, const char *needle)
{
    size_t m = strlen(needle);
    int first = tolower((unsigned char)needle[0]);   /* strncasecmp compares by tolower too */
    for (; *hay; hay++)
        if (tolower((unsigned char)*hay) == first && strncasecmp(hay, needle, m) == 0)
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
static bool rule_banner(const char *host, const char *greeting, struct ta__o365_verdict *v)
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

/* 'ndpi:' rule: nDPI protocol names of Microsoft 365 services, mapped to a service area
 * (o365_exclude.c; never the generic Microsoft or Azure labels). */
static bool rule_ndpi(const char *name, struct ta__o365_verdict *v)
{
    const char *area = ta__o365_ndpi_area(name);
    if (!area)
        return false;
    set_verdict(v, area, "ndpi", name);
    return true;
}

#define COL(s, i) ((const char *)sqlite3_column_text((s), (i)))

/* See o365_int.h. The SNI decides alone when there is one: the DNS rule is for connections
 * without it. A name that the list does not hold but the exclusion table does (an SNI, then a
 * certificate name) ends the rules with o365 = 0 and says why; an excluded SNI also keeps the
 * certificate rule out (consumer OneDrive serves a certificate that names *.svc.ms). */
void ta__o365_cls_row(struct ta__o365_cls *c, const struct ta__o365_row *r,
                      struct ta__o365_verdict *v)
{
    const char *sni = r->sni, *ip = r->server_ip;
    const struct ta__o365_pat *p;
    const struct ta__o365_excl *x;
    const struct ta__o365_net *n;
    char key[TA__O365_KEY_MAX];

    v->o365 = 0;
    v->dns_used = false;
    v->service[0] = v->reason[0] = '\0';
    if (sni && *sni) {
        if (name_usable(sni, key)) {
            if ((p = ta__o365_find_name_key(&c->list, sni, key))) {
                set_verdict(v, p->area, "sni", p->pattern);
                return;
            }
            if ((x = ta__o365_excl_ix_find(c->eix, sni, key))) {
                set_excluded(sni, x, v);
                return;
            }
        }
    } else if (ip) {
        v->dns_used = true;
        if (rule_dns(c, ip, r->ts_us, v))
            return;
    }
    if (rule_cert(c, r->cert_cn, r->cert_sans, v))
        return;
    if (ip && (n = ta__o365_addr_ix_find(c->aix, ip))) {
        set_verdict(v, n->area, "ip", n->cidr);
        return;
    }
    if (rule_banner(r->greeting_host, r->greeting, v))
        return;
    rule_ndpi(r->ndpi_name, v);
}

/* See o365_int.h. The service only with o365 = 1; the reason whenever a rule gave one (an
 * excluded name gives one with o365 = 0). NULLs bound explicitly: the UPDATE is reset, not
 * cleared, between rows. */
void ta__o365_bind_verdict(sqlite3_stmt *s, int col, const struct ta__o365_verdict *v)
{
    sqlite3_bind_int(s, col, v->o365);
    if (v->o365)
        sqlite3_bind_text(s, col + 1, v->service, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, col + 1);
    if (v->reason[0])
        sqlite3_bind_text(s, col + 2, v->reason, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, col + 2);
}

/* The current row of a SELECT_* query as rule input (pointers valid until the next step). */
static void select_row(sqlite3_stmt *s, struct ta__o365_row *r)
{
    r->sni = COL(s, C_SNI);
    r->server_ip = COL(s, C_SERVER);
    r->cert_cn = COL(s, C_CN);
    r->cert_sans = COL(s, C_SANS);
    r->greeting_host = COL(s, C_GHOST);
    r->greeting = COL(s, C_GREETING);
    r->ndpi_name = COL(s, C_NDPI);
    r->ts_us = sqlite3_column_int64(s, C_TS);
}

/* Has the stored verdict changed? (Unchanged rows are not rewritten.) */
static bool verdict_differs(sqlite3_stmt *s, const struct ta__o365_verdict *v)
{
    const char *svc = COL(s, C_SVC), *why = COL(s, C_REASON);
    if (sqlite3_column_int(s, C_O365) != v->o365)
        return true;
    if (!v->o365)
        return svc != NULL || (why ? strcmp(why, v->reason) != 0 : v->reason[0] != '\0');
    return !svc || !why || strcmp(svc, v->service) != 0 || strcmp(why, v->reason) != 0;
}

/* A pending update: ids and verdicts are collected while the SELECT runs and written after it,
 * because SQLite leaves undefined whether a running scan sees rows changed under it. */
struct change {
    int64_t id;
    struct ta__o365_verdict v;
};

/* Classify every row that `select` returns and update `table` by id. */
static int classify_table(struct ta__o365_cls *c, const char *select, const char *table, char *errbuf)
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
        struct ta__o365_verdict v;
        struct ta__o365_row r;
        select_row(s, &r);
        ta__o365_cls_row(c, &r, &v);
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
        ta__o365_bind_verdict(u, 2, &ch[i].v);
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

/* One query of ta__o365_cls_check_since: does a row it returns (?1 = from, ?2 = run) get
 * another verdict now? -1 when it cannot be read. */
static int check_table(struct ta__o365_cls *c, const char *sql, int64_t run_id, int64_t from)
{
    sqlite3_stmt *s = NULL;
    int changed = 0, rc;

    if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        return -1;
    }
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, run_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct ta__o365_verdict v;
        struct ta__o365_row r;
        select_row(s, &r);
        ta__o365_cls_row(c, &r, &v);
        if (verdict_differs(s, &v)) {
            changed = 1;
            break;
        }
    }
    if (!changed && rc != SQLITE_DONE)
        changed = -1;
    sqlite3_finalize(s);
    return changed;
}

/* See o365_rules.h. Only rows without SNI read the 'dns' rule; "+run_id" keeps SQLite on the
 * ts_us index (a few seconds of rows) instead of the run's. */
int ta__o365_cls_check_since(struct ta__o365_cls *c, int64_t run_id, int64_t from, bool *changed)
{
    char sql[768];
    int h, m = 0;

    snprintf(sql, sizeof(sql), "%s WHERE ts_us >= ?1 AND +run_id = ?2 AND "
             "(sni IS NULL OR sni = '')", SEL_HANDSHAKES);
    h = check_table(c, sql, run_id, from);
    if (h == 0) {
        snprintf(sql, sizeof(sql), "%s WHERE m.ts_us >= ?1 AND +m.run_id = ?2 AND "
                 "(h.sni IS NULL OR h.sni = '')", SEL_MAIL);
        m = check_table(c, sql, run_id, from);
    }
    *changed = h == 1 || m == 1;
    return h < 0 || m < 0 ? TA_ERR_IO : TA_OK;
}

/* See o365_int.h. */
int ta__o365_cls_open(sqlite3 *db, struct ta__o365_cls **out, char *errbuf)
{
    struct ta__o365_cls *c = calloc(1, sizeof(*c));
    int rc;

    *out = NULL;
    if (!c) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "classify: out of memory");
        return TA_ERR_NOMEM;
    }
    c->db = db;
    rc = ta__o365_ensure_default_locked(db, errbuf);
    if (rc == TA_OK)
        rc = ta__o365_list_load(db, &c->list, errbuf);
    if (rc == TA_OK && (ta__o365_addr_ix_new(&c->list, &c->aix) != TA_OK ||
                        ta__o365_excl_ix_new(&c->eix) != TA_OK)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "classify: out of memory");
        rc = TA_ERR_NOMEM;
    }
    if (rc == TA_OK &&
        (sqlite3_prepare_v3(db, "SELECT name FROM dns_answers WHERE addr = ?1 AND ts_us <= ?2 "
                            "ORDER BY ts_us DESC, id DESC LIMIT 16", -1,
                            SQLITE_PREPARE_PERSISTENT, &c->q_addr, NULL) != SQLITE_OK ||
         sqlite3_prepare_v3(db, "SELECT name FROM dns_answers WHERE cname = ?1 AND ts_us <= ?2 "
                            "ORDER BY ts_us DESC, id DESC LIMIT 1", -1,
                            SQLITE_PREPARE_PERSISTENT, &c->q_cname, NULL) != SQLITE_OK)) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "classify: %s", sqlite3_errmsg(db));
        rc = TA_ERR_IO;
    }
    if (rc != TA_OK) {
        ta__o365_cls_free(c);
        return rc;
    }
    (void)ta__o365_memo_new(db, &c->memo);   /* without it the rule walks for every row */
    *out = c;
    return TA_OK;
}

/* See o365_rules.h. */
void ta__o365_cls_forget(struct ta__o365_cls *c)
{
    if (c)
        ta__o365_memo_forget(c->memo);
}

void ta__o365_cls_watch_answers(struct ta__o365_cls *c, const uint64_t *epoch)
{
    if (c)
        ta__o365_memo_watch(c->memo, epoch);
}

void ta__o365_cls_free(struct ta__o365_cls *c)
{
    if (!c)
        return;
    sqlite3_finalize(c->q_addr);
    sqlite3_finalize(c->q_cname);
    ta__o365_memo_free(c->memo);
    ta__o365_addr_ix_free(c->aix);
    ta__o365_excl_ix_free(c->eix);
    ta__o365_list_free(&c->list);
    free(c);
}

/* Everything after BEGIN: classifier, both tables (only run_id's rows when > 0). */
static int classify_locked(sqlite3 *db, int64_t run_id, char *errbuf)
{
    struct ta__o365_cls *c = NULL;
    char sel_h[512], sel_m[512];
    int rc;

    snprintf(sel_h, sizeof(sel_h), "%s%s", SEL_HANDSHAKES, run_id > 0 ? " WHERE run_id = " : "");
    snprintf(sel_m, sizeof(sel_m), "%s%s", SEL_MAIL, run_id > 0 ? " WHERE m.run_id = " : "");
    if (run_id > 0) {
        size_t lh = strlen(sel_h), lm = strlen(sel_m);
        snprintf(sel_h + lh, sizeof(sel_h) - lh, "%lld", (long long)run_id);
        snprintf(sel_m + lm, sizeof(sel_m) - lm, "%lld", (long long)run_id);
    }
    rc = ta__o365_cls_open(db, &c, errbuf);
    if (rc == TA_OK)
        rc = classify_table(c, sel_h, "handshakes", errbuf);
    if (rc == TA_OK)
        rc = classify_table(c, sel_m, "mail_sessions", errbuf);
    ta__o365_cls_free(c);
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
