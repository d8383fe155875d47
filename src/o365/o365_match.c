/* o365_match.c - the Office 365 endpoint list in memory: URL pattern matching by DNS labels,
 * CIDR ranges compared as 128-bit prefixes, and loading the list in force from the database. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "o365_int.h"
#include "tlsaudit/common.h"
#include "tlsaudit/cidr.h"
#include "tlsaudit/o365.h"

#define MAX_LABELS 128   /* a 255-byte name has at most 128 labels */

/* A name split into labels: start offset and length of each, left to right. */
struct labels {
    const char *s;
    size_t n;
    size_t off[MAX_LABELS], len[MAX_LABELS];
};

/* Split s[0..len) at dots; a trailing dot is ignored. False for an empty label or too many. */
static bool split_labels(const char *s, size_t len, struct labels *out)
{
    size_t start = 0;
    if (len > 0 && s[len - 1] == '.')
        len--;
    out->s = s;
    out->n = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        if (i == start || out->n == MAX_LABELS)
            return false;
        out->off[out->n] = start;
        out->len[out->n++] = i - start;
        start = i + 1;
    }
    return true;
}

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/* Glob inside one label: '*' matches any run of characters (possibly empty), case-insensitive.
 * Iterative with one backtrack point, so it is linear-ish and cannot recurse deeply. */
static bool label_glob(const char *p, size_t pn, const char *s, size_t sn)
{
    size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;
    while (si < sn) {
        if (pi < pn && p[pi] == '*') {
            star = pi++;
            mark = si;
        } else if (pi < pn && lower(p[pi]) == lower(s[si])) {
            pi++;
            si++;
        } else if (star != (size_t)-1) {
            pi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (pi < pn && p[pi] == '*')
        pi++;
    return pi == pn;
}

/* Labels p[i..] against n[j..]: a "*" label takes one or more labels. Depth is bounded by the
 * pattern's label count; patterns have at most a few '*' labels. */
static bool match_from(const struct labels *p, size_t i, const struct labels *n, size_t j)
{
    if (i == p->n)
        return j == n->n;
    if (p->len[i] == 1 && p->s[p->off[i]] == '*') {
        for (size_t k = j + 1; k <= n->n; k++)
            if (match_from(p, i + 1, n, k))
                return true;
        return false;
    }
    if (j == n->n)
        return false;
    if (!label_glob(p->s + p->off[i], p->len[i], n->s + n->off[j], n->len[j]))
        return false;
    return match_from(p, i + 1, n, j + 1);
}

bool ta_o365_pattern_match(const char *pattern, const char *name)
{
    struct labels p, n;
    if (!pattern || !name || !split_labels(pattern, strlen(pattern), &p) ||
        !split_labels(name, strlen(name), &n))
        return false;
    if (p.n > n.n)
        return false;   /* every pattern label takes at least one name label */
    return match_from(&p, 0, &n, 0);
}

/* The lookup key of a name: its last two labels ("" when it has none). */
static void name_key(const char *name, char *key, size_t cap)
{
    struct labels l;
    key[0] = '\0';
    if (!split_labels(name, strlen(name), &l))
        return;
    size_t first = l.n >= 2 ? l.n - 2 : 0;
    size_t from = l.off[first], to = l.off[l.n - 1] + l.len[l.n - 1];
    if (to - from >= cap)
        return;
    for (size_t i = from; i < to; i++)
        key[i - from] = lower(name[i]);
    key[to - from] = '\0';
}

/* Score: an exact name beats any wildcard; then the longer literal part; then the feed's order
 * (lower endpoint id), applied by the sort. */
static int pattern_score(const char *p)
{
    int lit = 0;
    bool wild = false;
    for (; *p; p++) {
        if (*p == '*')
            wild = true;
        else
            lit++;
    }
    return (wild ? 0 : 100000) + lit;
}

static int pat_cmp(const void *a, const void *b)
{
    const struct ta__o365_pat *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c)
        return c;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->endpoint_id != y->endpoint_id)
        return x->endpoint_id < y->endpoint_id ? -1 : 1;
    return strcmp(x->pattern, y->pattern);
}

