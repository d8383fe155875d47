#!/bin/bash
# it_encap.sh - mirror encapsulations, offline (issue 16). The captures of tests/data/encap/
# (made by tests/encap-make.sh from real openssl handshakes: TLS 1.0 and 1.3 over IPv4, TLS 1.2
# over IPv6) are read by tlsaudit and compared with the same handshakes without encapsulation:
#  - every encapsulated capture gives the same handshakes rows, field by field (every column but
#    id, run_id and the context columns tunnel/vlan/vni/sgt), as the capture it came from:
#    inner.pcap for the ones tests/encap_rewrite.py made, vxlan-inner.pcap (the same handshakes
#    on the Linux vxlan device) for the real VXLAN underlay vxlan.pcap;
#  - the context columns are those of expected.tsv, and tshark dissects each ClientHello frame
#    through the same chain of protocols (an independent check that the frames are well formed);
#  - the committed rewritten captures are exactly what encap_rewrite.py makes from inner.pcap;
#  - the run row: no frame malformed or undecoded, every frame of a tunnel counted in tunneled;
#    four nested encapsulations decode, five are counted in tunnel_too_deep and make no row;
#    undecodable.pcap (eight broken encapsulations, six frames each) makes no row and counts
#    six in each undecoded_* counter;
#  - --vxlan-port: vxlan.pcap with its UDP port moved to 8472 decodes only with --vxlan-port 8472;
#  - SGTs on both directions of a server-first flow: the row keeps the client's;
#  - two mirrors (ERSPAN III and GRE) of the same handshakes in one run: one row each.
# The same comparison on live tunnels made by the kernel is tests/it_encap_live.sh.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

D=$TA_DATA/encap
EXP=$D/expected.tsv
need_pcap "$D/inner.pcap"

# rows_compare A.db B.db [TOLERANCE_US]: field by field (tests/encap_rows.py).
rows_compare() {
    python3 "$TA_SRC/tests/encap_rows.py" "$@"
}

capture_one() { # NAME PCAP [CAPTURE-OPTIONS...]: read PCAP into a fresh database NAME
    local db
    db=$(fresh_db "$1")
    "$TA_BIN" capture -q --db "$db" -r "$2" "${@:3}" 2>"$IT_TMP/$1.err" ||
        fail "$1: capture failed: $(cat "$IT_TMP/$1.err")"
    echo "$db"
}

undecoded_sum="malformed + undecoded_mpls + undecoded_pppoe + undecoded_gre + undecoded_erspan +
    undecoded_vxlan + undecoded_geneve + undecoded_cmd + undecoded_ipip + tunnel_too_deep"

inner_db=$(capture_one inner "$D/inner.pcap")
vxin_db=$(capture_one vxlan-inner "$D/vxlan-inner.pcap")
assert_eq "$(sql "$inner_db" "SELECT count(*), sum(client_hello), sum(established) FROM handshakes")" \
    "3|3|3" "inner.pcap: three complete handshakes"

have_tshark=1
command -v tshark >/dev/null || { have_tshark=0; echo "NOTE: tshark not installed: the independent dissection check is not made"; }

for kind in $(python3 "$TA_SRC/tests/encap_rewrite.py" --list | grep -vx cmd-both) vxlan; do
    pcap=$D/$kind.pcap
    [ -s "$pcap" ] || { fail "$kind: $pcap missing (run tests/encap-make.sh)"; continue; }
    if [ "$kind" != vxlan ]; then
        python3 "$TA_SRC/tests/encap_rewrite.py" "$kind" "$D/inner.pcap" "$IT_TMP/$kind.pcap"
        cmp -s "$IT_TMP/$kind.pcap" "$pcap" && pass ||
            fail "$kind: $pcap is not what encap_rewrite.py makes from inner.pcap"
    fi
    db=$(capture_one "$kind" "$pcap")
    run=$(sql "$db" "SELECT packets, tunneled, non_ip, $undecoded_sum FROM runs")
    case $kind in
    too-deep)
        assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes")" 0 "$kind: no row"
        assert_eq "$(sql "$db" "SELECT tunnel_too_deep = packets, tunnel_too_deep FROM runs")" \
            "1|48" "$kind: every frame counted in tunnel_too_deep"
        continue ;;
    undecodable)
        assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes")" 0 "$kind: no row"
        assert_eq "$(sql "$db" "SELECT packets, malformed, non_ip, tunneled, undecoded_gre,
                undecoded_vxlan, undecoded_mpls, undecoded_geneve, undecoded_pppoe, undecoded_cmd,
                undecoded_erspan, undecoded_ipip, tunnel_too_deep FROM runs")" \
            "48|0|0|0|6|6|6|6|6|6|6|6|0" "$kind: each broken encapsulation counted by its kind"
        continue ;;
    esac
    # Frames of the tunnel: every frame, but the server's in cmd.pcap (no tag) and none in
    # qinq.pcap (tags are not tunnels); ARP/ND inside the real VXLAN count as non-IP.
    case $kind in
    qinq) want_tunneled="= 0" ;;
    cmd) want_tunneled="BETWEEN 1 AND packets - 1" ;;
    *) want_tunneled="= packets - non_ip" ;;
    esac
    assert_eq "$(sql "$db" "SELECT tunneled $want_tunneled, $undecoded_sum FROM runs")" "1|0" \
        "$kind: run row (tunneled $want_tunneled | nothing malformed or undecoded): $run"
    ref=$inner_db tol=0
    [ "$kind" = vxlan ] && ref=$vxin_db tol=1000
    out=$(rows_compare "$ref" "$db" "$tol") && pass || fail "$kind: rows differ from the capture without it:
