# tests/encap_netns.sh - network namespaces, tunnels and real openssl handshakes for the
# encapsulation tests (tests/it_encap_live.sh) and for tests/encap-make.sh, which makes the
# committed captures in tests/data/encap/. Sourced by bash; needs root, iproute2, tcpdump,
# openssl. Every name starts with "encap-" and the caller's ENC_ID, so parallel runs do not meet.
#
# Layout: namespace $ENC_NS_C (client) and $ENC_NS_S (server) joined by a veth pair c0 <-> s0
# (the underlay: 10.77.0.1/24 - 10.77.0.2/24, fd77::1/64 - fd77::2/64, fixed MAC addresses
# 52:54:00:77:00:01/02). A tunnel of KIND between them carries 10.78.0.1 - 10.78.0.2 and
# fd78::1 - fd78::2 (device t0 on both sides). Nothing leaves the two namespaces.

ENC_ID=${ENC_ID:-$$}
ENC_NS_C=encap-$ENC_ID-c
ENC_NS_S=encap-$ENC_ID-s
ENC_TCPDUMP_PIDS=()

enc_c() { ip netns exec "$ENC_NS_C" "$@"; }
enc_s() { ip netns exec "$ENC_NS_S" "$@"; }

# enc_ns_up: the two namespaces and the underlay veth pair.
enc_ns_up() {
    ip netns add "$ENC_NS_C" && ip netns add "$ENC_NS_S" || return 1
    ip -n "$ENC_NS_C" link add c0 address 52:54:00:77:00:01 type veth \
        peer name s0 address 52:54:00:77:00:02 netns "$ENC_NS_S" || return 1
    enc_c ip link set lo up
    enc_s ip link set lo up
    enc_c ip addr add 10.77.0.1/24 dev c0
    enc_s ip addr add 10.77.0.2/24 dev s0
    enc_c ip addr add fd77::1/64 dev c0 nodad
    enc_s ip addr add fd77::2/64 dev s0 nodad
    enc_c ip link set c0 up
    enc_s ip link set s0 up
}

# enc_ns_down: remove both namespaces (and with them every device in them).
enc_ns_down() {
    local p
    for p in "${ENC_TCPDUMP_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    ip netns del "$ENC_NS_C" 2>/dev/null || true
    ip netns del "$ENC_NS_S" 2>/dev/null || true
}

# enc_tun_side NS c|s KIND: one side of a tunnel of KIND (device t0) over the underlay.
enc_tun_side() {
    local ns=$1 side=$2 kind=$3 l4 r4 l6 r6
    if [ "$side" = c ]; then l4=10.77.0.1 r4=10.77.0.2 l6=fd77::1 r6=fd77::2
    else l4=10.77.0.2 r4=10.77.0.1 l6=fd77::2 r6=fd77::1; fi
    case $kind in
    vxlan) ip -n "$ns" link add t0 type vxlan id 42 dstport 4789 local "$l4" remote "$r4" ;;
    vxlan8472) ip -n "$ns" link add t0 type vxlan id 43 dstport 8472 local "$l4" remote "$r4" ;;
    geneve) ip -n "$ns" link add t0 type geneve id 44 remote "$r4" ;;
    gretap) ip -n "$ns" link add t0 type gretap local "$l4" remote "$r4" key 45 ;;
    gre) ip -n "$ns" link add t0 type gre local "$l4" remote "$r4" ;;
    erspan) ip -n "$ns" link add t0 type erspan local "$l4" remote "$r4" seq key 46 \
                erspan_ver 1 erspan 46 ;;
    erspan3) ip -n "$ns" link add t0 type erspan local "$l4" remote "$r4" seq key 47 \
                erspan_ver 2 erspan_dir ingress erspan_hwid 7 ;;
    ip6erspan) ip -n "$ns" link add t0 type ip6erspan local "$l6" remote "$r6" seq key 48 \
                erspan_ver 1 erspan 48 ;;
    ipip) ip -n "$ns" link add t0 type ipip local "$l4" remote "$r4" ;;
    sit) ip -n "$ns" link add t0 type sit local "$l4" remote "$r4" ;;
    ip6tnl) ip -n "$ns" link add t0 type ip6tnl local "$l6" remote "$r6" mode any ;;
    *) return 1 ;;
    esac
}

# enc_tun_up KIND: the tunnel on both sides with the inner addresses. Returns 1 (with the
# kernel's message in ENC_WHY) when this kernel cannot make KIND.
enc_tun_up() {
    local kind=$1 out
    ENC_WHY=
    if ! out=$(enc_tun_side "$ENC_NS_C" c "$kind" 2>&1) ||
       ! out=$(enc_tun_side "$ENC_NS_S" s "$kind" 2>&1); then
        ENC_WHY=${out:-unknown tunnel kind}
        return 1
    fi
    enc_c ip addr add 10.78.0.1/24 dev t0
    enc_s ip addr add 10.78.0.2/24 dev t0
    enc_c ip addr add fd78::1/64 dev t0 nodad 2>/dev/null
    enc_s ip addr add fd78::2/64 dev t0 nodad 2>/dev/null
    enc_c ip link set t0 up
    enc_s ip link set t0 up
}

# enc_tun_down: remove the tunnel device on both sides.
enc_tun_down() {
    ip -n "$ENC_NS_C" link del t0 2>/dev/null || true
    ip -n "$ENC_NS_S" link del t0 2>/dev/null || true
}

