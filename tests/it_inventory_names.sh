#!/bin/bash
# it_inventory_names.sh - the inventory names a destination that shows no name of its own by
# passive DNS, from real traffic on loopback: TLS 1.3 without SNI (openssl s_client
# -noservername), whose certificate is encrypted, after a real DNS exchange (a UDP server on
# 127.0.9.53:53 answering for 127.0.9.25).
#   1. First capture: an answer names 127.0.9.25 "first...", a handshake follows. Second capture,
#      into the same database: a new answer renames it "second...", a handshake of the same key
#      follows, then a third answer. The inventory row says "second" (the latest answer up to
#      the key's last handshake), not the name it had when the row was made, nor the answer
#      after the last handshake.
#   2. `endpoints import` of a list that puts 127.0.9.25 in an Office 365 range re-classifies the
#      rows and rebuilds the inventory: the row, now under an Office 365 key, keeps its DNS name.
#   3. A hostile answer (quotes, <script>) renames the address, then a TLS 1.0 client without SNI
#      is captured from its side only (no certificate seen): its legacy row is named by that
#      answer, stored as the bytes sent, and the HTML report shows it escaped. The TLS 1.3 row,
#      with no handshake after the answer, keeps its name.
#   4. A certificate renewed under another name: TLS 1.2 without SNI (the certificate in clear),
#      one capture before the renewal, one after, read newest first (two runs) into a new
#      database. The row is named by the newer certificate, as the rebuild names it (schema
#      016), not by the older one read last; inv_name_mismatch (tests/inv_lib.sh) agrees.
# Root only. All of it runs on the loopback of a network namespace the test creates, so a DNS
# server of the host on port 53 cannot be in the way.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/inv_lib.sh
. "$(dirname "$0")/inv_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (a network namespace, port 53, tcpdump)"
for tool in openssl tcpdump ip; do
    command -v "$tool" >/dev/null || skip "$tool not installed (scripts/install-deps.sh)"
done
ns_start ta-names

DNS=127.0.9.53
SRV=127.0.9.25
PORT=$((44000 + $$ % 1000))
ns_cert cert.names.example.test "$IT_TMP/c.pem" "$IT_TMP/k.pem"

