#!/bin/bash
# it_inventory_retention.sh - bounded storage and continuity of the inventory (issue 12):
#  - --retain-days 7 on a generated 30-day capture keeps only the last 7 days of handshake, mail
#    and DNS rows, while the inventory and daily rollups equal those of a capture that kept
#    everything, and `query legacy`/`summary` print the same;
#  - --max-db-size 4M: the file stays near its cap capture after capture (it stops growing), rows
#    remain, the inventory keeps every handshake; on a 12 MiB disk (the -wal file counts too) two
#    capped captures lose no row;
#  - a capture dated 40 years ahead deletes none of the rows of two days before (age is counted
#    from a day past the clock at most);
#  - a second capture into the same database continues the inventory: two runs give the same
#    inventory as one run of both files; retention by another sensor's capture moves the counts of
#    the first sensor's rows to that sensor's keys;
#  - `endpoints import` re-classifies: the inventory's Office 365 columns follow the rows, no
#    rebuild stays pending, and the reports equal the scan;
#  - a database of schema version 2 (auto_vacuum off) is migrated: the new tables are filled from
#    its rows, and a capture with a retention limit converts it to incremental auto-vacuum once
#    (logged).
# Every database satisfies the invariant recomputed in SQL (inv_lib.sh).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/inv_lib.sh
. "$(dirname "$0")/inv_lib.sh"

