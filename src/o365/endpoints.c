/* endpoints.c - load Office 365 endpoint lists into the database: Microsoft's IP address and URL
 * web service format (an array of endpoint sets: id, serviceArea, serviceAreaDisplayName, urls,
 * ips, tcpPorts, udpPorts, category, expressRoute, required, notes), parsed with SQLite's JSON
 * functions; and the built-in default list embedded from data/o365_endpoints.json. */
#include <stdio.h>
#include <string.h>

#include "o365_int.h"
#include "tlsaudit/cidr.h"
#include "tlsaudit/common.h"
#include "tlsaudit/embedded.h"
#include "tlsaudit/o365.h"

/* One prepared statement over the JSON text (?1) and the array's path (?2). */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql, const char *json, const char *path,
                          char *errbuf)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint import: %s", sqlite3_errmsg(db));
        return NULL;
    }
    sqlite3_bind_text(s, 1, json, -1, SQLITE_STATIC);
    if (path)
        sqlite3_bind_text(s, 2, path, -1, SQLITE_STATIC);
    return s;
}

/* Where the array of endpoint sets is: "$" for Microsoft's feed, "$.endpoints" for our wrapper
 * object. Returns NULL (errbuf set) for anything else, including invalid JSON. */
static const char *find_array(sqlite3 *db, const char *json, const char *source, char *errbuf)
{
    const char *path = NULL;
    sqlite3_stmt *s = prep(db, "SELECT json_valid(?1), CASE WHEN json_valid(?1) THEN "
                           "json_type(?1) END, CASE WHEN json_valid(?1) AND json_type(?1) = "
                           "'object' THEN json_type(?1, '$.endpoints') END", json, NULL, errbuf);
    if (!s)
        return NULL;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 1);
        const char *e = (const char *)sqlite3_column_text(s, 2);
        if (!sqlite3_column_int(s, 0))
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: not valid JSON", source);
        else if (t && strcmp(t, "array") == 0)
            path = "$";
        else if (e && strcmp(e, "array") == 0)
            path = "$.endpoints";
        else
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: not a JSON array of endpoint sets (expected "
                     "the Microsoft 365 endpoints web service format: [{\"id\": 1, "
                     "\"serviceArea\": \"Exchange\", \"urls\": [...], \"ips\": [...]}, ...])",
                     source);
    } else {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", source, sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return path;
}

/* Every element must be an object with an integer id and a text serviceArea; urls and ips, when
 * present, arrays of strings. Returns TA_OK or TA_MALFORMED naming the first bad element. */
