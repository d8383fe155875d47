-- 017_legacy_o365_cover.sql - schema version 17: the legacy report's covering index holds the
-- Office 365 legacy rows only (issue 12).
--   - inventory_legacy_cover (schema 011) holds handshakes, established and last_seen, which the
--     writer's update of a row sets at every batch flush: each update of a legacy row rewrites
--     its entry. The default `query legacy` reads only the Office 365 legacy rows from it; the
--     other legacy rows (`--all`) paid that rewrite for nothing. On the generated month of
--     bench/RESULTS.md ("Session 15") the capture takes 4.00 s instead of 4.14 s, and at full
--     size (369,979 inventory rows) the default `query legacy` is as fast (72 ms), `--all` and
--     the report are as fast, every output byte-identical.
--   - Its condition becomes `legacy IS 1 AND o365 IS 1` (IS, not =, for the reason 011 gives:
--     the writer's `o365 = ?14` must not be matched against it), and a query must say both.
--   - `--all` reads the legacy rows through inventory_clients, as fast at full size.
-- Every index: schema/README.md, "Schema 017".
DROP INDEX IF EXISTS inventory_legacy_cover;
CREATE INDEX inventory_legacy_cover ON inventory(legacy, o365, client_ip, version,
    client_max_version, sni, server_ip, o365_service, handshakes, established, last_seen_us,
    last_seen) WHERE legacy IS 1 AND o365 IS 1;
