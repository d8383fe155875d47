#!/bin/bash
# it_snaplen.sh - a capture made with a small snap length (`tcpdump -s 96`, a packet broker that
# slices packets) keeps every header and loses the hellos. tlsaudit must say so instead of
# reporting "0 handshakes" as if there were none: runs.truncated counts the packets whose payload
# the analysis read and the snap length cut; `capture` warns, the report's banner and coverage
# say it, the JSON export carries it, and a live capture's `status` is degraded. What the first
# bytes of a cut hello prove (a version below TLS 1.2) is kept, and nothing more.
#  1. Files: bundled captures (real openssl traffic) cut by editcap at 80 bytes, against the
#     same files whole (no count, no warning). The SMTP, IMAP, POP3 and FTP dialogues cut at 80
#     and 128 bytes are followed to their upgrades, as the whole ones are.
#     A DNS response and a QUIC Initial (a shared capture) cut short are counted as well.
#  2. Live on lo: a TLS 1.2 handshake followed by 200 kB of application data, captured with
#     --snaplen 4000 (the hellos fit, the data segments do not: nothing the analysis needed
#     was cut, so nothing is counted) and with --snaplen 100 (the hellos are cut); then a TLS
#     1.0 client at --snaplen 100, found from its cut hellos, and one behind SMTP STARTTLS.
# Traffic stays on 127.0.0.0/8. The live part is skipped (loudly) when not root.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

command -v editcap >/dev/null || skip "editcap (wireshark-common) not installed"
WARN="packets were cut short by the capture's snap length"

# --- 1. files ------------------------------------------------------------------------------------
for f in tls10.pcap smtp-starttls-tls10.pcap; do
    need_pcap "$TA_PCAPS/$f"
    editcap -s 80 "$TA_PCAPS/$f" "$IT_TMP/cut-$f" >/dev/null 2>&1 || die "editcap failed"
done
whole=$(fresh_db whole)
"$TA_BIN" capture --db "$whole" -r "$TA_PCAPS/tls10.pcap" -r "$TA_PCAPS/smtp-starttls-tls10.pcap" \
    2>"$IT_TMP/whole.err" || die "capture failed: $(cat "$IT_TMP/whole.err")"
assert_eq "$(sql "$whole" "SELECT sum(truncated) FROM runs")" 0 "whole packets: nothing cut short"
assert_eq "$(grep -c 'incomplete' "$IT_TMP/whole.err")" 0 "whole packets: no warning"
assert_eq "$(sql "$whole" "SELECT count(*) FROM handshakes WHERE version IS NOT NULL")" 2 \
    "whole packets: both handshakes"

cut=$(fresh_db cut)
"$TA_BIN" capture --db "$cut" -r "$IT_TMP/cut-tls10.pcap" -r "$IT_TMP/cut-smtp-starttls-tls10.pcap" \
    2>"$IT_TMP/cut.err"
assert_eq "$?" 0 "cut packets: the capture itself succeeds"
n=$(sql "$cut" "SELECT truncated FROM runs")
assert_ge "$n" 2 "cut packets are counted (the hellos of both connections at least)"
assert_in "$(cat "$IT_TMP/cut.err")" "warning: the capture was incomplete: $n $WARN" \
    "capture warns, with the count"
assert_eq "$(grep -c 'incomplete' "$IT_TMP/cut.err")" 1 "one warning line"
quiet=$(fresh_db quiet)
"$TA_BIN" capture -q --db "$quiet" -r "$IT_TMP/cut-tls10.pcap" 2>"$IT_TMP/quiet.err"
assert_eq "$(cat "$IT_TMP/quiet.err")" "" "-q silences the warning"
# Never more than the packets that carry a payload at all (tshark counts them independently).
carrying=$(tshark -r "$IT_TMP/cut-tls10.pcap" -Y 'tcp.len > 0' -T fields -e frame.number | wc -l)
assert_ge "$carrying" "$(sql "$quiet" "SELECT truncated FROM runs")" \
    "counted only among the packets that carry a payload"

