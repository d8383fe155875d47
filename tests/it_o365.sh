#!/bin/bash
# it_o365.sh - the "printer" scenario (pcaps/office365.pcap, ground truth in pcaps/README.md):
# `query legacy` lists exactly the clients on legacy TLS toward Office 365, each with the rule
# that tied its server to Office 365 (sni, dns, cert, ip); --all adds the non-Microsoft one;
# the summary counts are exact; --fail-if-found turns a finding into exit status 1.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

PCAP=$TA_PCAPS/office365.pcap
need_pcap "$PCAP"
COLS=client_ip,versions,client_max_version,apps,destinations,handshakes,refused,reason,ciphers

db=$(fresh_db o365)
ta_capture "$db" "$PCAP"
assert_eq "$?" 0 "capture exit status ($(head -c 300 "$IT_TMP/capture.err"))"

# legacy (Office 365 is the default): the full expected CSV, columns that do not depend on when
# the capture was made.
expected=$(tail -n +2 "$TA_DATA/o365-legacy.csv" | python3 -c '
import csv, sys
for r in csv.reader(sys.stdin): print("\t".join(r))')
got=$(query "$db" legacy | csv_cols "$COLS")
assert_eq "$got" "$expected" "legacy report (tests/data/o365-legacy.csv)"
assert_eq "$(query "$db" legacy --o365 | csv_cols "$COLS")" "$expected" "legacy --o365 = default"

# The TLS 1.2 client is not legacy; --all adds the TLS 1.0 client of the non-Microsoft server.
assert_eq "$(query "$db" legacy | csv_cols client_ip | grep -c '^10\.1\.1\.11$')" 0 "TLS 1.2 client not listed"
got=$(query "$db" legacy --all | csv_cols "$COLS" | grep '^10\.1\.1\.13	')
assert_eq "$got" "10.1.1.13	TLS 1.0	TLS 1.0	https	legacy.example.test	1	0		TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" \
    "legacy --all adds the non-Microsoft client"
assert_eq "$(query "$db" legacy --all | csv_cols client_ip | sort | tr '\n' ' ')" \
    "10.1.1.10 10.1.1.12 10.1.1.13 10.1.1.14 2001:db8::20 " "legacy --all clients"

# Filters on the legacy report.
assert_eq "$(query "$db" legacy --client 2001:db8::/32 | csv_cols client_ip)" "2001:db8::20" "legacy --client IPv6 CIDR"
assert_eq "$(query "$db" legacy --version 'TLS 1.1' | csv_cols client_ip)" "10.1.1.12" "legacy --version 'TLS 1.1'"
assert_eq "$(query "$db" legacy --app smtp | csv_cols client_ip)" "10.1.1.10" "legacy --app smtp (the printer)"

# summary: exact counts.
assert_eq "$(query "$db" summary)" "$(cat "$TA_DATA/o365-summary.csv")" "summary (tests/data/o365-summary.csv)"

# --fail-if-found: 1 when a legacy client is listed, 0 when the report is empty.
query "$db" legacy --fail-if-found >/dev/null
assert_eq "$?" 1 "legacy --fail-if-found with legacy clients"
query "$db" legacy --fail-if-found --client 10.1.1.11/32 >/dev/null
assert_eq "$?" 0 "legacy --fail-if-found on the TLS 1.2 client only"

# The printer's SMTP session is marked Office 365 too, and the DNS answers were stored.
assert_eq "$(sql "$db" "SELECT client_ip, server_port, greeting_host, starttls_accepted, o365 FROM mail_sessions")" \
    "10.1.1.10|587|AM0PR01CA0123.outlook.office365.com|1|1" "printer mail session"
assert_eq "$(sql "$db" "SELECT name, ifnull(addr, cname) FROM dns_answers ORDER BY id")" \
    "outlook.office365.com|outlook.ms-acdc.office.com
outlook.ms-acdc.office.com|52.96.10.20" "DNS answers"

# Without the DNS answer, the SNI-less TLS 1.1 client is still tied to Office 365, by the next
# rule (the certificate it received in clear).
if command -v tshark >/dev/null; then
    tshark -r "$PCAP" -Y 'not dns' -F pcap -w "$IT_TMP/nodns.pcap" 2>/dev/null
    db2=$(fresh_db nodns)
    ta_capture "$db2" "$IT_TMP/nodns.pcap"
    assert_eq "$(query "$db2" legacy | csv_cols client_ip,reason | grep '^10\.1\.1\.12	')" \
        "10.1.1.12	cert:outlook.office365.com" "without DNS: TLS 1.1 client by certificate"
fi

# Reading the same capture again into the same database adds a run, and the report counts
# handshakes, not clients twice.
ta_capture "$db" "$PCAP"
assert_eq "$(sql "$db" "SELECT count(*) FROM runs")" 2 "second run recorded"
assert_eq "$(query "$db" legacy | csv_cols client_ip,handshakes | tr '\n' ' ')" \
    "2001:db8::20	2 10.1.1.14	2 10.1.1.12	2 10.1.1.10	2 " "second run: handshakes per client doubled"

it_done
