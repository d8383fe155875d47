/* test_o365_lookup.c - the hashed lookups of the Office 365 rules (src/o365/o365_lookup.c) and
 * the per-row classifier built on them answer exactly what the linear rules answer.
 *
 * On a real SQLite file: the built-in endpoint list, then an imported set made to be awkward
 * (the same network under several endpoint ids and areas, nested ranges, host bits in a range,
 * ::/0 and 0.0.0.0/0, wildcards in the last two labels). For each list, every address range's
 * first, last, inside and just-outside addresses plus random ones go through the address index
 * and through ta__o365_find_addr; names made from the list's patterns and the exclusion table
 * (wildcards filled, case changed, trailing dots, near misses, overlong) go through the exclusion
 * index and ta__o365_excluded; and random rows go through ta__o365_cls_row and through a
 * reference written here from the linear functions in the rules' order (o365.h). Then a DNS
 * answer stored after rows were classified must change the next row's verdict, and a new
 * endpoint set must be what a classifier opened after it uses. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "store_fixture.h"
#include "o365_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/o365.h"
#include "tlsaudit/store.h"

/* The reference builds reasons with snprintf as the rules did, cutting long ones on purpose.
 * (gcc's warning only: clang has no -Wformat-truncation, and -Werror would reject the name.) */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

static char dir[] = "/tmp/ta_o365_lookup_XXXXXX";

#define TEST_RNG_SEED 0x2545f4914f6cdd1dull
#include "test_rng.h"

#define POOL 4000
static char names[POOL][300];
static size_t nnames;
static char addrs[POOL][64];
static size_t naddrs;

static void add_name(const char *s)
{
    if (nnames < POOL)
        snprintf(names[nnames++], sizeof(names[0]), "%s", s);
}

static void add_addr(const char *s)
{
    if (naddrs < POOL)
        snprintf(addrs[naddrs++], sizeof(addrs[0]), "%s", s);
}

/* A name the pattern matches, or nearly: each '*' filled with one or more labels or with text,
 * letters flipped to upper case at random, sometimes a trailing dot or a change that must miss. */
static void names_from(const char *pattern)
{
    static const char *const fill[] = { "a", "x-y", "b.c", "outlook", "d.e.f", "" };
    char out[300];
    size_t o = 0;
    for (const char *p = pattern; *p && o < sizeof(out) - 16; p++) {
        if (*p == '*') {
            const char *f = fill[rnd(TA_ARRAY_LEN(fill))];
            memcpy(out + o, f, strlen(f));
            o += strlen(f);
        } else {
            out[o++] = rnd(4) == 0 && *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
        }
    }
    out[o] = '\0';
    add_name(out);
    switch (rnd(6)) {
    case 0: { char t[310]; snprintf(t, sizeof(t), "%s.", out); add_name(t); break; }
    case 1: { char t[310]; snprintf(t, sizeof(t), "x%s", out); add_name(t); break; }
    case 2: { char t[310]; snprintf(t, sizeof(t), "%s.evil.example", out); add_name(t); break; }
    case 3: { char t[310]; snprintf(t, sizeof(t), "w.%s", out); add_name(t); break; }
    case 4: if (strchr(out, '.')) add_name(strchr(out, '.') + 1); break;
    default: { char t[310]; snprintf(t, sizeof(t), "%sx", out); add_name(t); break; }
    }
}

/* Names from the list's patterns, the exclusion table, and hand-made edge cases. */
static void make_names(const struct ta__o365_list *l)
{
    static const char *const edge[] = {
        "", ".", "..", "a..b.com", "com", "live.com", "LIVE.COM.", "xlive.com", "live.com.",
        "live.com..", "microsoft.com.evil.example", "img-prod-cms-rt-microsoft-com.akamaized.net",
        "statics-marketingsites-eus-ms-com.akamaized.net", "a.b.blob.core.windows.net",
        "blob.core.windows.net", "outlook.office365.com", "teams.microsoft.com",
        "www.microsoft.com", "login.microsoftonline.com", "x.sharepoint.com", "www.example.com" };
    size_t nx;
    const struct ta__o365_excl *x = ta__o365_excl_table(&nx);
    char longname[300];

    nnames = 0;
    for (size_t i = 0; i < TA_ARRAY_LEN(edge); i++)
        add_name(edge[i]);
    for (size_t i = 0; i < l->npats; i++)
        names_from(l->pats[i].pattern);
    for (int k = 0; k < 3; k++)
        for (size_t i = 0; i < nx; i++)
            names_from(x[i].pattern);
    memset(longname, 'a', sizeof(longname) - 1);   /* around TA__O365_NAME_MAX */
    for (size_t len = 250; len < 260; len++) {
        longname[len] = '\0';
        memcpy(longname + len - 14, ".microsoft.com", 14);
        add_name(longname);
        longname[len] = 'a';
    }
}