"$TA_BIN" report --db "$cut" --all --out "$IT_TMP/cut.html" || fail "report exited $?"
figs=$(python3 "$TA_SRC/tests/report_page.py" figures "$IT_TMP/cut.html")
assert_eq "$(awk '$1 == "id" && $2 == "cov-truncated" { print $3 }' <<<"$figs")" "$n" \
    "report coverage: packets cut short"
assert_in "$(python3 "$TA_SRC/tests/report_page.py" text "$IT_TMP/cut.html")" \
    "Warning: the capture was incomplete: $n $WARN" "report banner"
"$TA_BIN" report --db "$whole" --all --out "$IT_TMP/whole.html" || fail "report exited $?"
assert_eq "$(grep -c 'cov-truncated\|drop-banner' "$IT_TMP/whole.html")" 0 \
    "report of whole packets: no banner, no count"
"$TA_BIN" report --db "$cut" --all --format json >"$IT_TMP/cut.json" || fail "json export"
assert_eq "$(python3 -c '
import json, sys
print({r["figure"]: r["value"] for r in json.load(open(sys.argv[1]))["summary"]}["truncated_packets"])' \
    "$IT_TMP/cut.json")" "$n" "json export: truncated_packets"

# What a hello cut short still proves (schema README, "Hellos cut short"): its first 11 bytes
# hold its legacy_version. TLS 1.0 and 1.1 are proved and listed as the whole captures list them;
# 0x0303 (TLS 1.2 and TLS 1.3 clients and servers alike) proves nothing and invents nothing.
wargs=() cargs=()
for v in 10 11 12 13; do
    need_pcap "$TA_PCAPS/tls$v.pcap"
    editcap -s 80 "$TA_PCAPS/tls$v.pcap" "$IT_TMP/cut-tls$v.pcap" >/dev/null 2>&1 || die "editcap failed"
    wargs+=(-r "$TA_PCAPS/tls$v.pcap") cargs+=(-r "$IT_TMP/cut-tls$v.pcap")
done
w4=$(fresh_db w4)
c4=$(fresh_db c4)
"$TA_BIN" capture -q --db "$w4" "${wargs[@]}" || fail "capture of whole hellos exited $?"
"$TA_BIN" capture -q --db "$c4" "${cargs[@]}" || fail "capture of cut hellos exited $?"
assert_eq "$(query "$c4" sessions --all | csv_cols client_version,client_max_version,version,anomalies,ja3)" \
    "$(printf 'TLS 1.0\tTLS 1.0\tTLS 1.0\ttruncated_hello\t\nTLS 1.1\tTLS 1.1\tTLS 1.1\ttruncated_hello\t
TLS 1.2\t\t\ttruncated_hello\t\nTLS 1.2\t\t\ttruncated_hello\t')" \
    "cut hellos: their versions as far as the bytes prove them, no fingerprint"
# (not client_max_version: the whole captures also show the TLS 1.3 offer that 0x0303 hides)
legacy_cols=client_ip,versions,handshakes,refused
assert_eq "$(query "$c4" legacy --all | csv_cols "$legacy_cols")" \
    "$(query "$w4" legacy --all | csv_cols "$legacy_cols")" "cut hellos: the legacy clients of the whole captures"
assert_eq "$(query "$c4" legacy --all | csv_cols versions)" "TLS 1.0 TLS 1.1" "... which are the TLS 1.0 and 1.1 ones"

# A STARTTLS dialogue cut short (schema README, "Dialogues cut short"): the bundled SMTP, IMAP,
# POP3 and FTP captures cut at 80 and 128 bytes, where every greeting, reply list and hello is
# cut. The dialogue goes on at the next segment, each upgrade is found, and the TLS 1.0 and 1.1
# clients behind it are listed as the whole captures list them. Words a cut ended are never
# recorded: every name in the cut captures' sessions is empty or the one the whole captures have.
mail=(smtp-starttls-tls10 smtp-starttls-tls11 smtp-starttls-tls12 smtp-starttls-tls13
      imap-starttls-tls10 imap-starttls pop3-stls ftp-auth-tls smtp-starttls-refused
      smtp-starttls-unused smtp-plain-auth)
