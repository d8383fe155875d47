#!/bin/bash
# it_capture_sync.sh - the capture's own sync (issue 13: "the service can do it itself, sync_to
# in the config") into a real PostgreSQL 15 the test starts itself:
#   1. `sync_to` (and `sync_interval`) in a --config file: capture -r of every bundled capture
#      ends with exactly the sensor's rows centrally (the final push after the last commit);
#   2. live on lo (root): handshakes made while the capture runs reach the central store while
#      it still runs; the sync's commits do not make the run owe the end-of-run Office 365
#      pass; after SIGINT a `tlsaudit sync` finds nothing missing and nothing twice;
#   3. a password in sync_to is a usage error (exit 2) before anything is created, and the
#      message does not repeat it; a central server that is down does not stop the capture
#      (its rows are stored; the failure is logged).
# Traffic stays on 127.0.0.0/8.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
command -v psql >/dev/null || skip "psql not installed"
pg_start
OWNER=$(owner_url central)
central() { psql_owner central "$1"; }
counts_both() { # DB SENSOR: "local central" counts of the row tables and the inventory
    local t out=""
    for t in runs handshakes mail_sessions inventory daily_rollups; do
        out="$out $t=$(sql "$1" "SELECT count(*) FROM $t")/$(central "SELECT count(*) FROM tlsaudit.$t WHERE sensor = '$2'")"
    done
    echo "${out# }"
}
same_counts() { # "a=1/1 b=2/2": every pair equal
    local p
    for p in $1; do
        p=${p#*=}
        [ "${p%/*}" = "${p#*/}" ] || return 1
    done
}

# 1. Files, sync_to from the config file.
db=$(fresh_db files)
cat >"$IT_TMP/files.conf" <<EOF
db = $db
sensor = sync-files
retain_days = 0
sync_to = $OWNER
sync_interval = 0.5
EOF
args=()
for f in "$TA_PCAPS"/*.pcap; do args+=(-r "$f"); done
"$TA_BIN" capture -q --config "$IT_TMP/files.conf" "${args[@]}" 2>"$IT_TMP/files.err"
assert_eq "$?" 0 "capture with sync_to: $(head -c 300 "$IT_TMP/files.err")"
c=$(counts_both "$db" sync-files)
same_counts "$c" && pass || fail "central equals the sensor after the run: $c"
assert_ge "$(central "SELECT count(*) FROM tlsaudit.handshakes WHERE sensor = 'sync-files'")" 20 \
          "the handshakes are there centrally"
# nothing more to push: a manual sync carries no rows
out=$("$TA_BIN" sync --db "$db" --to "$OWNER" 2>&1)
assert_in "$out" " 0 handshakes, 0 mail sessions" "a later sync finds nothing missing"

# 3a. A password in sync_to: usage error, nothing created, not printed.
db2=$(fresh_db refused)
out=$("$TA_BIN" capture -q --db "$db2" -r "$TA_PCAPS/tls10.pcap" \
      --sync-to "postgresql://u:Sekr3t-0815@127.0.0.1:$PG_PORT/central" 2>&1)
assert_eq "$?" 2 "a password in --sync-to is a usage error"
assert_in "$out" "holds a password" "and says why"
case "$out" in *Sekr3t-0815*) fail "the password was printed: $out" ;; *) pass ;; esac
[ -e "$db2" ] && fail "a database was created before the refusal" || pass

# 3b. The central server down: the capture still stores its rows, and says the sync failed.
pg_down
db3=$(fresh_db down)
"$TA_BIN" capture --db "$db3" --sensor sync-down --sync-to "$OWNER" -r "$TA_PCAPS/tls10.pcap" \
    2>"$IT_TMP/down.err"
assert_eq "$?" 0 "capture with the central server down: exit 0"
assert_eq "$(sql "$db3" "SELECT count(*) > 0 FROM handshakes")" 1 "its rows are stored"
assert_in "$(cat "$IT_TMP/down.err")" "sync: " "the failed sync is logged"
pg_up

# 2. Live on lo: pushes happen while the capture runs.
if [ "$(id -u)" -ne 0 ] || [ ! -e /sys/class/net/lo ] || ! command -v openssl >/dev/null; then
    echo "SKIP part 2 (live): needs root, lo and openssl" >&2
    it_done
fi
ADDR=127.0.7.3
PORT=$((46000 + $$ % 1000))
live=$(fresh_db live)
mkfifo "$IT_TMP/hold"
exec 9<>"$IT_TMP/hold"
start_capture "$live" "$IT_TMP/live.out" -v -v -i lo -f "host $ADDR and tcp port $PORT" \
    --sensor sync-live --sync-to "$OWNER" --sync-interval 0.3
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=sync.example.test" \
    -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null || die "openssl req failed"
timeout 30 openssl s_server -accept "$ADDR:$PORT" -cert "$IT_TMP/c.pem" -key "$IT_TMP/k.pem" \
    -naccept 2 -cipher 'DEFAULT:@SECLEVEL=0' <&9 >"$IT_TMP/server.log" 2>&1 &
IT_CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do grep -q ACCEPT "$IT_TMP/server.log" && break; sleep 0.05; done
for v in -tls1 -tls1_2; do
    { sleep 1; } | timeout 10 openssl s_client -connect "$ADDR:$PORT" -servername sync.example.test \
        $v -cipher 'DEFAULT:@SECLEVEL=0' >>"$IT_TMP/client.log" 2>&1
done
# the writer commits about every second and the sync pushes every 0.3 s: wait for both rows
n=0
for _ in $(seq 100); do
    n=$(central "SELECT count(*) FROM tlsaudit.handshakes WHERE sensor = 'sync-live'")
    [ "$n" = 2 ] && break
    sleep 0.1
done
assert_eq "$n" 2 "both live handshakes reached the central store while the capture runs"
kill -0 "$cap_pid" 2>/dev/null && pass || fail "the capture was still running then"
assert_eq "$(central "SELECT string_agg(sni || ' ' || version, ',' ORDER BY id) FROM tlsaudit.handshakes WHERE sensor = 'sync-live'")" \
          "sync.example.test 769,sync.example.test 771" "with their SNI and versions"
stop_capture "$cap_pid" "$IT_TMP/live.out"
# The sync's own connection committed its watermarks during the run; that changes no verdict,
# so the capture ends without re-classifying its run (a long service's stop would redo it all).
assert_ge "$(grep -c ': debug: ' "$IT_TMP/live.out")" 1 "(the debug log is on: -v -v)"
if grep -q "Office 365 classification after the run" "$IT_TMP/live.out"; then
    fail "the sync's commits made the run owe the Office 365 pass: $(grep 'classification after' "$IT_TMP/live.out")"
else
    pass
fi
"$TA_BIN" sync -q --db "$live" --to "$OWNER" 2>"$IT_TMP/after.err" || fail "sync after: $(cat "$IT_TMP/after.err")"
c=$(counts_both "$live" sync-live)
same_counts "$c" && pass || fail "after the stop and one sync: central equals the sensor: $c"
it_done
