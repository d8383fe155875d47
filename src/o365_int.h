/* o365_int.h - internals shared by src/o365*.c, src/endpoints.c and the store: the endpoint list
 * in force held in memory for fast matching, and the rules applied to one row. */
#ifndef TLSAUDIT_O365_INT_H
#define TLSAUDIT_O365_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#define TA__O365_AREA_MAX 24     /* service area names: Exchange, SharePoint, Skype, Common */
#define TA__O365_NAME_MAX 256    /* host names compared (longer names never match) */
#define TA__O365_MAX_PATTERNS 10000
#define TA__O365_MAX_RANGES 10000
#define TA__O365_REASON_MAX 320

/* One URL pattern of the list in force. key: its last two labels when both are literal (the
 * bucket a name is looked up in), "" for the few patterns that must be tried on every name. */
struct ta__o365_pat {
    char *pattern;                   /* lower case, no trailing dot */
    char key[128];                   /* two labels of at most 63 bytes each */
    char area[TA__O365_AREA_MAX];
    int64_t endpoint_id;
    int score;                       /* higher is more specific: exact beats wildcard */
};

/* One address range of the list in force. */
struct ta__o365_net {
    uint8_t net[16];
    unsigned bits;                   /* over 128 bits (IPv4 as ::ffff:0:0/96 + n) */
    char cidr[64];
    char area[TA__O365_AREA_MAX];
    int64_t endpoint_id;
};

struct ta__o365_list {
    int64_t set_id;
    struct ta__o365_pat *pats;       /* sorted by key, then score (best first) */
    size_t npats;
    size_t nwild;                    /* pats[0..nwild) have key "" */
    struct ta__o365_net *nets;       /* sorted by prefix length, longest first */
    size_t nnets;
};

/* Load the set in force (highest id) into l. Returns TA_OK, TA_ERR_IO or TA_ERR_NOMEM. */
int ta__o365_list_load(sqlite3 *db, struct ta__o365_list *l, char *errbuf);
void ta__o365_list_free(struct ta__o365_list *l);

/* Best pattern matching name (any case, trailing dot ignored), or NULL. */
const struct ta__o365_pat *ta__o365_find_name(const struct ta__o365_list *l, const char *name);

/* Longest range containing the address text (IPv4 or IPv6), or NULL. */
const struct ta__o365_net *ta__o365_find_addr(const struct ta__o365_list *l, const char *ip);

/* A Microsoft name that is not Office 365 (o365_exclude.c): a feed-style pattern and why. */
struct ta__o365_excl {
    const char *pattern, *why;
};

/* The first exclusion whose pattern matches name (any case, trailing dot ignored), or NULL.
 * Read only after the list in force failed to match the same name (o365.c). */
const struct ta__o365_excl *ta__o365_excluded(const char *name);

/* The service area when a dot-separated part of an nDPI protocol name ("TLS.Teams") names a
 * Microsoft 365 service, else NULL (generic "Microsoft" and "Azure" labels included). */
const char *ta__o365_ndpi_area(const char *label);

/* ta_o365_ensure_default inside a transaction the caller holds. */
int ta__o365_ensure_default_locked(sqlite3 *db, char *errbuf);

/* What the rules read of one row, as stored (NULL or "" = no value). A handshakes row gives its
 * own columns; a mail_sessions row its ts_us, server_ip and greeting, and the sni, cert_cn,
 * cert_sans and ndpi_name of its handshake (all NULL without one). */
struct ta__o365_row {
    const char *sni, *server_ip, *cert_cn, *cert_sans, *greeting_host, *greeting, *ndpi_name;
    int64_t ts_us;
};

/* The verdict for one row: the o365, o365_service and o365_reason columns. dns_used says that
 * the 'dns' rule was tried, i.e. the verdict depends on the dns_answers rows with
 * ts_us <= row.ts_us. */
struct ta__o365_verdict {
    int o365;
    bool dns_used;
    char service[TA__O365_AREA_MAX];
    char reason[TA__O365_REASON_MAX];
};

/* A classifier on one connection: the list in force and the prepared passive-DNS lookups. */
struct ta__o365_cls;

/* Inside a transaction the caller holds: load the built-in list when the database has none,
 * load the list in force and prepare the lookups. Returns TA_OK, TA_ERR_IO or TA_ERR_NOMEM
 * (errbuf set; *out NULL). */
int ta__o365_cls_open(sqlite3 *db, struct ta__o365_cls **out, char *errbuf);
/* Finalizes the statements (before the connection closes); NULL is accepted. */
void ta__o365_cls_free(struct ta__o365_cls *c);
/* Apply the rules of o365.h to r, first match wins. The DNS rule reads dns_answers through the
 * classifier's connection (rows of its open transaction included). No allocation. */
void ta__o365_cls_row(struct ta__o365_cls *c, const struct ta__o365_row *r,
                      struct ta__o365_verdict *v);

/* Bind v to the o365, o365_service and o365_reason parameters col, col + 1, col + 2 of s: what
 * both the pass (o365.c) and the store at insert time (store_o365.c) write. SQLITE_STATIC: v
 * must outlive the step. */
void ta__o365_bind_verdict(sqlite3_stmt *s, int col, const struct ta__o365_verdict *v);

/* Run sql (no result rows) with errbuf set on failure. Returns TA_OK or TA_ERR_IO. */
int ta__o365_exec(sqlite3 *db, const char *sql, char *errbuf);

#endif
