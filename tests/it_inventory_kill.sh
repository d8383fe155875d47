#!/bin/bash
# it_inventory_kill.sh - kill -9 at random moments of real captures (a generated 30-day capture
# read with -r), many times:
#  A. fresh database each trial, retention off: the file passes integrity_check, the rows kept are
#     exactly the first rows a complete capture writes (nothing lost but the tail: the open batch
#     and what was not read yet), and the inventory equals its recomputation from those rows;
#  B. one database continued by every trial, --retain-days 3 (retention deleting while killed):
#     integrity, the invariant "inventory = pruned + retained rows" after every kill, and a run
#     row per trial; every other trial reads with --workers 2 (the threaded reader: two engine
#     threads feed the one writer); a last clean capture still continues the same inventory.
# Trials per part: $INV_KILL_TRIALS (default 15).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/inv_lib.sh
. "$(dirname "$0")/inv_lib.sh"

TRIALS=${INV_KILL_TRIALS:-15}
# Batches of 5,000 rows (a test-only setting of the store): with the default 40,000 this whole
# capture is one batch, and a kill could never land between two commits.
export TA_TEST_BATCH_ROWS=5000
gen=$(build_gen) || die "cannot build bench/gen.c: $(head -c 300 "$IT_TMP/gen.err")"
pcap="$IT_TMP/month.pcap"
"$gen" --shape handshake --hs-share 1 --bytes 100000000 --clients 3000 --days 30 --out "$pcap" \
    "$TA_PCAPS"/*.pcap >/dev/null || die "generator failed"

ROWKEY="client_ip || ' ' || client_port || ' ' || server_ip || ' ' || server_port || ' ' || ts_us"
ref=$(fresh_db ref)
start=$(date +%s.%N)
"$TA_BIN" capture -q --retain-days 0 --db "$ref" -r "$pcap" || die "reference capture failed"
dur=$(echo "$(date +%s.%N) - $start" | bc)
echo "reference capture: $(sql "$ref" "SELECT count(*) FROM handshakes") handshakes in ${dur}s"
sql "$ref" "SELECT $ROWKEY FROM handshakes ORDER BY id" >"$IT_TMP/ref.rows"

# kill_at DB SECONDS ARGS...: start a capture, SIGKILL it after SECONDS.
kill_at() {
    local db=$1 t=$2
    shift 2
    "$TA_BIN" capture -q --db "$db" "$@" -r "$pcap" 2>/dev/null &
    local pid=$!
    sleep "$t"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# A random moment within the capture's duration (and a little past it).
moment() {
    awk -v s="$RANDOM" -v d="$dur" 'BEGIN { srand(s); printf "%.3f", 0.05 + rand() * (d * 1.1) }'
}

bad_a=0 partial=0
for i in $(seq "$TRIALS"); do
    db=$(fresh_db "a$i")
    t=$(moment)
    kill_at "$db" "$t" --retain-days 0
    [ -f "$db" ] || continue     # killed while creating the file: nothing to check
    ic=$(sqlite3 "$db" "PRAGMA integrity_check" 2>&1)
    [ "$ic" = ok ] || { fail "A$i (kill at ${t}s): integrity_check: $ic"; bad_a=1; continue; }
    n=$(sql "$db" "SELECT count(*) FROM handshakes")
    sql "$db" "SELECT $ROWKEY FROM handshakes ORDER BY id" >"$IT_TMP/got.rows"
    if ! cmp -s "$IT_TMP/got.rows" <(head -n "$n" "$IT_TMP/ref.rows"); then
        fail "A$i (kill at ${t}s): the $n rows kept are not the first $n of a complete capture"
        bad_a=1
    fi
    m=$(inv_mismatch "$db")
    [ "$m" = "0 0 0" ] || { fail "A$i (kill at ${t}s): inventory differs from its rows: $m"; bad_a=1; }
    [ "$n" -gt 0 ] && [ "$n" -lt "$(wc -l <"$IT_TMP/ref.rows")" ] && partial=$((partial + 1))
done
[ $bad_a = 0 ] && pass
echo "A: $TRIALS kills, $partial left a partial capture"
assert_ge "$partial" $((TRIALS / 3)) "kills landed in the middle of captures"

cont=$(fresh_db cont)
bad_b=0
for i in $(seq "$TRIALS"); do
    t=$(moment)
    w=()
    [ $((i % 2)) = 0 ] && w=(--workers 2)   # every other trial: the threaded reader, 2 engines
    kill_at "$cont" "$t" --retain-days 3 "${w[@]}"
    [ -f "$cont" ] || continue
    ic=$(sqlite3 "$cont" "PRAGMA integrity_check" 2>&1)
    [ "$ic" = ok ] || { fail "B$i (kill at ${t}s ${w[*]}): integrity_check: $ic"; bad_b=1; continue; }
    m=$(inv_mismatch "$cont")
    [ "$m" = "0 0 0" ] || { fail "B$i (kill at ${t}s ${w[*]}): inventory != pruned + rows: $m"; bad_b=1; }
done
[ $bad_b = 0 ] && pass
runs=$(sql "$cont" "SELECT count(*) FROM runs")
assert_ge "$runs" $((TRIALS - 2)) "a run row per trial"
before=$(sql "$cont" "SELECT sum(handshakes) FROM inventory")
"$TA_BIN" capture -q --retain-days 3 --db "$cont" -r "$pcap" || fail "clean capture after the kills"
after=$(sql "$cont" "SELECT sum(handshakes) FROM inventory")
assert_eq "$((after - before))" "$(wc -l <"$IT_TMP/ref.rows")" \
    "a clean capture after the kills adds exactly its handshakes to the inventory"
assert_eq "$(inv_mismatch "$cont")" "0 0 0" "after the kills and a clean capture: invariant holds"
assert_eq "$(inv_name_mismatch "$cont")" 0 "after the kills and a clean capture: names as the rows say"
assert_ge "$(sql "$cont" "SELECT sum(pruned_handshakes) FROM inventory")" 1 "retention deleted rows meanwhile"
it_done
