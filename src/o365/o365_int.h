/* o365_int.h - internals of the Office 365 layer (src/o365/): the endpoint list in force held in
 * memory for fast matching. The per-row classifier the store uses is in tlsaudit/o365_rules.h. */
#ifndef TLSAUDIT_O365_INT_H
#define TLSAUDIT_O365_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#include "tlsaudit/o365_rules.h"

#define TA__O365_NAME_MAX 256    /* host names compared (longer names never match) */
#define TA__O365_MAX_PATTERNS 10000
#define TA__O365_MAX_RANGES 10000

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

/* The lookup key of a name: its last two labels in lower case, "" when it has none. Both
 * ta__o365_find_name and the exclusion index bucket by it, so a row computes it once per name. */
#define TA__O365_KEY_MAX TA__O365_NAME_MAX
void ta__o365_name_key(const char *name, char key[TA__O365_KEY_MAX]);
/* ta__o365_find_name for a name already checked (non-empty, shorter than TA__O365_NAME_MAX)
 * whose key is key. */
const struct ta__o365_pat *ta__o365_find_name_key(const struct ta__o365_list *l, const char *name,
                                                  const char *key);

/* Hashed lookups the classifier builds once from the list in force and the exclusion table
 * (o365_lookup.c). Each answers exactly what the linear function it replaces per row answers
 * (ta__o365_find_addr, ta__o365_excluded); those stay as the reference the tests compare to. */
struct ta__o365_addr_ix;
struct ta__o365_excl_ix;
/* Index l->nets (l must outlive it). TA_OK or TA_ERR_NOMEM. */
int ta__o365_addr_ix_new(const struct ta__o365_list *l, struct ta__o365_addr_ix **out);
void ta__o365_addr_ix_free(struct ta__o365_addr_ix *x);
/* = ta__o365_find_addr(l, ip) for the l the index was built from. */
const struct ta__o365_net *ta__o365_addr_ix_find(const struct ta__o365_addr_ix *x, const char *ip);
/* Index the exclusion table. TA_OK or TA_ERR_NOMEM. */
int ta__o365_excl_ix_new(struct ta__o365_excl_ix **out);
void ta__o365_excl_ix_free(struct ta__o365_excl_ix *x);
/* = ta__o365_excluded(name) for a name already checked as for ta__o365_find_name_key, whose
 * key (ta__o365_name_key) is key. */
const struct ta__o365_excl *ta__o365_excl_ix_find(const struct ta__o365_excl_ix *x,
                                                  const char *name, const char *key);

/* A Microsoft name that is not Office 365 (o365_exclude.c): a feed-style pattern and why. */
struct ta__o365_excl {
    const char *pattern, *why;
};

/* The first exclusion whose pattern matches name (any case, trailing dot ignored), or NULL.
 * Read only after the list in force failed to match the same name (o365.c). */
const struct ta__o365_excl *ta__o365_excluded(const char *name);
/* The exclusion table itself, in its order (the first matching row wins); *n gets its length. */
const struct ta__o365_excl *ta__o365_excl_table(size_t *n);

/* The service area when a dot-separated part of an nDPI protocol name ("TLS.Teams") names a
 * Microsoft 365 service, else NULL (generic "Microsoft" and "Azure" labels included). */
const char *ta__o365_ndpi_area(const char *label);

/* The memo of the 'dns' rule per server address (o365_dns_memo.c). */
#define TA__O365_MEMO_DEPS 24    /* names a remembered walk may depend on; longer walks are not kept */
#define TA__O365_DNS_ROWS 16     /* answers the rule reads per address (its LIMIT) */

/* What one walk of the rule read: answers for the address (at most TA__O365_DNS_ROWS), the
 * 1-based position of the answer whose name matched (0: none), and the names it looked up as
 * CNAME targets (ndeps counts them all, deps keeps the first TA__O365_MEMO_DEPS). */
struct ta__o365_walk {
    unsigned rows, match_row, ndeps;
    char deps[TA__O365_MEMO_DEPS][TA__O365_NAME_MAX];
};

/* The CNAME walk from one name (o365.c): true when it matched (v set); names looked up as CNAME
 * targets are added to deps / *ndeps. */
typedef bool (*ta__o365_walk_fn)(void *arg, const char *name, int64_t ts,
                                 struct ta__o365_verdict *v, char (*deps)[TA__O365_NAME_MAX],
                                 unsigned *ndeps);

struct ta__o365_memo;
/* Prepare its reads on db (answers already stored count as seen). TA_OK, TA_ERR_NOMEM, TA_ERR_IO. */
int ta__o365_memo_new(sqlite3 *db, struct ta__o365_memo **out);
void ta__o365_memo_free(struct ta__o365_memo *m);
/* Drop every entry (after answers were deleted). NULL is accepted. */
void ta__o365_memo_forget(struct ta__o365_memo *m);
/* See ta__o365_cls_watch_answers (tlsaudit/o365_rules.h). NULL m is accepted. */
void ta__o365_memo_watch(struct ta__o365_memo *m, const uint64_t *epoch);
/* The 'dns' rule's verdict for addr at ts from the memo, if one holds: true with *matched and,
 * when matched, v's o365, service and reason set. Reads the answers stored since the last call
 * first; answers for addr that came after the remembered walk are walked here with walk (only
 * their names: the older ones' verdict stands). */
bool ta__o365_memo_get(struct ta__o365_memo *m, const char *addr, int64_t ts,
                       ta__o365_walk_fn walk, void *walk_arg, bool *matched,
                       struct ta__o365_verdict *v);
/* Remember the verdict a full walk for addr at ts gave (v read only when matched). Not kept when
 * it depends on more than TA__O365_MEMO_DEPS names or a read fails. */
void ta__o365_memo_put(struct ta__o365_memo *m, const char *addr, int64_t ts,
                       const struct ta__o365_walk *w, bool matched,
                       const struct ta__o365_verdict *v);

/* ta_o365_ensure_default inside a transaction the caller holds. */
int ta__o365_ensure_default_locked(sqlite3 *db, char *errbuf);

/* Run sql (no result rows) with errbuf set on failure. Returns TA_OK or TA_ERR_IO. */
int ta__o365_exec(sqlite3 *db, const char *sql, char *errbuf);

#endif
