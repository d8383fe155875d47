#!/bin/bash
# it_query_memcheck.sh - the readers of a database (query, report, status) under valgrind's
# memcheck, on a real database and on the same file edited by hand into odd values.
#
# A database is input like a packet: another tool, a hand edit or a half-restored backup can
# leave texts shorter, longer or stranger than the writer makes them. Reading one must never
# touch memory it has not written: ASan (the sanitizer build) does not see a read of an
# uninitialised stack byte, memcheck does. This test found `query legacy` reading past the
# end of a last_seen text shorter than ten characters (query_legacy.c, the minute column).
#
# What is checked, for each command on each database: memcheck reports no error (its exit
# status 99 is reserved for that), the command ends as it should (0; 2 for `status` of a
# file no capture is writing) and prints something. Skipped in sanitizer builds (valgrind
# cannot run an ASan binary); the normal build in scripts/test.sh runs it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

if nm -C "$TA_BIN" 2>/dev/null | grep -q __asan_init || ldd "$TA_BIN" | grep -q libasan; then
    skip "sanitizer build: valgrind cannot run an ASan binary (the normal build runs this test)"
fi
command -v valgrind >/dev/null || die "valgrind is needed (scripts/install-deps.sh installs it)"

db=$(fresh_db real)
caps=()
for f in office365 smtp-starttls-tls10 imap-starttls-tls10 tls10 tls11 tls12 tls10-refused \
         tls13 tls12-ipv6; do
    need_pcap "$TA_PCAPS/$f.pcap"
    caps+=("$TA_PCAPS/$f.pcap")
done
ta_capture "$db" "${caps[@]}" || fail "capture failed: $(cat "$IT_TMP/capture.err")"
assert_ge "$(sql "$db" "SELECT count(*) FROM inventory WHERE legacy = 1 AND o365 = 1")" 3 \
    "legacy Office 365 clients in the inventory (what query legacy lists by default)"

# The odd copy: every text a reader formats is cut short, emptied, made long or made of
# bytes that are not UTF-8, and counts are made negative or huge (all within the schema's
# NOT NULL and types, as a hand edit with the sqlite3 shell would leave them).
odd=$IT_TMP/odd.db
sql "$db" "VACUUM INTO '$odd'" || die "cannot copy the database"
long=$(printf 'x%.0s' $(seq 1 3000))
sql "$odd" "
UPDATE inventory SET last_seen = '2026-01-0', first_seen = '', name = '' WHERE id % 3 = 0;
UPDATE inventory SET last_seen = 'T', first_seen = 'x', name = '$long' WHERE id % 3 = 1;
UPDATE inventory SET last_seen = CAST(X'C3FF1B5B33316D' AS TEXT), handshakes = -5,
    established = 9223372036854775807, sni = CAST(X'FF0A' AS TEXT) WHERE id % 3 = 2;
UPDATE handshakes SET ts = substr(ts, 1, 7) WHERE id % 2 = 0;
UPDATE handshakes SET ts = '', sni = '$long' WHERE id % 2 = 1;
UPDATE daily_rollups SET day = '2026-1' WHERE handshakes % 2 = 1;
UPDATE daily_rollups SET day = '', clients = -1 WHERE handshakes % 2 = 0;
UPDATE runs SET started = '', ended = 'x';
UPDATE mail_sessions SET ts = 'T', greeting = '$long';
" || die "cannot edit the copy"
assert_in "$(sql "$odd" "SELECT group_concat(last_seen, '|') FROM inventory")" "2026-01-0" \
    "the copy holds a last_seen shorter than a date and time"

# memcheck CHECK_NAME EXPECTED_STATUS CMD...: run CMD under memcheck; errors exit with 99.
memcheck() {
    local what=$1 want=$2 rc
    shift 2
    valgrind -q --error-exitcode=99 --leak-check=no "$@" >"$IT_TMP/out" 2>"$IT_TMP/err"
    rc=$?
    if [ "$rc" = 99 ]; then
        fail "$what: memcheck found errors:"
        grep -m 12 '^==' "$IT_TMP/err" >&2
        return
    fi
    assert_eq "$rc" "$want" "$what: exit status ($(tail -n 2 "$IT_TMP/err" | tr '\n' ' '))"
    assert_ge "$(wc -c <"$IT_TMP/out")" 1 "$what: prints something"
}

for file in "$db" "$odd"; do
    name=$(basename "$file" .db)
    for args in "legacy" "legacy --wide" "legacy --all --format csv" "legacy --format json" \
                "legacy --all --format jsonl" "summary" "summary --format csv" \
                "sessions --all" "sessions --format json"; do
        # shellcheck disable=SC2086
        memcheck "$name: query $args" 0 "$TA_BIN" query $args --db "$file"
    done
    memcheck "$name: report (HTML)" 0 "$TA_BIN" report --db "$file"
    for t in summary offenders trend versions services apps ciphers mail; do
        memcheck "$name: report --table $t" 0 "$TA_BIN" report --db "$file" --format csv --table "$t"
    done
    memcheck "$name: report --format json" 0 "$TA_BIN" report --db "$file" --format json
    memcheck "$name: status (no capture running)" 2 "$TA_BIN" status --db "$file"
done

it_done
