-- 004_inventory.sql - schema version 4: the sensor name, the client inventory, the daily rollups
-- and the per-day client keys behind their exact distinct counts (issue 12).
--
-- A sensor that runs for months keeps per-handshake rows only for its retention period
-- (capture --retain-days / --max-db-size); these tables are what is kept for ever and what
-- `query legacy` / `query summary` read. The writer maintains them in the same transaction as the
-- rows they summarise. Key columns are NOT NULL with '' / 0 / -1 meaning "none", because a
-- UNIQUE index treats NULLs as distinct. Every column: schema/README.md, "Schema 004".
--
-- The invariant (tests/it_inventory_kill.sh checks it after kill -9):
--   inventory = pruned_* columns (what retention deleted)  +  aggregate of the retained rows
-- with the key of a handshakes row h (runs r ON r.id = h.run_id) being
--   COALESCE(r.sensor, ''), h.client_ip, h.server_ip, h.server_port, h.transport,
--   COALESCE(h.app, ''), COALESCE(h.sni, ''), COALESCE(h.version, 0), COALESCE(h.cipher_id, -1),
--   COALESCE(h.cipher_v2, 0), COALESCE(h.client_max_version, 0), COALESCE(h.ja3, ''),
--   COALESCE(h.ja4, ''), h.o365, COALESCE(h.o365_service, ''), COALESCE(h.o365_reason, '')
-- and the day of a row substr(h.ts, 1, 10) (UTC).

ALTER TABLE runs ADD COLUMN sensor TEXT NOT NULL DEFAULT '';

CREATE TABLE inventory (
    id                   INTEGER PRIMARY KEY,
    -- key
    sensor               TEXT NOT NULL DEFAULT '',
    client_ip            TEXT NOT NULL,
    server_ip            TEXT NOT NULL,
    server_port          INTEGER NOT NULL,
    transport            TEXT NOT NULL,
    app                  TEXT NOT NULL DEFAULT '',
    sni                  TEXT NOT NULL DEFAULT '',
    version              INTEGER NOT NULL DEFAULT 0,
    cipher_id            INTEGER NOT NULL DEFAULT -1,
    cipher_v2            INTEGER NOT NULL DEFAULT 0,
    client_max_version   INTEGER NOT NULL DEFAULT 0,
    ja3                  TEXT NOT NULL DEFAULT '',
    ja4                  TEXT NOT NULL DEFAULT '',
    o365                 INTEGER NOT NULL DEFAULT 0,
    o365_service         TEXT NOT NULL DEFAULT '',
    o365_reason          TEXT NOT NULL DEFAULT '',
    -- derived from the key
    legacy               INTEGER NOT NULL DEFAULT 0,
    -- attributes
    name                 TEXT NOT NULL DEFAULT '',
    name_source          TEXT NOT NULL DEFAULT '',
    handshakes           INTEGER NOT NULL DEFAULT 0,
    established          INTEGER NOT NULL DEFAULT 0,
    refused              INTEGER NOT NULL DEFAULT 0,
    first_seen_us        INTEGER NOT NULL,
    first_seen           TEXT NOT NULL,
    last_seen_us         INTEGER NOT NULL,
    last_seen            TEXT NOT NULL,
    pruned_handshakes    INTEGER NOT NULL DEFAULT 0,
    pruned_established   INTEGER NOT NULL DEFAULT 0,
    pruned_refused       INTEGER NOT NULL DEFAULT 0,
    pruned_first_seen_us INTEGER NOT NULL DEFAULT 0,
    pruned_first_seen    TEXT NOT NULL DEFAULT '',
    pruned_last_seen_us  INTEGER NOT NULL DEFAULT 0,
    pruned_last_seen     TEXT NOT NULL DEFAULT '',
    updated_us           INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX inventory_key ON inventory(client_ip, server_ip, server_port, transport, app,
    sni, version, cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, o365_service,
    o365_reason, sensor);
CREATE INDEX inventory_legacy ON inventory(legacy, o365, client_ip);
-- distinct clients per version / application for `query summary` without reading every row;
-- none of its columns changes when a row's counts are updated
CREATE INDEX inventory_clients ON inventory(o365, version, app, legacy, client_ip);

CREATE TABLE daily_rollups (
    day                TEXT NOT NULL,
    sensor             TEXT NOT NULL DEFAULT '',
    version            INTEGER NOT NULL DEFAULT 0,
    legacy             INTEGER NOT NULL DEFAULT 0,
    o365               INTEGER NOT NULL DEFAULT 0,
    o365_service       TEXT NOT NULL DEFAULT '',
    app                TEXT NOT NULL DEFAULT '',
    handshakes         INTEGER NOT NULL DEFAULT 0,
    established        INTEGER NOT NULL DEFAULT 0,
    refused            INTEGER NOT NULL DEFAULT 0,
    clients            INTEGER NOT NULL DEFAULT 0,
    pruned_handshakes  INTEGER NOT NULL DEFAULT 0,
    updated_us         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, sensor, version, legacy, o365, o365_service, app)
) WITHOUT ROWID;