# enc_mpls_up: MPLS between the namespaces (label 100 towards the server, 200 back), inner
# addresses 10.78.0.1/.2 on lo. Returns 1 with ENC_WHY when the kernel has no MPLS routing.
enc_mpls_up() {
    ENC_WHY=
    if [ ! -e /proc/sys/net/mpls ] && ! enc_c test -e /proc/sys/net/mpls/platform_labels; then
        command -v modprobe >/dev/null && modprobe mpls_router 2>/dev/null &&
            modprobe mpls_iptunnel 2>/dev/null
    fi
    if ! enc_c test -e /proc/sys/net/mpls/platform_labels; then
        ENC_WHY="no /proc/sys/net/mpls (kernel without CONFIG_MPLS_ROUTING / mpls_router module)"
        return 1
    fi
    enc_c sysctl -qw net.mpls.platform_labels=1000 net.mpls.conf.c0.input=1 || return 1
    enc_s sysctl -qw net.mpls.platform_labels=1000 net.mpls.conf.s0.input=1 || return 1
    enc_c ip addr add 10.78.0.1/32 dev lo
    enc_s ip addr add 10.78.0.2/32 dev lo
    enc_c ip route add 10.78.0.2/32 encap mpls 100 via inet 10.77.0.2 dev c0 src 10.78.0.1 ||
        { ENC_WHY="ip route ... encap mpls failed (no mpls_iptunnel)"; return 1; }
    enc_s ip route add 10.78.0.1/32 encap mpls 200 via inet 10.77.0.1 dev s0 src 10.78.0.2
    enc_s ip -f mpls route add 100 dev lo
    enc_c ip -f mpls route add 200 dev lo
}

# enc_cap_start NS IFACE FILE [FILTER]: tcpdump on IFACE inside NS into FILE until enc_cap_stop.
# A 32 MiB buffer: with -s 0 tcpdump's default 2 MiB holds eight packets, which a loaded
# machine can overflow (lib.sh, ns_tcpdump).
enc_cap_start() {
    local ns=$1 ifc=$2 file=$3
    shift 3
    ip netns exec "$ns" timeout 120 tcpdump -i "$ifc" --immediate-mode -U -n -B 32768 -s 0 \
        -w "$file" "$@" \
        >"$file.log" 2>&1 &
    ENC_TCPDUMP_PIDS+=("$!")
    for _ in $(seq 100); do grep -q "listening on" "$file.log" 2>/dev/null && return 0; sleep 0.05; done
    echo "tcpdump did not start: $(cat "$file.log")" >&2
    return 1
}

# enc_cap_stop: let the last packets arrive, stop every tcpdump started by enc_cap_start.
enc_cap_stop() {
    local p
    sleep 0.5
    for p in "${ENC_TCPDUMP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
    for p in "${ENC_TCPDUMP_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    ENC_TCPDUMP_PIDS=()
}

# enc_cert DIR: a test-only EC P-256 certificate (CN=encap.example.test) in DIR/c.pem, DIR/k.pem.
enc_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 2 \
        -subj "/CN=encap.example.test" -addext "subjectAltName=DNS:*.encap.example.test" \
        -keyout "$1/k.pem" -out "$1/c.pem" 2>/dev/null
}

# enc_hello DIR HOST PORT SNI SERVER-ARGS -- CLIENT-ARGS: one openssl handshake, server in the
# server namespace on HOST:PORT (one accept), client in the client namespace.
enc_hello() {
    local dir=$1 host=$2 port=$3 sni=$4 sargs=() cargs=() spid
    shift 4
    while [ $# -gt 0 ] && [ "$1" != -- ]; do sargs+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    cargs=("$@")
    : >"$dir/server.log"
    enc_s timeout 20 openssl s_server -accept "$host:$port" -naccept 1 -cert "$dir/c.pem" \
        -key "$dir/k.pem" "${sargs[@]}" <&9 >"$dir/server.log" 2>&1 &
    spid=$!
    for _ in $(seq 100); do grep -q ACCEPT "$dir/server.log" && break; sleep 0.05; done
    { sleep 1; } | enc_c timeout 10 openssl s_client -connect "$host:$port" -servername "$sni" \
        "${cargs[@]}" >>"$dir/client.log" 2>&1
    for _ in $(seq 100); do kill -0 "$spid" 2>/dev/null || break; sleep 0.05; done
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
}

# enc_three_hellos DIR ADDR4 ADDR6 [v4|v6]: the handshakes every encapsulation carries: TLS 1.0
# over IPv4 (the legacy client tlsaudit exists to find), TLS 1.3 over IPv4, TLS 1.2 over IPv6;
# only the IPv4 or the IPv6 ones when the tunnel carries only that family.
enc_three_hellos() {
    local dir=$1 a4=$2 a6=$3 only=${4:-}
    if [ "$only" != v6 ]; then
        enc_hello "$dir" "$a4" 4410 legacy10.encap.example.test -cipher 'DEFAULT:@SECLEVEL=0' -- \
            -tls1 -cipher 'ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0'
        enc_hello "$dir" "$a4" 4413 tls13.encap.example.test -- -tls1_3
    fi
    if [ "$only" != v4 ]; then
        enc_hello "$dir" "[$a6]" 4412 v6.encap.example.test -- -tls1_2 \
            -cipher ECDHE-ECDSA-AES256-GCM-SHA384
    fi
}
