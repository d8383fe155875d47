/* o365_dns_memo.c - a memo of the 'dns' rule's verdict per server address, so that the rows of a
 * busy server without SNI do not each repeat the same passive-DNS walk (up to 16 indexed reads of
 * the answers for the address, and the CNAME chain behind each name: the largest part of the
 * Office 365 rules on a handshake-heavy capture).
 *
 * When a remembered verdict is right. The walk for (addr, ts) reads only dns_answers rows with
 * ts_us <= ts and either addr = the address or cname = one of the names it looked up (its
 * "dependencies"). A verdict computed at ts0 therefore holds for a row at ts1 >= ts0 as long as
 * no such row exists with ts0 < ts_us <= ts1 and none with ts_us <= ts0 was added since. A new
 * answer naming a dependency as its cname (a generation counter per hash bucket of names: a
 * collision only costs a walk), a new answer for the address dated at or before ts0, and rows
 * older than ts0 are not answered from the entry (the first two drop it).
 *
 * Answers for the address dated after ts0 (the common case: the writer stores DNS answers that
 * came after a connection's first packet before that connection's record, and busy servers are
 * looked up again and again) are kept as pending, up to MEMO_PENDING in the order (ts_us, id),
 * whether they were stored before the walk or after; hi marks the first one not kept. The walk
 * reads answers latest first, so for a row dated after some of them their names are walked
 * first, and if none matches, the old verdict stands unchanged, provided its matching answer is
 * still among the TA__O365_DNS_ROWS latest (its position is kept). A lookup walks only the
 * pending names it passes (walk_name in o365.c).
 *
 * New answers are found by reading the dns_answers rows with an id above the last one seen,
 * before each lookup: every writer of the table (this connection's open batch, other
 * connections' commits) is seen, whatever the order of ts_us. A caller that says when the table
 * may have grown (ta__o365_memo_watch: the store writer, at each answer it inserts and each
 * transaction it begins) spares that read (an index seek per lookup: 2.6% of the writer on a
 * handshake-heavy capture) between those moments. Deleting answers (retention) must
 * be followed by ta__o365_cls_forget. Memory: fixed tables allocated with the classifier. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "o365_int.h"
#include "tlsaudit/common.h"

#define MEMO_SLOTS 4096          /* server addresses remembered: sets of MEMO_WAYS by hash */
#define MEMO_WAYS 2              /* the least recently used of a set makes room */
#define MEMO_PENDING 4           /* later answers kept per entry before it falls back to hi */
#define MEMO_PENDING_PLUS1 5     /* the LIMIT that says whether there are more */
#define TA__STR2(x) #x
#define TA__STR(x) TA__STR2(x)
#define MEMO_NAME_BUCKETS 16384  /* generation counters of CNAME targets */
#define MEMO_ADDR_MAX 46         /* INET6_ADDRSTRLEN */

struct memo_pending {
    int64_t ts;
    int64_t id;                  /* dns_answers.id: the name is read when it is walked */
};

struct memo_entry {
    char addr[MEMO_ADDR_MAX];    /* "" = empty slot */
    uint64_t used;               /* the memo's clock at the last put or hit */
    bool matched;
    uint8_t ndeps, npend;
    uint8_t match_row;           /* 1-based position of the matching answer in the window */
    int64_t ts0, hi;
    uint16_t dep_bucket[TA__O365_MEMO_DEPS];
    uint32_t dep_gen[TA__O365_MEMO_DEPS];
    char service[TA__O365_AREA_MAX];
    char reason[TA__O365_REASON_MAX];
    struct memo_pending pend[MEMO_PENDING];  /* in the order (ts_us, id), all before hi */
};

struct ta__o365_memo {
    sqlite3_stmt *q_new, *q_addr_later, *q_cname_next, *q_name;
    int64_t last_id;
    const uint64_t *epoch;       /* the caller's: dns_answers may have grown when it moved */
    uint64_t epoch_seen;         /* *epoch at the last read of new answers */
    bool read_once;              /* new answers were read since the epoch was given */
    uint64_t clock;
    struct memo_entry *slots;    /* MEMO_SLOTS */
    uint32_t *name_gen;          /* MEMO_NAME_BUCKETS */
};

/* FNV-1a over a string. */
static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (uint8_t)*s;
        h *= 1099511628211ull;
    }
    return h;
}

