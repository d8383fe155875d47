#!/bin/bash
# it_badcaptures.sh - damaged input: a capture cut mid-record, a corrupt header, a zero-length
# file, a file that is not a capture, a missing file, an unsupported link type, a pcapng file cut
# inside a block, and packets cut by a small snaplen. Each must end with a clear error naming the
# file (non-zero exit where data was lost) and keep in the database what was read before the
# damage. A pcapng interface of a link type not decoded is named, and the rest of the file read.
. "$(dirname "$0")/lib.sh"
BIN=$TA_BIN

src=""
for c in "$TA_SRC/pcaps/tls12.pcap" "$TA_SHARED_PCAPS/zeek__tls1.2.pcap"; do
    [ -s "$c" ] && { src=$c; break; }
done
if [ -z "$src" ]; then
    skip "no TLS 1.2 capture found (pcaps/tls12.pcap or shared zeek__tls1.2.pcap)"
fi
tmp=$IT_TMP
count() { sqlite3 "$1" "select count(*) from handshakes"; }

# Reference: the whole file.
"$BIN" capture -q --db "$tmp/ref.db" -r "$src"; assert_eq $? 0 "intact capture exit status"
full=$(count "$tmp/ref.db")
[ "$full" -ge 1 ] && pass || fail "reference capture has no handshake"

# Cut mid-record: the last record loses its last bytes.
size=$(stat -c %s "$src")
head -c $((size - 7)) "$src" > "$tmp/cut.pcap"
out=$("$BIN" capture -q --db "$tmp/cut.db" -r "$tmp/cut.pcap" 2>&1); rc=$?
assert_eq "$rc" 1 "truncated capture exit status"
assert_in "$out" "cut.pcap" "truncated capture message names the file"
assert_in "$out" "truncated" "truncated capture message says why"
[ "$(count "$tmp/cut.db")" -ge 1 ] && pass || fail "handshakes before the cut were not kept"
assert_eq "$(sqlite3 "$tmp/cut.db" 'select clean, error is not null from runs')" "0|1" "run row marks the damage"

# A damaged capture of the shared corpus: a record header claims a 4 MB packet.
dmg="$TA_SHARED_PCAPS/suricata__bug-1450-04__tls_DER-incomplete-header.pcap"
if [ -s "$dmg" ]; then
    out=$("$BIN" capture -q --db "$tmp/dmg.db" -r "$dmg" 2>&1); rc=$?
    assert_eq "$rc" 1 "damaged shared capture exit status"
    assert_in "$out" "tls_DER-incomplete-header.pcap" "damaged capture message names the file"
    [ "$(count "$tmp/dmg.db")" -ge 1 ] && pass || fail "the handshake before the damage was not kept"
else
    echo "SKIPPED (part): shared captures not found at $TA_SHARED_PCAPS"
fi

# Corrupt magic number, zero-length file, text file, missing file.
{ printf 'XXXX'; tail -c +5 "$src"; } > "$tmp/magic.pcap"
: > "$tmp/empty.pcap"
echo "this is not a capture" > "$tmp/text.pcap"
for f in magic.pcap empty.pcap text.pcap missing.pcap; do
    out=$("$BIN" capture -q --db "$tmp/$f.db" -r "$tmp/$f" 2>&1); rc=$?
    assert_eq "$rc" 1 "$f exit status"
    assert_in "$out" "$f" "$f message names the file"
done

# Files read in order: the good one before the bad one is kept.
out=$("$BIN" capture -q --db "$tmp/seq.db" -r "$src" -r "$tmp/text.pcap" 2>&1); rc=$?
assert_eq "$rc" 1 "good then bad file exit status"
assert_eq "$(count "$tmp/seq.db")" "$full" "good file before a bad one kept"

# Unsupported link type: rewrite the link type field (offset 20) to 147 (USER0).
{ head -c 20 "$src"; printf '\223\000\000\000'; tail -c +25 "$src"; } > "$tmp/dlt.pcap"
out=$("$BIN" capture -q --db "$tmp/dlt.db" -r "$tmp/dlt.pcap" 2>&1); rc=$?
assert_eq "$rc" 1 "unsupported link type exit status"
assert_in "$out" "unsupported link type" "unsupported link type message"
assert_in "$out" "(147)" "unsupported link type is named by number"

