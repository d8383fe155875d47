-- 009_inventory_hash.sql - schema version 9: a 64-bit hash of each inventory key, indexed
-- (issues 12 and 15). The store writer finds the row of a key it has not remembered by a seek in
-- this narrow index instead of the 16-column unique index `inventory_key`, and compares the key
-- columns on the row (two keys may share a hash: the index is not unique). `inventory_key` stays:
-- it keeps each key to one row for the SQL that upserts by key (retention, the rebuild, the central
-- view's copy) and serves lookups by client_ip. Every column: schema/README.md, "Schema 009".
--
-- key_hash is ta_inv_key_hash() of the 16 key columns (src/store/inv_hash.c), a function the
-- store registers on its connections, so this migration runs only through tlsaudit; a row whose
-- key_hash is wrong (0 in a central view's copy) is only slower to find, never miscounted: the
-- writer falls back to the key and repairs it.

ALTER TABLE inventory ADD COLUMN key_hash INTEGER NOT NULL DEFAULT 0;

UPDATE inventory SET key_hash = ta_inv_key_hash(sensor, client_ip, server_ip, server_port,
    transport, app, sni, version, cipher_id, cipher_v2, client_max_version, ja3, ja4, o365,
    o365_service, o365_reason);

CREATE INDEX inventory_hash ON inventory(key_hash);