/* The entry of addr, or NULL. */
static struct memo_entry *find_entry(struct ta__o365_memo *m, const char *addr)
{
    struct memo_entry *set = &m->slots[hash_str(addr) % (MEMO_SLOTS / MEMO_WAYS) * MEMO_WAYS];
    for (unsigned i = 0; i < MEMO_WAYS; i++)
        if (set[i].addr[0] && strcmp(set[i].addr, addr) == 0)
            return &set[i];
    return NULL;
}

/* Where addr's entry goes: its own, an empty one, or the least recently used of its set. */
static struct memo_entry *place_entry(struct ta__o365_memo *m, const char *addr)
{
    struct memo_entry *set = &m->slots[hash_str(addr) % (MEMO_SLOTS / MEMO_WAYS) * MEMO_WAYS];
    struct memo_entry *e = find_entry(m, addr);
    if (e)
        return e;
    e = &set[0];
    for (unsigned i = 0; i < MEMO_WAYS; i++) {
        if (!set[i].addr[0])
            return &set[i];
        if (set[i].used < e->used)
            e = &set[i];
    }
    return e;
}

static uint16_t bucket_of(const char *name)
{
    return (uint16_t)((hash_str(name) >> 17) % MEMO_NAME_BUCKETS);
}

/* See o365_int.h. */
int ta__o365_memo_new(sqlite3 *db, struct ta__o365_memo **out)
{
    struct ta__o365_memo *m = calloc(1, sizeof(*m));
    sqlite3_stmt *s = NULL;

    *out = NULL;
    if (!m)
        return TA_ERR_NOMEM;
    m->slots = calloc(MEMO_SLOTS, sizeof(*m->slots));
    m->name_gen = calloc(MEMO_NAME_BUCKETS, sizeof(*m->name_gen));
    if (!m->slots || !m->name_gen) {
        ta__o365_memo_free(m);
        return TA_ERR_NOMEM;
    }
    if (sqlite3_prepare_v3(db, "SELECT id, addr, cname, ts_us FROM dns_answers "
                           "WHERE id > ?1 ORDER BY id", -1, SQLITE_PREPARE_PERSISTENT,
                           &m->q_new, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT ts_us, id FROM dns_answers WHERE addr = ?1 AND ts_us > ?2 "
                           "ORDER BY ts_us, id LIMIT " TA__STR(MEMO_PENDING_PLUS1), -1,
                           SQLITE_PREPARE_PERSISTENT, &m->q_addr_later, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT min(ts_us) FROM dns_answers WHERE cname = ?1 AND ts_us > ?2",
                           -1, SQLITE_PREPARE_PERSISTENT, &m->q_cname_next, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "SELECT name FROM dns_answers WHERE id = ?1", -1,
                           SQLITE_PREPARE_PERSISTENT, &m->q_name, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT max(id) FROM dns_answers", -1, &s, NULL) != SQLITE_OK) {
        sqlite3_finalize(s);
        ta__o365_memo_free(m);
        return TA_ERR_IO;
    }
    /* answers already stored are read by the walks themselves; only later ones change entries */
    if (sqlite3_step(s) == SQLITE_ROW)
        m->last_id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    *out = m;
    return TA_OK;
}

/* See o365_int.h. */
void ta__o365_memo_free(struct ta__o365_memo *m)
{
    if (!m)
        return;
    sqlite3_finalize(m->q_new);
    sqlite3_finalize(m->q_name);
    sqlite3_finalize(m->q_addr_later);
    sqlite3_finalize(m->q_cname_next);
    free(m->slots);
    free(m->name_gen);
    free(m);
}

/* See o365_int.h. */
void ta__o365_memo_watch(struct ta__o365_memo *m, const uint64_t *epoch)
{
    if (!m)
        return;
    m->epoch = epoch;
    m->read_once = false;
}

/* See o365_int.h. */
void ta__o365_memo_forget(struct ta__o365_memo *m)
{
    if (!m)
        return;
    for (unsigned i = 0; i < MEMO_SLOTS; i++)
        m->slots[i].addr[0] = '\0';
}

/* Keep an answer dated ts (after ts0, before hi) as pending, in its place in the order (ts_us,
 * id); answers passed in id order. Without room, the entry's validity ends at the later of the
 * answer and the last pending one. */
static void add_pending(struct memo_entry *e, int64_t id, int64_t ts)
{
    unsigned i = e->npend;

    if (e->npend == MEMO_PENDING) {
        int64_t last = e->pend[MEMO_PENDING - 1].ts;
        if (ts < last) {
            e->hi = last;        /* the last one drops out; this one takes its place below */
            e->npend--;
            i = e->npend;
        } else {
            e->hi = ts;
            return;
        }
    }
    while (i > 0 && e->pend[i - 1].ts > ts) {
        e->pend[i] = e->pend[i - 1];
        i--;
    }
    e->pend[i].ts = ts;
    e->pend[i].id = id;
    e->npend++;
}

/* A new answer for e's address dated ts (see the top): pending when it falls in (ts0, hi), the
 * end of the entry when it is dated at or before ts0. */
static void saw_addr(struct memo_entry *e, int64_t id, int64_t ts)
{
    if (ts <= e->ts0)
        e->addr[0] = '\0';
    else if (ts < e->hi)
        add_pending(e, id, ts);
}

/* Read the answers stored since the last call. A failed read forgets everything (false). */
static bool sync_answers(struct ta__o365_memo *m)
{
    sqlite3_stmt *s = m->q_new;
    int rc;

    sqlite3_bind_int64(s, 1, m->last_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *addr = (const char *)sqlite3_column_text(s, 1);
        const char *cname = (const char *)sqlite3_column_text(s, 2);
        m->last_id = sqlite3_column_int64(s, 0);
        if (addr) {
            struct memo_entry *e = find_entry(m, addr);
            if (e)
                saw_addr(e, m->last_id, sqlite3_column_int64(s, 3));
        }
        if (cname)
            m->name_gen[bucket_of(cname)]++;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        ta__o365_memo_forget(m);
    return rc == SQLITE_DONE;
}

/* The earliest ts_us > ts of q's key (bound as text), or INT64_MAX; -1 when the read failed. */
static int64_t next_ts(sqlite3_stmt *q, const char *key, int64_t ts)
{
    int64_t t = INT64_MAX;
    int rc;

    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, ts);
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL)
        t = sqlite3_column_int64(q, 0);
    else if (rc != SQLITE_ROW)
        t = -1;
    sqlite3_reset(q);
    return t;
}