/* The text of a 16-byte address as the store writes it: dotted quad for ::ffff:a.b.c.d. */
static void addr_text(const uint8_t a[16], char *out)
{
    static const uint8_t v4[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(a, v4, 12) == 0)
        inet_ntop(AF_INET, a + 12, out, 64);
    else
        inet_ntop(AF_INET6, a, out, 64);
}

/* Addresses at and around every range of l, random ones, and texts that are not addresses. */
static void make_addrs(const struct ta__o365_list *l)
{
    static const char *const edge[] = { "", "1.2.3", "1.2.3.4/8", "52.96.0.1/32", "abc", "::",
                                        "::ffff:52.96.0.1", "255.255.255.255", "0.0.0.0", "::1" };
    naddrs = 0;
    for (size_t i = 0; i < TA_ARRAY_LEN(edge); i++)
        add_addr(edge[i]);
    for (size_t i = 0; i < l->nnets; i++) {
        const struct ta__o365_net *n = &l->nets[i];
        uint8_t a[16], b[16];
        char t[64];
        memcpy(a, n->net, 16);
        addr_text(a, t);
        add_addr(t);                                /* first */
        for (unsigned k = n->bits; k < 128; k++)    /* last */
            a[k / 8] |= (uint8_t)(0x80u >> (k % 8));
        addr_text(a, t);
        add_addr(t);
        memcpy(b, a, 16);                           /* one past the last */
        for (int k = 15; k >= 0 && ++b[k] == 0; k--)
            ;
        addr_text(b, t);
        add_addr(t);
        memcpy(b, n->net, 16);                      /* one before the first */
        for (int k = 15; k >= 0 && b[k]-- == 0; k--)
            ;
        addr_text(b, t);
        add_addr(t);
        memcpy(a, n->net, 16);                      /* random inside */
        for (unsigned k = n->bits; k < 128; k++)
            if (rnd(2))
                a[k / 8] |= (uint8_t)(0x80u >> (k % 8));
        addr_text(a, t);
        add_addr(t);
    }
    for (int i = 0; i < 400; i++) {
        uint8_t a[16] = { 0 };
        char t[64];
        if (rnd(2)) {
            a[10] = a[11] = 0xff;
            for (int k = 12; k < 16; k++)
                a[k] = (uint8_t)rnd(256);
            if (rnd(2))
                a[12] = (uint8_t)(rnd(2) ? 52 : 40);   /* near Microsoft's /14s */
        } else {
            for (int k = 0; k < 16; k++)
                a[k] = (uint8_t)rnd(256);
            if (rnd(2)) {
                a[0] = 0x26;
                a[1] = (uint8_t)(rnd(2) ? 0x03 : 0x20);
            }
        }
        addr_text(a, t);
        add_addr(t);
    }
}

/* The address index against ta__o365_find_addr, the exclusion index against
 * ta__o365_excluded, find_name_key against find_name, on every address and name of the pools. */
static void compare_lookups(const struct ta__o365_list *l, int *hits_addr, int *hits_excl)
{
    struct ta__o365_addr_ix *ax = NULL;
    struct ta__o365_excl_ix *ex = NULL;

    CHECK_INT(ta__o365_addr_ix_new(l, &ax), TA_OK);
    CHECK_INT(ta__o365_excl_ix_new(&ex), TA_OK);
    if (!ax || !ex)
        return;
    for (size_t i = 0; i < naddrs; i++) {
        const struct ta__o365_net *a = ta__o365_find_addr(l, addrs[i]);
        const struct ta__o365_net *b = ta__o365_addr_ix_find(ax, addrs[i]);
        if (a != b)
            fprintf(stderr, "address %s: linear %s, index %s\n", addrs[i], a ? a->cidr : "-",
                    b ? b->cidr : "-");
        CHECK(a == b);
        *hits_addr += a != NULL;
    }
    CHECK(ta__o365_addr_ix_find(ax, NULL) == NULL);
    for (size_t i = 0; i < nnames; i++) {
        char key[TA__O365_KEY_MAX];
        const char *n = names[i];
        bool usable = *n && strlen(n) < TA__O365_NAME_MAX;
        const struct ta__o365_excl *a = ta__o365_excluded(n), *b = NULL;
        const struct ta__o365_pat *p = ta__o365_find_name(l, n), *q = NULL;
        if (usable) {
            ta__o365_name_key(n, key);
            b = ta__o365_excl_ix_find(ex, n, key);
            q = ta__o365_find_name_key(l, n, key);
        }
        if (a != b)
            fprintf(stderr, "name %s: linear %s, index %s\n", n, a ? a->pattern : "-",
                    b ? b->pattern : "-");
        CHECK(a == b);
        CHECK(p == q);
        *hits_excl += a != NULL;
    }
    ta__o365_addr_ix_free(ax);
    ta__o365_excl_ix_free(ex);
}

