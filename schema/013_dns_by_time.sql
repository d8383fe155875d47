-- 013_dns_by_time.sql - schema version 13: retention finds the DNS answers to delete by time.
--   - Retention deletes, before each batch commits, the DNS answers older than its cut, 500 at a
--     time. Without an index on ts_us it read them in id order and, once the old ones were gone,
--     went on through every remaining answer to learn that none was old enough: the whole table
--     per chunk. On a sensor at its --max-db-size that was the largest single cost of the store
--     writer (0.65 s of the 3.9 s of bench/RESULTS.md, "Session 7: a sensor at steady state").
--   - The index costs one more B-tree insert per stored answer (the writer stores about one per
--     DNS response).
-- Every column: schema/README.md, "Schema 013".
CREATE INDEX IF NOT EXISTS dns_answers_ts ON dns_answers(ts_us);
