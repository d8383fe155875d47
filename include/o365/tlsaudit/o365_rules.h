/* o365_rules.h - the Office 365 rules applied to one row: what the store calls as it writes each
 * handshake (insert-time verdicts) and what the classification pass calls for stored rows. */
#ifndef TLSAUDIT_O365_RULES_H
#define TLSAUDIT_O365_RULES_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#define TA__O365_AREA_MAX 24     /* service area names: Exchange, SharePoint, Skype, Common */
#define TA__O365_REASON_MAX 320

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
/* Forget what the classifier remembers of dns_answers (the 'dns' rule's verdict per server
 * address): to be called after rows of dns_answers were deleted (retention). Answers added by any
 * connection are noticed without it. NULL is accepted. */
void ta__o365_cls_forget(struct ta__o365_cls *c);
/* The caller tells the classifier when dns_answers may have grown: *epoch changes whenever this
 * connection inserts an answer or starts a transaction (which may see other connections'
 * commits), and the memo of the 'dns' rule reads new answers only then, not before every
 * lookup. Without a call (the default) it reads them before every lookup. *epoch must outlive
 * the classifier. NULL c is accepted. */
void ta__o365_cls_watch_answers(struct ta__o365_cls *c, const uint64_t *epoch);
/* Apply the rules of o365.h to r, first match wins. The DNS rule reads dns_answers through the
 * classifier's connection (rows of its open transaction included). No allocation. */
void ta__o365_cls_row(struct ta__o365_cls *c, const struct ta__o365_row *r,
                      struct ta__o365_verdict *v);

/* Would a row of run run_id dated at or after from that could read dns_answers (no SNI:
 * handshakes, and mail sessions through their handshake) get another verdict from c now than
 * the one stored? What the store asks when DNS answers came after rows they could name
 * (store_o365.c). *changed gets the answer; TA_ERR_IO when the rows cannot be read. */
int ta__o365_cls_check_since(struct ta__o365_cls *c, int64_t run_id, int64_t from, bool *changed);

/* Bind v to the o365, o365_service and o365_reason parameters col, col + 1, col + 2 of s: what
 * both the pass (o365.c) and the store at insert time (store_o365.c) write. SQLITE_STATIC: v
 * must outlive the step. */
void ta__o365_bind_verdict(sqlite3_stmt *s, int col, const struct ta__o365_verdict *v);

#endif
