-- 012_inventory_by_hash.sql - schema version 12: the inventory's 16-column unique index
-- `inventory_key` goes (issues 12 and 15). On a capture where nearly every handshake is a new
-- inventory key it was the widest of the five B-trees each new row is inserted into (texts ja3,
-- ja4, sni, ...), on the store writer, the thread that bounds a capture's speed; the writer never
-- read it (it finds a key by key_hash, schema 009, and compares the key on the row).
--   - A key stays one row without it: the writer and the SQL that adds keys (retention, the
--     rebuild: src/store/inv_merge.c) all find a key by key_hash and its 16 columns, and insert
--     only when they found none, inside their write transaction.
--   - That needs every row's key_hash to be the hash of its key. Schema 009 let a wrong one be
--     (0 in a copy made without it), found again through inventory_key and repaired; so this
--     migration repairs any that are wrong, once, before the index goes.
--   - Lookups by client_ip, which inventory_key also served, are inventory_clients' (schema 011:
--     it starts with client_ip).
--   - The central view's private copy (src/central/central_view.c) makes its own unique index on
--     the key: it merges the keys of sensors with ON CONFLICT while it loads.
-- Every column: schema/README.md, "Schema 012".

UPDATE inventory SET key_hash = ta_inv_key_hash(sensor, client_ip, server_ip, server_port,
    transport, app, sni, version, cipher_id, cipher_v2, client_max_version, ja3, ja4, o365,
    o365_service, o365_reason)
WHERE key_hash IS NOT ta_inv_key_hash(sensor, client_ip, server_ip, server_port, transport, app,
    sni, version, cipher_id, cipher_v2, client_max_version, ja3, ja4, o365, o365_service,
    o365_reason);

DROP INDEX IF EXISTS inventory_key;
