-- sync_role.sql - the roles of the central store, with only the rights they use
-- (schema/pg/README.md). Not a migration (no NNN_ prefix: never applied by tlsaudit itself).
-- Run it as the owner of the tlsaudit schema once the first sync, run as that owner, made it:
--   psql -d central -v ON_ERROR_STOP=1 -f schema/pg/sync_role.sql
-- then give tlsaudit_sync a password (\password tlsaudit_sync, stored by the sensor in
-- ~/.pgpass) or a client certificate, and allow it in pg_hba.conf (hostssl ... scram-sha-256).

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tlsaudit_sync') THEN
        CREATE ROLE tlsaudit_sync LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tlsaudit_read') THEN
        CREATE ROLE tlsaudit_read LOGIN;
    END IF;
    -- CONNECT to reach the database, TEMPORARY for the per-session COPY stage tables.
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO tlsaudit_sync', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO tlsaudit_read', current_database());
END
$$;

-- tlsaudit_sync: check the schema version, claim its sensor name, upsert rows (INSERT ...
-- ON CONFLICT DO UPDATE needs SELECT and UPDATE too), replace the rollup days and delete
-- inventory rows that moved, and make day partitions through the SECURITY DEFINER function.
-- No CREATE anywhere, no TRUNCATE, no DROP, no DELETE of per-connection rows.
GRANT USAGE ON SCHEMA tlsaudit TO tlsaudit_sync;
GRANT SELECT ON tlsaudit.schema_version, tlsaudit.instance TO tlsaudit_sync;
GRANT SELECT, INSERT, UPDATE ON tlsaudit.sensors, tlsaudit.runs, tlsaudit.handshakes,
    tlsaudit.mail_sessions, tlsaudit.dns_answers, tlsaudit.inventory, tlsaudit.daily_rollups,
    tlsaudit.daily_clients TO tlsaudit_sync;
GRANT DELETE ON tlsaudit.inventory, tlsaudit.daily_rollups, tlsaudit.daily_clients
    TO tlsaudit_sync;
-- schema 2: store_meta and endpoint_sets are replaced whole for the sensor at every push
GRANT SELECT, INSERT, UPDATE, DELETE ON tlsaudit.store_meta, tlsaudit.endpoint_sets
    TO tlsaudit_sync;
GRANT EXECUTE ON FUNCTION tlsaudit.ensure_day(text, date) TO tlsaudit_sync;

-- tlsaudit_read: reports over the central store.
GRANT USAGE ON SCHEMA tlsaudit TO tlsaudit_read;
GRANT SELECT ON ALL TABLES IN SCHEMA tlsaudit TO tlsaudit_read;
