#!/bin/bash
# it_service_status.sh - `tlsaudit status` tells the truth about a capture (issue 12).
#
# A live capture in a network namespace of the test's own, after a fresh endpoint import:
# status exits 0 (healthy), and its JSON says running, the capture's pid and host, a heartbeat
# a few seconds old that moves on, the handshakes and a non-zero handshakes-per-second rate
# once real handshakes crossed. A heartbeat set a minute back while the pid lives: degraded (1).
# A copy of the database as if the run were on another host: the heartbeat's age decides
# (fresh: 0; 31 s old: 2), drops in the last minute: 1, and with several workers the one they
# load, when it is one (schema 018; values not written by a capture show no workers). Then kill -9: no end is ever written to the run row, yet status
# at once exits 2 and says the capture died (its pid is gone). A database that a finished
# `capture -r` wrote: exit 2, "not running since"; no database: exit 2; a bad option: exit 2.
# Root only. Traffic only inside the namespace's loopback.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/service_lib.sh
. "$(dirname "$0")/service_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespace, live capture)"
command -v openssl >/dev/null || skip "openssl not installed"
netns_up
make_cert

# json_field FILE KEY: a field of status's JSON (an array of one object).
json_field() {
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[0][sys.argv[2]]; print("" if v is None else v)' "$1" "$2"
}

PORT=$((48000 + $$ % 1000))
db=$IT_TMP/st.db
"$TA_BIN" endpoints import "$TA_DATA/endpoints-sample.json" --db "$db" --version 2026120100 \
    >/dev/null || die "endpoint import failed"
"$TA_BIN" status --db "$db" >"$IT_TMP/none.out"
assert_eq "$?" 2 "status before any capture: not running"
assert_in "$(cat "$IT_TMP/none.out")" "no capture has written into this database" "status says why"

ns_capture "$db" 1 -i lo -f "tcp port $PORT" --db "$db"
sleep 0.3
for i in 1 2 3; do tls_once "$PORT" "st$i.example.test" -tls1_2; done
wait_sql "$db" "SELECT count(*) FROM handshakes" 3 || fail "handshakes not stored"
hb0=$(sql "$db" "SELECT heartbeat_us FROM runs")
# The next heartbeat (every 5 s) carries the rate of the last minute.
wait_sql "$db" "SELECT hs_rate > 0 AND handshakes = 3 FROM runs" 1 15 ||
    fail "no heartbeat with the handshakes' rate within 15 s: $(sql "$db" "SELECT * FROM runs")"
"$TA_BIN" status --db "$db" --format json >"$IT_TMP/st.json"
assert_eq "$?" 0 "status of a running, healthy capture: exit 0 ($(cat "$IT_TMP/st.json"))"
assert_eq "$(json_field "$IT_TMP/st.json" status)|$(json_field "$IT_TMP/st.json" running)" "healthy|1" "JSON: healthy, running"
assert_eq "$(json_field "$IT_TMP/st.json" pid)|$(json_field "$IT_TMP/st.json" host)" "$cap|$(hostname)" "JSON: pid and host of the capture"
assert_eq "$(json_field "$IT_TMP/st.json" handshakes)" 3 "JSON: handshakes of the run"
rate=$(json_field "$IT_TMP/st.json" handshakes_per_s)
if awk "BEGIN { exit !($rate > 0 && $rate <= 1) }"; then pass; else fail "handshakes per second '$rate' not in (0, 1] for 3 in the last minute"; fi
age=$(json_field "$IT_TMP/st.json" heartbeat_age_s)
assert_ge 10 "$age" "heartbeat at most 10 s old"
hb1=$(sql "$db" "SELECT heartbeat_us FROM runs")
assert_ge "$hb1" $((hb0 + 1)) "the heartbeat moves on while the capture runs"
assert_ge "$(json_field "$IT_TMP/st.json" packets)" 24 "JSON: packets of the run (3 connections)"
assert_eq "$(json_field "$IT_TMP/st.json" endpoints_version)" 2026120100 "JSON: endpoint list version"
assert_eq "$(json_field "$IT_TMP/st.json" oldest_day)" "$(date -u +%Y-%m-%d)" "JSON: oldest retained day"
assert_eq "$(json_field "$IT_TMP/st.json" disk_total_bytes)" "$(( $(stat -f -c '%b * %S' "$db") ))" \
    "JSON: size of the database's file system"
