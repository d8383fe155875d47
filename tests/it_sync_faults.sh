#!/bin/bash
# it_sync_faults.sh - sync against a real PostgreSQL 15 that fails under it: kill -9 of sync in
# the middle of a batch (three times), the server stopped (immediate, as a crash) and restarted
# in the middle of a --follow sync, connection refused (once: clear error; under --follow:
# retried with back-off until the server is back). Every case ends with exactly the sensor's
# rows centrally (counted on both sides), and after every kill the watermark the sensor kept
# covers only rows the central side has (it moves only after the central commit).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
command -v psql >/dev/null || skip "psql not installed"

pg_start
psql_owner postgres "ALTER ROLE postgres PASSWORD 'Owner-Pw-77'" >/dev/null
printf '127.0.0.1:%s:*:postgres:Owner-Pw-77\n' "$PG_PORT" >"$IT_TMP/pgpass"
chmod 600 "$IT_TMP/pgpass"
export PGPASSFILE=$IT_TMP/pgpass
TO="postgresql://postgres@127.0.0.1:$PG_PORT/central?connect_timeout=3"
central() { psql_owner central "$1"; }

# A sensor with a backlog: the bundled captures, handshakes doubled 12 times (106,496 rows over
# 79 days: about 50 batches of 2,000 and as many partitions).
big=$(fresh_db big)
cap "$big" big "$TA_PCAPS"/*.pcap || die "capture: $(cat "$IT_TMP/capture.err")"
for i in $(seq 12); do
    sql "$big" "CREATE TEMP TABLE t AS SELECT * FROM handshakes;
                UPDATE t SET id = NULL, ts = date(substr(ts, 1, 10), '+$i day') || substr(ts, 11),
                             ts_us = ts_us + $i * 86400000000;
                INSERT INTO handshakes SELECT * FROM t;" || die "growing the sensor database"
done
fill_inventory "$big"
local_n=$(sql "$big" "SELECT count(*) FROM handshakes")
assert_eq "$local_n" 106496 "backlog made"

# exact WHAT: every table has the same rows on both sides (count and the set of ids).
exact() {
    local t
    for t in runs handshakes mail_sessions dns_answers inventory; do
        assert_eq "$(central "SELECT count(*), count(DISTINCT id), COALESCE(sum(id), 0) FROM tlsaudit.$t WHERE sensor = 'big'")" \
                  "$(sql "$big" "SELECT count(*), count(DISTINCT id), COALESCE(sum(id), 0) FROM $t")" "$1: $t"
    done
    assert_eq "$(central "SELECT count(*), sum(handshakes) FROM tlsaudit.daily_rollups WHERE sensor = 'big'")" \
              "$(sql "$big" "SELECT count(*), sum(handshakes) FROM daily_rollups")" "$1: daily_rollups"
}

# in_batch: true when a sync session of ours is inside a transaction right now.
in_batch() {
    [ "$(central "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tlsaudit-sync'
                  AND xact_start IS NOT NULL AND query NOT LIKE '%ensure_day%'" 2>/dev/null)" -ge 1 ] 2>/dev/null
}

# wait_for COND SECONDS: poll a shell condition every 20 ms, for at most SECONDS.
wait_for() {
    local end=$(( $(date +%s) + $2 ))
    while [ "$(date +%s)" -lt "$end" ]; do
        eval "$1" && return 0
        sleep 0.02
    done
    return 1
}

# 1. kill -9 in the middle of a batch, three times, then a clean run. The server logs
# "unexpected EOF on client connection with an open transaction" when a client dies inside a
# transaction: that line proves the kill hit a batch (an attempt that fell between two batches
# is repeated, up to five times per round).
open_eof() { grep -c "unexpected EOF on client connection with an open transaction" "$PG_DIR/server.log"; }
for round in 1 2 3; do
    hit=no
    for attempt in 1 2 3 4 5; do
        before=$(open_eof)
        "$TA_BIN" sync --db "$big" --to "$TO" --batch 2000 -q 2>"$IT_TMP/kill$round.err" &
        spid=$!
        wait_for "[ \"\$(central \"SELECT count(*) FROM tlsaudit.handshakes\" 2>/dev/null || echo 0)\" -ge $((round * 8000)) ] && in_batch" 60
        kill -9 "$spid" 2>/dev/null
        wait "$spid" 2>/dev/null
        sleep 0.3   # the server notices the dead connection and rolls the batch back
        if [ "$(open_eof)" -gt "$before" ]; then
            hit=yes
            break
        fi
    done
    assert_eq "$hit" yes "round $round: sync killed inside a central transaction (attempt $attempt)"
    mark=$(sql "$big" "SELECT COALESCE((SELECT mark FROM sync_state WHERE tbl = 'handshakes'), 0)")
    got=$(central "SELECT count(*) FROM tlsaudit.handshakes WHERE sensor = 'big' AND id <= $mark")
    assert_eq "$got" "$(sql "$big" "SELECT count(*) FROM handshakes WHERE id <= $mark")" \
        "round $round: every row under the sensor's watermark ($mark) is central"
    got=$(central "SELECT count(*) FROM tlsaudit.handshakes")
    [ "$got" -lt "$local_n" ] && pass || fail "round $round: the kill came too late ($got rows already)"
done
"$TA_BIN" sync --db "$big" --to "$TO" --batch 2000 -q 2>"$IT_TMP/final.err"
assert_eq "$?" 0 "sync after the kills: $(cat "$IT_TMP/final.err")"
exact "after three kill -9"

# 2. The server stops (immediate) in the middle of a --follow sync and comes back; new rows are
# added meanwhile. The follower retries with back-off and catches up to exact counts.
PGOPTIONS="-c client_min_messages=warning" central "DROP SCHEMA tlsaudit CASCADE" >/dev/null
"$TA_BIN" sync --db "$big" --to "$TO" --batch 1000 --follow --interval 0.2 2>"$IT_TMP/follow.err" &
fpid=$!
IT_CLEANUP_PIDS+=("$fpid")
wait_for "in_batch && [ \"\$(central \"SELECT count(*) FROM tlsaudit.handshakes\" 2>/dev/null || echo 0)\" -ge 5000 ]" 60 \
    || fail "follow: never saw a batch"
pg_down
cap "$big" big "$TA_PCAPS/tls10.pcap" "$TA_PCAPS/smtp-starttls-tls10.pcap" || die "capture while down"
sleep 2
kill -0 "$fpid" 2>/dev/null && pass || fail "sync --follow died when the server went away"
pg_up
local_n=$(sql "$big" "SELECT count(*) FROM handshakes")
wait_for "[ \"\$(central \"SELECT count(*) FROM tlsaudit.handshakes\" 2>/dev/null)\" = $local_n ] &&
          [ \"\$(central \"SELECT count(*) FROM tlsaudit.inventory\" 2>/dev/null)\" = $(sql "$big" "SELECT count(*) FROM inventory") ]" 90 \
    || fail "follow did not catch up after the restart"
sleep 1   # let the pass that reached those counts finish (rollups are pushed last)
kill -TERM "$fpid"
wait "$fpid"
assert_eq "$?" 0 "sync --follow ends cleanly on SIGTERM"
assert_in "$(cat "$IT_TMP/follow.err")" "retrying in" "the outage was reported and retried"
exact "after a server restart mid-sync"

# 3. Connection refused: a single sync fails clearly and fast; --follow waits for the server.
pg_down
start=$(date +%s)
"$TA_BIN" sync --db "$big" --to "$TO" 2>"$IT_TMP/refused.err"
assert_eq "$?" 1 "connection refused: exit 1"
assert_in "$(cat "$IT_TMP/refused.err")" "cannot connect" "and says it cannot connect"
assert_in "$(cat "$IT_TMP/refused.err")" "127.0.0.1:$PG_PORT/central" "naming the target"
[ $(( $(date +%s) - start )) -le 10 ] && pass || fail "refused took more than 10 s"
"$TA_BIN" sync --db "$big" --to "$TO" --follow --interval 0.2 2>"$IT_TMP/follow2.err" &
fpid=$!
IT_CLEANUP_PIDS+=("$fpid")
cap "$big" big "$TA_PCAPS/tls11.pcap" "$TA_PCAPS/tls13.pcap" || die "capture while refused"
sleep 2
pg_up
local_n=$(sql "$big" "SELECT count(*) FROM handshakes")
wait_for "[ \"\$(central \"SELECT count(*) FROM tlsaudit.handshakes\" 2>/dev/null)\" = $local_n ]" 90 \
    || fail "follow did not sync once the server was back"
sleep 1
kill -TERM "$fpid"
wait "$fpid"
assert_eq "$?" 0 "follow after refused connections ends cleanly"
assert_in "$(cat "$IT_TMP/follow2.err")" "cannot connect" "refused connections were reported"
exact "after connection refused"

it_done
