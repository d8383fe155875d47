/* store_o365.c - Office 365 verdicts written with each handshakes and mail_sessions row, by the
 * thread that owns the store, instead of a serial pass over the run's rows after the capture
 * (that pass was a quarter of a handshake-heavy run while the writer thread sat idle).
 *
 * The stored result must be what ta_o365_classify_run would write at the end of the run. The
 * rules (o365.c) read the row itself, the endpoint list, and for the 'dns' rule the dns_answers
 * rows with ts_us <= the row's ts_us. The list is loaded once per run, by the first row, inside
 * the writer's batch transaction; the DNS rule sees the answers this connection has inserted,
 * committed or not. A verdict computed at insert time can therefore differ from the end-of-run
 * one only if, after the row was classified:
 *   - this store added a DNS answer with ts_us <= that row's ts_us (several -r files not in
 *     time order, timestamps going backwards, several capture threads): checked per answer
 *     against the latest ts_us of the rows whose verdict read dns_answers. An answer at most
 *     TA__LATE_CHECK_US behind that (live workers: one worker's DNS packet reaches the writer
 *     after another worker's record) is checked, not assumed: before the batch commits (and at
 *     the run's end) the rows without SNI dated from the earliest such answer on are classified
 *     again (ta__o365_cls_check_since), and only a verdict that would change leaves the run to
 *     the pass. An answer further back is assumed to change one;
 *   - another connection committed what a verdict reads: an endpoint list (an import: a new
 *     endpoint_sets row) or DNS answers (a concurrent capture: a dns_answers id above this
 *     connection's last one). Checked when PRAGMA data_version says another connection
 *     committed, at the start of each batch (while this connection holds the write lock, so
 *     before it adds answers of its own) and at the run's end. Commits of other tables (the
 *     --sync-to companion's watermarks, on a connection of its own) change no verdict: before,
 *     any commit counted, and a service with sync_to redid its whole run at every stop.
 *     Another connection deleting answers (a second capture's retention) is not looked for:
 *     the verdicts were right with the answers there were, as after this store's own retention;
 *   - a batch may have been lost (a BEGIN or COMMIT failed).
 * Then, and when the classifier could not be loaded or no row was written, the run is left to
 * the end-of-run pass (ta_store_run_needs_classify), which recomputes every row of the run.
 * Only callers that ask (ta_store_o365_at_insert) get verdicts at insert time: other writers of
 * the store keep rows at o365 = 0 until they classify. */
#include <stdlib.h>

#include "tlsaudit/o365_rules.h"
#include "store_int.h"
#include "tlsaudit/store.h"

enum o365_state {
    O365_PENDING,    /* run begun, no row yet: the classifier is loaded by the first row */
    O365_LIVE,       /* rows are classified as they are inserted */
    O365_FAILED,     /* could not load: rows get 0, the end-of-run pass decides */
};

struct ta__store_o365 {
    enum o365_state state;
    struct ta__o365_cls *cls;
    int64_t version;       /* PRAGMA data_version when last checked */
    int64_t sets0;         /* max(endpoint_sets.id) when the list was loaded */
    bool foreign;          /* another connection committed an endpoint list or DNS answers */
    int64_t dns_row_max;   /* latest ts_us of the rows whose verdict read dns_answers */
    bool dns_rows;         /* ... and whether there was one */
    bool dns_late;         /* an answer was stored after a row it could change */
    bool late_check;       /* answers a little behind dns_row_max wait for late_check() */
    int64_t late_min;      /* ... the earliest of them */
    bool batch_lost;       /* a BEGIN or COMMIT failed */
    bool resumed;          /* after a SIGHUP reload whose run's verdicts stood: what is
                            * compared with (version, sets0, dns_row_max) is carried over */
};

/* PRAGMA data_version of the connection, or -1 when it cannot be read. */
static int64_t data_version(sqlite3 *db)
{
    return ta__one_int(db, "PRAGMA data_version", -1);
}

#define TA__LATE_CHECK_US 10000000   /* answers this far behind a row are checked, not assumed */

#define SETS_MAX "SELECT COALESCE(max(id), 0) FROM endpoint_sets"   /* -1: not read */
#define DNS_MAX "SELECT COALESCE(max(id), 0) FROM dns_answers"

/* Does o look at other connections' commits? A live classifier does, and so does one that
 * waits for its first row after a reload whose run's verdicts stood (ta_store_o365_reload). */
static bool watching(const struct ta__store_o365 *o)
{
    return o && (o->state == O365_LIVE || (o->state == O365_PENDING && o->resumed));
}

/* When another connection committed since the last look: did it add an endpoint list, or DNS
 * answers (ids above this connection's last)? A value that cannot be read counts as yes. */
