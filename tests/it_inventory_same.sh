#!/bin/bash
# it_inventory_same.sh - `query legacy` and `query summary` answer from the inventory and the daily
# tables (schema 004) exactly what the scan of the handshakes rows (--from-rows) answers: every
# output format and filter, on every bundled capture (pcaps/), every shared capture
# ($TA_SHARED_PCAPS), all bundled captures in one database (several runs), and a bench-generated
# capture spread over 30 simulated days (also with --since/--until on whole days, answered from
# daily_clients). Each database also satisfies the invariant recomputed in SQL (inv_lib.sh), names
# included, and a tampered inventory is detected by it. The default legacy form's rows come from
# the covering index (schema 017) in client order. Finally the inventory answers alone: with the
# rows deleted, `legacy` and `summary` still print the same, --from-rows nothing.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/inv_lib.sh
. "$(dirname "$0")/inv_lib.sh"

VARIANTS=(
    "legacy" "legacy --all" "legacy --all --wide" "legacy --all --format csv"
    "legacy --format json" "legacy --all --format jsonl --client 10.0.0.0/8"
    "legacy --all --client ::/0" "legacy --all --sni *" "legacy --all --sni *.office365.com"
    "legacy --all --version TLS1.0" "legacy --all --version ssl3" "legacy --all --app https"
    "legacy --all --server 0.0.0.0/0 --format csv" "legacy --o365 --fail-if-found"
    "summary" "summary --format csv" "summary --o365 --format json" "summary --app smtp"
    "summary --version TLS1.2 --format csv" "summary --client ::/0 --format csv"
    "summary --sni * --format csv" "summary --all --server 52.96.0.0/14"
)

# cap DB FILE...: capture with retention off (the scan must still see every row to compare).
cap() {
    local db=$1 f args=()
    shift
    for f in "$@"; do args+=(-r "$f"); done
    "$TA_BIN" capture -q --retain-days 0 --db "$db" "${args[@]}" 2>"$IT_TMP/capture.err"
}

# compare DB LABEL [EXTRA VARIANTS...]: every variant, default source against --from-rows.
compare() {
    local db=$1 label=$2 v a b ra rb bad=0
    shift 2
    for v in "${VARIANTS[@]}" "$@"; do
        # shellcheck disable=SC2086  # the variant is a word list on purpose
        a=$("$TA_BIN" query $v --db "$db" 2>&1); ra=$?
        # shellcheck disable=SC2086
        b=$("$TA_BIN" query $v --db "$db" --from-rows 2>&1); rb=$?
        if [ "$a" != "$b" ] || [ "$ra" != "$rb" ]; then
            fail "$label: query $v differs from --from-rows (status $ra vs $rb)"
            diff <(echo "$a") <(echo "$b") | head -10 >&2
            bad=1
        fi
    done
    [ $bad = 0 ] && pass
    assert_eq "$(inv_mismatch "$db")" "0 0 0" "$label: inventory = recomputation from the rows"
    assert_eq "$(inv_name_mismatch "$db")" 0 "$label: inventory names = recomputation from the rows"
}