# answer NAME: one real DNS exchange on the namespace's lo: NAME has the address SRV.
answer() {
    in_ns python3 - "$DNS" "$SRV" "$1" <<'EOF' || die "DNS exchange for $1 failed"
import socket, struct, sys
dns, addr, name = sys.argv[1], sys.argv[2], sys.argv[3]
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind((dns, 53))
cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cli.settimeout(5)
srv.settimeout(5)
qname = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
question = qname + struct.pack("!HH", 1, 1)
cli.sendto(struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + question, (dns, 53))
query, peer = srv.recvfrom(512)
answer = struct.pack("!HHHLH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(addr)
srv.sendto(struct.pack("!HHHHHH", 0x4242, 0x8180, 1, 1, 0, 0) + question + answer, peer)
reply = cli.recv(512)
sys.exit(0 if reply[:2] == b"\x42\x42" else 1)
EOF
}

# hello [VERSION [CERT KEY]]: one handshake without SNI to SRV:PORT, TLS 1.3 or (tls1) TLS 1.0,
# the server with c.pem or CERT.
hello() {
    ns_hello "$SRV" "$PORT" "${1:-tls1_3}" "${2:-$IT_TMP/c.pem}" "${3:-$IT_TMP/k.pem}" -noservername
}

# capture FILE STEPS...: tcpdump on the namespace's lo (DNS and TLS of the test only; with
# ONE_WAY set, of the TLS only what the client sends) around the steps.
capture() {
    local file=$1 filter="host $DNS or host $SRV"
    shift
    [ -n "${ONE_WAY:-}" ] && filter="host $DNS or dst host $SRV"
    ns_tcpdump "$file" lo "$filter"
    "$@"
    sleep 0.5
    ns_tcpdump_stop "$TCPDUMP_PID" "$file"
}

first() { answer first.names.example.test; sleep 0.1; hello; }
second() {
    answer second.names.example.test; sleep 0.1; hello; sleep 0.1
    answer third.names.example.test   # after the last handshake: not the key's name
}
capture "$IT_TMP/one.pcap" first
capture "$IT_TMP/two.pcap" second

db=$(fresh_db names)
ROW="SELECT name || '|' || name_source || '|' || handshakes || '|' || o365 FROM inventory
     WHERE server_ip = '$SRV'"
ta_capture "$db" "$IT_TMP/one.pcap" || die "capture 1 failed: $(cat "$IT_TMP/capture.err")"
assert_eq "$(sql "$db" "SELECT count(*) || '|' || count(sni) FROM handshakes WHERE version = 772
                        AND server_ip = '$SRV'")" "1|0" "capture 1: one TLS 1.3 handshake, no SNI"
assert_eq "$(sql "$db" "$ROW")" "first.names.example.test|dns|1|0" "capture 1: the DNS name"
ta_capture "$db" "$IT_TMP/two.pcap" || die "capture 2 failed: $(cat "$IT_TMP/capture.err")"
assert_eq "$(sql "$db" "SELECT count(*) FROM dns_answers WHERE addr = '$SRV'")" 3 \
    "three answers stored"
assert_eq "$(sql "$db" "$ROW")" "second.names.example.test|dns|2|0" \
    "capture 2: the latest answer up to the last handshake"

# An endpoint list that puts SRV in an Office 365 range: the rows are re-classified (ip rule)
# and the inventory rebuilt under their new keys.
cat >"$IT_TMP/list.json" <<EOF
[{"id": 9901, "serviceArea": "Exchange", "serviceAreaDisplayName": "Exchange Online",
  "urls": ["nothing.names.example.invalid"], "ips": ["$SRV/32"], "tcpPorts": "443,$PORT",
  "expressRoute": false, "category": "Optimize", "required": true}]
EOF
out=$("$TA_BIN" endpoints import --db "$db" "$IT_TMP/list.json" 2>&1)
assert_eq "$?" 0 "endpoints import ($out)"
assert_eq "$(sql "$db" "SELECT o365 || '|' || o365_reason FROM handshakes WHERE server_ip = '$SRV'
                        GROUP BY 1")" "1|ip:$SRV/32" "re-classified by the ip rule"
assert_eq "$(sql "$db" "SELECT count(*) FROM store_meta WHERE key = 'refresh'")" 0 "rebuild done"
assert_eq "$(sql "$db" "$ROW")" "second.names.example.test|dns|2|1" \
    "after the rebuild: the same DNS name"

# A hostile name, then a legacy client seen from its side only.
EVIL=$'"><script>alert(8)</script>\'.evil.example.test'
third() { answer "$EVIL"; sleep 0.1; hello tls1; }
ONE_WAY=1 capture "$IT_TMP/three.pcap" third
ta_capture "$db" "$IT_TMP/three.pcap" || die "capture 3 failed: $(cat "$IT_TMP/capture.err")"
assert_eq "$(sql "$db" "SELECT hex(CAST(name AS BLOB)) || '|' || name_source || '|' || o365
                        FROM inventory WHERE server_ip = '$SRV' AND legacy = 1")" \
    "$(printf '%s' "$EVIL" | od -An -tx1 | tr -d ' \n' | tr a-f A-F)|dns|1" \
    "legacy client, no SNI, no certificate seen: named by the hostile answer, as sent"
assert_eq "$(sql "$db" "$ROW AND legacy = 0")" "second.names.example.test|dns|2|1" \
    "the TLS 1.3 row, no handshake since the answer, keeps its name"
"$TA_BIN" report --db "$db" --out "$IT_TMP/report.html" 2>"$IT_TMP/report.err" ||
    fail "report: $(cat "$IT_TMP/report.err")"
html=$(cat "$IT_TMP/report.html")
assert_in "$html" "&lt;script&gt;alert(8)&lt;/script&gt;" "report: the hostile name, escaped"
case $html in
*"<script>alert(8)"*) fail "report: the hostile name raw in the HTML" ;;
*) pass ;;
esac

# A renewed certificate, the captures read out of time order.
ns_cert renewed.names.example.test "$IT_TMP/c2.pem" "$IT_TMP/k2.pem"
before() { hello tls1_2; }
after() { hello tls1_2 "$IT_TMP/c2.pem" "$IT_TMP/k2.pem"; }
capture "$IT_TMP/four.pcap" before
capture "$IT_TMP/five.pcap" after
db=$(fresh_db renewed)
for f in five four; do       # two runs: the older file's rows come in a batch of their own
    ta_capture "$db" "$IT_TMP/$f.pcap" || die "capture of $f failed: $(cat "$IT_TMP/capture.err")"
done
assert_eq "$(sql "$db" "SELECT count(*) || '|' || group_concat(DISTINCT cert_cn) FROM (SELECT
                        cert_cn FROM handshakes WHERE server_ip = '$SRV' ORDER BY ts_us)")" \
    "2|cert.names.example.test,renewed.names.example.test" \
    "two TLS 1.2 handshakes of one key, each certificate seen"
assert_eq "$(sql "$db" "SELECT count(*) || '|' || name || '|' || name_source || '|' || handshakes
                        FROM inventory WHERE server_ip = '$SRV'")" \
    "1|renewed.names.example.test|cert|2" \
    "newest first: the row is named by the newer certificate, not the one read last"
assert_eq "$(inv_name_mismatch "$db")" 0 "the names are the ones the rows define"
assert_eq "$(sql "$db" "SELECT name_us = (SELECT max(ts_us) FROM handshakes WHERE server_ip = '$SRV')
                        FROM inventory WHERE server_ip = '$SRV'")" 1 \
    "name_us is the newer certificate's handshake time"
it_done