assert_ge "$(json_field "$IT_TMP/st.json" disk_free_bytes)" 1 "JSON: free bytes of that file system"
"$TA_BIN" status --db "$db" >"$IT_TMP/st.txt"
assert_in "$(cat "$IT_TMP/st.txt")" "tlsaudit: running since" "text: running since"
assert_in "$(cat "$IT_TMP/st.txt")" "status: healthy" "text: healthy"

# A live process whose heartbeat stopped (here: set back a minute, right after a heartbeat):
# degraded, not healthy.
wait_sql "$db" "SELECT heartbeat_us > $hb1 FROM runs" 1 10 || fail "no heartbeat after $hb1"
sqlite3 "$db" "UPDATE runs SET heartbeat_us = heartbeat_us - 60000000"
"$TA_BIN" status --db "$db" >"$IT_TMP/stale.txt"
assert_eq "$?" 1 "status with a live pid but a minute-old heartbeat: degraded"
assert_in "$(cat "$IT_TMP/stale.txt")" "no heartbeat from a live process" "status says the heartbeat stopped"

# The same run seen from another host (a copy whose host is someone else's): the heartbeat's
# age alone decides; drops in the last minute make it degraded.
cp_db() { sqlite3 "$db" ".backup '$IT_TMP/copy.db'" && sqlite3 "$IT_TMP/copy.db" "$1"; }
now_us=$(( $(date +%s) * 1000000 ))
cp_db "UPDATE runs SET host = 'elsewhere.example', heartbeat_us = $now_us, recent_drops = 0"
"$TA_BIN" status --db "$IT_TMP/copy.db" >/dev/null
assert_eq "$?" 0 "other host, fresh heartbeat: running, healthy"
cp_db "UPDATE runs SET host = 'elsewhere.example', heartbeat_us = $now_us, recent_drops = 7"
"$TA_BIN" status --db "$IT_TMP/copy.db" >"$IT_TMP/drops.txt"
assert_eq "$?" 1 "other host, drops in the last minute: degraded"
assert_in "$(cat "$IT_TMP/drops.txt")" "7 packets or handshakes dropped or cut short in the last minute" "status says why"
# With several workers (schema 018): drops nearly all one worker's, which reads well over its
# share, are named; spread evenly, or on a worker with its share only, they are not; a workers
# value that is not what the capture writes is shown as no workers, never misread.
W='[{"packets":100,"drops":0},{"packets":700,"drops":95},{"packets":100,"drops":5},{"packets":100,"drops":0}]'
cp_db "UPDATE runs SET host = 'elsewhere.example', heartbeat_us = $now_us, recent_drops = 7, workers = '$W'"
"$TA_BIN" status --db "$IT_TMP/copy.db" >"$IT_TMP/w.txt"
assert_eq "$?" 1 "drops on one loaded worker: degraded"
assert_in "$(cat "$IT_TMP/w.txt")" "workers:       4, packets 10.0% / 70.0% / 10.0% / 10.0%, kernel drops 0 / 95 / 5 / 0" \
    "the workers line: each one's share and drops"
assert_in "$(cat "$IT_TMP/w.txt")" "kernel drops on worker 1, which reads 70% of the packets" \
    "status names the loaded worker"
