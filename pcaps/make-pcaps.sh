#!/bin/bash
# make-pcaps.sh - regenerate the project's own test captures (pcaps/*.pcap) from real traffic.
#
# Every capture is one scenario made on the loopback interface with real clients and servers:
# openssl s_server/s_client, swaks, and the small test servers next to this script
# (starttls_server.py, loophelpers.py). Each server listens on its own 127.0.x.y address (or
# ::1) so tcpdump's filter sees nothing else; every process is bounded with `timeout` and
# killed at the end. office365.pcap is then rewritten offline with tcpprep/tcprewrite so the
# loopback addresses become Exchange Online / documentation addresses: nothing is ever sent to
# those addresses. Keys and certificates are generated fresh (test-only).
#
# Usage: sudo pcaps/make-pcaps.sh [OUTDIR]     (default: the directory of this script)
# Needs (installed by scripts/install-deps.sh, never by this script): tcpdump, tcpreplay
# (tcpprep, tcprewrite), wireshark-common (mergecap) + tshark (verification), openssl, swaks,
# python3. Idempotent: each run replaces the captures.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE}
PY=${PYTHON:-python3}
LEGACY_CIPHERS='DEFAULT:@SECLEVEL=0'

die() { echo "make-pcaps: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (tcpdump on lo, ports below 1024)"
for t in tcpdump tcpprep tcprewrite mergecap tshark openssl swaks "$PY" timeout; do
    command -v "$t" >/dev/null || die "missing tool: $t (run scripts/install-deps.sh)"
done
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/make-pcaps.XXXXXX)
PIDS=()
# s_server quits at EOF on its stdin: give it a FIFO held open (read-write) by this shell.
mkfifo "$WORK/hold"
exec 9<>"$WORK/hold"

cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "${KEEP:-}" ] && echo "make-pcaps: work files kept in $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# wait_for FILE PATTERN: up to 5 s for PATTERN to appear in FILE (a log or a ready file).
wait_for() {
    local _
    for _ in $(seq 100); do
        if [ -f "$1" ] && grep -q -- "$2" "$1" 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    die "timed out waiting for '$2' in $1: $(tail -3 "$1" 2>/dev/null)"
}

# cap_start NAME FILTER: start tcpdump on lo writing $WORK/NAME.pcap.
cap_start() {
    CAP_FILE=$WORK/$1.pcap
    timeout 60 tcpdump -i lo --immediate-mode -U -n -s 0 -w "$CAP_FILE" "$2" >"$WORK/$1.tcpdump.log" 2>&1 &
    CAP_PID=$!
    PIDS+=("$CAP_PID")
    wait_for "$WORK/$1.tcpdump.log" "listening on"
}

# cap_stop: let the last packets reach the capture, stop tcpdump cleanly. (SIGINT does not
# drain packets still in the kernel ring: hence --immediate-mode above and the pause here.)
cap_stop() {
    sleep 1
    kill -INT "$CAP_PID" 2>/dev/null || true
    wait "$CAP_PID" 2>/dev/null || true
}

# publish NAME: move the working capture into OUTDIR.
publish() {
    cp "$WORK/$1.pcap" "$OUT/$1.pcap"
    echo "make-pcaps: $1.pcap: $(tshark -r "$OUT/$1.pcap" 2>/dev/null | wc -l) packets"
}

# s_server_start LOGNAME ARGS...: openssl s_server in the background, wait until it accepts.
s_server_start() {
    local log=$WORK/$1.server.log
    shift
    timeout 30 openssl s_server "$@" >"$log" 2>&1 <&9 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    wait_for "$log" "ACCEPT"
}

# srv_wait: the last server exits by itself (-naccept / --conns); give it a bounded time.
srv_wait() {
    local _
    for _ in $(seq 100); do
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.05
    done
    kill "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
}

# client ARGS...: openssl s_client; its stdin closes after a second, so it leaves once the
# handshake is done (an immediate EOF would make it quit before the ServerHello).
client() {
    { sleep 1; } | timeout 10 openssl s_client "$@" >>"$WORK/clients.log" 2>&1 || true
    sleep 0.2
}

