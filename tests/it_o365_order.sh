#!/bin/bash
# it_o365_order.sh - Office 365 verdicts written with each row (at insert time) equal the verdicts
# of a pass over the run, also when captures are given out of time order. pcaps/office365.pcap is
# split into its DNS packets (earlier) and the rest; read in reverse time order (-r rest -r dns),
# the DNS answer naming the no-SNI server 52.96.10.20 is stored after that handshake was
# classified (then by its certificate), so the capture must classify the run again after reading:
# the row is still 'dns:'. In time order no pass is needed and the verdicts are the same.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

PCAP=$TA_PCAPS/office365.pcap
need_pcap "$PCAP"
command -v tcpdump >/dev/null || skip "tcpdump is needed to split the capture"
dns=$IT_TMP/dns.pcap
rest=$IT_TMP/rest.pcap
tcpdump -r "$PCAP" -w "$dns" 'udp port 53' 2>/dev/null || die "tcpdump: cannot split $PCAP"
tcpdump -r "$PCAP" -w "$rest" 'not udp port 53' 2>/dev/null || die "tcpdump: cannot split $PCAP"
[ -s "$dns" ] && [ -s "$rest" ] || die "split of $PCAP is empty"

# capture_v NAME FILE...: capture into a fresh database with debug logging; prints its path.
capture_v() {
    local db name=$1 f args=()
    shift
    db=$(fresh_db "$name")
    for f in "$@"; do args+=(-r "$f"); done
    "$TA_BIN" capture -v -v --db "$db" "${args[@]}" 2>"$IT_TMP/$name.err" >/dev/null ||
        fail "capture $name failed: $(head -c 300 "$IT_TMP/$name.err")"
    echo "$db"
}
# Every row's verdict keyed by its client endpoint (ids depend on the order rows were written).
verdicts() {
    sql "$1" "SELECT 'h', client_ip, client_port, o365, o365_service, o365_reason FROM handshakes
              UNION ALL SELECT 'm', client_ip, client_port, o365, o365_service, o365_reason
              FROM mail_sessions ORDER BY 1, 2, 3"
}
PASS_LOG='Office 365 classification after the run'
NO_SNI="SELECT o365_reason FROM handshakes WHERE server_ip = '52.96.10.20' AND sni IS NULL"

whole=$(capture_v whole "$PCAP")
assert_eq "$(sql "$whole" "$NO_SNI")" "dns:outlook.ms-acdc.office.com" "one file: no-SNI row by DNS"
grep -q "$PASS_LOG" "$IT_TMP/whole.err" && fail "one file in time order needed the pass" || pass
expected=$(verdicts "$whole")
assert_ge "$(echo "$expected" | grep -c '|1|')" 5 "Office 365 rows in the one-file capture"

reversed=$(capture_v reversed "$rest" "$dns")
assert_eq "$(sql "$reversed" "$NO_SNI")" "dns:outlook.ms-acdc.office.com" \
    "reverse time order: no-SNI row still classified by the DNS answer read later"
assert_in "$(cat "$IT_TMP/reversed.err")" "$PASS_LOG: DNS answers older than rows" \
    "reverse time order falls back to the pass over the run"
assert_eq "$(verdicts "$reversed")" "$expected" "reverse time order: every verdict as in one file"

ordered=$(capture_v ordered "$dns" "$rest")
grep -q "$PASS_LOG" "$IT_TMP/ordered.err" && fail "time order needed the pass" || pass
assert_eq "$(verdicts "$ordered")" "$expected" "time order: every verdict as in one file"

it_done
