#!/bin/bash
# it_gzip.sh - gzip-compressed captures (tcpdump -z gzip, rotated .pcap.gz, .pcapng.gz) are read
# as the files they hold, with no unpacking to disk:
#  1. every bundled capture gzipped (real gzip), and one as pcapng, gives the rows the plain files
#     give, with one engine and with --workers 2;
#  2. damage: a gzip stream cut short, one whose data is corrupt, a gzip of something that is not
#     a capture: a clear error naming the file, exit 1, and the rows read before kept; a file
#     name with an escape sequence is printed as text;
#  3. progress on a terminal counts the compressed bytes against the file's size;
#  4. a folder of rotated captures given as a shell glob (arguments after the options are files,
#     as many as the command line holds: 300 here, past the former cap of 256), in order.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

command -v gzip >/dev/null || skip "gzip not installed"
command -v editcap >/dev/null || skip "editcap (wireshark-common) not installed"

# --- 1. the same rows --------------------------------------------------------------------------
plain=() packed=()
for f in "$TA_PCAPS"/*.pcap; do
    b=$(basename "$f" .pcap)
    gzip -c "$f" >"$IT_TMP/$b.pcap.gz" || die "gzip failed"
    plain+=(-r "$f") packed+=(-r "$IT_TMP/$b.pcap.gz")
done
assert_ge "${#plain[@]}" 40 "(the bundled captures are here: $((${#plain[@]} / 2)) files)"
editcap -F pcapng "$TA_PCAPS/office365.pcap" "$IT_TMP/o365.pcapng" >/dev/null 2>&1 ||
    die "editcap failed"
gzip -c "$IT_TMP/o365.pcapng" >"$IT_TMP/o365.pcapng.gz" || die "gzip failed"

cols=client_ip,client_port,server_ip,server_port,app,starttls,sni,client_max_version,version
cols=$cols,cipher,ja3,ja4,o365,o365_reason,anomalies
sessions() { query "$1" sessions --all | csv_cols "$cols" | sort; }

dp=$(fresh_db plain)
dz=$(fresh_db packed)
"$TA_BIN" capture -q --db "$dp" "${plain[@]}" -r "$TA_PCAPS/office365.pcap" || fail "plain capture"
"$TA_BIN" capture -q --db "$dz" "${packed[@]}" -r "$IT_TMP/o365.pcapng.gz" ||
    fail "gzipped capture exited $?"
ref=$(sessions "$dp")
assert_ge "$(wc -l <<<"$ref")" 30 "(the plain captures give rows)"
assert_eq "$(sessions "$dz")" "$ref" "gzipped captures: the rows of the plain ones"
assert_eq "$(sql "$dz" "SELECT sum(packets), sum(bytes), min(clean) FROM runs")" \
    "$(sql "$dp" "SELECT sum(packets), sum(bytes), min(clean) FROM runs")" \
    "gzipped captures: the same packets and bytes, clean"
legacy=$(query "$dp" legacy | csv_cols client_ip,versions,handshakes)
assert_ge "$(wc -l <<<"$legacy")" 3 "(the plain captures have legacy clients toward Office 365)"
assert_eq "$(query "$dz" legacy | csv_cols client_ip,versions,handshakes)" "$legacy" \
    "gzipped captures: the same legacy list"
dw=$(fresh_db workers)
"$TA_BIN" capture -q --workers 2 --db "$dw" "${packed[@]}" -r "$IT_TMP/o365.pcapng.gz" ||
    fail "gzipped capture with --workers 2 exited $?"
assert_eq "$(sessions "$dw")" "$ref" "gzipped captures, --workers 2: the rows of the plain ones"

# --- 2. damage ---------------------------------------------------------------------------------
gzip -c "$TA_PCAPS/tls12.pcap" >"$IT_TMP/whole.pcap.gz"
size=$(stat -c %s "$IT_TMP/whole.pcap.gz")
head -c $((size - 40)) "$IT_TMP/whole.pcap.gz" >"$IT_TMP/cut.pcap.gz"
dc=$(fresh_db cut)
out=$("$TA_BIN" capture -q --db "$dc" -r "$TA_PCAPS/tls10.pcap" -r "$IT_TMP/cut.pcap.gz" 2>&1)
assert_eq "$?" 1 "a gzip stream cut short: exit 1"
assert_in "$out" "cut.pcap.gz" "... the message names the file"
assert_in "$out" "truncated" "... and says why"
assert_eq "$(sql "$dc" "SELECT count(*) FROM handshakes")" 2 \
    "... the file before it and the packets before the cut are kept"
assert_eq "$(sql "$dc" "SELECT clean, error LIKE '%cut.pcap.gz%' FROM runs")" "0|1" \
    "... the run row marks the damage and names the file"

# The gzip header is right, the deflate data is not (bytes past the 10-byte header flipped).
python3 - "$IT_TMP/whole.pcap.gz" "$IT_TMP/corrupt.pcap.gz" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
for i in range(10, min(len(b), 60)):
    b[i] ^= 0x5A
open(sys.argv[2], "wb").write(b)
PY
dk=$(fresh_db corrupt)
out=$("$TA_BIN" capture -q --db "$dk" -r "$TA_PCAPS/tls10.pcap" -r "$IT_TMP/corrupt.pcap.gz" 2>&1)
assert_eq "$?" 1 "a corrupt gzip stream: exit 1"
assert_in "$out" "not a valid gzip stream: $IT_TMP/corrupt.pcap.gz" "... named, and why"
assert_eq "$(sql "$dk" "SELECT count(*) FROM handshakes")" 1 "... the file before it is kept"

# A file name is printed as text, never as terminal controls: a corrupt gzip and a missing file
# in a folder whose name holds an escape sequence (a capture folder copied from elsewhere).
hostile="$IT_TMP/"$'rot\e[31m<b>'
mkdir -p "$hostile"
cp "$IT_TMP/corrupt.pcap.gz" "$hostile/c.pcap.gz"
out=$("$TA_BIN" capture -q --db "$(fresh_db hostile)" -r "$hostile/c.pcap.gz" \
    -r "$hostile/missing.pcap" 2>&1)
assert_eq "$(grep -c $'\e' <<<"$out")" 0 "no escape byte of a file name reaches the terminal"
assert_in "$out" 'not a valid gzip stream: '"$IT_TMP"'/rot\x1B[31m<b>/c.pcap.gz' \
    "... the gzip error shows it as \\x1B"
assert_in "$out" 'rot\x1B[31m<b>/c.pcap.gz: error reading dump file' "... and so does the capture's"

printf 'not a capture at all\n' | gzip -c >"$IT_TMP/text.gz"
out=$("$TA_BIN" capture -q --db "$(fresh_db text)" -r "$IT_TMP/text.gz" 2>&1)
assert_eq "$?" 1 "a gzip of something else: exit 1"
assert_in "$out" "text.gz: unknown file format" "... says it is not a capture"

# --- 3. progress --------------------------------------------------------------------------------
if command -v script >/dev/null; then
    python3 "$TA_SRC/tests/service_bigpcap.py" "$TA_PCAPS/tls12.pcap" "$IT_TMP/big.pcap" 20000 ||
        die "cannot write the large capture"
    gzip -1 -c "$IT_TMP/big.pcap" >"$IT_TMP/big.pcap.gz"
    size=$(stat -c %s "$IT_TMP/big.pcap.gz")
    TA_TEST_PROGRESS_EVERY=1 script -q -e -c \
        "'$TA_BIN' capture --db '$(fresh_db big)' -r '$IT_TMP/big.pcap.gz'" /dev/null \
        >"$IT_TMP/tty.out" 2>&1
    assert_eq "$?" 0 "capture of a large gzip under script"
    tr '\r' '\n' <"$IT_TMP/tty.out" | sed 's/\x1b\[K//g' | grep -a '^read ' >"$IT_TMP/progress.txt"
    assert_ge "$(wc -l <"$IT_TMP/progress.txt")" 2 "progress redrawn at least twice"
    total=$(awk -v s="$size" 'BEGIN { if (s < 1048576) printf "%.1f KiB", s / 1024;
                                      else printf "%.1f MiB", s / 1048576 }')
    re="^read [0-9.]+ (B|KiB|MiB) of $total \([0-9]+%\)"
    assert_eq "$(grep -Evc "$re" "$IT_TMP/progress.txt")" 0 \
        "progress counts compressed bytes of the compressed size ($total)"
    pct=$(tail -1 "$IT_TMP/progress.txt" | sed -n 's/.*(\([0-9]*\)%).*/\1/p')
    assert_ge "${pct:-0}" 50 "progress reaches the end of the compressed file (last: ${pct:-none}%)"