/* --- the reference: the rules of o365.h, one after the other, on the linear lookups --- */

static void ref_set(struct ta__o365_verdict *v, const char *area, const char *kind,
                    const char *what)
{
    v->o365 = 1;
    snprintf(v->service, sizeof(v->service), "%s", area);
    snprintf(v->reason, sizeof(v->reason), "%s:%s", kind, what);
}

static bool ref_excluded(const char *name, struct ta__o365_verdict *v)
{
    const struct ta__o365_excl *x = ta__o365_excluded(name);
    if (!x)
        return false;
    v->o365 = 0;
    v->service[0] = '\0';
    snprintf(v->reason, sizeof(v->reason), "excluded-name: %s (%s)", name, x->why);
    return true;
}

/* The names of a certificate in order: the CN, then each SAN ("DNS:" and spaces dropped). */
static size_t ref_cert_names(const char *cn, const char *sans, char out[][TA__O365_NAME_MAX],
                             size_t cap)
{
    size_t n = 0;
    if (cn && n < cap)
        snprintf(out[n++], TA__O365_NAME_MAX, "%s", cn);
    while (sans && *sans && n < cap) {
        char one[TA__O365_NAME_MAX];
        size_t len;
        while (*sans == ',' || *sans == ' ')
            sans++;
        len = strcspn(sans, ",");
        if (len > 0 && len < TA__O365_NAME_MAX) {
            memcpy(one, sans, len);
            one[len] = '\0';
            while (len && one[len - 1] == ' ')
                one[--len] = '\0';
            snprintf(out[n++], TA__O365_NAME_MAX, "%s",
                     strncasecmp(one, "DNS:", 4) == 0 ? one + 4 : one);
        }
        sans += len;
    }
    return n;
}

static bool ref_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    if (n && s[n - 1] == '.')
        n--;
    return n > m && strncasecmp(s + n - m, suffix, m) == 0;
}

static bool ref_contains(const char *hay, const char *needle)
{
    for (size_t m = strlen(needle); *hay; hay++)
        if (strncasecmp(hay, needle, m) == 0)
            return true;
    return false;
}

/* The rules for a row whose 'dns' rule finds no answers (this file stores none for them). */
static void ref_row(const struct ta__o365_list *l, const struct ta__o365_row *r,
                    struct ta__o365_verdict *v)
{
    char cert[64][TA__O365_NAME_MAX];
    size_t nc = ref_cert_names(r->cert_cn, r->cert_sans, cert, 64);
    const struct ta__o365_pat *p;
    const struct ta__o365_net *n;
    const char *area;

    v->o365 = 0;
    v->service[0] = v->reason[0] = '\0';
    if (r->sni && *r->sni) {
        if ((p = ta__o365_find_name(l, r->sni))) {
            ref_set(v, p->area, "sni", p->pattern);
            return;
        }
        if (ref_excluded(r->sni, v))
            return;
    }
    for (size_t i = 0; i < nc; i++)
        if ((p = ta__o365_find_name(l, cert[i]))) {
            ref_set(v, p->area, "cert", cert[i]);
            return;
        }
    for (size_t i = 0; i < nc; i++)
        if (ref_excluded(cert[i], v))
            return;
    if (r->server_ip && (n = ta__o365_find_addr(l, r->server_ip))) {
        ref_set(v, n->area, "ip", n->cidr);
        return;
    }
    if (r->greeting_host && (ref_ends_with(r->greeting_host, ".outlook.com") ||
                             ref_ends_with(r->greeting_host, ".office365.com"))) {
        ref_set(v, "Exchange", "banner", r->greeting_host);
        return;
    }
    if (r->greeting && ref_contains(r->greeting, "Microsoft ESMTP MAIL Service")) {
        ref_set(v, "Exchange", "banner", "Microsoft ESMTP MAIL Service");
        return;
    }
    if (r->greeting && ref_contains(r->greeting, "Microsoft Exchange")) {
        ref_set(v, "Exchange", "banner", "Microsoft Exchange");
        return;
    }
    if ((area = ta__o365_ndpi_area(r->ndpi_name)))
        ref_set(v, area, "ndpi", r->ndpi_name);
}

