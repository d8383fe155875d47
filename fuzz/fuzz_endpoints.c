/* fuzz_endpoints.c - libFuzzer target for the Office 365 endpoint list import (src/o365/endpoints.c,
 * include/o365/tlsaudit/o365.h): the input is the JSON file given to `endpoints import`. The database
 * is a real store (created once in a temporary directory, fsync off for speed) holding a few
 * connection rows, so a list that imports is also used to classify them (patterns and CIDRs
 * from the input applied to stored SNIs, names and addresses). The input is also given whole
 * to the CIDR parser, and split at its first newline into a URL pattern and a name. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tlsaudit/cidr.h"
#include "tlsaudit/o365.h"
#include "tlsaudit/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_JSON_MAX (1u << 20)

static sqlite3 *fuzz_db;
static char fuzz_text[FUZZ_JSON_MAX + 1];

/* Store a few rows that the built-in list and typical inputs classify. */
static void fuzz_rows(struct ta_store *st)
{
    static const char *const snis[] = { "outlook.office365.com", "smtp.office365.com",
                                        "a.b.sharepoint.com", "", "example.org" };
    struct ta_run_stats rs = { 0 };
    struct ta_hs hs;
    int64_t run;

    if (ta_store_run_begin(st, "fuzz", NULL, &run) != TA_OK)
        __builtin_trap();
    for (unsigned i = 0; i < sizeof snis / sizeof snis[0]; i++) {
        memset(&hs, 0, sizeof hs);
        hs.ipver = 4;
        hs.transport = 6;
        hs.client.b[10] = hs.client.b[11] = hs.server.b[10] = hs.server.b[11] = 0xff;
        hs.client.b[12] = 10;
        hs.client.b[15] = (uint8_t)i;
        hs.server.b[12] = 52;
        hs.server.b[13] = 96;
        hs.server.b[15] = (uint8_t)(i + 1);
        hs.client_port = (uint16_t)(40000 + i);
        hs.server_port = 443;
        hs.ts_first_us = hs.ts_last_us = 1700000000000000ull + i;
        hs.app = 1;
        hs.ch.present = true;
        hs.ch.legacy_version = 0x0303;
        snprintf(hs.ch.sni, sizeof hs.ch.sni, "%s", snis[i]);
        snprintf(hs.cert.subject_cn, sizeof hs.cert.subject_cn, "%s", "outlook.com");
        if (ta_store_add(st, &hs) != TA_OK)
            __builtin_trap();
    }
    if (ta_store_commit(st) != TA_OK || ta_store_run_end(st, &rs, true, NULL) != TA_OK)
        __builtin_trap();
}

/* Create the store once per process: a temporary directory removed at exit. */
static sqlite3 *fuzz_open(void)
{
    static char dir[] = "/tmp/fuzz_endpoints.XXXXXX";
    static char path[64];
    static struct ta_store *st;
    char err[1024];

    if (fuzz_db)
        return fuzz_db;
    if (!mkdtemp(dir))
        __builtin_trap();
    snprintf(path, sizeof path, "%s/e.db", dir);
    if (ta_store_open(path, &st, err) != TA_OK) {
        fprintf(stderr, "fuzz_endpoints: %s\n", err);
        __builtin_trap();
    }
    fuzz_rows(st);
    fuzz_db = ta_store_db(st);
    sqlite3_exec(fuzz_db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
    /* The files go now; the open connection keeps working on them. */
    unlink(path);
    snprintf(path, sizeof path, "%s/e.db-wal", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/e.db-shm", dir);
    unlink(path);
    rmdir(dir);
    return fuzz_db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sqlite3 *db = fuzz_open();
    char err[1024];
    uint8_t net[16];
    unsigned bits;
    int ipver;
    char *nl;

    if (size > FUZZ_JSON_MAX)
        return 0;
    memcpy(fuzz_text, data, size);
    fuzz_text[size] = 0;
    err[0] = 0;
    if (ta_o365_import(db, fuzz_text, "Worldwide", "fuzz", "fuzz.json", false, err) == TA_OK) {
        if (ta_o365_classify(db, err) != TA_OK) {
            fprintf(stderr, "fuzz_endpoints: classify after a valid import failed: %s\n", err);
            __builtin_trap();
        }
    } else if (!memchr(err, 0, sizeof err) || err[0] == 0) {
        __builtin_trap(); /* a refused list always says why */
    }
    if (ta_cidr_parse(fuzz_text, net, &bits, &ipver) &&
        (bits > 128 || (ipver == 4 && bits < 96) || (ipver != 4 && ipver != 6)))
        __builtin_trap();
    nl = memchr(fuzz_text, '\n', size);
    if (nl) {
        *nl = 0;
        (void)ta_o365_pattern_match(fuzz_text, nl + 1);
    }
    return 0;
}