margs=()
for f in "${mail[@]}"; do need_pcap "$TA_PCAPS/$f.pcap"; margs+=(-r "$TA_PCAPS/$f.pcap"); done
wm=$(fresh_db whole-mail)
"$TA_BIN" capture -q --db "$wm" "${margs[@]}" || fail "capture of the whole dialogues exited $?"
flags=app,server_port,client_port,starttls_sent,starttls_accepted,starttls_refused,auth_in_clear
flags=$flags,mail_in_clear
lcols=client_ip,versions,apps,destinations,handshakes,refused
for snap in 80 128; do
    cm=$(fresh_db "cut-mail-$snap") margs=()
    for f in "${mail[@]}"; do
        editcap -s "$snap" "$TA_PCAPS/$f.pcap" "$IT_TMP/cut$snap-$f.pcap" >/dev/null 2>&1 ||
            die "editcap failed"
        margs+=(-r "$IT_TMP/cut$snap-$f.pcap")
    done
    "$TA_BIN" capture -q --db "$cm" "${margs[@]}" ||
        fail "capture of dialogues cut at $snap exited $?"
    assert_eq "$(sql "$cm" "SELECT count(*) FROM handshakes WHERE starttls = 1")" 8 \
        "cut at $snap: the 8 upgrades are followed to their hellos"
    assert_eq "$(sql "$cm" "SELECT $flags FROM mail_sessions ORDER BY client_port")" \
        "$(sql "$wm" "SELECT $flags FROM mail_sessions ORDER BY client_port")" \
        "cut at $snap: every session sends, accepts or refuses STARTTLS as the whole ones do"
    legacy=$(query "$wm" legacy --all | csv_cols "$lcols")
    assert_in "$legacy" "TLS 1.0" "(the whole dialogues have a TLS 1.0 client)"
    assert_eq "$(query "$cm" legacy --all | csv_cols "$lcols")" "$legacy" \
        "cut at $snap: the legacy clients behind STARTTLS, as the whole captures list them"
    assert_eq "$(python3 - "$cm" "$wm" <<'PY'
import sqlite3, sys
q = ("SELECT app, client_port, greeting_host, client_name, capabilities FROM mail_sessions"
     " ORDER BY client_port")
cut, whole = (sqlite3.connect(db).execute(q).fetchall() for db in sys.argv[1:3])
bad = 0
for c, w in zip(cut, whole, strict=True):
    assert c[:2] == w[:2], (c, w)
    for got, full in ((c[2], w[2]), (c[3], w[3])):
        bad += got not in (None, "", full)
    bad += not set((c[4] or "").split()) <= set((w[4] or "").split())
print(bad)
PY
)" 0 "cut at $snap: no name or capability that the whole dialogue did not carry"
done
assert_eq "$(sql "$cm" "SELECT count(*) FROM mail_sessions
    WHERE greeting_host = 'pop.example.test'")" 1 "cut at 128: a host name left whole is kept"

# A DNS response cut short is counted too (its answers cannot be read): the bundled capture's DNS
# packets alone, cut at 60 bytes, count exactly the responses tshark finds in them.
tshark -r "$TA_PCAPS/office365.pcap" -Y dns -w "$IT_TMP/dns.pcap" 2>/dev/null || die "tshark -w failed"
editcap -s 60 "$IT_TMP/dns.pcap" "$IT_TMP/dns-cut.pcap" >/dev/null 2>&1 || die "editcap failed"
responses=$(tshark -r "$IT_TMP/dns-cut.pcap" -Y 'udp.srcport == 53' 2>/dev/null | wc -l)
assert_ge "$responses" 1 "the bundled capture has a DNS response"
dns=$(fresh_db dns)
"$TA_BIN" capture -q --db "$dns" -r "$IT_TMP/dns-cut.pcap" || fail "capture of cut DNS exited $?"
assert_eq "$(sql "$dns" "SELECT truncated FROM runs")" "$responses" "cut DNS responses are counted"