static int check_entries(sqlite3 *db, const char *json, const char *path, const char *source,
                         char *errbuf)
{
    static const char sql[] =
        "SELECT (SELECT count(*) FROM json_each(?1, ?2)), "
        "(SELECT e.key FROM json_each(?1, ?2) e "
        " WHERE e.type <> 'object' OR json_type(e.value, '$.id') IS NOT 'integer' "
        " OR json_type(e.value, '$.serviceArea') IS NOT 'text' "
        " OR coalesce(json_type(e.value, '$.urls'), 'array') <> 'array' "
        " OR coalesce(json_type(e.value, '$.ips'), 'array') <> 'array' "
        " OR EXISTS (SELECT 1 FROM json_each(e.value, '$.urls') u WHERE u.type <> 'text') "
        " OR EXISTS (SELECT 1 FROM json_each(e.value, '$.ips') i WHERE i.type <> 'text') "
        " ORDER BY e.key LIMIT 1)";
    sqlite3_stmt *s = prep(db, sql, json, path, errbuf);
    int rc = TA_MALFORMED;
    if (!s)
        return TA_ERR_IO;
    if (sqlite3_step(s) == SQLITE_ROW) {
        if (sqlite3_column_type(s, 1) != SQLITE_NULL)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: element %lld of the array is not an endpoint "
                     "set (needs integer \"id\", text \"serviceArea\", \"urls\"/\"ips\" arrays "
                     "of strings)", source, (long long)sqlite3_column_int64(s, 1));
        else if (sqlite3_column_int64(s, 0) == 0)
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: the array holds no endpoint sets", source);
        else
            rc = TA_OK;
    } else {
        snprintf(errbuf, TA_ERRBUF_SIZE, "%s: %s", source, sqlite3_errmsg(db));
        rc = TA_ERR_IO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Remove the lists of this instance, then add the new set row; *set_id gets its id. */
static int replace_set(sqlite3 *db, const char *instance, const char *version, const char *source,
                       bool builtin, int64_t *set_id, char *errbuf)
{
    static const char *const del[] = {
        "DELETE FROM endpoint_urls WHERE set_id IN (SELECT id FROM endpoint_sets WHERE instance = ?1)",
        "DELETE FROM endpoint_ips WHERE set_id IN (SELECT id FROM endpoint_sets WHERE instance = ?1)",
        "DELETE FROM endpoint_sets WHERE instance = ?1",
        ("INSERT INTO endpoint_sets(instance, version, source, imported_at, builtin) "
         "VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?4)"),
    };
    for (size_t i = 0; i < TA_ARRAY_LEN(del); i++) {
        sqlite3_stmt *s = NULL;
        int ok = sqlite3_prepare_v2(db, del[i], -1, &s, NULL) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_text(s, 1, instance, -1, SQLITE_STATIC);
            if (sqlite3_bind_parameter_count(s) >= 4) {
                sqlite3_bind_text(s, 2, version, -1, SQLITE_STATIC);
                sqlite3_bind_text(s, 3, source, -1, SQLITE_STATIC);
                sqlite3_bind_int(s, 4, builtin ? 1 : 0);
            }
            ok = sqlite3_step(s) == SQLITE_DONE;
        }
        sqlite3_finalize(s);
        if (!ok) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint import: %s", sqlite3_errmsg(db));
            return TA_ERR_IO;
        }
    }
    *set_id = sqlite3_last_insert_rowid(db);
    return TA_OK;
}

/* URL patterns: lower case, surrounding spaces and a trailing dot removed, empty ones dropped. */
static int insert_urls(sqlite3 *db, const char *json, const char *path, int64_t set_id,
                       char *errbuf)
{
    static const char sql[] =
        "INSERT INTO endpoint_urls(set_id, endpoint_id, service_area, service_area_name, pattern, "
        "tcp_ports, category, required) "
        "SELECT ?3, json_extract(e.value, '$.id'), json_extract(e.value, '$.serviceArea'), "
        "json_extract(e.value, '$.serviceAreaDisplayName'), rtrim(lower(trim(u.value)), '.'), "
        "json_extract(e.value, '$.tcpPorts'), json_extract(e.value, '$.category'), "
        "json_extract(e.value, '$.required') "
        "FROM json_each(?1, ?2) e, json_each(e.value, '$.urls') u "
        "WHERE rtrim(trim(u.value), '.') <> ''";
    sqlite3_stmt *s = prep(db, sql, json, path, errbuf);
    int rc = TA_OK;
    if (!s)
        return TA_ERR_IO;
    sqlite3_bind_int64(s, 3, set_id);
    if (sqlite3_step(s) != SQLITE_DONE) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint import: %s", sqlite3_errmsg(db));
        rc = TA_ERR_IO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Ranges: each one parsed here (inet_pton), so a bad range fails the whole import. */
static int insert_ips(sqlite3 *db, const char *json, const char *path, int64_t set_id,
                      const char *source, char *errbuf)
{
    sqlite3_stmt *s = prep(db, "SELECT json_extract(e.value, '$.id'), "
                           "json_extract(e.value, '$.serviceArea'), trim(i.value) "
                           "FROM json_each(?1, ?2) e, json_each(e.value, '$.ips') i",
                           json, path, errbuf);
    sqlite3_stmt *ins = NULL;
    int rc = s ? TA_OK : TA_ERR_IO;

    if (rc == TA_OK && sqlite3_prepare_v2(db, "INSERT INTO endpoint_ips(set_id, endpoint_id, "
                                          "service_area, cidr, ipver) VALUES (?1, ?2, ?3, ?4, ?5)",
                                          -1, &ins, NULL) != SQLITE_OK) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint import: %s", sqlite3_errmsg(db));
        rc = TA_ERR_IO;
    }
    while (rc == TA_OK && sqlite3_step(s) == SQLITE_ROW) {
        const char *cidr = (const char *)sqlite3_column_text(s, 2);
        uint8_t net[16];
        unsigned bits;
        int ver;
        if (!ta_cidr_parse(cidr, net, &bits, &ver)) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "%s: endpoint set %lld: \"%.64s\" is not an address "
                     "range", source, (long long)sqlite3_column_int64(s, 0), cidr ? cidr : "");
            rc = TA_MALFORMED;
            break;
        }
        sqlite3_bind_int64(ins, 1, set_id);
        sqlite3_bind_int64(ins, 2, sqlite3_column_int64(s, 0));
        sqlite3_bind_value(ins, 3, sqlite3_column_value(s, 1));
        sqlite3_bind_text(ins, 4, cidr, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(ins, 5, ver);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint import: %s", sqlite3_errmsg(db));
            rc = TA_ERR_IO;
        }
        sqlite3_reset(ins);
    }
    sqlite3_finalize(s);
    sqlite3_finalize(ins);
    return rc;
}