static int net_cmp(const void *a, const void *b)
{
    const struct ta__o365_net *x = a, *y = b;
    if (x->bits != y->bits)
        return x->bits > y->bits ? -1 : 1;
    if (x->endpoint_id != y->endpoint_id)
        return x->endpoint_id < y->endpoint_id ? -1 : 1;
    return memcmp(x->net, y->net, 16);
}

/* Fill l->pats from the set's URL patterns. The key is "" unless the last two labels are
 * literal, so "*.com"-like patterns are still tried on every name. */
static int load_patterns(sqlite3 *db, struct ta__o365_list *l, char *errbuf)
{
    sqlite3_stmt *s = NULL;
    int rc = TA_OK;
    const char *sql = "SELECT pattern, service_area, MIN(endpoint_id) FROM endpoint_urls "
                      "WHERE set_id = ?1 GROUP BY pattern, service_area";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint list: %s", sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    sqlite3_bind_int64(s, 1, l->set_id);
    while (rc == TA_OK && sqlite3_step(s) == SQLITE_ROW) {
        const char *pat = (const char *)sqlite3_column_text(s, 0);
        const char *area = (const char *)sqlite3_column_text(s, 1);
        struct ta__o365_pat *p;
        if (!pat || !area || strlen(pat) >= TA__O365_NAME_MAX)
            continue;
        if (l->npats == TA__O365_MAX_PATTERNS) {
            rc = TA_ERR_NOMEM;
            break;
        }
        p = &l->pats[l->npats];
        if (!(p->pattern = strdup(pat))) {
            rc = TA_ERR_NOMEM;
            break;
        }
        snprintf(p->area, sizeof(p->area), "%s", area);
        p->endpoint_id = sqlite3_column_int64(s, 2);
        p->score = pattern_score(pat);
        name_key(pat, p->key, sizeof(p->key));
        if (strchr(p->key, '*'))
            p->key[0] = '\0';
        l->npats++;
    }
    sqlite3_finalize(s);
    if (rc != TA_OK)
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint list: more than %d URL patterns or no memory",
                 TA__O365_MAX_PATTERNS);
    return rc;
}

/* Fill l->nets from the set's ranges; a range that does not parse is skipped (import checked
 * them, so this only guards against hand-edited databases). */
static int load_ranges(sqlite3 *db, struct ta__o365_list *l, char *errbuf)
{
    sqlite3_stmt *s = NULL;
    const char *sql = "SELECT cidr, service_area, MIN(endpoint_id) FROM endpoint_ips "
                      "WHERE set_id = ?1 GROUP BY cidr, service_area";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint list: %s", sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    sqlite3_bind_int64(s, 1, l->set_id);
    while (sqlite3_step(s) == SQLITE_ROW && l->nnets < TA__O365_MAX_RANGES) {
        const char *cidr = (const char *)sqlite3_column_text(s, 0);
        const char *area = (const char *)sqlite3_column_text(s, 1);
        struct ta__o365_net *n = &l->nets[l->nnets];
        int ver;
        if (!cidr || !area || !ta_cidr_parse(cidr, n->net, &n->bits, &ver))
            continue;
        snprintf(n->cidr, sizeof(n->cidr), "%s", cidr);
        snprintf(n->area, sizeof(n->area), "%s", area);
        n->endpoint_id = sqlite3_column_int64(s, 2);
        l->nnets++;
    }
    sqlite3_finalize(s);
    return TA_OK;
}