# A QUIC Initial cut short: a shared capture of Chromium (when the shared captures are here).
quic=${TA_SHARED_PCAPS:-/nonexistent}/zeek__chromium-115.0.5790.110-api-cirrus-com.pcap
if [ -s "$quic" ]; then
    editcap -s 200 "$quic" "$IT_TMP/quic-cut.pcap" >/dev/null 2>&1 || die "editcap failed"
    q1=$(fresh_db quic-whole)
    q2=$(fresh_db quic-cut)
    "$TA_BIN" capture -q --db "$q1" -r "$quic" || fail "capture of the QUIC capture exited $?"
    "$TA_BIN" capture -q --db "$q2" -r "$IT_TMP/quic-cut.pcap" || fail "capture of cut QUIC exited $?"
    assert_eq "$(sql "$q1" "SELECT truncated, handshakes FROM runs")" "0|1" "QUIC whole: read, nothing cut"
    assert_ge "$(sql "$q2" "SELECT truncated FROM runs")" 1 "QUIC cut at 200 bytes: counted"
else
    echo "SKIPPED (loudly): the QUIC case needs the shared captures (TA_SHARED_PCAPS='${TA_SHARED_PCAPS:-}')"
fi

# --- 2. live -------------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "live part needs root (the file part passed)"
[ -e /sys/class/net/lo ] || skip "no loopback interface 'lo' (the file part passed)"
command -v openssl >/dev/null || skip "openssl not installed (the file part passed)"
ADDR=127.0.7.9
PORT=$((45000 + $$ % 1000))
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=snap.example.test" \
    -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null || die "openssl req failed"
head -c 200000 /dev/urandom | base64 >"$IT_TMP/data.txt"

