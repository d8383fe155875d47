#!/bin/bash
# it_quic_live.sh - real QUIC on a loopback of our own: inside a network namespace this test
# creates (quic-it-<pid>), `tlsaudit capture -i lo` runs while Debian's ngtcp2 client
# (gtlsclient, package ngtcp2-client) fetches a page from ngtcp2 servers (gtlsserver, package
# ngtcp2-server) with a throwaway certificate:
#   1. outlook.office365.com on port 4433: QUIC v1, TLS_AES_128_GCM_SHA256, an Office 365 name
#      (the built-in endpoint list gives it as Exchange, TCP and UDP 443);
#   2. retry.example.test on port 4434, a server that validates addresses with a Retry and is
#      limited to TLS_AES_256_GCM_SHA384: the second client Initial's keys come from the Retry;
#   3. a client that first offers an unknown QUIC version (0x1a2a3a4a) to port 4433, gets a
#      Version Negotiation and starts over in v1 from a new port: the unknown version makes no
#      row, the new attempt one.
# The names resolve through the namespace's own hosts file (/etc/netns/<ns>/hosts, which
# `ip netns exec` mounts over /etc/hosts). Then the rows, the Office 365 verdict and the
# summary's transport section are checked. Skipped (77) when not root, without ip(8) netns
# support or without the ngtcp2 tools (scripts/install-deps.sh installs them).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "live capture in a network namespace needs root"
command -v ip >/dev/null || skip "ip(8) not installed"
CLIENT=$(command -v gtlsclient || true)
SERVER=$(command -v gtlsserver || echo /usr/sbin/gtlsserver)
[ -n "$CLIENT" ] && [ -x "$SERVER" ] ||
    skip "ngtcp2 tools missing (apt-get install ngtcp2-client ngtcp2-server)"
command -v openssl >/dev/null || skip "openssl not installed"

ns_start quic-it
mkdir -p "/etc/netns/$NS"
echo "127.0.0.1 outlook.office365.com retry.example.test" >"/etc/netns/$NS/hosts"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=quic.example.test" -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null ||
    die "openssl req failed"
mkdir -p "$IT_TMP/htdocs"
echo "hello over QUIC" >"$IT_TMP/htdocs/index.html"

db=$(fresh_db quic)
start_capture_ns "$NS" "$db" "$IT_TMP/live.out" -i lo -f "udp port 4433 or udp port 4434"

ip netns exec "$NS" timeout 60 "$SERVER" -q -d "$IT_TMP/htdocs" 127.0.0.1 4433 \
    "$IT_TMP/k.pem" "$IT_TMP/c.pem" >"$IT_TMP/server1.log" 2>&1 &
IT_CLEANUP_PIDS+=("$!")
ip netns exec "$NS" timeout 60 "$SERVER" -q -V -d "$IT_TMP/htdocs" \
    --ciphers 'NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM' 127.0.0.1 4434 \
    "$IT_TMP/k.pem" "$IT_TMP/c.pem" >"$IT_TMP/server2.log" 2>&1 &
IT_CLEANUP_PIDS+=("$!")
sleep 0.5

fetch() { # HOST PORT [CLIENT-OPTS...]: one connection, GET /index.html
    local host=$1 port=$2
    shift 2
    ip netns exec "$NS" timeout 10 "$CLIENT" -q --exit-on-all-streams-close "$@" "$host" "$port" \
        "https://$host/index.html" >>"$IT_TMP/client.log" 2>&1
}
fetch outlook.office365.com 4433
assert_eq "$?" 0 "v1 fetch from outlook.office365.com:4433 ($(tail -c 300 "$IT_TMP/client.log"))"
fetch retry.example.test 4434
assert_eq "$?" 0 "fetch after a Retry from retry.example.test:4434"
fetch outlook.office365.com 4433 -v 0x1a2a3a4a --preferred-versions v1
assert_eq "$?" 0 "fetch after a Version Negotiation"
sleep 1
stop_capture "$cap_pid" "$IT_TMP/live.out"

got=$(query "$db" sessions --all |
      csv_cols transport,server_port,sni,version,cipher_id,app,established,alpn_offered,o365,o365_service,anomalies)
assert_eq "$got" "$(printf '%s\n' \
    "quic	4433	outlook.office365.com	TLS 1.3	0x1301	https	1	h3	1	Exchange	" \
    "quic	4434	retry.example.test	TLS 1.3	0x1302	https	1	h3	0		quic_retry" \
    "quic	4433	outlook.office365.com	TLS 1.3	0x1301	https	1	h3	1	Exchange	")" \
    "QUIC handshakes (transport, port, SNI, version, cipher, app, established, ALPN, Office 365, anomalies)"
assert_eq "$(sql "$db" "SELECT DISTINCT o365_reason FROM handshakes WHERE o365 = 1")" \
    "sni:outlook.office365.com" "Office 365 reason"
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE ja4 LIKE 'q13d%' AND ja3 IS NOT NULL")" 3 \
    "JA4 with the QUIC prefix (q13d...) and a JA3 on every row"
assert_eq "$(sql "$db" "SELECT count(DISTINCT client_port) FROM handshakes")" 3 "one row per connection"
assert_in "$(query "$db" summary)" "transport,quic,3,1,100.0" "summary's transport section"
assert_eq "$(sql "$db" "SELECT handshakes, clean FROM runs")" "3|1" "run row (handshakes|clean)"

it_done