int ta__o365_list_load(sqlite3 *db, struct ta__o365_list *l, char *errbuf)
{
    sqlite3_stmt *s = NULL;
    int rc;

    memset(l, 0, sizeof(*l));
    l->set_id = -1;
    if (sqlite3_prepare_v2(db, "SELECT MAX(id) FROM endpoint_sets", -1, &s, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint list: %s", sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        l->set_id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    l->pats = calloc(TA__O365_MAX_PATTERNS, sizeof(*l->pats));
    l->nets = calloc(TA__O365_MAX_RANGES, sizeof(*l->nets));
    if (!l->pats || !l->nets) {
        ta__o365_list_free(l);
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint list: out of memory");
        return TA_ERR_NOMEM;
    }
    rc = load_patterns(db, l, errbuf);
    if (rc == TA_OK)
        rc = load_ranges(db, l, errbuf);
    if (rc != TA_OK) {
        ta__o365_list_free(l);
        return rc;
    }
    qsort(l->pats, l->npats, sizeof(*l->pats), pat_cmp);
    qsort(l->nets, l->nnets, sizeof(*l->nets), net_cmp);
    while (l->nwild < l->npats && l->pats[l->nwild].key[0] == '\0')
        l->nwild++;
    return TA_OK;
}

void ta__o365_list_free(struct ta__o365_list *l)
{
    for (size_t i = 0; l->pats && i < l->npats; i++)
        free(l->pats[i].pattern);
    free(l->pats);
    free(l->nets);
    memset(l, 0, sizeof(*l));
}

/* Better of two candidates under pat_cmp's order (score, then endpoint id). */
static const struct ta__o365_pat *better(const struct ta__o365_pat *a, const struct ta__o365_pat *b)
{
    if (!a)
        return b;
    if (b->score != a->score)
        return b->score > a->score ? b : a;
    return b->endpoint_id < a->endpoint_id ? b : a;
}

const struct ta__o365_pat *ta__o365_find_name(const struct ta__o365_list *l, const char *name)
{
    char key[TA__O365_KEY_MAX];

    if (!name || !*name || strlen(name) >= TA__O365_NAME_MAX)
        return NULL;
    name_key(name, key, sizeof(key));
    return ta__o365_find_name_key(l, name, key);
}

/* See o365_int.h. */
void ta__o365_name_key(const char *name, char key[TA__O365_KEY_MAX])
{
    name_key(name, key, TA__O365_KEY_MAX);
}

/* See o365_int.h: ta__o365_find_name with the key of name already computed. */
const struct ta__o365_pat *ta__o365_find_name_key(const struct ta__o365_list *l, const char *name,
                                                  const char *key)
{
    const struct ta__o365_pat *best = NULL;
    size_t lo, hi;

    for (size_t i = 0; i < l->nwild; i++)
        if (ta_o365_pattern_match(l->pats[i].pattern, name))
            best = better(best, &l->pats[i]);
    if (!key[0])
        return best;
    lo = l->nwild;   /* first pattern whose key is >= key */
    hi = l->npats;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(l->pats[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Within a bucket patterns are best-first, so the first match is the bucket's best. */
    for (size_t i = lo; i < l->npats && strcmp(l->pats[i].key, key) == 0; i++)
        if (ta_o365_pattern_match(l->pats[i].pattern, name))
            return better(best, &l->pats[i]);
    return best;
}

const struct ta__o365_net *ta__o365_find_addr(const struct ta__o365_list *l, const char *ip)
{
    uint8_t a[16];
    unsigned bits;
    int ver;
    if (!ip || strchr(ip, '/') || !ta_cidr_parse(ip, a, &bits, &ver))
        return NULL;
    for (size_t i = 0; i < l->nnets; i++) {
        const struct ta__o365_net *n = &l->nets[i];
        unsigned full = n->bits / 8, rest = n->bits % 8;
        if (memcmp(a, n->net, full) != 0)
            continue;
        if (rest && ((a[full] ^ n->net[full]) & (uint8_t)(0xff00u >> rest)))
            continue;
        return n;   /* sorted longest prefix first */
    }
    return NULL;
}

int ta__o365_exec(sqlite3 *db, const char *sql, char *errbuf)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return TA_ERR_IO;
    }
    return TA_OK;
}