# py_server NAME ARGS...: starttls_server.py in the background.
py_server() {
    local name=$1
    shift
    rm -f "$WORK/$name.ready"
    timeout 30 "$PY" "$HERE/starttls_server.py" --cert "$WORK/rsa.crt" --key "$WORK/rsa.key" \
        --ready-file "$WORK/$name.ready" "$@" >"$WORK/$name.server.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    wait_for "$WORK/$name.ready" .
}

# swaks_run ARGS...: one SMTP session, bounded.
swaks_run() {
    timeout 15 swaks --timeout 10 --from printer@example.test --to alice@example.test \
        --helo client.example.test "$@" >>"$WORK/swaks.log" 2>&1 || true
    sleep 0.2
}

# ---------------------------------------------------------------------------------------------
# Keys and certificates (test-only, regenerated on every run).
gen_cert() { # NAME KEYALG CN SANS
    local keyopt=(-newkey rsa:2048)
    [ "$2" = ec ] && keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
    openssl req -x509 "${keyopt[@]}" -nodes -sha256 -days 3650 -subj "/O=tlsaudit test/CN=$3" \
        -addext "subjectAltName=$4" -keyout "$WORK/$1.key" -out "$WORK/$1.crt" 2>/dev/null
}
gen_cert rsa rsa legacy.example.test "DNS:legacy.example.test,DNS:*.example.test"
gen_cert ec ec ec.example.test "DNS:ec.example.test"
gen_cert o365 rsa outlook.office365.com \
    "DNS:outlook.office365.com,DNS:*.office365.com,DNS:smtp.office365.com"
RSA=(-cert "$WORK/rsa.crt" -key "$WORK/rsa.key")
EC=(-cert "$WORK/ec.crt" -key "$WORK/ec.key")
O365=(-cert "$WORK/o365.crt" -key "$WORK/o365.key")

# ---------------------------------------------------------------------------------------------
# a. One handshake per TLS version (SNI, one known cipher each).
tls_one() { # NAME ADDR VERSIONFLAG CIPHERFLAG CIPHER SNI
    cap_start "$1" "host $2 and tcp port 443"
    s_server_start "$1" -accept "$2:443" "${RSA[@]}" -naccept 1 -cipher "$LEGACY_CIPHERS"
    client -connect "$2:443" "$3" "$4" "$5" -servername "$6"
    srv_wait
    cap_stop
    publish "$1"
}
tls_one tls10 127.0.4.10 -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0' legacy.example.test
tls_one tls11 127.0.4.11 -tls1_1 -cipher 'ECDHE-RSA-AES256-SHA:@SECLEVEL=0' tls11.example.test
tls_one tls12 127.0.4.12 -tls1_2 -cipher 'ECDHE-RSA-AES128-GCM-SHA256' www.example.test
tls_one tls13 127.0.4.13 -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384 tls13.example.test

# TLS 1.2 over IPv6 loopback with the EC certificate.
cap_start tls12-ipv6 "ip6 and host ::1 and tcp port 443"
s_server_start tls12-ipv6 -accept '[::1]:443' "${EC[@]}" -naccept 1
client -connect '[::1]:443' -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384 -servername ec.example.test
srv_wait
cap_stop
publish tls12-ipv6

# b. TLS 1.0-only client refused by a TLS 1.2-minimum server (protocol_version alert).
cap_start tls10-refused "host 127.0.4.14 and tcp port 443"
s_server_start tls10-refused -accept 127.0.4.14:443 "${RSA[@]}" -naccept 1 -min_protocol TLSv1.2
client -connect 127.0.4.14:443 -tls1 -cipher "$LEGACY_CIPHERS" -servername legacy.example.test
srv_wait
cap_stop
publish tls10-refused

# c. HelloRetryRequest: the client's key share is X25519, the server only accepts P-256.
cap_start tls13-hrr "host 127.0.4.15 and tcp port 443"
s_server_start tls13-hrr -accept 127.0.4.15:443 "${RSA[@]}" -naccept 1 -groups P-256
client -connect 127.0.4.15:443 -tls1_3 -groups X25519:P-256 -servername hrr.example.test
srv_wait
cap_stop
publish tls13-hrr

