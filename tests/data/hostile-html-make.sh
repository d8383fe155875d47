#!/bin/bash
# hostile-html-make.sh [OUT.pcap] - make tests/data/hostile-html.pcap for real on loopback: wire
# strings written to break an HTML page, for tests/it_report_browser.sh.
#   1. a python3 client sends a raw TLS 1.0 ClientHello to `openssl s_server -tls1` on
#      127.0.17.1:443 with the SNI
#        "><script>alert(1)</script><img src=x onerror=alert(2)>'javascript:alert(3)
#   2. swaks submits mail with AUTH PLAIN in clear (STARTTLS offered, not used) to
#      pcaps/starttls_server.py on 127.0.17.2:587, whose greeting host is
#        "><script>alert(4)</script><svg/onload=alert(5)>javascript:alert(6)
#      and whose banner adds  <iframe src="javascript:alert(7)"></iframe>
# tcpdump on lo records both (filter: those two addresses only). Needs root (tcpdump), openssl,
# swaks, python3. The strings are what tests/it_report_browser.sh looks for; change both together.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/hostile-html.pcap}
[ "$(id -u)" -eq 0 ] || { echo "needs root (tcpdump on lo)" >&2; exit 1; }
tmp=$(mktemp -d)
pids=""
cleanup() {
    local p
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
HOST='"><script>alert(4)</script><svg/onload=alert(5)>javascript:alert(6)'
BANNER='<iframe src="javascript:alert(7)"></iframe>'

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=hostile.example.test" \
    -keyout "$tmp/k.pem" -out "$tmp/c.pem" 2>/dev/null
mkfifo "$tmp/hold"
exec 9<>"$tmp/hold"
tcpdump -i lo --immediate-mode -U -n -s 0 -w "$tmp/cap.pcap" \
    "host 127.0.17.1 or host 127.0.17.2" 2>"$tmp/tcpdump.log" &
tcpdump_pid=$!
pids="$pids $tcpdump_pid"
timeout 30 openssl s_server -accept 127.0.17.1:443 -cert "$tmp/c.pem" -key "$tmp/k.pem" -tls1 \
    -cipher 'DEFAULT:@SECLEVEL=0' -naccept 1 <&9 >"$tmp/server.log" 2>&1 &
pids="$pids $!"
timeout 30 python3 "$here/../../pcaps/starttls_server.py" --proto smtp --listen 127.0.17.2 \
    --port 587 --cert "$tmp/c.pem" --key "$tmp/k.pem" --greeting-host "$HOST" --banner "$BANNER" \
    --ready-file "$tmp/smtp.ready" >"$tmp/smtp.log" 2>&1 &
pids="$pids $!"
for _ in $(seq 100); do
    grep -q ACCEPT "$tmp/server.log" && grep -q listening "$tmp/tcpdump.log" &&
        [ -e "$tmp/smtp.ready" ] && break
    sleep 0.05
done

python3 - <<'PY'
import socket, struct

SNI = b'"><script>alert(1)</script><img src=x onerror=alert(2)>\'javascript:alert(3)'

def ext(t, body):
    return struct.pack(">HH", t, len(body)) + body

exts = (ext(0, struct.pack(">HBH", len(SNI) + 3, 0, len(SNI)) + SNI)
        + ext(10, struct.pack(">H", 4) + struct.pack(">HH", 0x001d, 0x0017))
        + ext(11, b"\x01\x00") + ext(0xff01, b"\x00"))
ciphers = struct.pack(">HHH", 0xc013, 0x002f, 0x0035)
body = (struct.pack(">H", 0x0301) + bytes(range(32)) + b"\x00" + struct.pack(">H", len(ciphers))
        + ciphers + b"\x01\x00" + struct.pack(">H", len(exts)) + exts)
hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
s = socket.create_connection(("127.0.17.1", 443), timeout=5)
s.sendall(b"\x16" + struct.pack(">HH", 0x0301, len(hs)) + hs)
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
print("tls client: %d bytes from the server" % len(got))
PY
timeout 15 swaks --timeout 10 --server 127.0.17.2 --port 587 --from printer@example.test \
    --to alice@example.test --helo client.example.test --auth PLAIN --auth-user printer \
    --auth-password secret >"$tmp/swaks.log" 2>&1 || true
sleep 1 # SIGINT does not drain the kernel ring: immediate mode and a pause
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
[ "$(stat -c %s "$tmp/cap.pcap")" -gt 24 ] || { cat "$tmp/tcpdump.log" >&2; echo "nothing captured" >&2; exit 1; }
cp "$tmp/cap.pcap" "$out"
echo "wrote $out ($(stat -c %s "$out") bytes)"
