#!/bin/bash
# it_defrag_live.sh - fragments made by the kernel, read live. Inside a network namespace this
# test creates (defrag-it-<pid>), lo's MTU is 1,280 bytes and `tlsaudit capture -i lo` runs
# while:
#   1. a DNS server (pcaps/loophelpers.py) answers outlook.office365.com with a chain of long
#      CNAMEs: a 2.5 KB UDP answer, which the kernel sends in fragments;
#   2. an openssl client without SNI makes a TLS 1.0 handshake to the address that answer gave.
# The run must count the fragments and the datagrams rebuilt, none given up; the answer must be
# stored; and the handshake, which names no server, must be Office 365 by that DNS answer, and
# listed by `query legacy`. Without reassembly the answer is lost and the verdict with it.
# Skipped (77) when not root or without ip(8) netns support.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "live capture in a network namespace needs root"
command -v openssl >/dev/null || skip "openssl not installed"

ns_start defrag-it
in_ns ip link set lo mtu 1280 || die "cannot set lo's MTU in $NS"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=frag.example.test" \
    -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null || die "openssl req failed"

db=$(fresh_db live)
start_capture_ns "$NS" "$db" "$IT_TMP/live.out" -i lo \
    -f "udp port 53 or tcp port 443 or (ip[6:2] & 0x1fff != 0)"

# 1. The answer: outlook.office365.com -> five names of ~200 bytes -> A 127.0.6.10.
pad=$(printf 'a%.0s' $(seq 60))
prev=outlook.office365.com
args=()
for i in 1 2 3 4 5; do
    name=$pad$i.$pad$i.$pad$i.chain.example.test
    args+=(--cname "$prev=$name")
    prev=$name
done
args+=(--a "$prev=127.0.6.10")
in_ns timeout 20 python3 "$TA_SRC/pcaps/loophelpers.py" dns-server --listen 127.0.0.53 "${args[@]}" \
    --ready-file "$IT_TMP/dns.ready" >"$IT_TMP/dns.log" 2>&1 &
IT_CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do [ -s "$IT_TMP/dns.ready" ] && break; sleep 0.05; done
[ -s "$IT_TMP/dns.ready" ] || die "DNS server did not start: $(cat "$IT_TMP/dns.log")"
size=$(in_ns timeout 10 python3 -c '
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
s.settimeout(5)
q = struct.pack("!HHHHHH", 4242, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in "outlook.office365.com".split(".")) + b"\0"
s.sendto(q + struct.pack("!HH", 1, 1), ("127.0.0.53", 53))
print(len(s.recvfrom(65535)[0]))') || die "no DNS answer: $(cat "$IT_TMP/dns.log")"
assert_ge "$size" 1300 "the DNS answer is longer than lo's MTU ($size bytes)"

# 2. TLS 1.0 to the answered address, no SNI.
mkfifo "$IT_TMP/hold"
exec 9<>"$IT_TMP/hold"
in_ns timeout 20 openssl s_server -accept 127.0.6.10:443 -naccept 1 -cert "$IT_TMP/c.pem" \
    -key "$IT_TMP/k.pem" -cipher 'DEFAULT:@SECLEVEL=0' <&9 >"$IT_TMP/server.log" 2>&1 &
IT_CLEANUP_PIDS+=("$!")
for _ in $(seq 100); do grep -q ACCEPT "$IT_TMP/server.log" && break; sleep 0.05; done
{ sleep 1; } | in_ns timeout 10 openssl s_client -connect 127.0.6.10:443 -noservername -tls1 \
    -cipher 'DEFAULT:@SECLEVEL=0' >"$IT_TMP/client.log" 2>&1
grep -q "Protocol  *: TLSv1$" "$IT_TMP/client.log" || die "the TLS 1.0 handshake failed: $(tail -5 "$IT_TMP/client.log")"
sleep 0.5
stop_capture "$cap_pid" "$IT_TMP/live.out"

assert_eq "$(sql "$db" "SELECT ip_fragments >= 2, ip_reassembled >= 1, ip_incomplete FROM runs")" \
    "1|1|0" "run: fragments, datagrams rebuilt, none given up ($(sql "$db" "SELECT * FROM runs"))"
assert_eq "$(sql "$db" "SELECT count(*) FROM dns_answers WHERE addr = '127.0.6.10'")" 1 \
    "the fragmented DNS answer is stored"
assert_eq "$(sql "$db" "SELECT version, ifnull(sni, '-'), o365, substr(o365_reason, 1, 4)
                        FROM handshakes WHERE server_ip = '127.0.6.10'")" "769|-|1|dns:" \
    "the handshake without SNI is Office 365 by the fragmented answer"
assert_in "$(query "$db" legacy | csv_cols client_ip,versions)" "TLS 1.0" \
    "query legacy lists the client"

it_done