# d. TLS 1.2 session resumption: the second connection presents the first one's session.
cap_start tls12-resume "host 127.0.4.16 and tcp port 443"
s_server_start tls12-resume -accept 127.0.4.16:443 "${RSA[@]}" -naccept 2
client -connect 127.0.4.16:443 -tls1_2 -servername resume.example.test -sess_out "$WORK/sess.pem"
client -connect 127.0.4.16:443 -tls1_2 -servername resume.example.test -sess_in "$WORK/sess.pem"
srv_wait
cap_stop
publish tls12-resume

# e. ClientHello over several TCP segments: s_client -> relay (8443) -> s_server (443); the
#    relay sends the client's bytes 64 at a time. Only the relay-to-server leg is captured.
cap_start tls12-split-hello "host 127.0.4.17 and tcp port 443"
s_server_start tls12-split-hello -accept 127.0.4.17:443 "${RSA[@]}" -naccept 1
timeout 20 "$PY" "$HERE/loophelpers.py" relay --listen 127.0.4.17:8443 --connect 127.0.4.17:443 \
    --chunk 40 --ready-file "$WORK/relay.ready" >"$WORK/relay.log" 2>&1 &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
wait_for "$WORK/relay.ready" .
client -connect 127.0.4.17:8443 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256 \
    -servername split.example.test
wait "$RELAY_PID" 2>/dev/null || true
srv_wait
cap_stop
publish tls12-split-hello
CH_FRAMES=$(tshark -r "$OUT/tls12-split-hello.pcap" -2 -Y 'tls.handshake.type == 1' \
    -T fields -e tcp.segment.count 2>/dev/null | head -1)
[ "${CH_FRAMES:-0}" -ge 3 ] || die "tls12-split-hello: ClientHello in ${CH_FRAMES:-?} segments, want >= 3"

# f. Two handshakes on one TCP connection: the client offers TLS 1.0 only, the server refuses it
#    with a fatal protocol_version alert and keeps the connection; the client then runs a real
#    TLS 1.2+ handshake on the same connection (retry-client -> refuse-relay :443 -> s_server
#    :8443). Only the client's leg (port 443) is captured.
cap_start tls10-retry "host 127.0.4.18 and tcp port 443"
s_server_start tls10-retry -accept 127.0.4.18:8443 "${RSA[@]}" -naccept 1
timeout 20 "$PY" "$HERE/loophelpers.py" refuse-relay --listen 127.0.4.18:443 \
    --connect 127.0.4.18:8443 --ready-file "$WORK/refuse.ready" >"$WORK/refuse.log" 2>&1 &
RELAY_PID=$!
PIDS+=("$RELAY_PID")
wait_for "$WORK/refuse.ready" .
timeout 20 "$PY" "$HERE/loophelpers.py" retry-client --connect 127.0.4.18:443 \
    --servername retry.example.test >>"$WORK/clients.log" 2>&1 || die "retry-client failed"
wait "$RELAY_PID" 2>/dev/null || true
srv_wait
cap_stop
publish tls10-retry
echo "make-pcaps: tls12-split-hello: ClientHello spans $CH_FRAMES TCP segments"

# ---------------------------------------------------------------------------------------------
# f. SMTP with STARTTLS at each TLS version, and the plaintext variants.
smtp_one() { # NAME ADDR PORT SERVER-ARGS -- SWAKS-ARGS
    local name=$1 addr=$2 port=$3
    shift 3
    local sargs=()
    while [ "$1" != -- ]; do sargs+=("$1"); shift; done
    shift
    cap_start "$name" "host $addr and tcp port $port"
    py_server "$name" --proto smtp --listen "$addr" --port "$port" "${sargs[@]}"
    swaks_run --server "$addr" --port "$port" "$@"
    srv_wait
    cap_stop
    publish "$name"
}
smtp_one smtp-starttls-tls10 127.0.5.10 25 --greeting-host mx.example.test -- \
    --tls --tls-protocol tlsv1 --tls-cipher "$LEGACY_CIPHERS"
smtp_one smtp-starttls-tls12 127.0.5.12 587 --greeting-host smtp.example.test -- \
    --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES256-GCM-SHA384 \
    --auth PLAIN --auth-user printer --auth-password secret
smtp_one smtp-starttls-tls13 127.0.5.13 25 --greeting-host mx.example.test -- \
    --tls --tls-protocol tlsv1_3