/* Add the names deps[0..n) to e's dependencies, with their generation now and hi lowered to
 * their earliest CNAME answer after ts. A name whose bucket e already depends on is there
 * already: its generation has not moved (or e would have been dropped) and its next CNAME answer
 * is already under hi. False when they do not fit or a read failed. */
static bool add_deps(struct ta__o365_memo *m, struct memo_entry *e, int64_t ts,
                     const char (*deps)[TA__O365_NAME_MAX], unsigned n)
{
    if (n > TA__O365_MEMO_DEPS)
        return false;
    for (unsigned i = 0; i < n; i++) {
        uint16_t b = bucket_of(deps[i]);
        unsigned j = 0;
        int64_t t;
        while (j < e->ndeps && e->dep_bucket[j] != b)
            j++;
        if (j < e->ndeps)
            continue;
        if (e->ndeps == TA__O365_MEMO_DEPS || (t = next_ts(m->q_cname_next, deps[i], ts)) < 0)
            return false;
        if (t < e->hi)
            e->hi = t;
        e->dep_bucket[e->ndeps] = b;
        e->dep_gen[e->ndeps] = m->name_gen[b];
        e->ndeps++;
    }
    return e->hi > ts;
}

/* The name of answer id into name[TA__O365_NAME_MAX]: 1, or 0 for a name the walk skips (too
 * long, NULL), -1 when the row cannot be read (deleted without ta__o365_cls_forget, an error). */
static int pending_name(struct ta__o365_memo *m, int64_t id, char *name)
{
    sqlite3_stmt *q = m->q_name;
    int rc = -1;

    sqlite3_bind_int64(q, 1, id);
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(q, 0);
        rc = 0;
        if (n && strlen(n) < TA__O365_NAME_MAX) {
            memcpy(name, n, strlen(n) + 1);
            rc = 1;
        }
    }
    sqlite3_reset(q);
    return rc;
}

/* Walk e's pending names dated at or before ts, latest first (the order the full walk reads
 * them), and bring e to ts0 = ts: a pending name that matches gives the verdict; if none does, the
 * old verdict stands, its matching answer now n places further down the window. False when e
 * cannot answer (the old match fell out of the window, too many names, a failed read). */
