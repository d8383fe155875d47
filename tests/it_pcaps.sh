#!/bin/bash
# it_pcaps.sh - each of the project's own captures (pcaps/*.pcap, made by pcaps/make-pcaps.sh with
# real openssl/swaks traffic) gives exactly the expected handshake rows: app, starttls, SNI,
# negotiated version, cipher, established, alert, certificate CN (tests/data/pcaps-expected.tsv),
# plus IP version, HelloRetryRequest and resumption flags; and the run row is closed and clean.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

EXPECTED=$TA_DATA/pcaps-expected.tsv
[ -s "$EXPECTED" ] || die "$EXPECTED missing"
need_pcap "$TA_PCAPS/tls12.pcap"

files=$(awk -F'\t' '!/^#/ { print $1 }' "$EXPECTED" | uniq)
for name in $files; do
    pcap=$TA_PCAPS/$name.pcap
    if [ ! -s "$pcap" ]; then
        fail "$name: capture $pcap missing"
        continue
    fi
    db=$(fresh_db "$name")
    ta_capture "$db" "$pcap"
    assert_eq "$?" 0 "$name: capture exit status ($(head -c 300 "$IT_TMP/capture.err"))"
    got=$(paste <(query "$db" sessions --all | csv_cols app,starttls,sni,version,cipher_id,established,alert,cert_cn) \
                <(sql "$db" "SELECT ipver, hrr, resumed FROM handshakes ORDER BY ts_us, id" | tr '|' '\t'))
    assert_eq "$got" "$(expected_rows "$EXPECTED" "$name")" "$name: handshake rows"

    # The run row: closed, clean, every frame of the file counted.
    run=$(sql "$db" "SELECT clean, ended IS NOT NULL, error IS NULL, malformed FROM runs")
    assert_eq "$run" "1|1|1|0" "$name: run row (clean|ended|no error|malformed)"
    if command -v tshark >/dev/null; then
        frames=$(tshark -r "$pcap" 2>/dev/null | wc -l)
        assert_eq "$(sql "$db" "SELECT packets FROM runs")" "$frames" "$name: packets counted (tshark frames)"
    fi
done

# The split ClientHello really is split (otherwise the test above proves nothing about reassembly).
if command -v tshark >/dev/null; then
    segs=$(tshark -r "$TA_PCAPS/tls12-split-hello.pcap" -2 -Y 'tls.handshake.type == 1' \
        -T fields -e tcp.segment.count 2>/dev/null | head -1)
    assert_ge "${segs:-0}" 3 "tls12-split-hello: ClientHello TCP segments"
fi

# All captures read in one run give the sum of the rows, each flow once.
db=$(fresh_db all)
all=()
for name in $files; do all+=("$TA_PCAPS/$name.pcap"); done
ta_capture "$db" "${all[@]}"
assert_eq "$?" 0 "all captures in one run: exit status"
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes")" \
    "$(awk -F'\t' '!/^#/' "$EXPECTED" | wc -l)" "all captures in one run: handshake count"
assert_eq "$(sql "$db" "SELECT count(*) FROM runs")" 1 "all captures in one run: one run row"

it_done