smtp_one smtp-plain-auth 127.0.5.14 25 --starttls none --greeting-host relay.example.test -- \
    --auth PLAIN --auth-user printer --auth-password secret
smtp_one smtp-starttls-unused 127.0.5.15 25 --greeting-host mx.example.test --
smtp_one smtp-starttls-refused 127.0.5.16 25 --starttls refuse --greeting-host mx.example.test -- \
    --tls

# SMTP STARTTLS TLS 1.1 with openssl s_client as the client (a second client implementation).
cap_start smtp-starttls-tls11 "host 127.0.5.11 and tcp port 25"
py_server smtp-starttls-tls11 --proto smtp --listen 127.0.5.11 --port 25 --greeting-host mx.example.test
client -connect 127.0.5.11:25 -starttls smtp -name client.example.test -tls1_1 \
    -cipher 'AES128-SHA:@SECLEVEL=0' -noservername
srv_wait
cap_stop
publish smtp-starttls-tls11

# g. IMAP, POP3, FTP upgrades (openssl s_client -starttls).
starttls_one() { # NAME PROTO ADDR PORT VERSIONFLAG CIPHER GREETINGHOST
    cap_start "$1" "host $3 and tcp port $4"
    py_server "$1" --proto "$2" --listen "$3" --port "$4" --greeting-host "$7"
    client -connect "$3:$4" -starttls "$2" "$5" -cipher "$6" -noservername
    srv_wait
    cap_stop
    publish "$1"
}
starttls_one imap-starttls imap 127.0.6.1 143 -tls1_2 ECDHE-RSA-AES128-GCM-SHA256 imap.example.test
starttls_one imap-starttls-tls10 imap 127.0.6.2 143 -tls1 'AES256-SHA:@SECLEVEL=0' imap.example.test
starttls_one pop3-stls pop3 127.0.6.3 110 -tls1_2 ECDHE-RSA-CHACHA20-POLY1305 pop.example.test
starttls_one ftp-auth-tls ftp 127.0.6.4 21 -tls1_2 AES128-GCM-SHA256 ftp.example.test

# ---------------------------------------------------------------------------------------------
# h. office365.pcap: the "printer" scenario. Loopback addresses used here and what tcprewrite
#    turns them into (see README.md for the ground truth):
#      127.0.1.10 -> 10.1.1.10  printer: SMTP STARTTLS TLS 1.0, no SNI, to 587
#      127.0.1.11 -> 10.1.1.11  browser: HTTPS TLS 1.2, SNI outlook.office365.com
#      127.0.1.12 -> 10.1.1.12  old client: DNS lookup, then TLS 1.1 to 443 without SNI
#      127.0.1.13 -> 10.1.1.13  TLS 1.0 to a non-Microsoft server, SNI legacy.example.test
#      127.0.1.14 -> 10.1.1.14  TLS 1.0 attempt refused by a Microsoft front end (TLS 1.2 min)
#      127.0.0.53 -> 10.1.1.53  the site's DNS resolver
#      127.0.2.1  -> 52.96.10.20  Exchange Online HTTPS front end (outlook.office365.com)
#      127.0.2.2  -> 52.96.11.25  Exchange Online SMTP submission (smtp.office365.com)
#      127.0.2.3  -> 52.96.12.30  Exchange Online front end that refuses TLS 1.0
#      127.0.3.1  -> 192.0.2.10   a non-Microsoft server (TEST-NET-1)
#      ::1 client -> 2001:db8::20, ::1 server port 443 -> 2603:1036::10 (TLS 1.0, SNI
#                    outlook.office365.com)
O365_FILTER='(net 127.0.1.0/24 and (host 127.0.0.53 or net 127.0.2.0/24 or host 127.0.3.1))'
cap_start o365-v4 "$O365_FILTER"
# printer: SMTP submission with STARTTLS, TLS 1.0, no SNI, Exchange Online banner.
py_server o365-smtp --proto smtp --listen 127.0.2.2 --port 587 --cert "$WORK/o365.crt" \
    --key "$WORK/o365.key" --greeting-host AM0PR01CA0123.outlook.office365.com \
    --banner 'Microsoft ESMTP MAIL Service ready at Mon, 23 Nov 2026 09:29:47 +0000'
client -connect 127.0.2.2:587 -bind 127.0.1.10:0 -starttls smtp -name printer.example.test \
    -tls1 -cipher "$LEGACY_CIPHERS" -noservername
