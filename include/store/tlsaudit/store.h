/* store.h - the SQLite store: schema migration, capture runs, batched handshake and DNS rows. */
#ifndef TLSAUDIT_STORE_H
#define TLSAUDIT_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>
#include "tlsaudit/counters.h"
#include "tlsaudit/handshake.h"

struct ta_store;


/* Open (create, migrate) the database at path for writing. Schema SQL in schema/ is embedded in
 * the binary; PRAGMA user_version holds the schema version; a newer database is refused.
 * WAL mode. errbuf (TA_ERRBUF_SIZE) gets a message naming the file on failure. */
int ta_store_open(const char *path, struct ta_store **out, char *errbuf);

/* Open read-only for queries (no migration; a database older than the binary is refused with a
 * message to run a capture into it, which migrates it). */
int ta_store_open_ro(const char *path, sqlite3 **out, char *errbuf);

void ta_store_close(struct ta_store *st);
sqlite3 *ta_store_db(struct ta_store *st);

/* Capture runs. source: file names or interface; filter may be NULL. */
int ta_store_run_begin(struct ta_store *st, const char *source, const char *filter,
                       int64_t *run_id);
int ta_store_run_update(struct ta_store *st, const struct ta_run_stats *rs);
int ta_store_run_end(struct ta_store *st, const struct ta_run_stats *rs, bool clean,
                     const char *error);
/* How the n workers of a live capture share the link (runs.workers, schema 018): each one's
 * packets read and kernel drops, in worker order, as a JSON array of {"packets", "drops"}.
 * Joins the open batch, as ta_store_run_update does; n is 1 to TA_STORE_WORKERS_MAX. */
#define TA_STORE_WORKERS_MAX 64
struct ta_worker_count {
    uint64_t packets, drops;
};
int ta_store_run_workers(struct ta_store *st, const struct ta_worker_count *w, unsigned n);
/* With on, the runs begun afterwards get the Office 365 verdict of each handshakes and
 * mail_sessions row (o365, o365_service, o365_reason) as it is added, by the rules of
 * ta_o365_classify, on the thread that adds it. Off by default: rows keep o365 = 0 until a
 * classification pass. For a caller that classifies its run at the end anyway (a capture). */
void ta_store_o365_at_insert(struct ta_store *st, bool on);
/* After ta_store_run_end:
 * false when those verdicts are what ta_o365_classify_run(db, run_id) would write; true when
 * the caller must run it (a DNS answer stored after a row whose verdict it changes, or more than
 * 10 s after rows dated later than it; the database changed by another connection; a verdict
 * could not be computed; no row written). NULL: true. */
bool ta_store_run_needs_classify(const struct ta_store *st);
/* SIGHUP: the rows added from now on get verdicts from the endpoint list in force now (loaded
 * by the next row), not the one the run began with; the run keeps its end-of-run pass when the
 * verdicts already written may not stand (store_o365.c). On the thread that owns st. */
void ta_store_o365_reload(struct ta_store *st);

/* Queue one connection record (handshake and/or mail session) in the open batch. The store
 * copies every field; hs may be reused at once. */
int ta_store_add(struct ta_store *st, const struct ta_hs *hs);

/* Queue one passive-DNS answer: name resolved to addr (ipver 4/6), or a CNAME target. */
int ta_store_add_dns(struct ta_store *st, uint64_t ts_us, const char *name, uint8_t ipver,
                     const struct ta_addr *addr, const char *cname);

/* Commit when the batch holds batch_rows rows or is older than one second of wall time; now_us
 * is a monotonic clock read by the caller (not per packet). */
int ta_store_maybe_commit(struct ta_store *st, uint64_t now_us);
int ta_store_commit(struct ta_store *st);
/* Work the writer does while nothing is queued: up to TA_STORE_IDLE_WRITES inventory and daily
 * client entries of the open batch written ahead of its COMMIT (src/store/inventory.c; the
 * rollups wait for the COMMIT), so that a commit or a full aggregate table does not stall the
 * capture threads behind the writer.
 * Returns how many were written; 0 when there is nothing to do (then wait for work). A failed
 * write gives the batch up, as a failed commit does. */
#define TA_STORE_IDLE_WRITES 64
int ta_store_idle(struct ta_store *st);
/* Rows written but not in the file: batches SQLite rolled back when their COMMIT failed, plus
 * the open batch. Non-zero after a failed ta_store_run_end means records were lost. */
uint64_t ta_store_rows_unsaved(const struct ta_store *st);
/* Of those, the rows of batches already given up (rolled back by SQLite or for the inventory):
 * lost even when a later commit, the run's last included, succeeds. */
uint64_t ta_store_rows_lost(const struct ta_store *st);

/* The sensor name written into runs.sensor and the inventory (schema 004); default the host
 * name. Set before ta_store_run_begin; longer names are cut to 63 bytes. */
void ta_store_set_sensor(struct ta_store *st, const char *name);

/* Retention of the per-handshake rows (handshakes, mail_sessions, dns_answers): older than days
 * (counted back from the newest row written; 0 = for ever) or beyond max_bytes of database file
 * (0 = no cap). The writer deletes in small batches inside its commits; the inventory and the
 * daily rollups are never deleted. Converts an old file to incremental auto-vacuum once (VACUUM,
 * logged). See src/store/retention.c. */
void ta_store_set_retention(struct ta_store *st, int days, int64_t max_bytes);
/* The same limits for a store that is writing (SIGHUP), without the VACUUM: an old file is
 * converted at the next ta_store_set_retention (logged). Commit the open batch first
 * (ta_store_commit): the limits then start with a batch, and retention's temporary storage is set
 * up outside a transaction, as at open. */
void ta_store_change_retention(struct ta_store *st, int days, int64_t max_bytes);
/* "64M", "2G", "512k", "1048576": bytes (K/M/G/T = 1024^n). 0, or -1 when malformed. */
int ta_store_parse_size(const char *s, int64_t *out);

/* Re-classification (ta_o365_classify_run / ta_o365_classify) changes verdicts the inventory and
 * the daily tables hold: a trigger (schema 004) marks their rebuild pending in the classifying
 * transaction; call ta_store_refresh(db) after classifying to rebuild at once (otherwise the next
 * writer open does it, and queries read the rows meanwhile). ta_store_refresh_mark marks a run
 * (run_id > 0) or everything (0) by hand. TA_OK or TA_ERR_IO with errbuf (TA_ERRBUF_SIZE) set. */
int ta_store_refresh_mark(sqlite3 *db, int64_t run_id, char *errbuf);
int ta_store_refresh(sqlite3 *db, char *errbuf);

/* Parse one DNS message (ta_dns_parse) and store each answer with ta_store_add_dns() at capture
 * time ts_us (src/store/dns_store.c). Returns the parse result, or the first store error. */
int ta_dns_feed_store(struct ta_store *st, uint64_t ts_us, const uint8_t *msg, size_t len);

#endif