else
    echo "SKIPPED (loudly): progress needs script(1) (util-linux)"
fi

# --- 4. a glob of rotated files -----------------------------------------------------------------
mkdir -p "$IT_TMP/rotated"
for i in $(seq -w 1 300); do
    cp "$IT_TMP/$( [ $((10#$i % 2)) -eq 0 ] && echo tls10 || echo tls12).pcap.gz" \
        "$IT_TMP/rotated/capture-$i.pcap.gz"
done
dg=$(fresh_db glob)
"$TA_BIN" capture -q --db "$dg" -r "$IT_TMP"/rotated/*.pcap.gz || fail "capture of a glob exited $?"
assert_eq "$(sql "$dg" "SELECT count(*), count(DISTINCT client_port) FROM handshakes")" "300|2" \
    "a glob of 300 rotated files: every file read (each holds one handshake)"
assert_eq "$(sql "$dg" "SELECT version FROM handshakes ORDER BY id LIMIT 4")" \
    "$(printf '771\n769\n771\n769')" "... in the order given"
assert_eq "$(sql "$dg" "SELECT substr(source, 1, instr(source, ',') - 1),
    source LIKE '%,... (300 files)', length(source) < 1024 FROM runs")" \
    "$IT_TMP/rotated/capture-001.pcap.gz|1|1" \
    "... and the run's source names whole files, then how many there were"
out=$("$TA_BIN" capture --db "$(fresh_db mixed)" -i lo "$IT_TMP/rotated/capture-001.pcap.gz" 2>&1)
assert_eq "$?" 2 "-i and capture files together: a usage error"
assert_in "$out" "cannot be mixed" "... that says so"

it_done
