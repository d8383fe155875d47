#!/bin/bash
# it_service_config.sh - `tlsaudit capture --config FILE` and what a person sees at a terminal
# (issue 12, the service).
#
# 1. Config: `key = value` lines by long option name, '#' comments, blank lines, quoted values,
#    flags as yes/no. A file that gives --db, -r (as read), the filter and no-ndpi captures
#    with them (run row: filter; rows: no nDPI labels); the command line wins (-f). Options
#    that exist only as long names and the long aliases of short ones all work, so a new
#    option needs no table of its own here. Bad lines exit 2 with FILE:LINE: no '=', unknown
#    key, config/help as keys, a flag with another value, a missing value, a missing file.
# 2. Summary: every capture ends with one line (packets, flows, handshakes, legacy clients
#    toward Office 365 and `tlsaudit query legacy --db FILE`); its count equals the rows of that
#    report on the same database; -q (or quiet = yes in the file) prints nothing.
# 3. Progress: under `script` (a pty, so stderr is a terminal) a 20,000-connection capture
#    shows "read X of Y (N%), R/s, ETA m:ss, K handshakes" lines, and the last one is cleared
#    before the summary; without a terminal there is no progress line.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

P=$TA_PCAPS
need_pcap "$P/tls10.pcap"
need_pcap "$P/office365.pcap"
need_pcap "$P/tls12.pcap"

# --- 1. config ----------------------------------------------------------------------------
db=$(fresh_db conf)
conf=$IT_TMP/a.conf
cat >"$conf" <<CONF
# a comment

   db = $db
read = $P/tls10.pcap
filter = "tcp port 443"
no-ndpi = yes
max-flows=4096
idle-timeout = 60
max-analyzing = 64
snaplen = 1500
log-level = error
CONF
"$TA_BIN" capture --config "$conf" 2>"$IT_TMP/a.err"
assert_eq "$?" 0 "capture with everything from the config ($(cat "$IT_TMP/a.err"))"
assert_eq "$(sql "$db" "SELECT source, filter FROM runs")" "$P/tls10.pcap|tcp port 443" "run row: file and filter from the config"
assert_eq "$(sql "$db" "SELECT count(*), count(ndpi_name) FROM handshakes")" "1|0" "no-ndpi = yes: no nDPI label"
db2=$(fresh_db conf2)
"$TA_BIN" capture --config "$conf" --db "$db2" -f "tcp port 80" 2>/dev/null
assert_eq "$(sql "$db2" "SELECT filter, handshakes FROM runs")" "tcp port 80|0" "the command line wins (--db, -f)"
[ -e "$db" ] && assert_eq "$(sql "$db" "SELECT count(*) FROM runs")" 1 "the config's db was not written again"

