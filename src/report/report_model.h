/* report_model.h - the report as the page and the exports see it: the answers of report_data.h
 * plus what the report derives from them (offenders folded per client, remediation hints, weak
 * suites and suites without forward secrecy, headline figures). Private to src/report/. */
#ifndef TLSAUDIT_REPORT_MODEL_H
#define TLSAUDIT_REPORT_MODEL_H

#include <stdio.h>

#include "report_data.h"

/* What a client needs, in the order the checks are made. */
enum ta_rp_hint {
    TA_RP_HINT_REFUSED = 1,   /* every legacy handshake refused: already failing */
    TA_RP_HINT_MOVED,         /* its last legacy handshake is older than its last TLS 1.2+ one */
    TA_RP_HINT_SERVER,        /* offers TLS 1.2+, the server chose less */
    TA_RP_HINT_CLIENT,        /* cannot do more than TLS 1.0/1.1 (or SSL) */
};

/* One client with legacy handshakes in the period (sets joined, sorted, malloc'd). */
struct ta_rp_offender {
    char ip[TA_RD_IP];
    char *dests;      /* COALESCE(sni, server_ip) + " (service)", as query legacy prints them */
    char *names;      /* certificate / DNS names of destinations without SNI */
    char *apps;       /* "smtp/587" */
    char *versions;   /* "TLS 1.0 TLS 1.1" */
    char *ja3, *ja4, *reasons, *ciphers;
    uint16_t max_offered;   /* highest version the client offered in any of its handshakes */
    char first_seen[TA_RD_TS], last_seen[TA_RD_TS];
    long long hs, refused;
    long long o365_hs, o365_refused, last_legacy_us, last_modern_us;
    int o365;             /* has legacy rows toward Office 365 */
    enum ta_rp_hint hint;
};

/* Every figure of one report. */
struct ta_rp {
    struct ta_rd_filter f;
    struct ta_rd_meta meta;
    struct ta_rd_counts counts;
    struct ta_rd_vec trend, versions, services, apps, ciphers, mail;
    struct ta_rp_offender *off;
    size_t noff;
    long o365_offenders, refused_clients, moved_clients, server_side_clients;
    long long weak_hs, nofs_hs;    /* over the flagged suites in ciphers */
    char generated[TA_RD_TS];      /* wall clock, UTC */
};

/* Ask src every question and derive the rest. Returns 0, or -1 with src's error set. */
int ta__rp_build(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rp *rp);
void ta__rp_free(struct ta_rp *rp);

/* Labels shared by the page and the exports. */
const char *ta__rp_version(uint16_t v, char *buf, size_t len);   /* 0 -> "none" */
const char *ta__rp_port_role(int port, const char *app);         /* "SMTP AUTH submission" */
const char *ta__rp_hint_text(const struct ta_rp_offender *o);    /* one sentence */
const char *ta__rp_hint_key(enum ta_rp_hint h);                  /* "refused", ... */
const char *ta__rp_hint_short(enum ta_rp_hint h);                /* a few words */
/* handshakes.ts text shortened to "YYYY-MM-DD HH:MM" for the page, into buf (>= 17 bytes). */
const char *ta__rp_short_ts(const char *ts, char *buf, size_t len);
/* Name of a negotiated suite (IANA or SSLv2), "0xNNNN" when unnamed, into buf. */
const char *ta__rp_cipher(int id, uint32_t v2, char *buf, size_t len);
/* Suite flags: weak under its version (names table), no forward secrecy (static RSA or static
 * (EC)DH key exchange, or SSL 2.0). */
bool ta__rp_cipher_weak(const struct ta_rd_cipher *c);
bool ta__rp_cipher_no_fs(const struct ta_rd_cipher *c);

/* The outputs. Each returns 0, or -1 when a write failed. */
int ta__rp_html(FILE *fp, struct ta_rd *src, const struct ta_rp *rp, size_t max_rows);
int ta__rp_export(FILE *fp, const struct ta_rp *rp, int json, const char *table);
/* The trend chart of one destination group and one measure as inline SVG. */
void ta__rp_svg_trend(FILE *fp, const struct ta_rp *rp, int o365, int clients, const char *id);

#endif
