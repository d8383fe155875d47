-- 018_workers.sql - schema version 18: how the workers of a live capture share the link.
--   - `capture -i IFACE --workers N` spreads packets over N workers by the pair of IP
--     addresses, so a site whose traffic crosses one NAT address, or goes to one front end,
--     loads one worker, which then drops alone. The run's counters are sums and could not
--     show it. The run now keeps each worker's packets and kernel drops (`workers`, JSON),
--     rewritten with the counters, and `status` shows them.
-- Every column: schema/README.md, "Schema 018".
ALTER TABLE runs ADD COLUMN workers TEXT;
