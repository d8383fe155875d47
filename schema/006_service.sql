-- 006_service.sql - schema version 6: what `tlsaudit status` needs to tell a running capture
-- from a dead one, and how it is doing (issue 12, the service). Written by the capture's writer
-- thread (src/capture/service.c); every column: schema/README.md, "Schema 006".
-- A run row with pid and host is a capture that heartbeats: heartbeat_us is rewritten every few
-- seconds while it runs, so a heartbeat older than that, or a pid gone on the same host, means
-- the capture is no longer running even when `ended` was never written (kill -9, power loss).

ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN host TEXT;
ALTER TABLE runs ADD COLUMN config TEXT;
ALTER TABLE runs ADD COLUMN heartbeat_us INTEGER;
ALTER TABLE runs ADD COLUMN heartbeat TEXT;
ALTER TABLE runs ADD COLUMN hs_rate REAL;
ALTER TABLE runs ADD COLUMN recent_drops INTEGER;
ALTER TABLE runs ADD COLUMN last_error TEXT;
ALTER TABLE runs ADD COLUMN reloads INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN reloaded TEXT;
