#!/bin/bash
# it_shared.sh - every capture of the shared corpus ($TA_SHARED_PCAPS, described in SOURCES.tsv)
# is read without a crash: exit status 0 and a clean run row, except the damaged
# suricata__bug-1450-04__tls_DER-incomplete-header.pcap, which must end with a clear error naming
# the file and a non-zero status while keeping the handshake read before the damage. The set of
# negotiated versions of each capture must equal tests/data/shared-versions.tsv (checked with
# tshark, see the header of that file).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

need_shared
EXPECTED=$TA_DATA/shared-versions.tsv
[ -s "$EXPECTED" ] || die "$EXPECTED missing"
DAMAGED=suricata__bug-1450-04__tls_DER-incomplete-header.pcap

n=0
for f in "$TA_SHARED_PCAPS"/*.pcap "$TA_SHARED_PCAPS"/*.pcapng; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    base=$(basename "$f")
    db=$(fresh_db "$n")
    ta_capture "$db" "$f"
    rc=$?
    err=$(head -c 400 "$IT_TMP/capture.err")
    if [ "$rc" -ge 128 ]; then
        fail "$base: tlsaudit died with signal $((rc - 128)): $err"
        continue
    fi
    if [ "$base" = "$DAMAGED" ]; then
        assert_eq "$rc" 1 "$base: exit status on a damaged capture"
        assert_in "$err" "$base" "$base: the error names the file"
        assert_eq "$(sql "$db" "SELECT clean, error IS NOT NULL FROM runs")" "0|1" "$base: run row marks the damage"
        assert_ge "$(sql "$db" "SELECT count(*) FROM handshakes WHERE version = 771")" 1 \
            "$base: the TLS 1.2 handshake before the damage is kept"
    else
        assert_eq "$rc" 0 "$base: exit status ($err)"
        assert_eq "$(sql "$db" "SELECT clean, error IS NULL FROM runs")" "1|1" "$base: clean run row"
    fi
    want=$(expected_rows "$EXPECTED" "$base")
    if [ -z "$want" ]; then
        echo "NOTE: $base is not in $(basename "$EXPECTED"): only read, versions not checked"
        continue
    fi
    got=$(sql "$db" "SELECT ifnull(group_concat(v, ','), '-') FROM (SELECT DISTINCT printf('0x%04x', version) AS v
                     FROM handshakes WHERE version IS NOT NULL ORDER BY v)")
    assert_eq "$got" "$want" "$base: negotiated versions"
done
assert_ge "$n" 1 "shared captures found in $TA_SHARED_PCAPS"

# Several handshakes on one connection: suricata's tls-duplicate-hello sends two ClientHellos
# before the server's one ServerHello. Each is stored: the first unanswered, the second with the
# ServerHello; the JA3 of each row is that of its own hello as tshark computes it.
dup=$TA_SHARED_PCAPS/suricata__tls-duplicate-hello__input.pcap
if [ -s "$dup" ]; then
    db=$(fresh_db dup)
    ta_capture "$db" "$dup"
    assert_eq "$(sql "$db" "SELECT count(DISTINCT client_port || '/' || server_port), count(*) FROM handshakes")" \
        "1|2" "duplicate hello: two rows on one connection"
    assert_eq "$(sql "$db" "SELECT group_concat(client_hello || server_hello || ifnull(version, '-'), ',')
                            FROM (SELECT * FROM handshakes ORDER BY id)")" \
        "10-,11772" "duplicate hello: first row unanswered, second answered with TLS 1.3"
    if command -v tshark >/dev/null; then
        want=$(tshark -r "$dup" -Y 'tls.handshake.type==1' -T fields -e tls.handshake.ja3 2>/dev/null | paste -sd, -)
        assert_eq "$(sql "$db" "SELECT group_concat(ja3, ',') FROM (SELECT ja3 FROM handshakes ORDER BY id)")" \
            "$want" "duplicate hello: JA3 of each row is its own ClientHello's (tshark)"
    fi
else
    echo "NOTE: suricata__tls-duplicate-hello__input.pcap not in $TA_SHARED_PCAPS: several-handshakes check skipped"
fi

# Every file listed in the table is still in the corpus (a renamed file would silently drop out).
while IFS=$'\t' read -r base _; do
    case "$base" in '#'* | '') continue ;; esac
    if [ -s "$TA_SHARED_PCAPS/$base" ]; then
        pass
    else
        fail "$base listed in $(basename "$EXPECTED") but not in $TA_SHARED_PCAPS"
    fi
done <"$EXPECTED"

it_done
