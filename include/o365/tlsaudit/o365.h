/* o365.h - what Office 365 is: the endpoint list in force (built-in or imported from Microsoft's
 * IP address and URL web service), and the classification of stored rows against it. */
#ifndef TLSAUDIT_O365_H
#define TLSAUDIT_O365_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

/* Name of the built-in list among the embedded files. */
#define TA_O365_BUILTIN "data/o365_endpoints.json"

/* Set o365 (0/1), o365_service (service area, e.g. 'Exchange') and o365_reason on every row of
 * handshakes and mail_sessions, using the list in force; the built-in list is loaded first when
 * the database holds none. Rules, first match wins (reason text in quotes):
 *   'sni:<pattern>'   the SNI matches a URL pattern;
 *   'excluded-name: <name> (<why>)'  o365 = 0: the SNI, not in the list, is a Microsoft consumer
 *                     or marketing name the list leaves out on purpose (src/o365/o365_exclude.c);
 *   'dns:<name>'      (no SNI) a name that passive DNS resolved to the server address, at or
 *                     before the connection, following CNAMEs back up to 8 steps, matches;
 *   'cert:<name>'     the certificate CN or a SAN matches;
 *   'excluded-name: <name> (<why>)'  o365 = 0: a certificate name is such a name;
 *   'ip:<cidr>'       the server address is inside a range (the longest prefix is named);
 *   'banner:<text>'   the SMTP/IMAP/POP3 greeting names Exchange Online or Microsoft;
 *   'ndpi:<name>'     nDPI named a Microsoft 365 service (Microsoft365, Teams, Skype_Teams,
 *                     MS_OneDrive, Outlook; never the generic Microsoft or Azure labels).
 * Rows no rule matched have o365 = 0 and no reason.
 * Mail sessions use the SNI, certificate and nDPI name of their handshake (handshake_id).
 * Runs in one transaction. errbuf (TA_ERRBUF_SIZE) gets a message on failure.
 * Returns TA_OK or TA_ERR_IO. */
int ta_o365_classify(sqlite3 *db, char *errbuf);
/* The same for the rows of one capture run only (run_id > 0; 0 means every row): what a capture
 * calls at its end, so a long-lived database is not re-classified whole after every run. */
int ta_o365_classify_run(sqlite3 *db, int64_t run_id, char *errbuf);

/* Load the built-in list when no endpoint set exists. Returns TA_OK or TA_ERR_IO. */
int ta_o365_ensure_default(sqlite3 *db, char *errbuf);

/* Replace the list of `instance` by the endpoints in json (Microsoft's array of endpoint sets,
 * or an object whose "endpoints" member is that array, as the built-in file is). version and
 * source are recorded as given. Nothing changes unless the whole file is valid.
 * Returns TA_OK, TA_MALFORMED (not such an array, bad entry or range: errbuf says which) or
 * TA_ERR_IO. Does not re-classify. */
int ta_o365_import(sqlite3 *db, const char *json, const char *instance, const char *version,
                   const char *source, bool builtin, char *errbuf);

/* True when name matches an endpoint URL pattern, ASCII case-insensitively, a trailing dot on
 * either ignored. A '*' label matches one or more labels ("*.outlook.com" matches
 * "a.b.outlook.com" but not "outlook.com"); '*' inside a label matches any run of characters
 * within that label ("*cdn.onenote.net"). */
bool ta_o365_pattern_match(const char *pattern, const char *name);


#endif
