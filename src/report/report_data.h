/* report_data.h - what the report reads from a store, as plain structs behind one ops table.
 *
 * Every SQL statement of the report is in report_data.c (SQLite). A PostgreSQL backend (issue 13)
 * answers the same ops with the same structs; the page, the chart and the exports never see SQL.
 * All text fields are copies (fixed caps, cut at a UTF-8 boundary is not promised: the page's
 * escaper shows a cut sequence as \xNN). Strings are NUL-terminated; "" means none. */
#ifndef TLSAUDIT_REPORT_DATA_H
#define TLSAUDIT_REPORT_DATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TA_RD_DAY 11    /* "YYYY-MM-DD" */
#define TA_RD_TS 40     /* handshakes.ts text */
#define TA_RD_IP 48
#define TA_RD_NAME 256
#define TA_RD_ALLV 0xffff   /* trend row: every legacy version together */

/* What the report covers. Days are UTC dates; the period is since <= day < until. */
struct ta_rd_filter {
    char since[TA_RD_DAY];   /* "" = from the first day */
    char until[TA_RD_DAY];   /* "" = to the last day (exclusive bound otherwise) */
    char until_last[TA_RD_DAY];   /* the last day included, as the user gave it (display) */
    long long since_us, until_us;   /* the same bounds in microseconds (0 / LLONG_MAX = open) */
    const char *sensor;      /* NULL = every sensor */
    bool all;                /* offenders toward every destination, not only Office 365 */
};

/* Capture coverage of the runs that overlap the period. */
struct ta_rd_cov {
    long runs, runs_unclean, runs_open;
    unsigned long long packets, bytes, drops, if_drops, pool_exhausted, flows_evicted;
    unsigned long long truncated;   /* packets the analysis read, cut by the snap length */
    unsigned long long ip_incomplete; /* IP datagrams whose fragments never all came */
    char first_started[TA_RD_TS], last_ended[TA_RD_TS];
};

struct ta_rd_meta {
    char data_first[TA_RD_TS], data_last[TA_RD_TS];   /* first/last handshake in the period */
    char sensors[16][64];                              /* distinct sensor names ('' = unnamed) */
    size_t nsensors, more_sensors;
    struct ta_rd_cov cov;
    bool has_list;                                     /* the endpoint list in force */
    char list_instance[32], list_version[48], list_source[TA_RD_NAME], list_imported[TA_RD_TS];
    int list_builtin;
    char pruned_until[TA_RD_TS];   /* retention deleted rows up to here ('' = none) */
    bool refresh_pending;          /* store_meta 'refresh': inventory rebuild pending */
};

/* Headline counts (handshakes from the daily rollups, clients distinct over the period). */
struct ta_rd_counts {
    long long o365_hs, o365_legacy_hs, all_hs, all_legacy_hs;
    long o365_clients, o365_legacy_clients, all_clients, all_legacy_clients;
};

/* One point of the trend: legacy handshakes and distinct legacy clients of one day, version
 * (TA_RD_ALLV for every legacy version together) and destination group. */
struct ta_rd_point {
    char day[TA_RD_DAY];
    uint16_t version;
    int o365;
    long long hs;
    long clients;
    bool clients_exact;   /* false: the day's client keys were pruned, clients is a lower bound */
};

/* One row of a breakdown (by version, by service area and port, by application). */
struct ta_rd_group {
    int o365;
    uint16_t version;
    char service[64];
    int port;
    char app[32];
    long long hs, legacy_hs, legacy_refused;
    long clients, legacy_clients;
};

/* Handshakes that negotiated one cipher suite under one version. */
struct ta_rd_cipher {
    int cipher_id;        /* -1 when SSL 2.0 (cipher_v2) */
    uint32_t cipher_v2;
    uint16_t version;
    int o365;
    long long hs;
    long clients;
};

