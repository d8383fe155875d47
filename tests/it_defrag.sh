#!/bin/bash
# it_defrag.sh - IP fragments are reassembled (src/flow/defrag.c). Real handshakes cut into
# fragments by two independent tools, offline, and read by tlsaudit against the same captures
# whole:
#  - every bundled capture cut by tcpreplay's fragroute engine (tcprewrite --fragroute) three
#    ways: 64-byte fragments in order; 256-byte fragments in reverse order; 128-byte fragments
#    in random order with half of them sent twice. Each gives the whole capture's handshakes
#    rows, field by field (tests/encap_rows.py, time included), and its legacy list; the run
#    counts the fragments and the datagrams rebuilt, none given up. IPv4 and IPv6 alike.
#  - with --workers 2 (the reader rebuilds datagrams and hands each to its flow's engine).
#  - a mirror over a 1,500-byte path: the ERSPAN II and III, GRE, IPv6 ERSPAN and VXLAN captures
#    of tests/data/encap/ with every outer IP packet longer than 576 bytes cut by scapy
#    (tests/frag_rewrite.py): the server flights are in fragments, the rows and their tunnel
#    column equal the uncut captures'.
#  - fragments lost: the same with every fragment but the first removed (tshark): the run counts
#    each datagram given up, exits 0 and keeps the handshakes whose packets were whole.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

command -v tcprewrite >/dev/null || skip "tcprewrite (tcpreplay) not installed (scripts/install-deps.sh)"
command -v tshark >/dev/null || skip "tshark not installed (scripts/install-deps.sh)"
/usr/bin/python3 -c 'import scapy' 2>/dev/null ||
    skip "python3-scapy not installed (scripts/install-deps.sh)"

rows_equal() {
    python3 "$TA_SRC/tests/encap_rows.py" "$@"
}

# same_rows WHOLE.db CUT.db: the handshakes rows equal field by field (when there are any), and
# the mail sessions too (every column but id and run_id).
same_rows() {
    if [ "$(sql "$1" "SELECT count(*) FROM handshakes")" != 0 ]; then
        rows_equal "$1" "$2" || return 1
    else
        [ "$(sql "$2" "SELECT count(*) FROM handshakes")" = 0 ] || { echo "rows in the cut one"; return 1; }
    fi
    python3 - "$1" "$2" <<'PY'
import sqlite3, sys
def dump(path):
    db = sqlite3.connect(path)
    cols = [r[1] for r in db.execute("PRAGMA table_info(mail_sessions)") if r[1] not in ("id", "run_id")]
    return db.execute("SELECT %s FROM mail_sessions ORDER BY ts_us, client_port" % ", ".join(cols)).fetchall()
a, b = dump(sys.argv[1]), dump(sys.argv[2])
if a != b:
    print("mail_sessions differ:\n%r\n%r" % (a, b))
    sys.exit(1)
PY
}

legacy() {
    "$TA_BIN" query legacy --all --db "$1" --format csv
}

printf 'ip_frag 64\n' >"$IT_TMP/small.conf"
printf 'ip_frag 256\norder reverse\n' >"$IT_TMP/reverse.conf"
printf 'ip_frag 128\norder random\ndup random 50\n' >"$IT_TMP/dup.conf"

