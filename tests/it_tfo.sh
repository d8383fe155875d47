#!/bin/bash
# it_tfo.sh - TCP Fast Open (RFC 7413, issue 16): a ClientHello carried on the SYN must give one
# complete row, whether the server takes the SYN's data or acknowledges only the SYN and the
# client sends the hello again.
#
# Live: in two network namespaces of its own (encap-<pid>-c/-s, net.ipv4.tcp_fastopen=3), real
# Python ssl handshakes (tests/tfo_hello.py) whose ClientHello is sent with MSG_FASTOPEN:
#   cookie    to a listener with TCP_FASTOPEN: no cookie yet, the SYN asks for one (no data)
#   accepted  the same listener, cookie held: the hello rides on the SYN and is acknowledged
#   refused   openssl s_server (no TCP_FASTOPEN on its listener), same address: the SYN carries
#             the hello, the SYN+ACK acknowledges only the SYN, the kernel sends the hello again
# captured with tcpdump on the veth. Then the committed tests/data/encap/tfo.pcap (made the same
# way by tests/encap-make.sh), so the check runs without root too. For each capture: the
# connections did what their name says (bytes on each SYN, bytes its SYN+ACK acknowledged,
# read from the capture), three rows, each complete (ClientHello, ServerHello, established,
# no anomaly), and the two Fast Open rows equal the plain one in every client column (app is
# not one: it is named from the server port, 4443 https, 4444 tls).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

TFO=$TA_SRC/tests/tfo_hello.py
need_pcap "$TA_DATA/encap/tfo.pcap"

# check_tfo PCAP WHAT
check_tfo() {
    local pcap=$1 what=$2 db got cols
    got=$(python3 "$TFO" inspect "$pcap" | awk '{ print $2, $3 }')
    assert_eq "$got" "$(printf '%s\n' "syn_data=0 synack_acked=0" "syn_data=517 synack_acked=517" \
        "syn_data=517 synack_acked=0")" "$what: SYN data (none / acknowledged / not acknowledged)"
    db=$(fresh_db "tfo-$what")
    "$TA_BIN" capture -q --db "$db" -r "$pcap" 2>"$IT_TMP/capture.err" ||
        fail "$what: capture failed: $(cat "$IT_TMP/capture.err")"
    assert_eq "$(sql "$db" "SELECT sni, client_hello, server_hello, established, anomalies,
                            version FROM handshakes ORDER BY ts_us")" \
        "$(printf '%s\n' "cookie.tfo.example.test|1|1|1|0|772" \
            "accepted.tfo.example.test|1|1|1|0|772" "refused.tfo.example.test|1|1|1|0|772")" \
        "$what: one complete row per connection"
    cols="client_ip, server_ip, ipver, transport, client_record_version,
          client_legacy_version, client_versions, client_max_version, ciphers_offered, extensions,
          groups, point_formats, sigalgs, key_shares, alpn_offered, session_ticket, psk, ems,
          reneg_info, etm, fallback_scsv, ja3, ja4, version, cipher_id"
    for sni in accepted refused; do
        assert_eq "$(sql "$db" "SELECT $cols FROM handshakes WHERE sni = '$sni.tfo.example.test'")" \
            "$(sql "$db" "SELECT $cols FROM handshakes WHERE sni = 'cookie.tfo.example.test'")" \
            "$what: $sni row = the row without Fast Open (client columns)"
    done
    assert_eq "$(sql "$db" "SELECT count(DISTINCT ja4) || '|' || min(length(ja4)) FROM handshakes")" \
        "1|36" "$what: one JA4 for the three"
}

live() {
    [ "$(id -u)" -eq 0 ] || { echo "NOTE: not root: live Fast Open part skipped"; return; }
    command -v tcpdump >/dev/null || { echo "NOTE: no tcpdump: live part skipped"; return; }
    # shellcheck source=tests/encap_netns.sh
    . "$TA_SRC/tests/encap_netns.sh"
    trap 'enc_ns_down; it_cleanup' EXIT
    enc_ns_up || die "cannot create the namespaces"
    enc_c sysctl -qw net.ipv4.tcp_fastopen=3 && enc_s sysctl -qw net.ipv4.tcp_fastopen=3 ||
        { echo "NOTE: no net.ipv4.tcp_fastopen here: live part skipped"; return; }
    enc_cert "$IT_TMP" || die "openssl req failed"
    mkfifo "$IT_TMP/hold"
    exec 9<>"$IT_TMP/hold"
    enc_cap_start "$ENC_NS_C" c0 "$IT_TMP/tfo.pcap" tcp port 4443 or tcp port 4444 ||
        die "tcpdump did not start"
    enc_s timeout 30 python3 "$TFO" server 10.77.0.2 4443 "$IT_TMP/c.pem" "$IT_TMP/k.pem" 2 \
        >"$IT_TMP/server.log" 2>&1 &
    enc_s timeout 30 openssl s_server -accept 10.77.0.2:4444 -naccept 1 -cert "$IT_TMP/c.pem" \
        -key "$IT_TMP/k.pem" <&9 >"$IT_TMP/s_server.log" 2>&1 &
    for _ in $(seq 100); do
        grep -q READY "$IT_TMP/server.log" && grep -q ACCEPT "$IT_TMP/s_server.log" && break
        sleep 0.05
    done
    for c in "4443 cookie" "4443 accepted" "4444 refused"; do
        set -- $c
        enc_c timeout 25 python3 "$TFO" client 10.77.0.2 "$1" "$2.tfo.example.test" \
            >>"$IT_TMP/client.log" 2>&1 || fail "client $2: $(tail -2 "$IT_TMP/client.log")"
    done
    enc_cap_stop
    wait
    check_tfo "$IT_TMP/tfo.pcap" live
}

live
check_tfo "$TA_DATA/encap/tfo.pcap" committed
it_done
