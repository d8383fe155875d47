#!/bin/bash
# it_live.sh - live capture on the loopback interface: `tlsaudit capture -i lo` runs in the
# background while real openssl s_server/s_client handshakes (TLS 1.0, 1.2, 1.3, each with its
# own SNI) cross 127.0.7.1, then SIGINT stops it. The three handshakes must be stored with the
# right version and SNI, and the run row closed cleanly (ended, clean = 1, packets > 0).
# Skipped (77) when not root or without a loopback interface. Traffic stays on 127.0.0.0/8.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "live capture needs root"
[ -e /sys/class/net/lo ] || skip "no loopback interface 'lo'"
command -v openssl >/dev/null || skip "openssl not installed"

ADDR=127.0.7.1
PORT=$((44000 + $$ % 1000))
FILTER="host $ADDR and tcp port $PORT"
db=$(fresh_db live)

# s_server quits at EOF on stdin: hold a FIFO open for it.
mkfifo "$IT_TMP/hold"
exec 9<>"$IT_TMP/hold"

start_capture "$db" "$IT_TMP/live.out" -i lo -f "$FILTER"
assert_eq "$(sql "$db" "SELECT count(*) FROM runs")" 1 "run row written at start"
sleep 0.3

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=live.example.test" \
    -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null || die "openssl req failed"
timeout 30 openssl s_server -accept "$ADDR:$PORT" -cert "$IT_TMP/c.pem" -key "$IT_TMP/k.pem" \
    -naccept 3 -cipher 'DEFAULT:@SECLEVEL=0' <&9 >"$IT_TMP/server.log" 2>&1 &
srv_pid=$!
IT_CLEANUP_PIDS+=("$srv_pid")
for _ in $(seq 100); do grep -q ACCEPT "$IT_TMP/server.log" && break; sleep 0.05; done

hello() { # SNI OPENSSL-ARGS...: one handshake; stdin stays open one second so it completes.
    local sni=$1
    shift
    { sleep 1; } | timeout 10 openssl s_client -connect "$ADDR:$PORT" -servername "$sni" "$@" \
        >>"$IT_TMP/client.log" 2>&1
}
hello live10.example.test -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
hello live12.example.test -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
hello live13.example.test -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
for _ in $(seq 100); do kill -0 "$srv_pid" 2>/dev/null || break; sleep 0.05; done
sleep 1

stop_capture "$cap_pid" "$IT_TMP/live.out"

got=$(query "$db" sessions --all | csv_cols client_ip,server_ip,server_port,sni,version,cipher_id,established,cert_cn)
assert_eq "$got" "$(printf '%s\n' \
    "127.0.0.1	$ADDR	$PORT	live10.example.test	TLS 1.0	0xC013	1	live.example.test" \
    "127.0.0.1	$ADDR	$PORT	live12.example.test	TLS 1.2	0xC02F	1	live.example.test" \
    "127.0.0.1	$ADDR	$PORT	live13.example.test	TLS 1.3	0x1301	1	")" "live handshakes"

run=$(sql "$db" "SELECT source, filter, ended IS NOT NULL, clean, error IS NULL, packets > 0,
                        bytes > 0, handshakes FROM runs")
assert_eq "$run" "live:lo|$FILTER|1|1|1|1|1|3" "run row (source|filter|ended|clean|no error|packets|bytes|handshakes)"
# Every packet the filter let through was read: 3 connections of at least 8 packets each.
assert_ge "$(sql "$db" "SELECT packets FROM runs")" 24 "packets counted"
assert_eq "$(sql "$db" "SELECT drops FROM runs")" 0 "no drops"

it_done