# 1. Every bundled capture, three ways.
n=0 cut_small=0 cut_reverse=0 cut_dup=0
for pcap in "$TA_PCAPS"/*.pcap; do
    name=$(basename "$pcap" .pcap)
    whole=$(fresh_db "$name-whole")
    ta_capture "$whole" "$pcap" || fail "$name: capture of the whole file: $(cat "$IT_TMP/capture.err")"
    for how in small reverse dup; do
        cut=$IT_TMP/$name-$how.pcap
        tcprewrite --fragroute="$IT_TMP/$how.conf" -i "$pcap" -o "$cut" >"$IT_TMP/rewrite.log" 2>&1 ||
            die "tcprewrite --fragroute $how $name: $(cat "$IT_TMP/rewrite.log")"
        db=$(fresh_db "$name-$how")
        ta_capture "$db" "$cut" || fail "$name/$how: capture: $(cat "$IT_TMP/capture.err")"
        out=$(same_rows "$whole" "$db") && pass || fail "$name/$how: rows differ from the whole capture's:
$out"
        assert_eq "$(legacy "$db")" "$(legacy "$whole")" "$name/$how: legacy list"
        # a capture whose packets all fit 256 bytes has no fragments in the "reverse" form
        counts=$(sql "$db" "SELECT ip_fragments = 0 OR ip_reassembled > 0, ip_incomplete, malformed
                            FROM runs")
        assert_eq "$counts" "1|0|0" "$name/$how: run (rebuilt if cut, given up, malformed)"
        [ "$(sql "$db" "SELECT ip_reassembled > 0 FROM runs")" = 1 ] && eval "cut_$how=\$((cut_$how + 1))"
        n=$((n + 1))
    done
done
assert_ge "$n" 60 "bundled captures cut (3 ways each)"
assert_ge "$cut_small" 20 "captures with datagrams rebuilt (64-byte fragments)"
assert_ge "$cut_reverse" 15 "captures with datagrams rebuilt (256-byte fragments, reversed)"
assert_ge "$cut_dup" 20 "captures with datagrams rebuilt (128-byte fragments, some twice)"

# 2. The same with two engine threads: the reader rebuilds, the flow's engine reads.
for name in tls10 tls12-ipv6 smtp-starttls-tls10 tls13-hrr imap-starttls-tls10; do
    for how in small dup; do
        whole=$(fresh_db "$name-w2-whole")
        db=$(fresh_db "$name-w2-$how")
        "$TA_BIN" capture -q --workers 2 --db "$whole" -r "$TA_PCAPS/$name.pcap" ||
            fail "$name: --workers 2 capture of the whole file"
        "$TA_BIN" capture -q --workers 2 --db "$db" -r "$IT_TMP/$name-$how.pcap" ||
            fail "$name/$how: --workers 2 capture"
        out=$(same_rows "$whole" "$db") && pass ||
            fail "$name/$how --workers 2: rows differ from the whole capture's:
$out"
        assert_eq "$(sql "$db" "SELECT ip_reassembled > 0, ip_incomplete FROM runs")" "1|0" \
            "$name/$how --workers 2: run (rebuilt, given up)"
    done
done

# 3. Mirrors whose outer packets a 576-byte path fragmented.
for kind in erspan2 erspan3 gretap gre-ip ip6erspan2 vxlan; do
    src=$TA_DATA/encap/$kind.pcap
    need_pcap "$src"
    cut=$IT_TMP/$kind-576.pcap
    said=$(/usr/bin/python3 "$TA_SRC/tests/frag_rewrite.py" "$src" "$cut" 576 2>&1) ||
        die "frag_rewrite.py $kind: $said"
    frames=${said%% *}
    assert_ge "$frames" 1 "$kind: frames cut by frag_rewrite.py ($said)"
    whole=$(fresh_db "$kind-whole")
    db=$(fresh_db "$kind-576")
    ta_capture "$whole" "$src" || fail "$kind: capture of the whole file"
    "$TA_BIN" capture --db "$db" -r "$cut" >/dev/null 2>"$IT_TMP/capture.err" ||
        fail "$kind: capture of the cut file: $(cat "$IT_TMP/capture.err")"
    assert_eq "$(grep -c incomplete "$IT_TMP/capture.err")" 0 "$kind: no warning when whole"
    out=$(rows_equal "$whole" "$db") && pass || fail "$kind: rows differ from the uncut capture's:
$out"
    assert_eq "$(sql "$db" "SELECT sni, tunnel, vni FROM handshakes ORDER BY sni")" \
        "$(sql "$whole" "SELECT sni, tunnel, vni FROM handshakes ORDER BY sni")" "$kind: context"
    assert_eq "$(sql "$db" "SELECT ip_reassembled, ip_incomplete, malformed FROM runs")" \
        "$frames|0|0" "$kind: run (rebuilt, given up, malformed)"

    # 4. Every fragment but the first lost on the way.
    first=$IT_TMP/$kind-first.pcap
    tshark -r "$cut" -Y '!(ip.frag_offset > 0) && !(ipv6.fraghdr.offset > 0)' -w "$first" \
        2>"$IT_TMP/tshark.err" || die "tshark: $(cat "$IT_TMP/tshark.err")"
    db=$(fresh_db "$kind-lost")
    "$TA_BIN" capture --db "$db" -r "$first" >/dev/null 2>"$IT_TMP/capture.err"
    assert_eq "$?" 0 "$kind, fragments lost: capture exit status ($(cat "$IT_TMP/capture.err"))"
    assert_in "$(cat "$IT_TMP/capture.err")" "warning: the capture was incomplete: $frames IP \
datagrams were given up because some of their fragments never came" "$kind, fragments lost: warning"
    assert_eq "$(sql "$db" "SELECT ip_fragments, ip_reassembled, ip_incomplete FROM runs")" \
        "$frames|0|$frames" "$kind, fragments lost: run (fragments, rebuilt, given up)"
    assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE client_hello")" \
        "$(sql "$whole" "SELECT count(*) FROM handshakes WHERE client_hello")" \
        "$kind, fragments lost: every ClientHello still read"
    if [ "$kind" = erspan2 ]; then
        "$TA_BIN" report --db "$db" --all --out "$IT_TMP/lost.html" || fail "report exited $?"
        figs=$(python3 "$TA_SRC/tests/report_page.py" figures "$IT_TMP/lost.html")
        assert_eq "$(awk '$1 == "id" && $2 == "cov-ip-incomplete" { print $3 }' <<<"$figs")" \
            "$frames" "report coverage: datagrams given up"
        assert_in "$(python3 "$TA_SRC/tests/report_page.py" text "$IT_TMP/lost.html")" \
            "Warning: the capture was incomplete: $frames IP datagrams were given up" "report banner"
        "$TA_BIN" report --db "$db" --all --format json >"$IT_TMP/lost.json" || fail "json export"
        assert_eq "$(python3 -c '
import json, sys
print({r["figure"]: r["value"] for r in json.load(open(sys.argv[1]))["summary"]}["ip_datagrams_incomplete"])' \
            "$IT_TMP/lost.json")" "$frames" "json export: ip_datagrams_incomplete"
        "$TA_BIN" report --db "$whole" --all --out "$IT_TMP/whole.html" || fail "report exited $?"
        assert_eq "$(grep -c 'cov-ip-incomplete\|drop-banner' "$IT_TMP/whole.html")" 0 \
            "report of whole datagrams: no banner, no count"
    fi
done

it_done