files=("$TA_PCAPS"/*.pcap "$TA_PCAPS"/*.pcapng)
shared=()
if [ -n "${TA_SHARED_PCAPS:-}" ] && [ -d "$TA_SHARED_PCAPS" ]; then
    shared=("$TA_SHARED_PCAPS"/*.pcap "$TA_SHARED_PCAPS"/*.pcapng)
else
    echo "NOTE: shared captures absent (TA_SHARED_PCAPS='${TA_SHARED_PCAPS:-}'): bundled only"
fi
n=0
for f in "${files[@]}" "${shared[@]}"; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    db=$(fresh_db "one$n")
    cap "$db" "$f"
    [ "$(sql "$db" "SELECT count(*) FROM runs")" = 1 ] || { fail "$(basename "$f"): no run"; continue; }
    compare "$db" "$(basename "$f")"
done
assert_ge "$n" 20 "captures compared"

# All bundled captures into one database: one run per file, clients and days across runs.
all=$(fresh_db all)
for f in "${files[@]}"; do
    [ -e "$f" ] && cap "$all" "$f"
done
compare "$all" "all bundled captures" "summary --since 2026-01-01" \
    "summary --since 2026-11-23 --until 2026-11-23 --format csv"
assert_eq "$(sql "$all" "SELECT count(DISTINCT sensor) FROM runs WHERE sensor <> ''")" 1 \
    "runs carry the sensor name (default the host name)"

# A month of generated traffic: 30 days, day-bounded summaries from daily_clients.
gen=$(build_gen) || gen=""
if [ -n "$gen" ]; then
    pcap="$IT_TMP/month.pcap"
    "$gen" --shape handshake --hs-share 1 --bytes 12000000 --clients 600 --days 30 \
        --out "$pcap" "$TA_PCAPS"/*.pcap >/dev/null || die "generator failed"
    month=$(fresh_db month)
    cap "$month" "$pcap"
    days=$(sql "$month" "SELECT count(DISTINCT day) FROM daily_rollups")
    assert_ge "$days" 30 "generated capture spans 30 days"
    width=$("$TA_BIN" query legacy --all --db "$month" |
        python3 -c 'import sys; print(max(len(l.rstrip("\n")) for l in sys.stdin))')
    [ "$width" -le 120 ] && pass || fail "legacy default table is $width columns wide (> 120)"
    wide=$("$TA_BIN" query legacy --all --wide --db "$month" | head -1)
    assert_in "$wide" "ja4" "legacy --wide shows the fingerprints"
    # the default table's folded pass (schema 011) with filters and its --sensor offer lookup
    msensor=$(sql "$month" "SELECT sensor FROM runs LIMIT 1")
    compare "$month" "generated month" "summary --since 2026-01-10 --until 2026-01-20" \
        "legacy --client 10.16.0.0/12" "legacy --sensor $msensor" \
        "legacy --sensor $msensor --client 10.0.0.0/8 --sni *.outlook.com" \
        "summary --since 2026-01-10 --until 2026-01-20 --format csv --o365" \
        "summary --since 2026-01-07 --format csv --app https" \
        "summary --until 2026-01-12 --format json --client 10.16.0.0/12" \
        "summary --since 2026-01-10T12:00 --until 2026-01-11 --format csv"
    # The default table reads inventory_legacy_cover alone (schema 017: the Office 365 legacy
    # rows only, its condition and the query's both said with IS), in client order; the other
    # legacy rows have no entry, and the --all forms compared above read around it.
    plan=$(sql "$month" "EXPLAIN QUERY PLAN SELECT 1 FROM inventory h WHERE h.legacy IS 1
                         AND h.o365 IS 1 ORDER BY h.client_ip")
    assert_in "$plan" "COVERING INDEX inventory_legacy_cover" \
        "the default legacy form's rows come from the covering index"
    case "$plan" in *"TEMP B-TREE"*) fail "the covering index is read out of client order: $plan" ;;
    *) pass ;; esac
    assert_eq "$(sql "$month" "SELECT count(*) FROM inventory INDEXED BY inventory_legacy_cover
                               WHERE legacy IS 1 AND o365 IS 1")" \
        "$(sql "$month" "SELECT count(*) FROM inventory WHERE legacy = 1 AND o365 = 1")" \
        "the covering index holds every Office 365 legacy row"
    assert_ge "$(sql "$month" "SELECT count(*) FROM inventory WHERE legacy = 1 AND o365 = 0")" 1 \
        "the month has legacy rows that are not Office 365 (the index leaves them out)"
    assert_in "$(sql "$month" "SELECT sql FROM sqlite_master WHERE name = 'inventory_legacy_cover'")" \
        "WHERE legacy IS 1 AND o365 IS 1" "the covering index is over the Office 365 legacy rows only"
else
    fail "cannot build bench/gen.c: $(head -c 300 "$IT_TMP/gen.err" 2>/dev/null)"
fi

# The check above can fail: a tampered inventory is caught.
t=$(fresh_db tamper)
cp "$all" "$t"
sql "$t" "UPDATE inventory SET handshakes = handshakes + 1 WHERE id = (SELECT min(id) FROM inventory)"
[ "$(inv_mismatch "$t" | cut -d' ' -f1)" -ge 1 ] && pass || fail "a tampered inventory row is not detected"
cp "$all" "$t"
sql "$t" "UPDATE inventory SET name = 'tampered.example' WHERE id = (SELECT min(id) FROM inventory
          WHERE name <> '')"
assert_eq "$(inv_name_mismatch "$t")" 1 "a tampered inventory name is detected"

# The inventory answers alone: rows gone (no pruning bookkeeping), the reports stay.
before_l=$("$TA_BIN" query legacy --all --db "$all" --format csv)
before_s=$("$TA_BIN" query summary --db "$all" --format csv)
sql "$t" "DELETE FROM mail_sessions; DELETE FROM handshakes"
cp "$all" "$t"
sql "$t" "DELETE FROM mail_sessions; DELETE FROM handshakes"
assert_eq "$("$TA_BIN" query legacy --all --db "$t" --format csv)" "$before_l" \
    "legacy from the inventory alone"
assert_eq "$("$TA_BIN" query summary --db "$t" --format csv)" "$before_s" \
    "summary from the inventory alone"
assert_eq "$("$TA_BIN" query legacy --all --db "$t" --format csv --from-rows | wc -l)" 1 \
    "--from-rows scans the (now empty) rows"
if [ -n "$gen" ]; then
    before=$("$TA_BIN" query summary --db "$month" --since 2026-01-10 --until 2026-01-20 --format csv)
    m2=$(fresh_db month2)
    cp "$month" "$m2"
    sql "$m2" "DELETE FROM mail_sessions; DELETE FROM handshakes"
    assert_eq "$("$TA_BIN" query summary --db "$m2" --since 2026-01-10 --until 2026-01-20 \
        --format csv)" "$before" "day-bounded summary from daily_clients alone"
fi
it_done