srv_wait
# browser: HTTPS TLS 1.2 with SNI.
s_server_start o365-https -accept 127.0.2.1:443 "${O365[@]}" -naccept 2 -cipher "$LEGACY_CIPHERS"
client -connect 127.0.2.1:443 -bind 127.0.1.11:0 -tls1_2 -servername outlook.office365.com
# old client: resolves outlook.office365.com (CNAME chain to the address the front end will
# have after rewriting), then TLS 1.1 without SNI to that front end.
timeout 10 "$PY" "$HERE/loophelpers.py" dns-server --listen 127.0.0.53 \
    --cname outlook.office365.com=outlook.ms-acdc.office.com \
    --a outlook.ms-acdc.office.com=52.96.10.20 --ready-file "$WORK/dns.ready" \
    >"$WORK/dns.log" 2>&1 &
DNS_PID=$!
PIDS+=("$DNS_PID")
wait_for "$WORK/dns.ready" .
timeout 10 "$PY" "$HERE/loophelpers.py" dns-query --server 127.0.0.53 --bind 127.0.1.12 \
    outlook.office365.com >>"$WORK/clients.log" 2>&1
wait "$DNS_PID" 2>/dev/null || true
sleep 0.2
client -connect 127.0.2.1:443 -bind 127.0.1.12:0 -tls1_1 -cipher "$LEGACY_CIPHERS" -noservername
srv_wait
# non-Microsoft server, TLS 1.0 with SNI.
s_server_start o365-other -accept 127.0.3.1:443 "${RSA[@]}" -naccept 1 -cipher "$LEGACY_CIPHERS"
client -connect 127.0.3.1:443 -bind 127.0.1.13:0 -tls1 -cipher "$LEGACY_CIPHERS" \
    -servername legacy.example.test
srv_wait
# refused TLS 1.0 attempt toward a Microsoft front end.
s_server_start o365-refuse -accept 127.0.2.3:443 "${O365[@]}" -naccept 1 -min_protocol TLSv1.2
client -connect 127.0.2.3:443 -bind 127.0.1.14:0 -tls1 -cipher "$LEGACY_CIPHERS" -noservername
srv_wait
cap_stop

# The IPv6 handshake: both ends are ::1, so tcpprep tells client from server by port and
# tcprewrite --endpoints gives each side its own address.
cap_start o365-v6 "ip6 and host ::1 and tcp port 443"
s_server_start o365-v6 -accept '[::1]:443' "${O365[@]}" -naccept 1 -cipher "$LEGACY_CIPHERS"
client -connect '[::1]:443' -tls1 -cipher "$LEGACY_CIPHERS" -servername outlook.office365.com
srv_wait
cap_stop

tcprewrite --infile="$WORK/o365-v4.pcap" --outfile="$WORK/o365-v4-rw.pcap" --fixcsum \
    --pnat='127.0.1.0/24:10.1.1.0/24,127.0.0.53/32:10.1.1.53/32,127.0.2.1/32:52.96.10.20/32,127.0.2.2/32:52.96.11.25/32,127.0.2.3/32:52.96.12.30/32,127.0.3.1/32:192.0.2.10/32'
tcpprep --port --pcap="$WORK/o365-v6.pcap" --cachefile="$WORK/o365-v6.cache"
tcprewrite --infile="$WORK/o365-v6.pcap" --outfile="$WORK/o365-v6-rw.pcap" --fixcsum \
    --cachefile="$WORK/o365-v6.cache" --endpoints='[2001:db8::20]:[2603:1036::10]'
mergecap -F pcap -w "$WORK/office365.pcap" "$WORK/o365-v4-rw.pcap" "$WORK/o365-v6-rw.pcap"
publish office365
if tshark -r "$OUT/office365.pcap" -T fields -e ip.addr -e ipv6.addr 2>/dev/null |
    tr ',\t' '\n\n' | grep -E '^(127\.|::1$)' | head -1 | grep -q .; then
    die "office365.pcap: a loopback address survived the rewrite"
fi

# Versions recorded in README.md.
echo "make-pcaps: done with $(openssl version | cut -d' ' -f1-2), $(tcpdump --version 2>&1 | head -1)"