gen=$(build_gen) || die "cannot build bench/gen.c: $(head -c 300 "$IT_TMP/gen.err")"
month="$IT_TMP/month.pcap"
# --dns 0: verdicts from SNI, certificate and address only, so that they do not depend on which
# DNS answers retention kept (the DNS rule reads the stored answers, which retention deletes too)
"$gen" --shape handshake --hs-share 1 --bytes 40000000 --clients 800 --days 30 --dns 0 --out "$month" \
    "$TA_PCAPS"/*.pcap >/dev/null || die "generator failed"
DAY_US=86400000000

cap() {
    local db=$1
    shift
    "$TA_BIN" capture -q --db "$db" "$@" 2>"$IT_TMP/capture.err"
}
# The inventory and rollups without their row ids and write times, in a stable order.
inv_dump() {
    sql "$1" "SELECT $INV_KEY_I, legacy, handshakes, established, refused, first_seen_us,
              first_seen, last_seen_us, last_seen FROM inventory ORDER BY $INV_KEY_I"
}
rl_dump() {
    sql "$1" "SELECT $DAY_KEY, handshakes, established, refused, clients FROM daily_rollups
              ORDER BY $DAY_KEY"
}

# --- age ---------------------------------------------------------------------------------------
all=$(fresh_db keepall)
cap "$all" --retain-days 0 -r "$month" || fail "capture (keep all): $(cat "$IT_TMP/capture.err")"
wk=$(fresh_db week)
cap "$wk" --retain-days 7 -r "$month" || fail "capture (7 days): $(cat "$IT_TMP/capture.err")"
total=$(sql "$all" "SELECT count(*) FROM handshakes")
kept=$(sql "$wk" "SELECT count(*) FROM handshakes")
assert_ge "$total" 3000 "generated handshakes"
[ "$kept" -lt $((total / 3)) ] && [ "$kept" -gt 0 ] && pass ||
    fail "7 of 30 days kept: $kept of $total rows"
assert_eq "$(sql "$wk" "SELECT min(ts_us) >= max(ts_us) - 7 * $DAY_US FROM handshakes")" 1 \
    "no handshake older than 7 days before the newest"
newest=$(sql "$wk" "SELECT max(ts_us) FROM handshakes")
assert_eq "$(sql "$wk" "SELECT count(*) FROM dns_answers WHERE ts_us < $newest - 7 * $DAY_US")" 0 \
    "no DNS answer older than 7 days"
assert_eq "$(sql "$wk" "SELECT count(*) FROM mail_sessions WHERE ts_us < $newest - 7 * $DAY_US")" 0 \
    "no mail session older than 7 days"
assert_ge "$(sql "$wk" "SELECT count(*) FROM dns_answers")" 1 "recent DNS answers kept"
assert_eq "$(inv_dump "$wk")" "$(inv_dump "$all")" "inventory with 7-day retention = inventory of everything"
assert_eq "$(rl_dump "$wk")" "$(rl_dump "$all")" "daily rollups with 7-day retention = of everything"
assert_eq "$(sql "$wk" "SELECT sum(handshakes) FROM inventory")" "$total" "inventory counts every handshake"
assert_eq "$(sql "$wk" "SELECT sum(pruned_handshakes) FROM inventory")" "$((total - kept))" \
    "pruned_handshakes = rows deleted"
assert_eq "$(sql "$wk" "SELECT count(*) FROM daily_clients WHERE day < (SELECT substr(min(ts), 1, 10) FROM handshakes)")" 0 \
    "daily client keys of pruned days are gone"
for v in "legacy" "legacy --all --format csv" "summary --format csv" "summary --o365"; do
    # shellcheck disable=SC2086
    assert_eq "$("$TA_BIN" query $v --db "$wk")" "$("$TA_BIN" query $v --db "$all")" \
        "query $v: same answer after retention"
done
assert_eq "$(inv_mismatch "$wk")" "0 0 0" "7-day database: inventory = pruned + retained rows"
assert_eq "$(inv_mismatch "$all")" "0 0 0" "keep-all database: inventory = rows"

# --- size --------------------------------------------------------------------------------------
cdb=$(fresh_db capped)
cap_bytes=$((4 * 1024 * 1024))
for i in 1 2 3; do
    cap "$cdb" --max-db-size 4M -r "$month" || fail "capped capture $i: $(cat "$IT_TMP/capture.err")"
    size=$(stat -c %s "$cdb")
    [ "$size" -le $((cap_bytes * 110 / 100)) ] && pass ||
        fail "capture $i: file $size bytes over the 4M cap (+10% for one batch)"
    sizes+=" $size"
done
assert_ge "$(sql "$cdb" "SELECT count(*) FROM handshakes")" 100 "rows remain under the cap"
assert_eq "$(sql "$cdb" "SELECT sum(handshakes) FROM inventory")" "$((3 * total))" \
    "capped database: the inventory counts all three captures"
assert_eq "$(sql "$cdb" "PRAGMA auto_vacuum")" 2 "new database uses incremental auto-vacuum"
assert_eq "$(inv_mismatch "$cdb")" "0 0 0" "capped database: inventory = pruned + retained rows"
echo "capped file sizes:$sizes"

# A disk sized for the cap: the -wal file counts too. On a 12 MiB tmpfs, two captures under a 4M
# cap must lose nothing (the -wal used to grow to ~64 MB before its first checkpoint and fill it).
mnt="$IT_TMP/small"
mkdir -p "$mnt"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=12m tmpfs "$mnt" 2>/dev/null; then
    trap 'umount "$mnt" 2>/dev/null; it_cleanup' EXIT
    for i in 1 2; do
        cap "$mnt/d.db" --max-db-size 4M -r "$month" ||
            fail "capture $i on a disk sized for the cap: $(cat "$IT_TMP/capture.err")"
    done
    assert_eq "$(grep -c 'could not be' "$IT_TMP/capture.err")" 0 "small disk: no row lost"
    assert_eq "$(sql "$mnt/d.db" "SELECT sum(handshakes) FROM inventory")" "$((2 * total))" \
        "small disk: the inventory counts both captures"
    assert_eq "$(inv_mismatch "$mnt/d.db")" "0 0 0" "small disk: inventory = pruned + retained rows"
    assert_eq "$(sql "$mnt/d.db" "PRAGMA integrity_check")" ok "small disk: integrity_check"
    umount "$mnt"
    trap it_cleanup EXIT
else
    echo "SKIPPED (part): cannot mount a small tmpfs for the disk sized for the cap (not root?)"
fi

# --- a capture dated in the future -------------------------------------------------------------
# A capture file is hostile input: records dated decades ahead must not make the rows before them
# "older than 30 days". Rows of two days ago, then a capture dated 40 years ahead: both stay.
fdb=$(fresh_db future)
now=$(date +%s)
for f in tls10 tls12 smtp-starttls-tls10; do
    python3 "$TA_SRC/tests/pcap_redate.py" "$TA_SRC/pcaps/$f.pcap" "$IT_TMP/past-$f.pcap" \
        $((now - 2 * 86400)) || die "pcap_redate.py failed"
done
python3 "$TA_SRC/tests/pcap_redate.py" "$TA_SRC/pcaps/tls11.pcap" "$IT_TMP/ahead.pcap" \
    $((now + 40 * 365 * 86400)) || die "pcap_redate.py failed"
cap "$fdb" --retain-days 30 -r "$IT_TMP/past-tls10.pcap" -r "$IT_TMP/past-tls12.pcap" \
    -r "$IT_TMP/past-smtp-starttls-tls10.pcap" || fail "capture (two days ago): $(cat "$IT_TMP/capture.err")"
before=$(sql "$fdb" "SELECT count(*) FROM handshakes")
assert_ge "$before" 3 "rows of two days ago"
# (not -q: the warning is what is checked)
"$TA_BIN" capture --db "$fdb" --retain-days 30 -r "$IT_TMP/ahead.pcap" 2>"$IT_TMP/capture.err" ||
    fail "capture (ahead): $(cat "$IT_TMP/capture.err")"
assert_eq "$(sql "$fdb" "SELECT count(*) FROM handshakes WHERE ts_us < $now * 1000000")" "$before" \
    "a capture dated 40 years ahead deletes none of the rows before it"
# 40 years ahead is past January 2038: the pcap's unsigned 32-bit seconds, which libpcap reads
# signed, must still give the right year
assert_eq "$(sql "$fdb" "SELECT count(*) FROM handshakes WHERE substr(ts, 1, 4) = '$(date -u -d "@$((now + 40 * 365 * 86400))" +%Y)'")" \
    "$(sql "$fdb" "SELECT count(*) FROM handshakes WHERE ts_us > $now * 1000000")" \
    "the rows dated ahead are stored with their year"
assert_ge "$(sql "$fdb" "SELECT count(*) FROM handshakes WHERE ts_us > $now * 1000000")" 1 \
    "the rows dated ahead are stored"
grep -q "after this host's clock" "$IT_TMP/capture.err" && pass ||
    fail "rows dated after the clock not said: $(cat "$IT_TMP/capture.err")"
assert_eq "$(inv_mismatch "$fdb")" "0 0 0" "future-dated capture: inventory = pruned + retained rows"

# --- restart continuity -------------------------------------------------------------------------
# The inventory of two captures into one database is the merge of the inventories of each alone.
second="$IT_TMP/second.pcap"
"$gen" --shape handshake --hs-share 1 --bytes 8000000 --clients 800 --days 30 --dns 0 --seed 7 \
    --out "$second" "$TA_PCAPS"/*.pcap >/dev/null || die "generator failed"
one=$(fresh_db first)
cap "$one" --retain-days 0 --sensor s1 -r "$month"
sec=$(fresh_db secondonly)
cap "$sec" --retain-days 0 --sensor s1 -r "$second"
two=$(fresh_db tworuns)
cap "$two" --retain-days 0 --sensor s1 -r "$month"
cap "$two" --retain-days 0 --sensor s1 -r "$second"
assert_eq "$(sql "$two" "SELECT count(*) FROM runs")" 2 "two runs"
merged="SELECT $INV_KEY_I, sum(handshakes), sum(established), min(first_seen_us), max(last_seen_us)
  FROM (SELECT * FROM a.inventory UNION ALL SELECT * FROM b.inventory) GROUP BY $INV_KEY_I"
mine="SELECT $INV_KEY_I, handshakes, established, first_seen_us, last_seen_us FROM main.inventory"
assert_eq "$(sqlite3 "$two" "ATTACH '$one' AS a; ATTACH '$sec' AS b;
    SELECT (SELECT count(*) FROM ($merged EXCEPT $mine)) + (SELECT count(*) FROM ($mine EXCEPT $merged));")" 0 \
    "a second capture continues the inventory (= merge of each capture's inventory)"
assert_eq "$(sql "$two" "SELECT sum(handshakes) FROM inventory")" \
    "$(( $(sql "$one" "SELECT count(*) FROM handshakes") + $(sql "$sec" "SELECT count(*) FROM handshakes") ))" \
    "two runs: the inventory counts both"
assert_eq "$(inv_mismatch "$two")" "0 0 0" "two runs: inventory = rows"
assert_eq "$(sql "$one" "SELECT DISTINCT sensor FROM inventory")" "s1" "--sensor names the inventory rows"
# Retention by one sensor's capture deletes rows another sensor wrote into the same file: their
# counts go to the pruned part of that sensor's keys, never to keys of the pruning one.
mix=$(fresh_db mixed)
cp "$one" "$mix"
cap "$mix" --retain-days 7 --sensor s2 -r "$second" || fail "capture (s2, 7 days): $(cat "$IT_TMP/capture.err")"
assert_ge "$(sql "$mix" "SELECT COALESCE(sum(pruned_handshakes), 0) FROM inventory WHERE sensor = 's1'")" 1 \
    "the s2 capture pruned rows of s1"
assert_eq "$(inv_mismatch "$mix")" "0 0 0" "rows of another sensor pruned: inventory = pruned + rows"
# A row with a value longer than tlsaudit ever stores (a hand edit, another tool: here an app
# label of 41 characters) is pruned too: its chunk's counts go the SQL way, the inventory stays
# exact. The rebuild marked pending gives that row its own inventory key first.
odd=$(fresh_db odd)
cp "$one" "$odd"
sql "$odd" "UPDATE handshakes SET app = 'an-application-label-longer-than-any-one'
    WHERE id = (SELECT id FROM handshakes ORDER BY ts_us LIMIT 1);
    INSERT INTO store_meta(key, value) VALUES ('refresh', 'all')
    ON CONFLICT(key) DO UPDATE SET value = 'all'" >/dev/null
cap "$odd" --retain-days 7 --sensor s1 -r "$second" || fail "capture (long value): $(cat "$IT_TMP/capture.err")"
assert_eq "$(sql "$odd" "SELECT sum(pruned_handshakes) FROM inventory
    WHERE app = 'an-application-label-longer-than-any-one'")" 1 "the row with the long value was pruned"
assert_eq "$(inv_mismatch "$odd")" "0 0 0" "a row with an over-long value pruned: inventory = pruned + rows"

# --- re-classification -------------------------------------------------------------------------
rc=$(fresh_db reclass)
cp "$two" "$rc"
before=$(sql "$rc" "SELECT sum(handshakes) FROM inventory WHERE o365 = 1")
"$TA_BIN" endpoints import "$TA_DATA/endpoints-minimal.json" --db "$rc" >/dev/null ||
    fail "endpoints import"
after=$(sql "$rc" "SELECT sum(handshakes) FROM inventory WHERE o365 = 1")
assert_eq "$after" "$(sql "$rc" "SELECT count(*) FROM handshakes WHERE o365 = 1")" \
    "after endpoints import, the inventory's Office 365 count follows the rows"
[ "${before:-0}" != "${after:-0}" ] && pass || fail "the import changed no verdict ($before): test is vacuous"
assert_eq "$(sql "$rc" "SELECT count(*) FROM store_meta WHERE key = 'refresh'")" 0 "no rebuild left pending"
assert_eq "$(inv_mismatch "$rc")" "0 0 0" "re-classified: inventory = rows"
for v in "legacy --format csv" "summary --format csv"; do
    # shellcheck disable=SC2086
    assert_eq "$("$TA_BIN" query $v --db "$rc")" "$("$TA_BIN" query $v --db "$rc" --from-rows)" \
        "re-classified: query $v = scan"
done

# --- migration of a version-2 file -------------------------------------------------------------
old=$(fresh_db old)
cap "$old" --retain-days 0 -r "$TA_PCAPS/office365.pcap"
# every column but sensors: rows of a version-2 file have no sensor name (schema 004 came later)
LCOLS=client_ip,versions,client_max_version,apps,destinations,handshakes,refused,first_seen,last_seen,reason,ja3,ja4,ciphers
want=$("$TA_BIN" query legacy --all --db "$old" --format csv --from-rows | csv_cols "$LCOLS")
# Undo every schema file after 002 (tables, triggers, indexes, added columns) on the real rows.
sql "$old" "$(python3 "$TA_SRC/tests/schema_downgrade.py" "$TA_SRC/schema" 2)
            PRAGMA journal_mode = DELETE; PRAGMA auto_vacuum = NONE; VACUUM;"
assert_eq "$(sql "$old" "PRAGMA auto_vacuum")" 0 "old file: auto_vacuum off"
"$TA_BIN" capture -v --retain-days 400 --db "$old" -r "$TA_PCAPS/tls12.pcap" 2>"$IT_TMP/mig.err" ||
    fail "capture into the old file: $(cat "$IT_TMP/mig.err")"
assert_in "$(cat "$IT_TMP/mig.err")" "converting to incremental auto-vacuum" "conversion logged"
assert_eq "$(sql "$old" "PRAGMA auto_vacuum")" 2 "old file converted to incremental auto-vacuum"
latest=$(find "$TA_SRC/schema" -name '[0-9][0-9][0-9]_*.sql' | sed 's#.*/0*\([0-9]*\)_.*#\1#' | sort -n | tail -1)
assert_eq "$(sql "$old" "PRAGMA user_version")" "$latest" "old file at the latest schema version"
assert_eq "$(inv_mismatch "$old")" "0 0 0" "migrated file: inventory = old rows + new rows"
assert_eq "$("$TA_BIN" query legacy --all --db "$old" --format csv | csv_cols "$LCOLS")" "$want" \
    "migrated file: legacy from the inventory = scan before migration"
it_done
