#!/bin/bash
# it_o365_rules.sh - the last two Office 365 rules on real captured traffic. With an endpoint list
# that matches none of the captures' names or addresses, the printer's SMTP session is still
# recognised by its Exchange Online greeting (banner rule), Teams flows by nDPI's label (ndpi
# rule), and the non-Microsoft server stays out. Importing the list re-classifies stored rows.
# Only nDPI's Microsoft 365 labels count (TLS.Teams, TLS.Skype_Teams, TLS.Microsoft365, never
# TLS.Microsoft or TLS.Azure), and a Microsoft name that the list in force does not hold and the
# exclusion table does (here every *.microsoft.com host, *.teams.microsoft.com included, since
# this list names none) is 'excluded-name', whatever its nDPI label.
. "$(dirname "$0")/lib.sh"
BIN=$TA_BIN

o365=$TA_SRC/pcaps/office365.pcap
teams=$TA_SHARED_PCAPS/ndpi__teams.pcap
[ -s "$o365" ] || skip "pcaps/office365.pcap missing (run pcaps/make-pcaps.sh)"
tmp=$IT_TMP
db=$tmp/a.db
args=(-r "$o365")
[ -s "$teams" ] && args+=(-r "$teams") || echo "SKIPPED (part): $teams not found: nDPI rule not checked"
"$BIN" capture -q --db "$db" "${args[@]}" || fail "capture failed"
q() { sqlite3 "$db" "$1"; }

# Built-in list: the printer is recognised by its certificate first.
assert_eq "$(q "select o365_reason from handshakes where client_ip = '10.1.1.10'")" \
    "cert:outlook.office365.com" "printer before import"

"$BIN" endpoints import "$TA_SRC/tests/data/endpoints-minimal.json" --db "$db" >/dev/null ||
    fail "import failed"
assert_eq "$(q "select o365, o365_service, substr(o365_reason, 1, 7) from handshakes where client_ip = '10.1.1.10'")" \
    "1|Exchange|banner:" "printer by its Exchange Online greeting"
assert_eq "$(q "select o365 from handshakes where client_ip = '10.1.1.13'")" 0 "non-Microsoft server"
assert_eq "$(q "select count(*) from handshakes where o365_reason like 'sni:%' or o365_reason like 'ip:%' or o365_reason like 'cert:%'")" \
    0 "no name or range rule can match the minimal list"
# The printer is still a legacy Office 365 client, and says why.
legacy=$("$BIN" query legacy --db "$db" --format csv)
case "$legacy" in *10.1.1.10*banner:*) pass ;; *) fail "printer not in query legacy with its banner reason: $legacy" ;; esac
if [ -s "$teams" ]; then
    n=$(q "select count(*) from handshakes where o365_reason like 'ndpi:%'")
    [ "$n" -ge 1 ] && pass || fail "no Teams handshake recognised by nDPI's label"
    assert_eq "$(q "select count(*) from handshakes where o365_reason like 'ndpi:%' and ndpi_name not in ('TLS.Teams', 'TLS.Skype_Teams', 'TLS.Microsoft365')")" \
        0 "nDPI rule only for Microsoft 365 labels"
    assert_eq "$(q "select distinct o365_reason from handshakes where sni = 'eu-api.asm.skype.com'")" \
        "ndpi:TLS.Skype_Teams" "Teams' skype.com service by its nDPI label"
    assert_eq "$(q "select count(*) from handshakes where ndpi_name in ('TLS.Microsoft', 'TLS.Azure') and o365 = 1")" \
        0 "generic Microsoft and Azure labels are not Office 365"
    assert_eq "$(q "select distinct o365, o365_reason from handshakes where sni = 'teams.microsoft.com'")" \
        "0|excluded-name: teams.microsoft.com (microsoft.com host the list does not name: corporate and marketing web)" \
        "a microsoft.com name the list in force does not hold"
fi
it_done
