-- 001_init.sql - tlsaudit schema version 1: capture runs, handshakes, mail sessions, DNS answers.
-- Applied by src/store.c inside one transaction, which then sets PRAGMA user_version = 1.
-- Every table and column is documented in schema/README.md. Store numbers, derive labels:
-- versions are 16-bit wire values, ciphers their id; ta_version()/ta_cipher() give the names.

CREATE TABLE runs (
    id              INTEGER PRIMARY KEY,
    source          TEXT NOT NULL,
    filter          TEXT,
    started         TEXT NOT NULL,
    ended           TEXT,
    packets         INTEGER NOT NULL DEFAULT 0,
    bytes           INTEGER NOT NULL DEFAULT 0,
    drops           INTEGER NOT NULL DEFAULT 0,
    if_drops        INTEGER NOT NULL DEFAULT 0,
    flows           INTEGER NOT NULL DEFAULT 0,
    flows_evicted   INTEGER NOT NULL DEFAULT 0,
    flows_timed_out INTEGER NOT NULL DEFAULT 0,
    handshakes      INTEGER NOT NULL DEFAULT 0,
    ip_fragments    INTEGER NOT NULL DEFAULT 0,
    malformed       INTEGER NOT NULL DEFAULT 0,
    non_ip          INTEGER NOT NULL DEFAULT 0,
    pool_exhausted  INTEGER NOT NULL DEFAULT 0,
    clean           INTEGER NOT NULL DEFAULT 0,
    error           TEXT,
    tool_version    TEXT NOT NULL
);

CREATE TABLE handshakes (
    id                    INTEGER PRIMARY KEY,
    run_id                INTEGER REFERENCES runs(id),
    ts                    TEXT NOT NULL,
    ts_us                 INTEGER NOT NULL,
    client_ip             TEXT NOT NULL,
    client_port           INTEGER NOT NULL,
    server_ip             TEXT NOT NULL,
    server_port           INTEGER NOT NULL,
    ipver                 INTEGER NOT NULL,
    transport             TEXT NOT NULL,
    app                   TEXT,
    starttls              INTEGER NOT NULL DEFAULT 0,
    sni                   TEXT,
    client_hello          INTEGER NOT NULL DEFAULT 0,
    sslv2_hello           INTEGER NOT NULL DEFAULT 0,
    client_record_version INTEGER,
    client_legacy_version INTEGER,
    client_versions       TEXT,
    client_max_version    INTEGER,
    ciphers_offered       TEXT,
    extensions            TEXT,
    groups                TEXT,
    point_formats         TEXT,
    sigalgs               TEXT,
    key_shares            TEXT,
    alpn_offered          TEXT,
    session_ticket        INTEGER NOT NULL DEFAULT 0,
    psk                   INTEGER NOT NULL DEFAULT 0,
    ems                   INTEGER NOT NULL DEFAULT 0,
    reneg_info            INTEGER NOT NULL DEFAULT 0,
    etm                   INTEGER NOT NULL DEFAULT 0,
    fallback_scsv         INTEGER NOT NULL DEFAULT 0,
    server_hello          INTEGER NOT NULL DEFAULT 0,
    hrr                   INTEGER NOT NULL DEFAULT 0,
    server_legacy_version INTEGER,
    version               INTEGER,
    cipher_id             INTEGER,
    cipher_v2             INTEGER,
    server_extensions     TEXT,
    alpn                  TEXT,
    resumed               INTEGER NOT NULL DEFAULT 0,
    server_key_share      INTEGER,
    established           INTEGER NOT NULL DEFAULT 0,
    alert_level           INTEGER,
    alert_desc            INTEGER,
    alert_dir             TEXT,
    cert_cn               TEXT,
    cert_issuer           TEXT,
    cert_sans             TEXT,
    cert_not_before       TEXT,
    cert_not_after        TEXT,
    cert_key_type         TEXT,
    cert_key_bits         INTEGER,
    cert_chain_len        INTEGER,
    ja3                   TEXT,
    ja3s                  TEXT,
    ja4                   TEXT,
    ndpi_master           INTEGER,
    ndpi_app              INTEGER,
    ndpi_name             TEXT,
    greeting_host         TEXT,
    greeting              TEXT,
    anomalies             INTEGER NOT NULL DEFAULT 0,
    o365                  INTEGER NOT NULL DEFAULT 0,
    o365_service          TEXT,
    o365_reason           TEXT
);

CREATE INDEX handshakes_client_ip ON handshakes(client_ip);
CREATE INDEX handshakes_ts_us ON handshakes(ts_us);
CREATE INDEX handshakes_server_ip ON handshakes(server_ip);
CREATE INDEX handshakes_sni ON handshakes(sni);
CREATE INDEX handshakes_run_id ON handshakes(run_id);

CREATE TABLE mail_sessions (
    id                INTEGER PRIMARY KEY,
    run_id            INTEGER REFERENCES runs(id),
    ts                TEXT NOT NULL,
    ts_us             INTEGER NOT NULL,
    client_ip         TEXT NOT NULL,
    client_port       INTEGER NOT NULL,
    server_ip         TEXT NOT NULL,
    server_port       INTEGER NOT NULL,
    app               TEXT,
    greeting_code     INTEGER,
    greeting_host     TEXT,
    greeting          TEXT,
    client_name       TEXT,
    capabilities      TEXT,
    starttls_offered  INTEGER NOT NULL DEFAULT 0,
    starttls_sent     INTEGER NOT NULL DEFAULT 0,
    starttls_accepted INTEGER NOT NULL DEFAULT 0,
    starttls_refused  INTEGER NOT NULL DEFAULT 0,
    auth_in_clear     INTEGER NOT NULL DEFAULT 0,
    mail_in_clear     INTEGER NOT NULL DEFAULT 0,
    handshake_id      INTEGER REFERENCES handshakes(id),
    o365              INTEGER NOT NULL DEFAULT 0,
    o365_service      TEXT,
    o365_reason       TEXT
);

CREATE INDEX mail_sessions_client_ip ON mail_sessions(client_ip);
CREATE INDEX mail_sessions_ts_us ON mail_sessions(ts_us);
CREATE INDEX mail_sessions_server_ip ON mail_sessions(server_ip);
CREATE INDEX mail_sessions_handshake_id ON mail_sessions(handshake_id);

CREATE TABLE dns_answers (
    id      INTEGER PRIMARY KEY,
    run_id  INTEGER REFERENCES runs(id),
    ts      TEXT NOT NULL,
    ts_us   INTEGER NOT NULL,
    name    TEXT NOT NULL,
    ipver   INTEGER,
    addr    TEXT,
    cname   TEXT
);

CREATE INDEX dns_answers_addr ON dns_answers(addr);
CREATE INDEX dns_answers_name ON dns_answers(name);
