-- 008_lean_indexes.sql - schema version 8: drop the indexes of the raw rows that no query can use
-- (issue 15). Each was one more B-tree insert per row on the store writer, the thread that bounds a
-- capture's speed, and none of them serves retention or drill-down:
--   - `query` filters addresses with ta_ip_in(column, CIDR) and names with ta_sni_match(), SQL
--     functions an index cannot answer, and the reports read the inventory (schema 004);
--   - retention reads handshakes.ts_us, mail_sessions.ts_us / handshake_id and dns_answers by id,
--     the inventory refresh handshakes.run_id / client_ip, the Office 365 rules
--     dns_answers(addr, ts_us) and (cname, ts_us): those indexes stay;
--   - dns_answers_addr is the first column of dns_answers_addr_ts, which answers the same lookups.
-- Nothing else changes; a database that never had them is left as it is.
DROP INDEX IF EXISTS handshakes_server_ip;
DROP INDEX IF EXISTS handshakes_sni;
DROP INDEX IF EXISTS mail_sessions_client_ip;
DROP INDEX IF EXISTS mail_sessions_server_ip;
DROP INDEX IF EXISTS dns_answers_addr;
DROP INDEX IF EXISTS dns_answers_name;
