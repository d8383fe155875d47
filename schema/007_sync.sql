-- 007_sync.sql - schema version 7: what `tlsaudit sync` has pushed to each central PostgreSQL
-- (issue 13). Every column: schema/README.md, "Schema 007".
--
-- A watermark moves only after the central transaction that carried the rows up to it has
-- committed; pushing a row twice replaces it centrally (key: sensor, local id), so a sync that
-- dies anywhere is simply run again.

-- One row per central database this sensor database is synced to.
CREATE TABLE sync_targets (
    target     TEXT PRIMARY KEY,     -- the central database's id (tlsaudit.instance)
    address    TEXT NOT NULL,        -- host:port/dbname as libpq resolved it (never a password)
    sensor     TEXT NOT NULL,        -- the name the rows carry centrally (fixed at first sync)
    first_sync TEXT NOT NULL,        -- ISO-8601 UTC
    last_sync  TEXT                  -- last sync that ended with everything pushed
);

-- Watermarks per target and table: the last id pushed (handshakes, mail_sessions, dns_answers,
-- runs), the updated_us pushed up to (inventory, daily_rollups), the last sync_changes seq.
CREATE TABLE sync_state (
    target TEXT NOT NULL,
    tbl    TEXT NOT NULL,
    mark   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (target, tbl)
) WITHOUT ROWID;

-- Rows changed in place after they were written (a re-classification rewrites the Office 365
-- columns of handshakes and mail sessions) and inventory rows that disappeared (their counts
-- moved to another key): the append watermarks cannot see either. Written by the triggers
-- below only once a target exists; sync deletes entries every target has pushed.
CREATE TABLE sync_changes (
    seq    INTEGER PRIMARY KEY,
    tbl    TEXT NOT NULL,
    row_id INTEGER NOT NULL
);

CREATE TRIGGER sync_handshakes_o365 AFTER UPDATE OF o365, o365_service, o365_reason ON handshakes
WHEN EXISTS (SELECT 1 FROM sync_targets) AND (OLD.o365 IS NOT NEW.o365
     OR OLD.o365_service IS NOT NEW.o365_service OR OLD.o365_reason IS NOT NEW.o365_reason)
BEGIN
    INSERT INTO sync_changes(tbl, row_id) VALUES ('handshakes', NEW.id);
END;

CREATE TRIGGER sync_mail_sessions_o365 AFTER UPDATE OF o365, o365_service, o365_reason
ON mail_sessions
WHEN EXISTS (SELECT 1 FROM sync_targets) AND (OLD.o365 IS NOT NEW.o365
     OR OLD.o365_service IS NOT NEW.o365_service OR OLD.o365_reason IS NOT NEW.o365_reason)
BEGIN
    INSERT INTO sync_changes(tbl, row_id) VALUES ('mail_sessions', NEW.id);
END;

CREATE TRIGGER sync_inventory_gone AFTER DELETE ON inventory
WHEN EXISTS (SELECT 1 FROM sync_targets)
BEGIN
    INSERT INTO sync_changes(tbl, row_id) VALUES ('inventory', OLD.id);
END;