CREATE TABLE daily_clients (
    day                TEXT NOT NULL,
    sensor             TEXT NOT NULL DEFAULT '',
    version            INTEGER NOT NULL DEFAULT 0,
    legacy             INTEGER NOT NULL DEFAULT 0,
    o365               INTEGER NOT NULL DEFAULT 0,
    o365_service       TEXT NOT NULL DEFAULT '',
    app                TEXT NOT NULL DEFAULT '',
    client_ip          TEXT NOT NULL,
    handshakes         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, sensor, version, legacy, o365, o365_service, app, client_ip)
) WITHOUT ROWID;

CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY,
    value
);

-- A change of a stored verdict (re-classification by the o365 layer, in its own transaction)
-- marks the inventory rebuild pending in that same transaction: until the store rebuilds
-- (ta_store_refresh), queries read the rows and the next writer to open the file rebuilds.
CREATE TRIGGER handshakes_verdict_changed
AFTER UPDATE OF o365, o365_service, o365_reason ON handshakes
WHEN OLD.o365 IS NOT NEW.o365 OR OLD.o365_service IS NOT NEW.o365_service
     OR OLD.o365_reason IS NOT NEW.o365_reason
BEGIN
    INSERT INTO store_meta(key, value) VALUES ('refresh', CAST(COALESCE(NEW.run_id, 0) AS TEXT))
    ON CONFLICT(key) DO UPDATE SET value = CASE WHEN value = excluded.value THEN value
                                                ELSE 'all' END;
END;

-- Existing rows (a database migrated from version 2) fill the new tables, so the reports read
-- the same answers from them as from the rows.
CREATE TEMP TABLE ta_mig AS
SELECT COALESCE(r.sensor, '') AS sensor, h.client_ip, h.server_ip, h.server_port, h.transport,
       COALESCE(h.app, '') AS app, COALESCE(h.sni, '') AS sni, COALESCE(h.version, 0) AS version,
       COALESCE(h.cipher_id, -1) AS cipher_id, COALESCE(h.cipher_v2, 0) AS cipher_v2,
       COALESCE(h.client_max_version, 0) AS client_max_version, COALESCE(h.ja3, '') AS ja3,
       COALESCE(h.ja4, '') AS ja4, h.o365, COALESCE(h.o365_service, '') AS o365_service,
       COALESCE(h.o365_reason, '') AS o365_reason, h.ts_us, h.ts, h.established, h.cert_cn,
       substr(h.ts, 1, 10) AS day,
       (COALESCE(h.version, 0) IN (2, 768, 769, 770) OR (COALESCE(h.version, 0) = 0
        AND COALESCE(h.client_max_version, 0) BETWEEN 1 AND 770)) AS legacy
FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id;

INSERT INTO inventory(sensor, client_ip, server_ip, server_port, transport, app, sni, version,
    cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, o365_service, o365_reason, legacy,
    name, name_source, handshakes, established, refused, first_seen_us, first_seen,
    last_seen_us, last_seen, updated_us)
SELECT sensor, client_ip, server_ip, server_port, transport, app, sni, version, cipher_id,
       cipher_v2, client_max_version, ja3, ja4, o365, o365_service, o365_reason, max(legacy),
       CASE WHEN sni <> '' THEN sni ELSE COALESCE(max(cert_cn), '') END,
       CASE WHEN sni <> '' THEN 'sni' WHEN max(cert_cn) IS NOT NULL THEN 'cert' ELSE '' END,
       count(*), sum(established), count(*) - sum(established), min(ts_us), min(ts),
       max(ts_us), max(ts), CAST(strftime('%s', 'now') AS INTEGER) * 1000000
FROM ta_mig
GROUP BY client_ip, server_ip, server_port, transport, app, sni, version, cipher_id, cipher_v2,
         client_max_version, ja3, ja4, o365, o365_service, o365_reason, sensor;

INSERT INTO daily_clients(day, sensor, version, legacy, o365, o365_service, app, client_ip,
    handshakes)
SELECT day, sensor, version, legacy, o365, o365_service, app, client_ip, count(*)
FROM ta_mig GROUP BY day, sensor, version, legacy, o365, o365_service, app, client_ip;

INSERT INTO daily_rollups(day, sensor, version, legacy, o365, o365_service, app, handshakes,
    established, refused, clients, updated_us)
SELECT day, sensor, version, legacy, o365, o365_service, app, count(*), sum(established),
       count(*) - sum(established), count(DISTINCT client_ip),
       CAST(strftime('%s', 'now') AS INTEGER) * 1000000
FROM ta_mig GROUP BY day, sensor, version, legacy, o365, o365_service, app;

DROP TABLE ta_mig;