/* A name of the pool, or NULL / "" now and then. */
static const char *some_name(void)
{
    unsigned k = rnd(20);
    return k == 0 ? NULL : k == 1 ? "" : names[rnd((unsigned)nnames)];
}

/* n random rows through the classifier and the reference; returns how many were Office 365. */
static int compare_rows(struct ta__o365_cls *c, const struct ta__o365_list *l, int n)
{
    static const char *const greetings[] = {
        "220 mx.example.com ESMTP Postfix", "220 BN8PR.outlook.com Microsoft ESMTP MAIL Service ready",
        "* OK The microsoft exchange IMAP4 service is ready.", "+OK MICROSOFT EXCHANGE POP3",
        "220 Microsoft ESMT", "220 mm Microsoft Exchang", "" };
    static const char *const hosts[] = { "mx.outlook.com", "X.OFFICE365.COM.", "outlook.com",
                                         "mail.example.com", ".outlook.com", "" };
    static const char *const ndpi[] = { "TLS.Teams", "TLS.Microsoft", "QUIC.Microsoft365",
                                        "TLS", "TeamViewer", "TLS.OneDrive" };
    int o365 = 0;
    for (int i = 0; i < n; i++) {
        char sans[2048] = "";
        struct ta__o365_row r = { 0 };
        struct ta__o365_verdict a, b;
        size_t len = 0;
        for (unsigned k = rnd(6); k > 0 && len < 1500; k--)
            len += (size_t)snprintf(sans + len, sizeof(sans) - len, "%s%s%s", len ? "," : "",
                                    rnd(3) ? "DNS:" : " ", names[rnd((unsigned)nnames)]);
        r.sni = rnd(3) ? some_name() : NULL;
        r.cert_cn = rnd(2) ? some_name() : NULL;
        r.cert_sans = rnd(3) ? sans : NULL;
        r.server_ip = addrs[rnd((unsigned)naddrs)];
        if (!r.sni || !*r.sni)       /* no answers here: only addresses with none */
            r.server_ip = rnd(2) ? addrs[rnd((unsigned)naddrs)] : NULL;
        r.greeting_host = rnd(3) ? NULL : hosts[rnd(TA_ARRAY_LEN(hosts))];
        r.greeting = rnd(3) ? NULL : greetings[rnd(TA_ARRAY_LEN(greetings))];
        r.ndpi_name = rnd(3) ? NULL : ndpi[rnd(TA_ARRAY_LEN(ndpi))];
        r.ts_us = 1000000 + i;
        ta__o365_cls_row(c, &r, &a);
        ref_row(l, &r, &b);
        if (a.o365 != b.o365 || strcmp(a.service, b.service) || strcmp(a.reason, b.reason)) {
            fprintf(stderr, "row sni=%s cn=%s sans=%s ip=%s: classifier %d '%s' '%s', "
                    "reference %d '%s' '%s'\n", r.sni ? r.sni : "(null)",
                    r.cert_cn ? r.cert_cn : "(null)", r.cert_sans ? r.cert_sans : "(null)",
                    r.server_ip ? r.server_ip : "(null)", a.o365, a.service, a.reason, b.o365,
                    b.service, b.reason);
            CHECK(0);
        }
        o365 += a.o365;
    }
    return o365;
}

/* One list: lookups and rows compared, with enough hits of each kind to mean something. */
static void compare_list(sqlite3 *db, const char *what)
{
    char errbuf[TA_ERRBUF_SIZE] = "";
    struct ta__o365_list l;
    struct ta__o365_cls *c = NULL;
    int hits_addr = 0, hits_excl = 0, o365;

    CHECK_INT(ta__o365_list_load(db, &l, errbuf), TA_OK);
    CHECK_INT(ta__o365_cls_open(db, &c, errbuf), TA_OK);
    if (!c)
        return;
    make_names(&l);
    make_addrs(&l);
    compare_lookups(&l, &hits_addr, &hits_excl);
    o365 = compare_rows(c, &l, 20000);
    printf("%s: %zu ranges, %zu patterns; %zu addresses (%d in a range), %zu names (%d "
           "excluded), 20000 rows (%d Office 365)\n", what, l.nnets, l.npats, naddrs, hits_addr,
           nnames, hits_excl, o365);
    CHECK(hits_addr > (int)l.nnets * 2);
    CHECK(hits_excl > 100);
    CHECK(o365 > 2000 && o365 < 18000);
    ta__o365_cls_free(c);
    ta__o365_list_free(&l);
}

