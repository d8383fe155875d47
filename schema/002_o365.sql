-- 002_o365.sql - schema version 2: the Office 365 endpoint list in force, and indexes for the
-- passive-DNS lookups of the classifier (src/o365.c).
-- An endpoint set row is one list: the built-in default (data/o365_endpoints.json, builtin = 1)
-- or one imported from Microsoft's web service feed (`tlsaudit endpoints import`). Importing an
-- instance replaces the previous list of that instance. The list in force is the newest set
-- (highest id). endpoint_id, service_area, category and required come from the feed as is.

CREATE TABLE endpoint_sets (
    id          INTEGER PRIMARY KEY,
    instance    TEXT NOT NULL,            -- Worldwide, USGovDoD, USGovGCCHigh, China
    version     TEXT NOT NULL,            -- the feed's YYYYMMDDNN, or what the importer was told
    source      TEXT NOT NULL,            -- file name imported, or 'built-in'
    imported_at TEXT NOT NULL,            -- ISO-8601 UTC
    builtin     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE endpoint_urls (
    set_id            INTEGER NOT NULL REFERENCES endpoint_sets(id) ON DELETE CASCADE,
    endpoint_id       INTEGER NOT NULL,   -- the feed's immutable endpoint set id
    service_area      TEXT NOT NULL,      -- Exchange, SharePoint, Skype, Common
    service_area_name TEXT,               -- serviceAreaDisplayName
    pattern           TEXT NOT NULL,      -- lower case; '*' wildcards as in the feed
    tcp_ports         TEXT,
    category          TEXT,               -- Optimize, Allow, Default
    required          INTEGER
);

CREATE TABLE endpoint_ips (
    set_id       INTEGER NOT NULL REFERENCES endpoint_sets(id) ON DELETE CASCADE,
    endpoint_id  INTEGER NOT NULL,
    service_area TEXT NOT NULL,
    cidr         TEXT NOT NULL,           -- as in the feed, e.g. 40.96.0.0/13, 2603:1006::/40
    ipver        INTEGER NOT NULL         -- 4 or 6
);

CREATE INDEX endpoint_urls_set ON endpoint_urls(set_id);
CREATE INDEX endpoint_ips_set ON endpoint_ips(set_id);

-- The classifier walks A/AAAA answers back through CNAME chains, latest first, at or before the
-- time of a connection: these make each step one index lookup.
CREATE INDEX dns_answers_addr_ts ON dns_answers(addr, ts_us);
CREATE INDEX dns_answers_cname_ts ON dns_answers(cname, ts_us);