# A pcapng file cut inside a block (a capture copied while dumpcap still wrote it): tlsaudit's
# pcapng reader stops there. The message names the file and says why, the packets counted are
# this file's, the file before it and this file's packets before the cut are kept. (A pcapng
# file with interfaces of different link types is read whole: tests/it_pcapng_mixed.sh.)
if command -v mergecap >/dev/null && command -v capinfos >/dev/null; then
    t10=$TA_SRC/pcaps/tls10.pcap
    mergecap -F pcapng -w "$tmp/first.pcapng" "$t10" || die "mergecap"
    mergecap -a -F pcapng -w "$tmp/whole.pcapng" "$t10" "$TA_SRC/pcaps/tls11.pcap" || die "mergecap"
    # both Ethernet: one interface, so the second file's packets start where first.pcapng ends
    head -c $(( $(stat -c %s "$tmp/first.pcapng") + 10 )) "$tmp/whole.pcapng" > "$tmp/cut.pcapng"
    pk=$(capinfos -c -M "$t10" | awk '/Number of packets/ {print $NF}')
    "$BIN" capture -q --db "$tmp/t10.db" -r "$t10" || die "capture of tls10.pcap"
    n10=$(count "$tmp/t10.db")
    for w in 1 2; do
        out=$("$BIN" capture -q --workers "$w" --db "$tmp/cut$w.db" -r "$src" \
              -r "$tmp/cut.pcapng" 2>&1)
        assert_eq "$?" 1 "pcapng cut inside a block, --workers $w: exit status"
        assert_in "$out" "cut.pcapng: " "pcapng cut, --workers $w: the message names the file"
        assert_in "$out" "truncated: the file ends inside a block" \
            "pcapng cut, --workers $w: the message says why"
        assert_in "$out" "(stopped after $pk packets)" \
            "pcapng cut, --workers $w: the packets of this file before the cut, not of the run"
        assert_eq "$(count "$tmp/cut$w.db")" $((full + n10)) \
            "pcapng cut, --workers $w: the file before it and the handshakes before the cut kept"
    done
    # A pcapng interface of a link type tlsaudit does not decode (USER0, 147) beside an Ethernet
    # one: named once on stderr, its packets counted; the Ethernet interface is analysed.
    if command -v editcap >/dev/null; then
        editcap -T user0 "$TA_SRC/pcaps/tls11.pcap" "$tmp/user0.pcap" || die "editcap -T user0"
        mergecap -F pcapng -w "$tmp/user0.pcapng" "$t10" "$tmp/user0.pcap" || die "mergecap"
        all=$(capinfos -c -M "$tmp/user0.pcapng" | awk '/Number of packets/ {print $NF}')
        out=$("$BIN" capture --db "$tmp/user0.db" -r "$tmp/user0.pcapng" 2>&1)
        assert_eq "$?" 0 "pcapng with an undecodable interface: exit 0 ($out)"
        assert_eq "$(printf '%s\n' "$out" | grep -c 'which tlsaudit does not decode')" 1 \
            "... the interface named once"
        assert_in "$out" "user0.pcapng: interface 1 has link type" "... the file and interface"
        assert_in "$out" "(147)" "... the link type by number"
        assert_eq "$(count "$tmp/user0.db")" "$n10" "... the Ethernet interface's handshakes"
        assert_eq "$(sqlite3 "$tmp/user0.db" "SELECT packets FROM runs")" "$all" \
            "... every packet counted"

        # A filter that compiles for Ethernet but not for the file's raw IP interface: the file
        # stops at the first raw packet, saying which link type, the Ethernet handshakes kept.
        editcap -T rawip "$TA_SRC/pcaps/tls11.pcap" "$tmp/raw11.pcap" || die "editcap -T rawip"
        mergecap -a -F pcapng -w "$tmp/ethraw.pcapng" "$t10" "$tmp/raw11.pcap" || die "mergecap"
        f="ether host 02:00:00:00:00:01 or tcp"
        out=$("$BIN" capture -q --db "$tmp/ethraw.db" --filter "$f" -r "$tmp/ethraw.pcapng" 2>&1)
        assert_eq "$?" 1 "a filter one link type cannot take: exit 1"
        assert_in "$out" "ethraw.pcapng: filter '$f' on link type RAW (12): " \
            "... the filter and the link type said"
        assert_eq "$(grep -o 'ethraw\.pcapng' <<<"$out" | wc -l)" 1 "... the file named once"
        assert_in "$out" "(stopped after $pk packets)" "... after the Ethernet interface's packets"
        assert_eq "$(count "$tmp/ethraw.db")" "$n10" "... whose handshakes are kept"
    fi

    # With a filter, at most 8 link types in one file (a program each): a ninth stops the file.
    python3 - "$tmp/ten.pcapng" <<'PY' || die "cannot write ten.pcapng"
import struct, sys
def block(t, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", t, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))
lts = [1, 101, 113, 276, 0, 108, 228, 229, 105, 127]     # link types libpcap compiles for
out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
out += b"".join(block(1, struct.pack("<HHI", lt, 0, 65535)) for lt in lts)
frame = b"\x45" + b"\0" * 39
out += b"".join(block(6, struct.pack("<IIIII", i, 0, i, 40, 40) + frame) for i in range(len(lts)))
open(sys.argv[1], "wb").write(out)
PY
    out=$("$BIN" capture -q --db "$tmp/ten.db" --filter "ip or not ip" -r "$tmp/ten.pcapng" 2>&1)
    assert_eq "$?" 1 "ten link types and a filter: exit 1"
    assert_in "$out" "ten.pcapng: filter 'ip or not ip': more than 8 link types in one file" \
        "... says why"
    assert_eq "$(sqlite3 "$tmp/ten.db" "SELECT packets FROM runs")" 8 "... the packets before kept"
    out=$("$BIN" capture -q --db "$tmp/ten-all.db" -r "$tmp/ten.pcapng" 2>&1)
    assert_eq "$?" 0 "ten link types, no filter: read whole ($out)"
fi

# Snaplen-cut packets: every packet cut to 80 bytes; no crash, exit 0, nothing invented.
if command -v editcap >/dev/null; then
    editcap -s 80 "$src" "$tmp/snap.pcap" >/dev/null 2>&1
    "$BIN" capture -q --db "$tmp/snap.db" -r "$tmp/snap.pcap"; assert_eq $? 0 "snaplen-cut capture exit status"
    assert_eq "$(sqlite3 "$tmp/snap.db" "select count(*) from handshakes where version is not null")" 0 \
        "no negotiated version invented from cut packets"
fi

it_done
