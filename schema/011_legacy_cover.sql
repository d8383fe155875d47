-- 011_legacy_cover.sql - schema version 11: `query legacy` reads what its default table shows
-- from indexes alone (issue 12), in client order, instead of fetching each of the month's
-- 85,000 legacy inventory rows from the table at random and reading all the entries of each of
-- its 16,000 clients for the client's highest offer.
--   - inventory_legacy_cover REPLACES inventory_legacy(legacy, o365, client_ip): a partial index,
--     an entry per legacy row only, holding the columns of the default table. It holds
--     handshakes, established and last_seen, which the writer's update of a row sets at every
--     batch flush, so each update of a legacy row also rewrites its entry here (no other
--     inventory index holds a count): +1.7% of the writer's instructions on the month of
--     bench/RESULTS.md ("`query legacy` (default form) at full size"). The other forms (--wide, csv, json) and the HTML report read the
--     rest of a row from the table, as before.
--   - Its condition is `legacy IS 1`, NOT `legacy = 1` (the same rows: legacy is NOT NULL), and a
--     query must say `legacy IS 1` to use it. With `legacy = 1`, SQLite compares the writer's
--     `?17 = legacy` (src/store/inventory.c) with it and marks those statements to be prepared
--     again whenever ?17 is bound: once per inventory update, +50% of the writer's instructions.
--   - inventory_clients is rebuilt with client_max_version second: max(client_max_version) of a
--     client is then its last entry, one seek, not a read of all its entries. Its columns and
--     the client order `query summary` reads (schema 010) are unchanged; all are key columns,
--     so an update of a row's counts still never touches it.
DROP INDEX IF EXISTS inventory_legacy;
CREATE INDEX inventory_legacy_cover ON inventory(legacy, o365, client_ip, version,
    client_max_version, sni, server_ip, o365_service, handshakes, established, last_seen_us,
    last_seen) WHERE legacy IS 1;
DROP INDEX IF EXISTS inventory_clients;
CREATE INDEX inventory_clients ON inventory(client_ip, client_max_version, o365, version, app,
    legacy, transport);