# bad_conf LINE... : the file, and the error expected for its last line.
bad() {
    local want=$1 n
    shift
    printf '%s\n' "db = $IT_TMP/bad.db" "$@" >"$IT_TMP/bad.conf"
    n=$(( $# + 1 ))
    out=$("$TA_BIN" capture --config "$IT_TMP/bad.conf" -r "$P/tls10.pcap" 2>&1)
    assert_eq "$?" 2 "bad config '$*': exit 2"
    assert_in "$out" "$IT_TMP/bad.conf:$n: $want" "bad config '$*': names file and line"
}
bad "expected 'key = value'" "filter tcp"
bad "unknown option 'colour'" "colour = blue"
bad "unknown option 'config'" "config = /etc/other.conf"
bad "unknown option 'help'" "help = yes"
bad "'no-ndpi' takes yes or no, not 'maybe'" "no-ndpi = maybe"
bad "'filter' needs a value" "" "# x" "filter ="
[ -e "$IT_TMP/bad.db" ] && fail "a bad config still created the database" || pass
out=$("$TA_BIN" capture --config "$IT_TMP/missing.conf" -r "$P/tls10.pcap" --db "$IT_TMP/m.db" 2>&1)
assert_eq "$?" 2 "missing config file: exit 2"
assert_in "$out" "$IT_TMP/missing.conf: No such file or directory" "missing config: names the file"
printf 'db = %s\nworkers = 0\n' "$IT_TMP/w.db" >"$IT_TMP/w.conf"
out=$("$TA_BIN" capture --config "$IT_TMP/w.conf" -r "$P/tls10.pcap" 2>&1)
assert_eq "$?" 2 "a value the checks refuse: exit 2"
assert_in "$out" "options were read from $IT_TMP/w.conf" "... and the message points at the file"

# --- 2. summary line ---------------------------------------------------------------------------
db=$(fresh_db sum)
err=$("$TA_BIN" capture --db "$db" -r "$P/tls10.pcap" -r "$P/office365.pcap" 2>&1 >/dev/null)
assert_eq "$?" 0 "capture for the summary"
legacy=$(query "$db" legacy | tail -n +2 | wc -l)
assert_ge "$legacy" 1 "(the captures have legacy clients toward Office 365)"
runs=$(sql "$db" "SELECT packets || ' packets, ' || flows || ' flows, ' || handshakes || ' handshakes' FROM runs")
assert_eq "$err" "tlsaudit: $runs, $legacy legacy clients toward Office 365 (list them: tlsaudit query legacy --db $db)" \
    "one summary line: the run's counts, the legacy report's client count, its command"
err=$("$TA_BIN" capture -q --db "$(fresh_db q)" -r "$P/tls10.pcap" 2>&1)
assert_eq "$err" "" "-q: no summary line"
printf 'quiet = yes\n' >"$IT_TMP/q.conf"
err=$("$TA_BIN" capture --config "$IT_TMP/q.conf" --db "$(fresh_db q2)" -r "$P/tls10.pcap" 2>&1)
assert_eq "$err" "" "quiet = yes in the config: no summary line"

# --- 3. progress on a terminal ------------------------------------------------------------------
if command -v script >/dev/null; then
    python3 "$TA_SRC/tests/service_bigpcap.py" "$P/tls12.pcap" "$IT_TMP/big.pcap" 20000 ||
        die "cannot write the large capture"
    size=$(stat -c %s "$IT_TMP/big.pcap")
    db=$(fresh_db big)
    # TA_TEST_PROGRESS_EVERY: redraw at every read batch instead of a few times a second, so the
    # count of redraws does not depend on how fast this machine reads the file.
    TA_TEST_PROGRESS_EVERY=1 script -q -e -c "'$TA_BIN' capture --db '$db' -r '$IT_TMP/big.pcap'" /dev/null \
        >"$IT_TMP/tty.out" 2>&1
    assert_eq "$?" 0 "capture under script"
    tr '\r' '\n' <"$IT_TMP/tty.out" | sed 's/\x1b\[K//g' | grep -a '^read ' >"$IT_TMP/progress.txt"
    assert_ge "$(wc -l <"$IT_TMP/progress.txt")" 2 "progress redrawn at least twice ($(head -c 300 "$IT_TMP/tty.out"))"
    total=$(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }')
    re="^read [0-9.]+ (KiB|MiB) of $total \([0-9]+%\), [0-9.]+ (KiB|MiB|GiB)/s, ETA [0-9]+:[0-9]{2}, [0-9]+ handshakes$"
    assert_eq "$(grep -Evc "$re" "$IT_TMP/progress.txt")" 0 "every progress line reads: bytes of total (%), rate, ETA, handshakes"
    first=$(head -1 "$IT_TMP/progress.txt" | sed -n 's/.*, \([0-9]*\) handshakes$/\1/p')
    last=$(tail -1 "$IT_TMP/progress.txt" | sed -n 's/.*, \([0-9]*\) handshakes$/\1/p')
    assert_ge "$last" "$((first + 1))" "handshakes so far grow ($first, then $last)"
    assert_in "$(tr '\r' '\n' <"$IT_TMP/tty.out" | tail -2)" $'\x1b[Ktlsaudit: 320000 packets, 20000 flows, 20000 handshakes' \
        "the progress line is cleared, then the summary"
    "$TA_BIN" capture --db "$(fresh_db notty)" -r "$IT_TMP/big.pcap" 2>"$IT_TMP/notty.err"
    assert_eq "$(grep -c '^read ' "$IT_TMP/notty.err")|$(tr -cd '\r' <"$IT_TMP/notty.err" | wc -c)" "0|0" \
        "no progress (nor carriage return) when stderr is not a terminal"
else
    echo "script (util-linux) not installed: progress not tested"
fi
it_done