static void look_for_foreign(struct ta_store *st, struct ta__store_o365 *o)
{
    int64_t v = data_version(st->db);

    if (v == o->version && v >= 0)
        return;
    o->version = v;
    if (v < 0 || ta__one_int(st->db, SETS_MAX, -1) != o->sets0 ||
        ta__one_int(st->db, DNS_MAX, -1) > st->dns_own_max || st->dns_own_max < 0)
        o->foreign = true;
}

/* Load the run's classifier inside the open batch. A savepoint keeps a failed load (e.g. of the
 * built-in list) from taking the batch's rows with it. What look_for_foreign compares with is
 * read while this connection holds the write lock, so no other commit can fall between it and
 * the load; the answers stored so far count as known. (After a reload whose verdicts stood, the
 * batch's start has already looked at the commits since the reload: ta__store_o365_batch_begun.) */
static void load(struct ta_store *st, struct ta__store_o365 *o)
{
    char errbuf[TA_ERRBUF_SIZE] = "";
    int rc = TA_ERR_IO;

    o->state = O365_FAILED;
    if (sqlite3_exec(st->db, "SAVEPOINT ta_o365", NULL, NULL, NULL) != SQLITE_OK)
        goto out;
    rc = ta__o365_cls_open(st->db, &o->cls, errbuf);
    if (rc == TA_OK && ((o->version = data_version(st->db)) < 0 ||
                        (o->sets0 = ta__one_int(st->db, SETS_MAX, -1)) < 0 ||
                        (st->dns_own_max = ta__one_int(st->db, DNS_MAX, -1)) < 0))
        rc = TA_ERR_IO;
    if (rc != TA_OK)
        sqlite3_exec(st->db, "ROLLBACK TO ta_o365", NULL, NULL, NULL);
    sqlite3_exec(st->db, "RELEASE ta_o365", NULL, NULL, NULL);
out:
    if (rc == TA_OK) {
        o->state = O365_LIVE;
        ta__o365_cls_watch_answers(o->cls, &st->dns_epoch);
        return;
    }
    ta__o365_cls_free(o->cls);
    o->cls = NULL;
    TA_LOG(TA_LOG_DEBUG, "%s: Office 365 verdicts left to the end of the run: %s", st->path,
           errbuf[0] ? errbuf : sqlite3_errmsg(st->db));
}

/* See store_int.h. Only a run gets a classifier: rows without one keep the columns' defaults. */
void ta__store_o365_run_begin(struct ta_store *st, bool armed)
{
    ta__store_o365_free(st);
    st->o365_pass = true;
    if (!armed || !st->o365_insert || st->run_id == 0)
        return;
    st->o365 = calloc(1, sizeof(*st->o365));   /* NULL: every row is left to the pass */
}

/* See store_int.h. */
void ta__store_o365_bind(struct ta_store *st, sqlite3_stmt *s, int col,
                         const struct ta__o365_row *r, struct ta__o365_verdict *v)
{
    struct ta__store_o365 *o = st->o365;

    if (o && o->state == O365_PENDING)
        load(st, o);
    if (!o || o->state != O365_LIVE) {
        sqlite3_bind_int(s, col, 0);
        return;
    }
    ta__o365_cls_row(o->cls, r, v);
    if (v->dns_used && (!o->dns_rows || r->ts_us > o->dns_row_max)) {
        o->dns_row_max = r->ts_us;
        o->dns_rows = true;
    }
    ta__o365_bind_verdict(s, col, v);
}

/* See store_int.h. Both rows come from one record (ta_store_add): the mail row's sni, cert_cn,
 * cert_sans and ndpi_name are its handshake's, its greeting_host and greeting are the same
 * fields of the record that the handshake row stores, and its server_ip is the same address
 * text; only ts_us differs (the connection's first packet, not the ClientHello). A verdict
 * reached without the 'dns' rule never read ts_us, so it is the mail row's as well. */
void ta__store_o365_bind_mail(struct ta_store *st, sqlite3_stmt *s, int col,
                              const struct ta__o365_row *r, const struct ta__o365_verdict *hv,
                              struct ta__o365_verdict *v)
{
    struct ta__store_o365 *o = st->o365;

    if (!hv || hv->dns_used || !o || o->state != O365_LIVE) {
        ta__store_o365_bind(st, s, col, r, v);
        return;
    }
    *v = *hv;
    ta__o365_bind_verdict(s, col, v);
}

/* See store_int.h. The DNS rule takes answers with ts_us <= the row's, so an answer stored after
 * a row with ts_us up to that row's could change its verdict (equal times included). */
void ta__store_o365_dns(struct ta_store *st, int64_t ts_us)
{
    struct ta__store_o365 *o = st->o365;
    if (!o || o->state == O365_FAILED || !o->dns_rows || ts_us > o->dns_row_max)
        return;                   /* (pending: only after a reload, with the rows before it) */
    if (o->dns_row_max - ts_us > TA__LATE_CHECK_US) {
        o->dns_late = true;
    } else if (!o->late_check || ts_us < o->late_min) {
        o->late_check = true;
        o->late_min = ts_us;
    }
}