# live_case SNAPLEN NAME CLIENT-ARGS...: one handshake (openssl s_client CLIENT-ARGS), then the
# data, captured with --snaplen SNAPLEN.
live_case() {
    local snap=$1 name=$2 db
    shift 2
    db=$(fresh_db "live-$name")
    mkfifo "$IT_TMP/hold-$name"
    exec 9<>"$IT_TMP/hold-$name"
    start_capture "$db" "$IT_TMP/live-$name.out" -i lo --snaplen "$snap" \
        -f "host $ADDR and tcp port $PORT"
    sleep 0.3
    timeout 30 openssl s_server -accept "$ADDR:$PORT" -cert "$IT_TMP/c.pem" -key "$IT_TMP/k.pem" \
        -naccept 1 -cipher 'DEFAULT:@SECLEVEL=0' <&9 >"$IT_TMP/server-$name.log" 2>&1 &
    local srv=$!
    IT_CLEANUP_PIDS+=("$srv")
    for _ in $(seq 100); do grep -q ACCEPT "$IT_TMP/server-$name.log" && break; sleep 0.05; done
    { cat "$IT_TMP/data.txt"; sleep 1; } | timeout 20 openssl s_client -connect "$ADDR:$PORT" \
        -servername snap.example.test -nocommands "$@" >"$IT_TMP/client-$name.log" 2>&1
    for _ in $(seq 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.05; done
    exec 9>&-
    LIVE_DB=$db
}

live_case 4000 big -tls1_2
sleep 1
stop_capture "$cap_pid" "$IT_TMP/live-big.out"
assert_eq "$(query "$LIVE_DB" sessions --all | csv_cols sni,version)" "snap.example.test	TLS 1.2" \
    "--snaplen 4000: the handshake is read"
assert_ge "$(sql "$LIVE_DB" "SELECT bytes FROM runs")" 200000 "--snaplen 4000: the data crossed lo"
assert_eq "$(sql "$LIVE_DB" "SELECT truncated FROM runs")" 0 \
    "--snaplen 4000: the cut data segments are not counted (the analysis never reads them)"
assert_eq "$(grep -c 'incomplete' "$IT_TMP/live-big.out")" 0 "--snaplen 4000: no warning"

live_case 100 small -tls1_2
# While it runs, status is degraded and says why, once a heartbeat has written the last minute.
st=""
for _ in $(seq 150); do
    st=$("$TA_BIN" status --db "$LIVE_DB" 2>&1)
    grep -q "cut short in the last minute" <<<"$st" && break
    sleep 0.1
done
assert_in "$st" "dropped or cut short in the last minute" "--snaplen 100: status is degraded, and why"
stop_capture "$cap_pid" "$IT_TMP/live-small.out"
assert_eq "$(sql "$LIVE_DB" "SELECT count(*) FROM handshakes WHERE version IS NOT NULL")" 0 \
    "--snaplen 100: no version invented"
n=$(sql "$LIVE_DB" "SELECT truncated FROM runs")
assert_ge "$n" 2 "--snaplen 100: the hellos are counted"
assert_in "$(cat "$IT_TMP/live-small.out")" "incomplete: $n $WARN" "--snaplen 100: capture warns"

# A TLS 1.0 client behind the same small snap length: what its cut hellos prove finds it.
live_case 100 legacy -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
sleep 1
stop_capture "$cap_pid" "$IT_TMP/live-legacy.out"
assert_eq "$(query "$LIVE_DB" sessions --all | csv_cols client_max_version,version,sni,ja3)" \
    "$(printf 'TLS 1.0\tTLS 1.0\t\t')" "--snaplen 100: TLS 1.0 read from the cut hellos, nothing more"
assert_in "$(query "$LIVE_DB" sessions --all | csv_cols anomalies)" truncated_hello \
    "--snaplen 100: the row says its hellos were cut"
assert_eq "$(query "$LIVE_DB" legacy --all | csv_cols client_ip,versions)" "$(printf '127.0.0.1\tTLS 1.0')" \
    "--snaplen 100: the TLS 1.0 client is listed"

# The mission's case behind the same snap length: a client that upgrades SMTP with STARTTLS and
# then speaks TLS 1.0 (openssl s_client against pcaps/starttls_server.py, as the bundled captures
# were made). Every reply of the dialogue is cut; it is followed all the same.
SPORT=$((PORT + 1))
db=$(fresh_db live-smtp)
start_capture "$db" "$IT_TMP/live-smtp.out" -i lo --snaplen 100 -f "host $ADDR and tcp port $SPORT"
sleep 0.3
rm -f "$IT_TMP/smtp.ready"
timeout 30 python3 "$TA_SRC/pcaps/starttls_server.py" --proto smtp --listen "$ADDR" \
    --port "$SPORT" --cert "$IT_TMP/c.pem" --key "$IT_TMP/k.pem" --greeting-host mx.example.test \
    --ready-file "$IT_TMP/smtp.ready" >"$IT_TMP/smtp-server.log" 2>&1 &
srv=$!
IT_CLEANUP_PIDS+=("$srv")
for _ in $(seq 100); do [ -e "$IT_TMP/smtp.ready" ] && break; sleep 0.05; done
{ sleep 1; } | timeout 20 openssl s_client -connect "$ADDR:$SPORT" -starttls smtp -tls1 \
    -cipher 'AES128-SHA:@SECLEVEL=0' -noservername >"$IT_TMP/smtp-client.log" 2>&1
assert_in "$(cat "$IT_TMP/smtp-client.log")" "Protocol  : TLSv1" "the client spoke TLS 1.0"
for _ in $(seq 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.05; done
sleep 1
stop_capture "$cap_pid" "$IT_TMP/live-smtp.out"
assert_ge "$(sql "$db" "SELECT truncated FROM runs")" 4 \
    "SMTP at --snaplen 100: the cut replies are counted"
assert_eq "$(query "$db" sessions --all | csv_cols app,starttls,client_max_version,version)" \
    "$(printf 'smtp\t1\tTLS 1.0\tTLS 1.0')" \
    "SMTP at --snaplen 100: the upgrade and its TLS 1.0 are found"
assert_eq "$(sql "$db" "SELECT starttls_sent, starttls_accepted, greeting_code
    FROM mail_sessions")" \
    "1|1|220" "SMTP at --snaplen 100: the dialogue's STARTTLS, sent and accepted"
assert_eq "$(query "$db" legacy --all | csv_cols client_ip,versions,apps)" \
    "$(printf '127.0.0.1\tTLS 1.0\tsmtp')" "SMTP at --snaplen 100: the client is listed"

it_done
