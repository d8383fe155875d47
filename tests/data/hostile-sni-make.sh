#!/bin/bash
# hostile-sni-make.sh [OUT.pcap] - make tests/data/hostile-sni.pcap for real on loopback: a python3
# client sends a raw TLS 1.0 ClientHello whose SNI holds what must never reach a terminal,
# spreadsheet or JSON consumer raw:
#     =2+5,"q'"<ESC>[31m<LF>x<0xFF><0xC3>.evil
# ('=' first: formula injection; quotes and a comma: CSV quoting; ESC[31m: ANSI colour; LF: a
# fake row; 0xFF 0xC3: invalid UTF-8) to `openssl s_server -tls1` on 127.0.0.1, which answers
# (ServerHello, Certificate, ...); tcpdump on lo records the connection. Needs root (tcpdump).
# The SNI bytes are what tests/it_hostile.sh expects; change both together.
set -eu
out=${1:-$(cd "$(dirname "$0")" && pwd)/hostile-sni.pcap}
[ "$(id -u)" -eq 0 ] || { echo "needs root (tcpdump on lo)" >&2; exit 1; }
port=${PORT:-48443}
tmp=$(mktemp -d)
pids=""
cleanup() {
    local p
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=hostile.example.test" \
    -keyout "$tmp/k.pem" -out "$tmp/c.pem" 2>/dev/null
mkfifo "$tmp/hold"
exec 9<>"$tmp/hold"
tcpdump -i lo --immediate-mode -U -n -s 0 -w "$tmp/cap.pcap" "host 127.0.0.1 and tcp port $port" 2>"$tmp/tcpdump.log" &
pids="$pids $!"
tcpdump_pid=$!
openssl s_server -accept "127.0.0.1:$port" -cert "$tmp/c.pem" -key "$tmp/k.pem" -tls1 \
    -cipher 'DEFAULT:@SECLEVEL=0' -naccept 1 <&9 >"$tmp/server.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 100); do grep -q ACCEPT "$tmp/server.log" && grep -q listening "$tmp/tcpdump.log" && break; sleep 0.05; done

python3 - "$port" <<'PY'
import socket, struct, sys

SNI = b'=2+5,"q\'"\x1b[31m\nx\xff\xc3.evil'

def ext(t, body):
    return struct.pack(">HH", t, len(body)) + body

sni = ext(0, struct.pack(">HBH", len(SNI) + 3, 0, len(SNI)) + SNI)
groups = ext(10, struct.pack(">H", 4) + struct.pack(">HH", 0x001d, 0x0017))
points = ext(11, b"\x01\x00")
reneg = ext(0xff01, b"\x00")
exts = sni + groups + points + reneg
ciphers = struct.pack(">HHH", 0xc013, 0x002f, 0x0035)
body = (struct.pack(">H", 0x0301) + bytes(range(32)) + b"\x00" + struct.pack(">H", len(ciphers))
        + ciphers + b"\x01\x00" + struct.pack(">H", len(exts)) + exts)
hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
rec = b"\x16" + struct.pack(">HH", 0x0301, len(hs)) + hs
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(rec)
got = b""
try:
    while b"\x0e\x00\x00\x00" not in got:  # ServerHelloDone
        d = s.recv(65536)
        if not d:
            break
        got += d
except socket.timeout:
    pass
s.close()
print("client: %d bytes from the server" % len(got))
PY
sleep 1 # SIGINT does not drain the kernel ring: immediate mode and a pause
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
[ "$(stat -c %s "$tmp/cap.pcap")" -gt 24 ] || { cat "$tmp/tcpdump.log" >&2; echo "nothing captured" >&2; exit 1; }
cp "$tmp/cap.pcap" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
