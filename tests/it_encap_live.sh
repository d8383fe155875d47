#!/bin/bash
# it_encap_live.sh - mirror encapsulations made by the kernel (issue 16). In two network
# namespaces of its own (encap-<pid>-c/-s, tests/encap_netns.sh), each tunnel kind Linux can make
# carries real openssl handshakes (TLS 1.0 and 1.3 over IPv4, TLS 1.2 over IPv6, as far as the
# tunnel carries the family) while tcpdump records both the underlay (veth c0) and the tunnel
# device (t0). tlsaudit reads each capture; the rows of the underlay must equal those of the
# tunnel device field by field (tests/encap_rows.py; time within 1 ms), with the expected
# context (tunnel, VNI), and its run row must count every tunnel frame and nothing undecoded.
#
# Kinds: vxlan (UDP 4789), vxlan on UDP 8472 read with --vxlan-port 8472, geneve, gretap, gre,
# erspan (type II), erspan3 (type III), ip6erspan, ipip, sit, ip6tnl (4in6 and 6in6), MPLS.
# A kind this kernel cannot make (no module, not built in) is SKIPPED LOUDLY, one line each;
# the test is skipped (77) only when it can make none. Cisco MetaData and PPPoE have no Linux
# device: tests/it_encap.sh covers them, and every kind again, with rewritten real captures.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
command -v tcpdump >/dev/null || skip "tcpdump not installed (scripts/install-deps.sh)"
command -v openssl >/dev/null || skip "openssl not installed"
# shellcheck source=tests/encap_netns.sh
. "$TA_SRC/tests/encap_netns.sh"
trap 'enc_ns_down; it_cleanup' EXIT
enc_ns_up || die "cannot create the namespaces $ENC_NS_C, $ENC_NS_S"
enc_cert "$IT_TMP" || die "openssl req failed"
mkfifo "$IT_TMP/hold"
exec 9<>"$IT_TMP/hold"

MADE=0
SKIPPED=()
undecoded_sum="malformed + undecoded_mpls + undecoded_pppoe + undecoded_gre + undecoded_erspan +
    undecoded_vxlan + undecoded_geneve + undecoded_cmd + undecoded_ipip + tunnel_too_deep"

skip_kind() {
    echo "=================================================================="
    echo "SKIPPED CASE: $IT_NAME: $1: $2"
    echo "=================================================================="
    SKIPPED+=("$1")
}

# compare KIND UNDERLAY.pcap INNER.pcap CONTEXT [CAPTURE-OPTIONS...]: rows equal field by field;
# CONTEXT is the expected "tunnel|vni" of every row (a list, one line per row in SNI order).
compare() {
    local kind=$1 under=$2 inner=$3 ctx=$4 du di out
    shift 4
    du=$(fresh_db "$kind-under")
    di=$(fresh_db "$kind-inner")
    "$TA_BIN" capture -q --db "$du" -r "$under" "$@" 2>"$IT_TMP/$kind.err" ||
        fail "$kind: capture of the underlay failed: $(cat "$IT_TMP/$kind.err")"
    "$TA_BIN" capture -q --db "$di" -r "$inner" 2>>"$IT_TMP/$kind.err" ||
        fail "$kind: capture of the tunnel device failed: $(cat "$IT_TMP/$kind.err")"
    out=$(python3 "$TA_SRC/tests/encap_rows.py" "$di" "$du" 1000) && pass ||
        fail "$kind: underlay rows differ from the tunnel device's:
$out"
    assert_eq "$(sql "$du" "SELECT ifnull(tunnel, '') || '|' || ifnull(vni, '') FROM handshakes
                             ORDER BY sni")" "$ctx" "$kind: context (tunnel|vni)"
    assert_eq "$(sql "$du" "SELECT tunneled = packets - non_ip, $undecoded_sum FROM runs")" "1|0" \
        "$kind: run row (every frame tunneled | nothing undecoded): $(sql "$du" "SELECT * FROM runs")"
    assert_eq "$(sql "$du" "SELECT count(*) FROM handshakes WHERE client_hello AND established")" \
        "$(echo "$ctx" | wc -l)" "$kind: every handshake complete"
}

