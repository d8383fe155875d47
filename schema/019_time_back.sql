-- 019_time_back.sql - schema version 19: the packets' time went back.
--   - A file older than the one read before it in the same run (`capture -r new.pcap -r
--     old.pcap`, files given by name in rotation order), or a clock stepped back under a live
--     capture, made every flow of the earlier time look idle at once: each was cut into pieces
--     and its handshake stored in parts. The flows of the later time now end when the time goes
--     back (16 packets in a row), as at the end of a file, and the run counts how often that
--     happened (`time_back`).
-- Every column: schema/README.md, "Schema 019".
ALTER TABLE runs ADD COLUMN time_back INTEGER NOT NULL DEFAULT 0;
