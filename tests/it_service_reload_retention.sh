#!/bin/bash
# it_service_reload_retention.sh - SIGHUP applies a changed retention limit to the running
# capture (issue 12: the config file is re-read and re-applied without stopping it).
#
# The database holds the rows of a capture dated three days ago (tests/pcap_redate.py). A live
# capture runs in a network namespace of the test's own with `--config FILE` saying
# retain-days = 0 (for ever: retention is off, as it starts): a handshake is stored and the old
# rows stay. The config then says retain-days = 1 and the capture gets SIGHUP; its log says the
# new retention was applied, and the next handshake's commit deletes the three-day-old rows
# (their counts stay in the inventory), while the same run goes on. A cap the capture refuses
# (10k) is said and applies nothing. Root only (network namespace, live capture).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/service_lib.sh
. "$(dirname "$0")/service_lib.sh"
# shellcheck source=tests/inv_lib.sh
. "$(dirname "$0")/inv_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespace, live capture)"
command -v openssl >/dev/null || skip "openssl not installed"
netns_up
make_cert

P=$((47000 + $$ % 500))
db=$IT_TMP/ret.db
conf=$IT_TMP/tlsaudit.conf
now=$(date +%s)
for f in tls10 tls12; do
    python3 "$TA_SRC/tests/pcap_redate.py" "$TA_SRC/pcaps/$f.pcap" "$IT_TMP/old-$f.pcap" \
        $((now - 3 * 86400)) || die "pcap_redate.py failed"
done
"$TA_BIN" capture -q --db "$db" -r "$IT_TMP/old-tls10.pcap" -r "$IT_TMP/old-tls12.pcap" ||
    die "capture of the old rows failed"
OLD="SELECT count(*) FROM handshakes WHERE ts_us < $((now - 86400)) * 1000000"
old=$(sql "$db" "$OLD")
assert_ge "$old" 2 "rows of three days ago"

cat >"$conf" <<CONF
# written by $IT_NAME
interface = lo
db = $db
filter = tcp port $P
log-level = info
retain-days = 0
CONF
ns_capture "$db" 2 --config "$conf"
sleep 0.3

tls_once "$P" before.reload-retention.example.test -tls1_2
wait_sql "$db" "SELECT count(*) FROM handshakes WHERE sni = 'before.reload-retention.example.test'" 1 ||
    fail "first handshake not stored: $(cat "$IT_TMP/cap.out")"
assert_eq "$(sql "$db" "$OLD")" "$old" "kept for ever, the three-day-old rows stay"

sed -i "s/^retain-days = .*/retain-days = 1/" "$conf"
kill -HUP "$cap"
wait_log "$IT_TMP/cap.out" "applied: retention 1 days" ||
    fail "reload did not apply the retention: $(cat "$IT_TMP/cap.out")"
assert_in "$(cat "$IT_TMP/cap.out")" "SIGHUP: config re-read" "one reload line"
case "$(cat "$IT_TMP/cap.out")" in
    *"retain-days changed in config, restart to apply"*) fail "retain-days still needs a restart" ;;
    *) pass ;;
esac

tls_once "$P" after.reload-retention.example.test -tls1_2
wait_sql "$db" "$OLD" 0 15 ||
    fail "the three-day-old rows outlived retain-days = 1: $(sql "$db" "$OLD") left"
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE sni LIKE '%.reload-retention.example.test'")" 2 \
    "the new rows stay"
assert_eq "$(sql "$db" "SELECT sum(pruned_handshakes) FROM inventory")" "$old" \
    "the deleted rows' counts stay in the inventory"
kill -0 "$cap" 2>/dev/null && pass || fail "capture stopped after SIGHUP"

# A cap the capture refuses (under its 1M minimum): the reload says so, nothing is applied, and
# the capture goes on storing with the limits it had.
echo "max-db-size = 10k" >>"$conf"
kill -HUP "$cap"
wait_log "$IT_TMP/cap.out" "options refused" ||
    fail "a refused max-db-size was not said: $(tail -3 "$IT_TMP/cap.out")"
case "$(cat "$IT_TMP/cap.out")" in
    *"database cap"*) fail "the refused cap was applied" ;;
    *) pass ;;
esac
tls_once "$P" refused.reload-retention.example.test -tls1_2
wait_sql "$db" "SELECT count(*) FROM handshakes WHERE sni = 'refused.reload-retention.example.test'" 1 ||
    fail "after a refused reload the capture stopped storing"
stop_capture "$cap" "$IT_TMP/cap.out"
assert_eq "$(sql "$db" "SELECT count(*), max(reloads) FROM runs WHERE pid = $cap")" "1|2" \
    "one live run, reloaded twice (once refused)"
assert_eq "$(inv_mismatch "$db")" "0 0 0" "inventory = pruned + retained rows"
it_done
