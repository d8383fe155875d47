-- 001_central.sql - central PostgreSQL schema version 1 (tlsaudit sync, issue 13).
-- Applied by src/central/pg_schema.c in one transaction, which then records the version in
-- tlsaudit.schema_version. Every table and column: schema/pg/README.md.
--
-- Each sensor database keeps its own SQLite rows and pushes them here. A central row is the
-- sensor's row as is, plus `sensor` (the name it was synced under): (sensor, local id) is the
-- key, so pushing a row again replaces it instead of duplicating it. The sensor column the
-- SQLite tables carry themselves (runs.sensor, inventory.sensor, ...) is kept as local_sensor.
-- Types: SQLite INTEGER -> bigint, TEXT -> text, so every value round-trips exactly.

CREATE SCHEMA IF NOT EXISTS tlsaudit;

CREATE TABLE tlsaudit.schema_version (
    version  integer PRIMARY KEY,
    applied  timestamptz NOT NULL DEFAULT now()
);

-- This central database's identity: sensors key their watermarks by it, so every address that
-- reaches the same database (socket, IP, name) shares them, and a database made anew (a new
-- id) gets everything pushed again.
CREATE TABLE tlsaudit.instance (
    id       text PRIMARY KEY DEFAULT gen_random_uuid()::text,
    created  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tlsaudit.instance DEFAULT VALUES;

-- Which sensor database owns a sensor name: a second database that tries to sync under a
-- name already taken is refused (it would overwrite the first one's rows).
CREATE TABLE tlsaudit.sensors (
    sensor      text PRIMARY KEY,
    db_id       text NOT NULL,
    first_sync  timestamptz NOT NULL DEFAULT now(),
    last_sync   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tlsaudit.runs (
    sensor                text NOT NULL,
    id                    bigint,
    source                text NOT NULL,
    filter                text,
    started               text NOT NULL,
    ended                 text,
    packets               bigint NOT NULL DEFAULT 0,
    bytes                 bigint NOT NULL DEFAULT 0,
    drops                 bigint NOT NULL DEFAULT 0,
    if_drops              bigint NOT NULL DEFAULT 0,
    flows                 bigint NOT NULL DEFAULT 0,
    flows_evicted         bigint NOT NULL DEFAULT 0,
    flows_timed_out       bigint NOT NULL DEFAULT 0,
    handshakes            bigint NOT NULL DEFAULT 0,
    ip_fragments          bigint NOT NULL DEFAULT 0,
    malformed             bigint NOT NULL DEFAULT 0,
    non_ip                bigint NOT NULL DEFAULT 0,
    pool_exhausted        bigint NOT NULL DEFAULT 0,
    clean                 bigint NOT NULL DEFAULT 0,
    error                 text,
    tool_version          text NOT NULL,
    local_sensor          text NOT NULL DEFAULT '',
    PRIMARY KEY (sensor, id)
);

-- The per-connection rows: partitioned by UTC day (day = first 10 characters of ts), one
-- partition per day and table (tlsaudit.handshakes_YYYYMMDD), made by tlsaudit.ensure_day
-- before the first row of a day arrives; retention drops whole partitions
-- (tlsaudit.drop_days_before).
CREATE TABLE tlsaudit.handshakes (
    sensor                text NOT NULL,
    day                   date NOT NULL,
    id                    bigint,
    run_id                bigint,
    ts                    text NOT NULL,
    ts_us                 bigint NOT NULL,
    client_ip             text NOT NULL,
    client_port           bigint NOT NULL,
    server_ip             text NOT NULL,
    server_port           bigint NOT NULL,
    ipver                 bigint NOT NULL,
    transport             text NOT NULL,
    app                   text,
    starttls              bigint NOT NULL DEFAULT 0,
    sni                   text,
    client_hello          bigint NOT NULL DEFAULT 0,
    sslv2_hello           bigint NOT NULL DEFAULT 0,
    client_record_version bigint,
    client_legacy_version bigint,
    client_versions       text,
    client_max_version    bigint,
    ciphers_offered       text,
    extensions            text,
    groups                text,
    point_formats         text,
    sigalgs               text,
    key_shares            text,
    alpn_offered          text,
    session_ticket        bigint NOT NULL DEFAULT 0,
    psk                   bigint NOT NULL DEFAULT 0,
    ems                   bigint NOT NULL DEFAULT 0,
    reneg_info            bigint NOT NULL DEFAULT 0,
    etm                   bigint NOT NULL DEFAULT 0,
    fallback_scsv         bigint NOT NULL DEFAULT 0,
    server_hello          bigint NOT NULL DEFAULT 0,
    hrr                   bigint NOT NULL DEFAULT 0,
    server_legacy_version bigint,
    version               bigint,
    cipher_id             bigint,
    cipher_v2             bigint,
    server_extensions     text,
    alpn                  text,
    resumed               bigint NOT NULL DEFAULT 0,
    server_key_share      bigint,
    established           bigint NOT NULL DEFAULT 0,
    alert_level           bigint,
    alert_desc            bigint,
    alert_dir             text,
    cert_cn               text,
    cert_issuer           text,
    cert_sans             text,
    cert_not_before       text,
    cert_not_after        text,
    cert_key_type         text,
    cert_key_bits         bigint,
    cert_chain_len        bigint,
    ja3                   text,
    ja3s                  text,
    ja4                   text,
    ndpi_master           bigint,
    ndpi_app              bigint,
    ndpi_name             text,
    greeting_host         text,
    greeting              text,
    anomalies             bigint NOT NULL DEFAULT 0,
    o365                  bigint NOT NULL DEFAULT 0,
    o365_service          text,
    o365_reason           text,
    PRIMARY KEY (sensor, id, day)
) PARTITION BY RANGE (day);

CREATE TABLE tlsaudit.mail_sessions (
    sensor                text NOT NULL,
    day                   date NOT NULL,
    id                    bigint,
    run_id                bigint,
    ts                    text NOT NULL,
    ts_us                 bigint NOT NULL,
    client_ip             text NOT NULL,
    client_port           bigint NOT NULL,
    server_ip             text NOT NULL,
    server_port           bigint NOT NULL,
    app                   text,
    greeting_code         bigint,
    greeting_host         text,
    greeting              text,
    client_name           text,
    capabilities          text,
    starttls_offered      bigint NOT NULL DEFAULT 0,
    starttls_sent         bigint NOT NULL DEFAULT 0,
    starttls_accepted     bigint NOT NULL DEFAULT 0,
    starttls_refused      bigint NOT NULL DEFAULT 0,
    auth_in_clear         bigint NOT NULL DEFAULT 0,
    mail_in_clear         bigint NOT NULL DEFAULT 0,
    handshake_id          bigint,
    o365                  bigint NOT NULL DEFAULT 0,
    o365_service          text,
    o365_reason           text,
    PRIMARY KEY (sensor, id, day)
) PARTITION BY RANGE (day);

CREATE TABLE tlsaudit.dns_answers (
    sensor                text NOT NULL,
    day                   date NOT NULL,
    id                    bigint,
    run_id                bigint,
    ts                    text NOT NULL,
    ts_us                 bigint NOT NULL,
    name                  text NOT NULL,
    ipver                 bigint,
    addr                  text,
    cname                 text,
    PRIMARY KEY (sensor, id, day)
) PARTITION BY RANGE (day);

-- Inventory merged across sensors: every sensor's rows side by side, sensor part of the key.
CREATE TABLE tlsaudit.inventory (
    sensor                text NOT NULL,
    id                    bigint,
    local_sensor          text NOT NULL DEFAULT '',
    client_ip             text NOT NULL,
    server_ip             text NOT NULL,
    server_port           bigint NOT NULL,
    transport             text NOT NULL,
    app                   text NOT NULL DEFAULT '',
    sni                   text NOT NULL DEFAULT '',
    version               bigint NOT NULL DEFAULT 0,
    cipher_id             bigint NOT NULL DEFAULT -1,
    cipher_v2             bigint NOT NULL DEFAULT 0,
    client_max_version    bigint NOT NULL DEFAULT 0,
    ja3                   text NOT NULL DEFAULT '',
    ja4                   text NOT NULL DEFAULT '',
    o365                  bigint NOT NULL DEFAULT 0,
    o365_service          text NOT NULL DEFAULT '',
    o365_reason           text NOT NULL DEFAULT '',
    legacy                bigint NOT NULL DEFAULT 0,
    name                  text NOT NULL DEFAULT '',
    name_source           text NOT NULL DEFAULT '',
    handshakes            bigint NOT NULL DEFAULT 0,
    established           bigint NOT NULL DEFAULT 0,
    refused               bigint NOT NULL DEFAULT 0,
    first_seen_us         bigint NOT NULL,
    first_seen            text NOT NULL,
    last_seen_us          bigint NOT NULL,
    last_seen             text NOT NULL,
    pruned_handshakes     bigint NOT NULL DEFAULT 0,
    pruned_established    bigint NOT NULL DEFAULT 0,
    pruned_refused        bigint NOT NULL DEFAULT 0,
    pruned_first_seen_us  bigint NOT NULL DEFAULT 0,
    pruned_first_seen     text NOT NULL DEFAULT '',
    pruned_last_seen_us   bigint NOT NULL DEFAULT 0,
    pruned_last_seen      text NOT NULL DEFAULT '',
    updated_us            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (sensor, id)
);

CREATE TABLE tlsaudit.daily_rollups (
    sensor                text NOT NULL,
    day                   text NOT NULL,
    local_sensor          text NOT NULL DEFAULT '',
    version               bigint NOT NULL DEFAULT 0,
    legacy                bigint NOT NULL DEFAULT 0,
    o365                  bigint NOT NULL DEFAULT 0,
    o365_service          text NOT NULL DEFAULT '',
    app                   text NOT NULL DEFAULT '',
    handshakes            bigint NOT NULL DEFAULT 0,
    established           bigint NOT NULL DEFAULT 0,
    refused               bigint NOT NULL DEFAULT 0,
    clients               bigint NOT NULL DEFAULT 0,
    pruned_handshakes     bigint NOT NULL DEFAULT 0,
    updated_us            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (sensor, day, local_sensor, version, legacy, o365, o365_service, app)
);

CREATE TABLE tlsaudit.daily_clients (
    sensor                text NOT NULL,
    day                   text NOT NULL,
    local_sensor          text NOT NULL DEFAULT '',
    version               bigint NOT NULL DEFAULT 0,
    legacy                bigint NOT NULL DEFAULT 0,
    o365                  bigint NOT NULL DEFAULT 0,
    o365_service          text NOT NULL DEFAULT '',
    app                   text NOT NULL DEFAULT '',
    client_ip             text NOT NULL,
    handshakes            bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (sensor, day, local_sensor, version, legacy, o365, o365_service, app, client_ip)
);

CREATE INDEX handshakes_client_ip ON tlsaudit.handshakes (client_ip);
CREATE INDEX handshakes_ts_us ON tlsaudit.handshakes (ts_us);
CREATE INDEX mail_sessions_client_ip ON tlsaudit.mail_sessions (client_ip);
CREATE INDEX dns_answers_addr ON tlsaudit.dns_answers (addr, ts_us);
CREATE INDEX inventory_legacy ON tlsaudit.inventory (legacy, o365, client_ip);

-- Make the partition of one day of one partitioned table, if it is missing. SECURITY DEFINER:
-- the sync role may call it without the right to create tables itself. The table name is
-- checked against the three partitioned tables; the day is a date, so the partition name and
-- bounds are made from values, never from text a sensor chose. An advisory lock serialises
-- sensors that reach a new day at the same moment.
CREATE FUNCTION tlsaudit.ensure_day(tbl text, d date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    part text;
BEGIN
    IF tbl NOT IN ('handshakes', 'mail_sessions', 'dns_answers') THEN
        RAISE EXCEPTION 'tlsaudit.ensure_day: % is not a partitioned table', tbl;
    END IF;
    part := tbl || '_' || to_char(d, 'YYYYMMDD');
    PERFORM pg_advisory_xact_lock(hashtext('tlsaudit.ensure_day'), hashtext(part));
    IF to_regclass('tlsaudit.' || part) IS NULL THEN
        EXECUTE format('CREATE TABLE tlsaudit.%I PARTITION OF tlsaudit.%I FOR VALUES FROM (%L) TO (%L)',
                       part, tbl, d, d + 1);
    END IF;
END
$$;

-- Central retention: drop every day partition of the three tables older than d (whole
-- partitions: no DELETE, no bloat). Returns the partitions dropped. For the owner (cron).
CREATE FUNCTION tlsaudit.drop_days_before(d date) RETURNS integer
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    n integer := 0;
BEGIN
    FOR r IN SELECT c.relname FROM pg_inherits i
             JOIN pg_class c ON c.oid = i.inhrelid
             JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace ns ON ns.oid = p.relnamespace
             WHERE ns.nspname = 'tlsaudit'
               AND p.relname IN ('handshakes', 'mail_sessions', 'dns_answers')
               AND c.relname ~ '_[0-9]{8}$'
               AND to_date(right(c.relname, 8), 'YYYYMMDD') < d
    LOOP
        EXECUTE format('DROP TABLE tlsaudit.%I', r.relname);
        n := n + 1;
    END LOOP;
    RETURN n;
END
$$;

REVOKE ALL ON FUNCTION tlsaudit.ensure_day(text, date) FROM PUBLIC;
REVOKE ALL ON FUNCTION tlsaudit.drop_days_before(date) FROM PUBLIC;