static bool apply_pending(struct ta__o365_memo *m, struct memo_entry *e, int64_t ts,
                          ta__o365_walk_fn walk, void *walk_arg)
{
    struct ta__o365_walk w;
    struct ta__o365_verdict v;
    unsigned n = 0;
    bool found = false;

    while (n < e->npend && e->pend[n].ts <= ts)
        n++;
    w.ndeps = 0;
    for (unsigned i = n; i-- > 0 && !found;) {
        char name[TA__O365_NAME_MAX];
        int rc = pending_name(m, e->pend[i].id, name);
        if (rc < 0)
            return false;
        if (rc > 0 && walk(walk_arg, name, ts, &v, w.deps, &w.ndeps)) {
            found = true;
            e->matched = true;
            e->match_row = (uint8_t)(n - i);
            memcpy(e->service, v.service, sizeof(e->service));
            memcpy(e->reason, v.reason, sizeof(e->reason));
        }
    }
    if (!found && e->matched) {
        if (e->match_row + n > TA__O365_DNS_ROWS)
            return false;
        e->match_row = (uint8_t)(e->match_row + n);
    }
    memmove(e->pend, e->pend + n, (e->npend - n) * sizeof(e->pend[0]));
    e->npend = (uint8_t)(e->npend - n);
    e->ts0 = ts;
    return w.ndeps <= TA__O365_MEMO_DEPS &&
           add_deps(m, e, ts, (const char (*)[TA__O365_NAME_MAX])w.deps, w.ndeps);
}

/* See o365_int.h. */
bool ta__o365_memo_get(struct ta__o365_memo *m, const char *addr, int64_t ts,
                       ta__o365_walk_fn walk, void *walk_arg, bool *matched,
                       struct ta__o365_verdict *v)
{
    struct memo_entry *e;

    if (strlen(addr) >= MEMO_ADDR_MAX)
        return false;
    if (!m->epoch || !m->read_once || *m->epoch != m->epoch_seen) {
        if (sync_answers(m) && m->epoch) {
            m->epoch_seen = *m->epoch;
            m->read_once = true;
        }
    }
    e = find_entry(m, addr);
    if (!e || ts < e->ts0 || ts >= e->hi)
        return false;
    for (unsigned i = 0; i < e->ndeps; i++)
        if (m->name_gen[e->dep_bucket[i]] != e->dep_gen[i]) {
            e->addr[0] = '\0';
            return false;
        }
    if (e->npend && e->pend[0].ts <= ts) {
        if (!apply_pending(m, e, ts, walk, walk_arg)) {
            e->addr[0] = '\0';
            return false;
        }
    }
    e->used = ++m->clock;
    *matched = e->matched;
    if (e->matched) {
        v->o365 = 1;
        memcpy(v->service, e->service, sizeof(v->service));
        memcpy(v->reason, e->reason, sizeof(v->reason));
    }
    return true;
}

/* The answers for e's address dated after ts that exist now become its pending ones (the first
 * MEMO_PENDING); hi is the date of the next one, if any. False when the read failed. */
static bool load_later(struct ta__o365_memo *m, struct memo_entry *e, const char *addr, int64_t ts)
{
    sqlite3_stmt *q = m->q_addr_later;
    int rc;

    e->hi = INT64_MAX;
    e->npend = 0;
    sqlite3_bind_text(q, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 2, ts);
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        struct memo_pending *p;
        if (e->npend == MEMO_PENDING) {
            e->hi = sqlite3_column_int64(q, 0);
            rc = SQLITE_DONE;
            break;
        }
        p = &e->pend[e->npend++];
        p->ts = sqlite3_column_int64(q, 0);
        p->id = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return rc == SQLITE_DONE;
}

/* See o365_int.h. */
void ta__o365_memo_put(struct ta__o365_memo *m, const char *addr, int64_t ts,
                       const struct ta__o365_walk *w, bool matched,
                       const struct ta__o365_verdict *v)
{
    struct memo_entry *e;

    if (w->ndeps > TA__O365_MEMO_DEPS || strlen(addr) >= MEMO_ADDR_MAX)
        return;
    e = place_entry(m, addr);
    memset(e, 0, offsetof(struct memo_entry, pend));
    e->used = ++m->clock;
    if (!load_later(m, e, addr, ts) ||
        !add_deps(m, e, ts, (const char (*)[TA__O365_NAME_MAX])w->deps, w->ndeps)) {
        e->addr[0] = '\0';       /* a read failed: nothing kept */
        return;
    }
    memcpy(e->addr, addr, strlen(addr) + 1);
    e->ts0 = ts;
    e->matched = matched;
    e->match_row = (uint8_t)w->match_row;
    if (matched) {
        memcpy(e->service, v->service, sizeof(e->service));
        memcpy(e->reason, v->reason, sizeof(e->reason));
    }
}