/* The answers that came a little late: would a row they could name get another verdict now?
 * Then the run needs the pass; else they changed nothing (the rows after them were classified
 * with them). A read that fails counts as a change. */
static void late_check(struct ta_store *st, struct ta__store_o365 *o)
{
    bool changed = false;

    if (!o->late_check)
        return;
    o->late_check = false;
    if (o->dns_late)
        return;
    if (ta__o365_cls_check_since(o->cls, st->run_id, o->late_min, &changed) != TA_OK || changed)
        o->dns_late = true;
    char when[40];
    ta__iso_time_us((uint64_t)o->late_min, when, sizeof when);
    TA_LOG(TA_LOG_DEBUG, "%s: DNS answers from %s on came after rows they could name: %s",
           st->path, when, o->dns_late ? "a verdict would change" : "no verdict changes");
}

/* See store_int.h. */
void ta__store_o365_batch_ending(struct ta_store *st)
{
    if (st->o365 && st->o365->state == O365_LIVE)
        late_check(st, st->o365);
}

/* See store.h. SIGHUP: a service that runs for months is told to load the endpoint list in
 * force again (a new `endpoints import` by the refresh timer) without ending its run; the new
 * classifier is loaded by the next row, inside its batch, as at a run's start. The verdicts
 * written so far are judged as at the end of a run. When they may not stand, the run keeps
 * owing the pass, which recomputes every row with the list then in force. When they stand, the
 * new classifier goes on comparing with what the old one compared with (other connections'
 * commits since, and DNS answers a little older than the rows written), also while it waits
 * for its first row, and a run that ends before that row owes no pass for it. A reload before
 * the run's first row starts the classifier afresh, as at the start. */
void ta_store_o365_reload(struct ta_store *st)
{
    struct ta__store_o365 keep = { 0 };
    bool owed, none;

    if (!st || st->run_id == 0 || !st->o365_insert)
        return;                       /* no verdicts at insert time: the pass reads the list */
    if (st->o365)
        keep = *st->o365;
    /* no row classified yet (a reload soon after the start): nothing to judge or carry */
    none = st->o365 && st->o365->state == O365_PENDING && !st->o365->resumed;
    ta__store_o365_run_end(st);
    owed = st->o365_pass;
    ta__store_o365_run_begin(st, true);
    if (!st->o365 || none)
        return;
    if (owed) {
        st->o365->batch_lost = true;   /* the pass stays owed after the new list is loaded */
        return;
    }
    st->o365->resumed = true;
    st->o365->version = keep.version;
    st->o365->sets0 = keep.sets0;
    st->o365->dns_rows = keep.dns_rows;
    st->o365->dns_row_max = keep.dns_row_max;
}

/* See store_int.h. */
void ta__store_o365_batch_begun(struct ta_store *st)
{
    if (watching(st->o365))
        look_for_foreign(st, st->o365);
}

/* See store_int.h. */
void ta__store_o365_unsure(struct ta_store *st)
{
    if (st->o365)
        st->o365->batch_lost = true;
}

/* See store_int.h. */
void ta__store_o365_dns_deleted(struct ta_store *st)
{
    if (st->o365)
        ta__o365_cls_forget(st->o365->cls);
}

/* See store_int.h. The verdicts written stand only when every row was classified live, none
 * can have changed since (above), and no other connection committed during the run. */
void ta__store_o365_run_end(struct ta_store *st)
{
    struct ta__store_o365 *o = st->o365;
    const char *why = NULL;

    if (watching(o))
        look_for_foreign(st, o);     /* commits since the last batch began */
    if (o && o->state == O365_LIVE)
        late_check(st, o);           /* answers stored since the last batch ended */
    if (!o || o->state == O365_FAILED)
        why = "no classifier";
    else if (o->state == O365_PENDING && !o->resumed)
        why = "no rows";
    else if (o->dns_late || o->late_check)   /* (pending: no classifier to check with) */
        why = "DNS answers older than rows already classified";
    else if (o->batch_lost)
        why = "a batch may have been lost";
    else if (o->foreign)
        why = "another connection stored an endpoint list or DNS answers";
    st->o365_pass = why != NULL;
    if (why)
        TA_LOG(TA_LOG_DEBUG, "%s: Office 365 classification after the run: %s", st->path, why);
    ta__store_o365_free(st);
}

/* See store_int.h. */
void ta__store_o365_free(struct ta_store *st)
{
    if (!st->o365)
        return;
    ta__o365_cls_free(st->o365->cls);
    free(st->o365);
    st->o365 = NULL;
}

/* See store.h. */
void ta_store_o365_at_insert(struct ta_store *st, bool on)
{
    st->o365_insert = on;
}

/* See store.h. */
bool ta_store_run_needs_classify(const struct ta_store *st)
{
    return !st || st->o365_pass;
}