$out"
    got=$(sql "$db" "SELECT sni, ifnull(tunnel, ''), ifnull(vlan, ''), ifnull(vni, ''),
                     ifnull(sgt, '') FROM handshakes ORDER BY sni" |
          awk -F'|' -v k="$kind" '{ printf "%s\t%s\t%s|%s|%s|%s\n", k, $1, $2, $3, $4, $5 }')
    want=$(awk -F'\t' -v k="$kind" '!/^#/ && $1 == k { print $1 "\t" $2 "\t" $3 }' "$EXP")
    assert_eq "$got" "$want" "$kind: context columns (tunnel|vlan|vni|sgt)"
    if [ "$have_tshark" = 1 ]; then
        dec=()
        [ "$kind" = mpls-pw-nocw ] && dec=(-d mpls.label==5005,pwethnocw)  # no heuristic for it
        got=$(tshark -r "$pcap" "${dec[@]}" -Y 'tls.handshake.type == 1' -T fields \
                -e tls.handshake.extensions_server_name -e frame.protocols 2>/dev/null | sort |
              awk -F'\t' -v k="$kind" '{ print k "\t" $1 "\t" $2 }')
        want=$(awk -F'\t' -v k="$kind" '!/^#/ && $1 == k { print $1 "\t" $2 "\t" $4 }' "$EXP" | sort)
        assert_eq "$got" "$want" "$kind: tshark dissects the same ClientHellos through the same chain"
    fi
done

# --vxlan-port: the real VXLAN underlay moved to UDP 8472 (Linux's historical default) is
# decoded only when asked; without the option its frames are plain UDP and make no row.
python3 - "$D/vxlan.pcap" "$IT_TMP/vxlan8472.pcap" <<'EOF'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off = 24
while off + 16 <= len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    f = off + 16
    if data[f + 12:f + 14] == b"\x08\x00" and data[f + 23] == 17:
        udp = f + 14 + (data[f + 14] & 15) * 4
        if data[udp + 2:udp + 4] == b"\x12\xb5":  # 4789
            data[udp + 2:udp + 4] = struct.pack(">H", 8472)
    off = f + incl
open(sys.argv[2], "wb").write(data)
EOF
db=$(capture_one vxlan8472-plain "$IT_TMP/vxlan8472.pcap")
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes")" 0 "UDP 8472 without --vxlan-port: no row"
db=$(capture_one vxlan8472 "$IT_TMP/vxlan8472.pcap" --vxlan-port 8472)
out=$(rows_compare "$vxin_db" "$db" 1000) && pass || fail "--vxlan-port 8472: rows differ:
$out"
assert_eq "$(sql "$db" "SELECT DISTINCT tunnel || '|' || vni FROM handshakes")" "vxlan|42" \
    "--vxlan-port 8472: context"
"$TA_BIN" capture -q --db "$IT_TMP/x.db" -r "$D/vxlan.pcap" --vxlan-port 70000 2>"$IT_TMP/err"
assert_eq "$?" 2 "--vxlan-port 70000 is a usage error"

# Both directions tagged with different SGTs, on a server-first protocol (SMTP STARTTLS: the
# server's banner is the flow's first payload): the row keeps the client's tag.
python3 "$TA_SRC/tests/encap_rewrite.py" cmd-both "$TA_PCAPS/smtp-starttls-tls12.pcap" \
    "$IT_TMP/cmd-both.pcap"
db=$(capture_one cmd-both "$IT_TMP/cmd-both.pcap")
plain=$(capture_one smtp-plain "$TA_PCAPS/smtp-starttls-tls12.pcap")
out=$(rows_compare "$plain" "$db") && pass || fail "cmd-both: rows differ:
$out"
assert_eq "$(sql "$db" "SELECT app, sgt, tunnel IS NULL FROM handshakes")" "smtp|1234|1" \
    "cmd-both: the client's SGT (1234), not the server's (99) that came first"

# Both mirrors at once: the same handshakes seen through ERSPAN and through VXLAN in one run
# are one client, one row per handshake (the second copy of each segment is a retransmission).
db=$(fresh_db twomirrors)
mergecap_ok=1
command -v mergecap >/dev/null || mergecap_ok=0
if [ "$mergecap_ok" = 1 ]; then
    mergecap -F pcap -w "$IT_TMP/two.pcap" "$D/erspan3.pcap" "$D/gretap.pcap"
    "$TA_BIN" capture -q --db "$db" -r "$IT_TMP/two.pcap" 2>/dev/null
    out=$(rows_compare "$inner_db" "$db") && pass || fail "two mirrors: not one row per handshake:
$out"
else
    echo "NOTE: mergecap not installed: the two-mirror check is not made"
fi

it_done