/* The import itself, inside the caller's transaction. */
static int import_locked(sqlite3 *db, const char *json, const char *instance, const char *version,
                         const char *source, bool builtin, char *errbuf)
{
    int64_t set_id;
    const char *path = find_array(db, json, source, errbuf);
    int rc = path ? check_entries(db, json, path, source, errbuf) : TA_MALFORMED;
    if (rc == TA_OK)
        rc = replace_set(db, instance, version, source, builtin, &set_id, errbuf);
    if (rc == TA_OK)
        rc = insert_urls(db, json, path, set_id, errbuf);
    if (rc == TA_OK)
        rc = insert_ips(db, json, path, set_id, source, errbuf);
    return rc;
}

int ta_o365_import(sqlite3 *db, const char *json, const char *instance, const char *version,
                   const char *source, bool builtin, char *errbuf)
{
    int rc;
    if (!db || !json || !instance || !version || !source)
        return TA_ERR_ARG;
    if (ta__o365_exec(db, "BEGIN IMMEDIATE", errbuf) != TA_OK)
        return TA_ERR_IO;
    rc = import_locked(db, json, instance, version, source, builtin, errbuf);
    if (rc == TA_OK)
        rc = ta__o365_exec(db, "COMMIT", errbuf);
    if (rc != TA_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);   /* the previous list stays */
    return rc;
}

int ta__o365_ensure_default_locked(sqlite3 *db, char *errbuf)
{
    const struct ta_embedded *e = ta_embedded_find(TA_O365_BUILTIN);
    sqlite3_stmt *s = NULL;
    char version[32] = "unknown", instance[32] = "Worldwide";
    int64_t sets = -1;

    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM endpoint_sets", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
        sets = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (sets < 0) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "endpoint list: %s", sqlite3_errmsg(db));
        return TA_ERR_IO;
    }
    if (sets > 0)
        return TA_OK;
    if (!e) {
        snprintf(errbuf, TA_ERRBUF_SIZE, "built-in endpoint list %s not embedded", TA_O365_BUILTIN);
        return TA_ERR_IO;
    }
    /* Version and instance are recorded in the wrapper object of the built-in file. */
    if (sqlite3_prepare_v2(db, "SELECT json_extract(?1, '$.version'), "
                           "json_extract(?1, '$.instance') WHERE json_valid(?1)", -1, &s,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(s, 1, (const char *)e->data, (int)e->len, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_ROW) {
            if (sqlite3_column_text(s, 0))
                snprintf(version, sizeof(version), "%s", sqlite3_column_text(s, 0));
            if (sqlite3_column_text(s, 1))
                snprintf(instance, sizeof(instance), "%s", sqlite3_column_text(s, 1));
        }
    }
    sqlite3_finalize(s);
    return import_locked(db, (const char *)e->data, instance, version, "built-in", true, errbuf);
}

int ta_o365_ensure_default(sqlite3 *db, char *errbuf)
{
    int rc;
    if (ta__o365_exec(db, "BEGIN IMMEDIATE", errbuf) != TA_OK)
        return TA_ERR_IO;
    rc = ta__o365_ensure_default_locked(db, errbuf);
    if (rc == TA_OK)
        rc = ta__o365_exec(db, "COMMIT", errbuf);
    if (rc != TA_OK)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