for w in '[{"packets":500,"drops":50},{"packets":500,"drops":50}]' \
         '[{"packets":500,"drops":0},{"packets":500,"drops":100}]' \
         '[{"packets":800,"drops":50},{"packets":200,"drops":50}]'; do
    cp_db "UPDATE runs SET host = 'elsewhere.example', heartbeat_us = $now_us, recent_drops = 7, workers = '$w'"
    "$TA_BIN" status --db "$IT_TMP/copy.db" >"$IT_TMP/w.txt"
    assert_eq "$?" 1 "drops with workers $w: degraded"
    case "$(cat "$IT_TMP/w.txt")" in
    *"kernel drops on worker"*) fail "drops with workers $w: no worker is to blame: $(cat "$IT_TMP/w.txt")" ;;
    *) pass ;;
    esac
done
for w in 'not json' '{"packets":1,"drops":0}' '[{"packets":"x","drops":0},{"packets":1,"drops":0}]' \
         '[{"packets":-1,"drops":0},{"packets":1,"drops":0}]' '[{"packets":9}]'; do
    cp_db "UPDATE runs SET host = 'elsewhere.example', heartbeat_us = $now_us, recent_drops = 0, workers = '$w'"
    "$TA_BIN" status --db "$IT_TMP/copy.db" --format json >"$IT_TMP/w.json"
    assert_eq "$?|$(json_field "$IT_TMP/w.json" workers)|$(json_field "$IT_TMP/w.json" worker_packets)" "0||" \
        "workers value '$w': healthy, no workers shown"
done
# The same copy on an 8 MiB file system: less than 64 MiB free, degraded, and the text says so.
small=$IT_TMP/small
mkdir -p "$small"
if mount -t tmpfs -o size=8m tmpfs "$small" 2>/dev/null; then
    cp_db "UPDATE runs SET host = 'elsewhere.example', heartbeat_us = $now_us, recent_drops = 0"
    cp "$IT_TMP/copy.db" "$small/copy.db"
    "$TA_BIN" status --db "$small/copy.db" >"$IT_TMP/small.txt"
    assert_eq "$?" 1 "less than 64 MiB free on the database's file system: degraded"
    assert_in "$(cat "$IT_TMP/small.txt")" "MiB free on the database's file system" "status says why"
    assert_in "$(cat "$IT_TMP/small.txt")" "WARNING: nearly full" "the disk line warns"
    umount "$small"
else
    echo "SKIPPED (part): cannot mount a small tmpfs for the nearly full disk"
fi
cp_db "UPDATE runs SET host = 'elsewhere.example', heartbeat_us = $((now_us - 31000000))"
"$TA_BIN" status --db "$IT_TMP/copy.db" >/dev/null
assert_eq "$?" 2 "other host, heartbeat 31 s old: not running"

kill -KILL "$cap"
wait "$cap" 2>/dev/null
"$TA_BIN" status --db "$db" >"$IT_TMP/dead.txt"
assert_eq "$?" 2 "status right after kill -9: not running ($(head -1 "$IT_TMP/dead.txt"))"
assert_in "$(head -1 "$IT_TMP/dead.txt")" "died without ending its run" "status says the capture died"
assert_eq "$(sql "$db" "SELECT ended IS NULL FROM runs")" 1 "(the run row was never ended)"

db2=$IT_TMP/file.db
"$TA_BIN" capture -q --db "$db2" -r "$TA_PCAPS/tls10.pcap" || fail "capture -r failed"
"$TA_BIN" status --db "$db2" >"$IT_TMP/file.txt"
assert_eq "$?" 2 "status after a finished capture -r: not running"
assert_in "$(head -1 "$IT_TMP/file.txt")" "not running since" "status: not running since the run ended"
"$TA_BIN" status --db "$IT_TMP/none.db" >/dev/null
assert_eq "$?" 2 "status of a missing database: 2"
[ -e "$IT_TMP/none.db" ] && fail "status created the database" || pass
"$TA_BIN" status --db "$db" --format yaml >/dev/null 2>&1
assert_eq "$?" 2 "status with an unknown format: usage error"
it_done