static const char awkward_set[] =
    "[{\"id\": 5, \"serviceArea\": \"Exchange\", \"urls\": [\"*.contoso.com\", \"mail.contoso.com\","
    " \"*.contoso.*\", \"a*.fabrikam.net\"],"
    " \"ips\": [\"10.0.0.0/8\", \"10.1.0.0/16\", \"2001:db8::/32\", \"0.0.0.0/0\"]},"
    " {\"id\": 3, \"serviceArea\": \"SharePoint\", \"urls\": [\"*.sharepoint.com\"],"
    " \"ips\": [\"10.0.0.0/8\", \"10.1.2.0/24\", \"10.1.2.3/8\", \"2001:db8:1::/48\", \"::/0\"]},"
    " {\"id\": 9, \"serviceArea\": \"Skype\", \"urls\": [\"teams.microsoft.com\"],"
    " \"ips\": [\"10.1.2.0/24\", \"192.0.2.1/32\", \"2001:db8:1::/48\", \"10.200.0.0/13\"]}]";

int main(void)
{
    char db_path[1100], errbuf[TA_ERRBUF_SIZE] = "";
    struct ta_store *st = NULL;
    struct ta__o365_cls *before = NULL, *after = NULL;

    st = fixture_store(dir, "lookup.db", db_path, sizeof(db_path));
    if (!st)
        return CHECK_DONE();
    sqlite3 *db = ta_store_db(st);
    CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(ta__o365_ensure_default_locked(db, errbuf), TA_OK);
    compare_list(db, "built-in list");

    /* A DNS answer stored after a row was classified: the next row sees it. */
    CHECK_INT(ta__o365_cls_open(db, &before, errbuf), TA_OK);
    if (before) {
        struct ta__o365_row r = { .server_ip = "198.51.100.77", .ts_us = 5000000 };
        struct ta__o365_verdict v;
        ta__o365_cls_row(before, &r, &v);
        CHECK_INT(v.o365, 0);
        CHECK(v.dns_used);
        CHECK_INT(sqlite3_exec(db, "INSERT INTO dns_answers(ts, ts_us, name, ipver, addr) VALUES "
                               "('2026-01-05T09:00:00Z', 4000000, 'outlook.office365.com', 4, "
                               "'198.51.100.77')", NULL, NULL, NULL), SQLITE_OK);
        r.ts_us = 5000001;
        ta__o365_cls_row(before, &r, &v);
        CHECK_INT(v.o365, 1);
        CHECK_STR(v.reason, "dns:outlook.office365.com");
        CHECK_INT(sqlite3_exec(db, "DELETE FROM dns_answers", NULL, NULL, NULL), SQLITE_OK);
        ta__o365_cls_forget(before);
    }

    /* A new endpoint set: a classifier opened after it uses it; one opened before keeps its own
     * list (the store opens a new one per run and on reload). */
    CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);   /* import has its own */
    CHECK_INT(ta_o365_import(db, awkward_set, "Worldwide", "test-1", "test", false, errbuf), TA_OK);
    if (errbuf[0])
        fprintf(stderr, "import: %s\n", errbuf);
    CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    CHECK_INT(ta__o365_cls_open(db, &after, errbuf), TA_OK);
    if (before && after) {
        struct ta__o365_row r = { .sni = "x.contoso.com", .server_ip = "10.1.2.9", .ts_us = 1 };
        struct ta__o365_verdict v;
        ta__o365_cls_row(after, &r, &v);
        CHECK_STR(v.reason, "sni:*.contoso.com");
        ta__o365_cls_row(before, &r, &v);
        CHECK_INT(v.o365, 0);
        r.sni = "www.example.org";
        ta__o365_cls_row(after, &r, &v);
        CHECK_STR(v.reason, "ip:10.1.2.0/24");
        CHECK_STR(v.service, "SharePoint");   /* endpoint 3 before 9 for the same range */
        r.server_ip = "10.9.9.9";
        ta__o365_cls_row(after, &r, &v);
        CHECK(strcmp(v.reason, "ip:10.0.0.0/8") == 0 || strcmp(v.reason, "ip:10.1.2.3/8") == 0);
    }
    ta__o365_cls_free(before);
    ta__o365_cls_free(after);
    compare_list(db, "imported set");
    CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    ta_store_close(st);
    check_dir_done(dir);
    return CHECK_DONE();
}
