/* inv_agg.h - the batch aggregate of the inventory and daily rollups, shared by the files that
 * keep it: inv_fold.c folds rows into it, inventory.c writes it back, inv_open.c allocates it
 * and prepares its statements. Private to the store layer (the interface is inv_int.h). */
#ifndef TLSAUDIT_INV_AGG_H
#define TLSAUDIT_INV_AGG_H

#include <stdbool.h>
#include <stdint.h>
#include <sqlite3.h>

#include "inv_int.h"
#include "store_int.h"
#include "tlsaudit/fingerprint.h"

/* Keys per flush (powers of two): 16,384 inventory keys (~5 MB) and daily client keys (~2 MB)
 * hold what a batch of 40,000 rows of the generated month brings (bench/RESULTS.md, session 6:
 * with 8,192 and 10,000-row batches the month took 21% longer); 32,768 cost 7 MiB more peak
 * RSS for 2% less time. */
#define INV_SLOTS 16384
#define DC_SLOTS 16384
#define RL_SLOTS 512          /* daily rollup keys per flush */
#define INV_CACHE (1u << 16)  /* remembered inventory row ids (two-way sets by key hash) */
#define DC_KNOWN (1u << 16)   /* daily client keys known to have a row (direct-mapped hashes) */
#define DAY_LEN 11            /* "2026-01-05" + NUL */
#define SMALL 24              /* app, transport labels, service areas */
#define SNI_CAP (TA_SNI_MAX + 1)
#define CN_CAP (TA_TEXT_MAX + 1)
#define REASON_CAP TA__O365_REASON_MAX
/* The long texts of the inventory entries (SNI, certificate name, reason: up to 833 bytes, a
 * few dozen in practice) live in one arena per flush, not in every slot: the slots are a third
 * of the size (peak RSS, issue 15) and an entry takes what its texts take. A fold that might not
 * fit flushes first. */
#define TEXT_ARENA (1u << 20)
#define TEXT_FOLD_MAX (SNI_CAP + CN_CAP + REASON_CAP)
#define SENSOR_CAP 64         /* struct ta_store's sensor */

struct inv_e {
    uint64_t hash;            /* 0 = free slot */
    char client[TA__ADDR_TEXT_LEN], server[TA__ADDR_TEXT_LEN], transport[8], app[SMALL];
    char ja3[TA_JA3_HEX], ja4[TA_JA4_LEN], service[TA__O365_AREA_MAX];
    const char *sni, *reason, *cn;    /* in the text arena of struct ta__inv ("" = none) */
    const char *sensor;       /* the store's (a batch's rows), or in the arena (pruned rows) */
    uint16_t port;
    int version, cipher_id, cipher_v2, cmax, o365;
    int64_t hs, est, first_us, last_us;
    int64_t cn_us;            /* time of the row cn came from (the latest with a certificate) */
};

struct dc_e {
    uint64_t hash;
    char day[DAY_LEN], service[TA__O365_AREA_MAX], app[SMALL], client[TA__ADDR_TEXT_LEN];
    int version, legacy, o365;
    int64_t hs;
};

struct rl_e {
    uint64_t hash;
    char day[DAY_LEN], service[TA__O365_AREA_MAX], app[SMALL];
    int version, legacy, o365;
    int64_t hs, est, clients;
};

struct ta__inv {
    struct inv_e *inv;
    struct dc_e *dc;
    struct rl_e *rl;
    uint32_t ninv, ndc, nrl;
    sqlite3_stmt *sel_hash, *ins_inv, *upd_id, *ins_dc, *upd_dc, *up_rl;
    sqlite3_stmt *upd_pr, *ins_pr;    /* pruned counts (ta__inv_prune_add) */
    uint64_t hash_mask;       /* key_hash bits kept (ta__inv_hash_mask) */
    uint64_t *ckey;           /* INV_CACHE slots: key hash -> inventory row id (cid) */
    int64_t *cid;
    uint64_t *dc_known;       /* DC_KNOWN slots: hashes of daily client keys with a row */
    char *text;               /* TEXT_ARENA bytes: the entries' long texts, emptied per flush */
    char first_ts[32], last_ts[32];   /* the times of the entry being written, as text */
    size_t text_used;
    /* The slots folded into since they were last written, oldest first (rings of INV_SLOTS and
     * DC_SLOTS: a slot is queued once, when its counts leave zero), so ta__inv_write_some goes
     * straight to them instead of scanning the tables (bench/RESULTS.md, session 19). */
    uint32_t *dq_inv, *dq_dc;
    uint32_t dq_inv_head, dq_inv_tail, dq_dc_head, dq_dc_tail;
};

#define ISIZE(m) sizeof(((struct inv_e *)0)->m)

/* FNV-1a over a string (its NUL included, so "ab","c" and "a","bc" differ); NULL = "". */
static inline uint64_t h_str(uint64_t h, const char *s)
{
    for (s = s ? s : "";; s++) {
        h ^= (uint8_t)*s;
        h *= 1099511628211ULL;
        if (!*s)
            return h;
    }
}

static inline uint64_t h_int(uint64_t h, int64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8) {
        h ^= (uint8_t)v;
        h *= 1099511628211ULL;
    }
    return h;
}

/* The legacy flag of the inventory (schema README): negotiated SSL 2.0 to TLS 1.1, or nothing
 * negotiated and nothing newer than TLS 1.1 offered. */
static inline int ta__inv_legacy_of(int version, int cmax)
{
    return version == 2 || version == 768 || version == 769 || version == 770 ||
           (version == 0 && cmax >= 1 && cmax <= 770);
}

/* Hash of a rollup key (day, version, legacy, o365, service, app), optionally with a client. */
static inline uint64_t ta__inv_day_hash(const char *day, int version, int legacy, int o365,
                                        const char *service, const char *app, const char *client)
{
    uint64_t h = 14695981039346656037ULL;
    h = h_str(h, day), h = h_int(h, version), h = h_int(h, legacy * 2 + o365);
    h = h_str(h, service), h = h_str(h, app);
    if (client)
        h = h_str(h, client);
    return h | 1;
}

#endif
