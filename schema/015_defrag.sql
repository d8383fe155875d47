-- 015_defrag.sql - schema version 15: IP fragments are reassembled.
--   - A mirror that wraps frames in ERSPAN or GRE over a 1,500-byte path fragments the outer
--     packets, and a server's large segments (the ServerHello with its certificate) came only in
--     fragments, which were counted and dropped. They are now rebuilt into their datagrams: the
--     run counts the datagrams rebuilt (`ip_reassembled`) and those given up (`ip_incomplete`).
-- Every column: schema/README.md, "Schema 015".
ALTER TABLE runs ADD COLUMN ip_reassembled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN ip_incomplete INTEGER NOT NULL DEFAULT 0;
