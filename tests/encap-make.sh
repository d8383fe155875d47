#!/bin/bash
# encap-make.sh - make the committed captures of tests/data/encap/ from real traffic, and their
# fuzz seeds (fuzz/corpus/packet/encap-*).
#
# In two network namespaces of its own (encap-<pid>-c, encap-<pid>-s; tests/encap_netns.sh),
# real openssl s_client/s_server handshakes (TLS 1.0 and 1.3 over IPv4, TLS 1.2 over IPv6) are
# captured with tcpdump:
#   inner.pcap        on the veth between the namespaces, no tunnel: the source of every
#                     rewritten capture
#   vxlan.pcap        the underlay of a Linux vxlan device (VNI 42, UDP 4789) ...
#   vxlan-inner.pcap  ... and the same handshakes on the vxlan device itself
#   tfo.pcap          TCP Fast Open with real sockets (tests/tfo_hello.py, tcp_fastopen=3): a
#                     first connection that fetches the cookie, one whose SYN data the server
#                     accepts, one to a server without Fast Open that acknowledges only the SYN
#                     (the client sends the ClientHello again)
# then tests/encap_rewrite.py wraps inner.pcap in every KIND it knows (<kind>.pcap): Cisco
# MetaData and PPPoE, which no Linux device makes, and the tunnels this kernel lacks.
#
# Usage: sudo tests/encap-make.sh [OUTDIR]   (default tests/data/encap). Needs root, iproute2,
# tcpdump, openssl, python3. Client ports, randoms and keys change on every run; what
# tests/it_encap.sh asserts does not.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)
OUT=${1:-$HERE/data/encap}
[ "$(id -u)" -eq 0 ] || { echo "encap-make: must run as root" >&2; exit 1; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d /tmp/encap-make.XXXXXX)
# shellcheck source=tests/encap_netns.sh
. "$HERE/encap_netns.sh"
mkfifo "$WORK/hold"
exec 9<>"$WORK/hold"
trap 'enc_ns_down; rm -rf "$WORK"' EXIT

enc_ns_up
enc_cert "$WORK"

echo "encap-make: inner.pcap (veth, no tunnel)"
enc_cap_start "$ENC_NS_C" c0 "$WORK/inner.pcap" tcp
enc_three_hellos "$WORK" 10.77.0.2 fd77::2
enc_cap_stop

echo "encap-make: vxlan.pcap, vxlan-inner.pcap (Linux vxlan, VNI 42)"
enc_tun_up vxlan || { echo "encap-make: no vxlan: $ENC_WHY" >&2; exit 1; }
enc_cap_start "$ENC_NS_C" c0 "$WORK/vxlan.pcap" udp port 4789
enc_cap_start "$ENC_NS_C" t0 "$WORK/vxlan-inner.pcap" tcp
enc_three_hellos "$WORK" 10.78.0.2 fd78::2
enc_cap_stop
enc_tun_down

echo "encap-make: tfo.pcap (TCP Fast Open)"
enc_c sysctl -qw net.ipv4.tcp_fastopen=3
enc_s sysctl -qw net.ipv4.tcp_fastopen=3
enc_cap_start "$ENC_NS_C" c0 "$WORK/tfo.pcap" tcp port 4443 or tcp port 4444
enc_s timeout 30 python3 "$HERE/tfo_hello.py" server 10.77.0.2 4443 "$WORK/c.pem" "$WORK/k.pem" 2 \
    >"$WORK/tfo-server.log" 2>&1 &
enc_s timeout 30 openssl s_server -accept 10.77.0.2:4444 -naccept 1 -cert "$WORK/c.pem" \
    -key "$WORK/k.pem" <&9 >"$WORK/tfo-s_server.log" 2>&1 &
for _ in $(seq 100); do
    grep -q READY "$WORK/tfo-server.log" && grep -q ACCEPT "$WORK/tfo-s_server.log" && break
    sleep 0.05
done
enc_c python3 "$HERE/tfo_hello.py" client 10.77.0.2 4443 cookie.tfo.example.test
enc_c python3 "$HERE/tfo_hello.py" client 10.77.0.2 4443 accepted.tfo.example.test
enc_c python3 "$HERE/tfo_hello.py" client 10.77.0.2 4444 refused.tfo.example.test
enc_cap_stop
wait

for f in inner vxlan vxlan-inner tfo; do cp "$WORK/$f.pcap" "$OUT/$f.pcap"; done
for k in $(python3 "$HERE/encap_rewrite.py" --list | grep -vx cmd-both); do  # cmd-both: it_encap
    python3 "$HERE/encap_rewrite.py" "$k" "$OUT/inner.pcap" "$OUT/$k.pcap"
done
ls -l "$OUT"/*.pcap

# Fuzz seeds: one per encapsulation family (the packet target's format).
python3 "$SRC/fuzz/tools/pcap2corpus.py" "$WORK/corpus" "$OUT"/vxlan.pcap "$OUT"/tfo.pcap \
    "$OUT"/cmd.pcap "$OUT"/pppoe.pcap "$OUT"/mpls-pw.pcap "$OUT"/mpls-ip.pcap \
    "$OUT"/erspan3.pcap "$OUT"/ip6erspan2.pcap "$OUT"/geneve.pcap "$OUT"/gre-opts.pcap \
    "$OUT"/ip-in-ip6.pcap "$OUT"/nested.pcap "$OUT"/too-deep.pcap "$OUT"/undecodable.pcap >/dev/null
for f in "$WORK"/corpus/packet/*; do cp "$f" "$SRC/fuzz/corpus/packet/encap-$(basename "$f")"; done
echo "encap-make: fuzz seeds: $(ls "$SRC"/fuzz/corpus/packet/encap-* | wc -l)"
