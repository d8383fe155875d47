-- 014_truncated.sql - schema version 14: packets the snap length cut short.
--   - A capture taken with a small snap length (`tcpdump -s 96`, a packet broker that slices
--     packets) keeps the headers and loses the hellos: the run found nothing and said nothing.
--     The run now counts the packets whose payload the analysis read and the snap length cut
--     (`truncated`), and `capture`, `status` and the report say the capture was incomplete.
-- Every column: schema/README.md, "Schema 014".
ALTER TABLE runs ADD COLUMN truncated INTEGER NOT NULL DEFAULT 0;
