# tests/inv_lib.sh - the inventory's invariant as SQL, for the inventory tests (sourced after
# lib.sh). The inventory, the daily rollups and the daily client keys are recomputed here from the
# retained handshakes rows (plus the pruned_* part retention moved out of them) with plain SQL,
# independently of the C writer that maintains them incrementally.

# Key of a handshakes row h (runs r), in the inventory's key order (schema/004_inventory.sql).
INV_KEY_H="COALESCE(r.sensor, ''), h.client_ip, h.server_ip, h.server_port, h.transport,
 COALESCE(h.app, ''), COALESCE(h.sni, ''), COALESCE(h.version, 0), COALESCE(h.cipher_id, -1),
 COALESCE(h.cipher_v2, 0), COALESCE(h.client_max_version, 0), COALESCE(h.ja3, ''),
 COALESCE(h.ja4, ''), h.o365, COALESCE(h.o365_service, ''), COALESCE(h.o365_reason, '')"
INV_KEY_I="sensor, client_ip, server_ip, server_port, transport, app, sni, version, cipher_id,
 cipher_v2, client_max_version, ja3, ja4, o365, o365_service, o365_reason"
INV_LEGACY_H="(COALESCE(h.version, 0) IN (2, 768, 769, 770) OR (COALESCE(h.version, 0) = 0
 AND COALESCE(h.client_max_version, 0) BETWEEN 1 AND 770))"
DAY_KEY_H="substr(h.ts, 1, 10), COALESCE(r.sensor, ''), COALESCE(h.version, 0), $INV_LEGACY_H,
 h.o365, COALESCE(h.o365_service, ''), COALESCE(h.app, '')"
DAY_KEY="day, sensor, version, legacy, o365, o365_service, app"

# inv_mismatch DB: print the number of inventory, rollup and daily-client rows that differ from
# the recomputation (0 when the invariant holds), as "inventory rollups clients". The inventory's
# count includes its rows beyond one per key (no unique index keeps them apart: schema 012).
inv_mismatch() {
    sqlite3 -batch -noheader -separator ' ' "$1" "
WITH exp AS (
  SELECT $INV_KEY_I, sum(n) AS n, sum(e) AS e, min(f) AS f, max(l) AS l FROM (
    SELECT $INV_KEY_I, pruned_handshakes AS n, pruned_established AS e,
           pruned_first_seen_us AS f, pruned_last_seen_us AS l
    FROM inventory WHERE pruned_handshakes > 0
    UNION ALL
    SELECT $INV_KEY_H, count(*), sum(h.established), min(h.ts_us), max(h.ts_us)
    FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id GROUP BY $INV_KEY_H)
  GROUP BY $INV_KEY_I),
act AS (SELECT $INV_KEY_I, handshakes, established, first_seen_us, last_seen_us FROM inventory),
rl_exp AS (
  SELECT $DAY_KEY, sum(n) AS n FROM (
    SELECT $DAY_KEY, pruned_handshakes AS n FROM daily_rollups WHERE pruned_handshakes > 0
    UNION ALL
    SELECT $DAY_KEY_H, count(*) FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id
    GROUP BY $DAY_KEY_H)
  GROUP BY $DAY_KEY),
rl_act AS (SELECT $DAY_KEY, handshakes FROM daily_rollups),
dc_exp AS (
  SELECT $DAY_KEY_H, h.client_ip, count(*) FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id
  WHERE substr(h.ts, 1, 10) NOT IN (SELECT day FROM daily_rollups WHERE pruned_handshakes > 0)
  GROUP BY $DAY_KEY_H, h.client_ip),
dc_act AS (
  SELECT $DAY_KEY, client_ip, handshakes FROM daily_clients
  WHERE day NOT IN (SELECT day FROM daily_rollups WHERE pruned_handshakes > 0))
SELECT
  (SELECT count(*) FROM (SELECT * FROM exp EXCEPT SELECT * FROM act))
  + (SELECT count(*) FROM (SELECT * FROM act EXCEPT SELECT * FROM exp))
  + (SELECT count(*) FROM inventory)
  - (SELECT count(*) FROM (SELECT DISTINCT $INV_KEY_I FROM inventory))
  + (SELECT count(*) FROM inventory WHERE refused <> handshakes - established
     OR legacy <> (version IN (2, 768, 769, 770) OR (version = 0 AND client_max_version BETWEEN 1 AND 770))),
  (SELECT count(*) FROM (SELECT * FROM rl_exp EXCEPT SELECT * FROM rl_act))
  + (SELECT count(*) FROM (SELECT * FROM rl_act EXCEPT SELECT * FROM rl_exp))
  + (SELECT count(*) FROM daily_rollups d WHERE d.day IN (SELECT day FROM daily_clients)
     AND d.clients <> (SELECT count(*) FROM daily_clients c WHERE c.day = d.day
       AND c.sensor = d.sensor AND c.version = d.version AND c.legacy = d.legacy
       AND c.o365 = d.o365 AND c.o365_service = d.o365_service AND c.app = d.app)),
  (SELECT count(*) FROM (SELECT * FROM dc_exp EXCEPT SELECT * FROM dc_act))
  + (SELECT count(*) FROM (SELECT * FROM dc_act EXCEPT SELECT * FROM dc_exp));"
}

# inv_name_mismatch DB: print the number of inventory rows, among those whose handshakes are all
# retained, whose name or name_source is not the one schema/README.md defines, recomputed from
# the rows: the SNI; else the subject CN of the key's latest row with a certificate (the greatest
# at the same microsecond); else the latest passive-DNS answer for server_ip at or before the
# key's last handshake; else ''. A row named by DNS or by nothing is left out when no answer up
# to its last handshake is retained (retention may have deleted the one it was named by).
inv_name_mismatch() {
    sqlite3 -batch -noheader "$1" "
WITH k($INV_KEY_I, last, cn) AS (
  SELECT $INV_KEY_H, max(h.ts_us),
         substr(max(CASE WHEN h.cert_cn <> '' THEN printf('%020d', h.ts_us) || h.cert_cn END), 21)
  FROM handshakes h LEFT JOIN runs r ON r.id = h.run_id GROUP BY $INV_KEY_H),
e AS (
  SELECT $INV_KEY_I, CASE WHEN sni <> '' THEN sni || '|sni' WHEN cn IS NOT NULL THEN cn || '|cert'
         ELSE COALESCE((SELECT d.name || '|dns' FROM dns_answers d WHERE d.addr = k.server_ip
                        AND d.ts_us <= k.last ORDER BY d.ts_us DESC, d.id DESC LIMIT 1), '-')
         END AS want
  FROM k)
SELECT count(*) FROM inventory i JOIN e USING ($INV_KEY_I)
WHERE i.pruned_handshakes = 0 AND e.want <> '-' AND i.name || '|' || i.name_source <> e.want"
}

# build_gen: compile the bench generator into $IT_TMP/gen (echo its path), or return 1.
build_gen() {
    command -v gcc >/dev/null || return 1
    gcc -O2 -I"$TA_SRC/include/base" "$TA_SRC/bench/gen.c" "$TA_SRC/bench/gen_seed.c" \
        -o "$IT_TMP/gen" -lpcap -lm 2>"$IT_TMP/gen.err" || return 1
    echo "$IT_TMP/gen"
}
