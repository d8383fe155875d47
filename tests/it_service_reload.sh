#!/bin/bash
# it_service_reload.sh - SIGHUP re-applies the config file and the endpoint list without
# stopping the capture (issue 12, the service).
#
# A live capture runs in a network namespace of the test's own with `--config FILE` (filter:
# port P1 only; log-level info). A TLS handshake to P1 with SNI mail.svcreload.example.test is
# stored with o365 = 0 (no list knows the name). Then, as the refresh timer would, the config
# is edited (filter: port P2; max-flows changed) and the shipped refresh script downloads a new
# endpoint list naming *.svcreload.example.test from a file:// URL, imports it and sends
# SIGHUP to the capture's pid. Afterwards, while the same capture keeps running:
#   - a handshake to P2 is stored, with o365 = 1 written at insert time (checked before the
#     capture stops, so no end-of-run pass can have done it), and one to P1 is not (the filter);
#   - the log names max-flows as "changed in config, restart to apply";
#   - still one run, same pid, reloads = 1 in its row.
# Then a broken config and SIGHUP: an error naming file and line, the capture goes on with the
# filter it had (a handshake to P2 is still stored). SIGINT ends the run cleanly.
# Root only (network namespace, live capture). Traffic only inside the namespace's loopback.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/service_lib.sh
. "$(dirname "$0")/service_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (network namespace, live capture)"
command -v openssl >/dev/null || skip "openssl not installed"
command -v curl >/dev/null || skip "curl not installed (the refresh script downloads with it)"
REFRESH=$TA_BUILD/packaging/tlsaudit-endpoints-refresh
[ -f "$REFRESH" ] || die "$REFRESH not built"
netns_up
make_cert

P1=$((46000 + $$ % 500))
P2=$((P1 + 500))
db=$IT_TMP/svc.db
conf=$IT_TMP/tlsaudit.conf
cat >"$conf" <<CONF
# written by $IT_NAME
interface = lo
db = $db
filter = tcp port $P1
log-level = info
max-flows = 4096
CONF

ns_capture "$db" 1 --config "$conf"
assert_eq "$(cat "/proc/$cap/comm")" tlsaudit "ip netns exec ran the capture itself (its pid is signalled)"
sleep 0.3

tls_once "$P1" mail.svcreload.example.test -tls1_2
wait_sql "$db" "SELECT count(*) FROM handshakes" 1 ||
    fail "first handshake (port $P1) not stored: $(cat "$IT_TMP/cap.out")"
assert_eq "$(sql "$db" "SELECT server_port, sni, o365 FROM handshakes")" \
    "$P1|mail.svcreload.example.test|0" "before SIGHUP: port $P1 captured, name unknown to the list"

# The timer's work: a new list on a "web service" (files), the config edited, then the script.
ws=$IT_TMP/ws
mkdir -p "$ws/version" "$ws/endpoints"
echo '{"instance":"Worldwide","latest":"2026120100"}' >"$ws/version/Worldwide"
cat >"$ws/endpoints/Worldwide" <<'JSON'
[{"id": 8801, "serviceArea": "Exchange", "serviceAreaDisplayName": "Exchange Online",
  "urls": ["*.svcreload.example.test"], "tcpPorts": "443", "category": "Optimize",
  "required": true}]
JSON
sed -i "s/^filter = .*/filter = tcp port $P2/; s/^max-flows = .*/max-flows = 8192/" "$conf"
TLSAUDIT=$TA_BIN sh "$REFRESH" --config "$conf" --base-url "file://$ws" --pid "$cap" \
    >"$IT_TMP/refresh.out" 2>&1
assert_eq "$?" 0 "refresh script exit status ($(tail -3 "$IT_TMP/refresh.out"))"
assert_in "$(cat "$IT_TMP/refresh.out")" "sent SIGHUP to the capture (pid $cap)" "refresh script signals the capture"
assert_eq "$(sql "$db" "SELECT version, builtin FROM endpoint_sets ORDER BY id DESC LIMIT 1")" \
    "2026120100|0" "refresh script imported the downloaded list"