# run_kind KIND FAMILIES FILTER CONTEXT [CAPTURE-OPTIONS...]: tunnel up, capture the underlay
# (only the tunnel's own packets: FILTER) and the tunnel device, handshakes, compare.
run_kind() {
    local kind=$1 fam=$2 filter=$3 ctx=$4
    shift 4
    if ! enc_tun_up "$kind"; then
        enc_tun_down
        skip_kind "$kind" "this kernel cannot make it ($ENC_WHY)"
        return
    fi
    enc_cap_start "$ENC_NS_C" c0 "$IT_TMP/$kind-under.pcap" "$filter" ||
        die "tcpdump did not start on c0"
    enc_cap_start "$ENC_NS_C" t0 "$IT_TMP/$kind-inner.pcap" tcp || die "tcpdump did not start on t0"
    enc_three_hellos "$IT_TMP" 10.78.0.2 fd78::2 "$fam"
    enc_cap_stop
    enc_tun_down
    MADE=$((MADE + 1))
    compare "$kind" "$IT_TMP/$kind-under.pcap" "$IT_TMP/$kind-inner.pcap" "$ctx" "$@"
}

ctx3() { printf '%s\n%s\n%s' "$1" "$2" "$3"; }   # rows in SNI order: legacy10, tls13, v6
ctx2() { printf '%s\n%s' "$1" "$2"; }             # legacy10, tls13

run_kind vxlan "" "udp port 4789" "$(ctx3 "vxlan|42" "vxlan|42" "vxlan|42")"
run_kind vxlan8472 "" "udp port 8472" "$(ctx3 "vxlan|43" "vxlan|43" "vxlan|43")" --vxlan-port 8472
run_kind geneve "" "udp port 6081" "$(ctx3 "geneve|44" "geneve|44" "geneve|44")"
run_kind gretap "" "ip proto 47" "$(ctx3 "gre|" "gre|" "gre|")"
run_kind gre "" "ip proto 47" "$(ctx3 "gre|" "gre|" "gre|")"
run_kind erspan "" "ip proto 47" "$(ctx3 "erspan2|" "erspan2|" "erspan2|")"
run_kind erspan3 "" "ip proto 47" "$(ctx3 "erspan3|" "erspan3|" "erspan3|")"
run_kind ip6erspan "" "ip6 proto 47" "$(ctx3 "erspan2|" "erspan2|" "erspan2|")"
run_kind ipip v4 "ip proto 4" "$(ctx2 "ip4in4|" "ip4in4|")"
run_kind sit v6 "ip proto 41" "ip6in4|"
run_kind ip6tnl "" "ip6 proto 4 or ip6 proto 41" "$(ctx3 "ip4in6|" "ip4in6|" "ip6in6|")"

# MPLS: no tunnel device; the label is pushed by a route and popped to lo on the other side, so
# the inner packets are captured on lo of both namespaces (one direction each) and merged.
if ! command -v mergecap >/dev/null; then
    skip_kind mpls "mergecap (wireshark-common) not installed"
elif ! enc_mpls_up; then
    skip_kind mpls "this kernel cannot make it ($ENC_WHY)"
else
    enc_cap_start "$ENC_NS_C" c0 "$IT_TMP/mpls-under.pcap" "mpls" || die "tcpdump on c0"
    enc_cap_start "$ENC_NS_C" lo "$IT_TMP/mpls-lo-c.pcap" tcp || die "tcpdump on lo"
    enc_cap_start "$ENC_NS_S" lo "$IT_TMP/mpls-lo-s.pcap" tcp || die "tcpdump on lo"
    enc_three_hellos "$IT_TMP" 10.78.0.2 fd78::2 v4
    enc_cap_stop
    mergecap -F pcap -w "$IT_TMP/mpls-inner.pcap" "$IT_TMP/mpls-lo-c.pcap" "$IT_TMP/mpls-lo-s.pcap"
    MADE=$((MADE + 1))
    compare mpls "$IT_TMP/mpls-under.pcap" "$IT_TMP/mpls-inner.pcap" "$(ctx2 "mpls|" "mpls|")"
fi

[ "$MADE" -gt 0 ] || skip "this kernel makes none of the tunnel kinds (${SKIPPED[*]})"
echo "$IT_NAME: kinds made by this kernel: $MADE; skipped: ${SKIPPED[*]:-none}"
it_done
