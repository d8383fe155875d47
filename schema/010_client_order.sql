-- 010_client_order.sql - schema version 10: the inventory's distinct-client index ordered by
-- client first (issue 12), so `query summary` counts the distinct clients of every section in one
-- pass over it (src/query/query_clients.c) instead of six count(DISTINCT client_ip) passes, each
-- with a temporary B-tree, over (o365, version, app, legacy, client_ip).
--   - It REPLACES inventory_clients: the writer keeps the same number of inventory indexes, and
--     every column is part of the row's key (or derived from it), so an update of a row's counts
--     never touches it, as before.
--   - transport: the summary's distinct clients per transport; the handshakes per transport come
--     from the rows the pass names (src/query/query_clients.c says how).
--   - client_max_version: `query legacy` asks max(client_max_version) of each listed client;
--     this index answers it without the wide entries of inventory_key.
DROP INDEX IF EXISTS inventory_clients;
CREATE INDEX inventory_clients ON inventory(client_ip, o365, version, app, legacy, transport,
    client_max_version);