# Run again: the same version is in force, imported just now: nothing downloaded, no signal.
TLSAUDIT=$TA_BIN sh "$REFRESH" --config "$conf" --base-url "file://$ws" --pid "$cap" \
    >"$IT_TMP/refresh2.out" 2>&1
assert_eq "$?|$(sql "$db" "SELECT count(*) FROM endpoint_sets")" "0|1" "refresh again: nothing to do"
assert_in "$(cat "$IT_TMP/refresh2.out")" "list 2026120100 is current" "refresh again: says the list is current"
# A web service that answers nothing: exit 1, the list in force unchanged.
TLSAUDIT=$TA_BIN sh "$REFRESH" --config "$conf" --base-url "file://$IT_TMP/nowhere" --force \
    >"$IT_TMP/refresh3.out" 2>&1
assert_eq "$?|$(sql "$db" "SELECT count(*) FROM endpoint_sets")" "1|1" "refresh without an answer: exit 1, nothing imported"
wait_log "$IT_TMP/cap.out" "SIGHUP: config re-read" ||
    fail "no reload line in the capture's log: $(cat "$IT_TMP/cap.out")"
assert_in "$(cat "$IT_TMP/cap.out")" "applied: filter 'tcp port $P2'" "reload applied the new filter"
assert_in "$(cat "$IT_TMP/cap.out")" "max-flows changed in config, restart to apply" \
    "reload names the option it cannot apply"
sleep 0.6 # the readers install the filter within their 250 ms read timeout

tls_once "$P2" owa.svcreload.example.test -tls1_2
tls_once "$P1" late.svcreload.example.test -tls1_2
wait_sql "$db" "SELECT count(*) FROM handshakes WHERE server_port = $P2" 1 ||
    fail "handshake to port $P2 not stored after SIGHUP: $(cat "$IT_TMP/cap.out")"
sleep 1.5 # a batch is committed within a second: the P1 one would be there by now
assert_eq "$(sql "$db" "SELECT server_port, sni, o365, o365_service, o365_reason FROM handshakes
                        WHERE server_port = $P2")" \
    "$P2|owa.svcreload.example.test|1|Exchange|sni:*.svcreload.example.test" \
    "after SIGHUP: verdict from the new list, written at insert time (capture still running)"
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE sni = 'late.svcreload.example.test'")" 0 \
    "after SIGHUP: port $P1 no longer captured (filter replaced)"
kill -0 "$cap" 2>/dev/null && pass || fail "capture stopped after SIGHUP"
assert_eq "$(sql "$db" "SELECT count(*), min(pid), max(reloads), ended IS NULL FROM runs")" \
    "1|$cap|1|1" "one run, same process, reloads = 1, not ended"
assert_eq "$(sql "$db" "SELECT count(DISTINCT run_id) FROM handshakes")" 1 "every row in that run"

# A broken config: refused with file and line, the capture keeps its filter and runs on.
printf 'filter tcp port 1\n' >>"$conf"
kill -HUP "$cap"
wait_log "$IT_TMP/cap.out" "$conf:7: expected 'key = value'" ||
    fail "bad config on SIGHUP: no error naming file and line: $(tail -3 "$IT_TMP/cap.out")"
tls_once "$P2" again.svcreload.example.test -tls1_2
wait_sql "$db" "SELECT count(*) FROM handshakes WHERE sni = 'again.svcreload.example.test'" 1 ||
    fail "after a refused reload the capture stopped recording port $P2"
wait_sql "$db" "SELECT reloads FROM runs" 2 15 || fail "second reload not in the run row"
assert_in "$(sql "$db" "SELECT last_error FROM runs")" "expected 'key = value'" \
    "the refused reload is the run's last error"

stop_capture "$cap" "$IT_TMP/cap.out"
assert_eq "$(sql "$db" "SELECT clean, ended IS NOT NULL FROM runs")" "1|1" "run ended cleanly"
assert_eq "$(sql "$db" "SELECT sni, o365 FROM handshakes ORDER BY id")" \
    "$(printf '%s\n' "mail.svcreload.example.test|1" "owa.svcreload.example.test|1" \
        "again.svcreload.example.test|1")" "every row classified with the list in force at the end"
it_done