/* One inventory row (the legacy rows of offenders, or every row of one client). */
struct ta_rd_inv {
    char client_ip[TA_RD_IP], server_ip[TA_RD_IP];
    char sni[TA_RD_NAME], name[TA_RD_NAME], service[64], app[32], transport[8];
    char reason[TA_RD_NAME], ja3[40], ja4[48];
    int port, o365, legacy;
    uint16_t version, client_max, client_max_all;   /* _all: over every row of the client */
    int cipher_id;
    uint32_t cipher_v2;
    long long hs, refused, first_us, last_us;
    long long last_modern_us;   /* the client's last TLS 1.2+ handshake (same destinations) */
    char first_seen[TA_RD_TS], last_seen[TA_RD_TS];
};

/* One day of one client's retained handshakes. */
struct ta_rd_cday {
    char day[TA_RD_DAY];
    long long hs, legacy_hs, refused;
};

/* One retained handshake of a client. */
struct ta_rd_hs {
    char ts[TA_RD_TS], server_ip[TA_RD_IP], sni[TA_RD_NAME], app[32];
    int port, established, cipher_id;
    uint16_t version, client_max;
};

/* Mail sessions in clear, grouped by client, server, greeting and what went wrong. */
enum { TA_RD_MAIL_AUTH = 1, TA_RD_MAIL_UNUSED = 2, TA_RD_MAIL_O365_CLEAR = 4 };
struct ta_rd_mail {
    char client_ip[TA_RD_IP], server_ip[TA_RD_IP], app[32], host[TA_RD_NAME], service[64];
    char banner[TA_RD_NAME];   /* the server's greeting line (one of the group's) */
    int port, o365, kinds;   /* TA_RD_MAIL_* bits */
    long long sessions, mail_in_clear;
    char first_seen[TA_RD_TS], last_seen[TA_RD_TS];
};

/* A growable array of one of the structs above (elsize bytes each). */
struct ta_rd_vec {
    void *v;
    size_t n, cap, elsize;
};

/* A zeroed new element at the end of vec, or NULL when out of memory. */
void *ta__rd_push(struct ta_rd_vec *vec);
void ta__rd_vec_free(struct ta_rd_vec *vec);
#define TA_RD_VEC(type) { NULL, 0, 0, sizeof(type) }
#define TA_RD_AT(vec, type, i) (&((type *)(vec)->v)[i])

struct ta_rd;   /* an open source (backend-specific) */

/* The questions the report asks. Each returns 0, or -1 after writing a message to the source's
 * error buffer (ta__rd_error). Vectors are appended to. */
struct ta_rd_ops {
    const char *name;
    int (*meta)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_meta *out);
    int (*counts)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_counts *out);
    int (*trend)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *points);
    int (*versions)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *groups);
    int (*services)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *groups);
    int (*apps)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *groups);
    int (*ciphers)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *ciphers);
    /* legacy inventory rows (Office 365 only unless f->all), ordered by client */
    int (*legacy_rows)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *inv);
    /* every inventory row of one client in the period */
    int (*client_rows)(struct ta_rd *src, const struct ta_rd_filter *f, const char *ip,
                       struct ta_rd_vec *inv);
    int (*client_days)(struct ta_rd *src, const struct ta_rd_filter *f, const char *ip,
                       struct ta_rd_vec *days);
    int (*client_recent)(struct ta_rd *src, const struct ta_rd_filter *f, const char *ip,
                         int max, struct ta_rd_vec *hs);
    int (*mail)(struct ta_rd *src, const struct ta_rd_filter *f, struct ta_rd_vec *mail);
    void (*close)(struct ta_rd *src);
};

/* Open the SQLite store at path read-only. NULL with errbuf (TA_ERRBUF_SIZE) set on failure. */
struct ta_rd *ta__rd_open_sqlite(const char *path, char *errbuf);
const struct ta_rd_ops *ta__rd_ops(const struct ta_rd *src);
/* Read a central store's copy: call rs->client before a client's retained handshakes are read
 * (NULL: a sensor file, nothing to fetch). */
struct ta_report_source;
void ta__rd_set_source(struct ta_rd *src, const struct ta_report_source *rs);
/* The last error message of src. */
const char *ta__rd_error(const struct ta_rd *src);

#endif
