#!/bin/bash
# it_memcheck.sh - the capture and the readers of a database (query, report, status) under
# valgrind's memcheck.
#
# The sanitizer build (ASan+UBSan) does not see a read of an uninitialised byte; memcheck does.
# Packets are hostile input, and so is a database: another tool, a hand edit or a half-restored
# backup can leave texts shorter, longer or stranger than the writer makes them. This test found
# `query legacy` reading past the end of a last_seen text shorter than ten characters
# (query_legacy.c, the minute column).
#
# 1. capture, under memcheck: every bundled capture (one engine thread and two), the hostile
#    captures, every tunnel and mirror capture of tests/data/encap, a pcapng rewrite and a gzip
#    copy of a capture (the shared corpus: it_memcheck_shared.sh);
# 2. the readers, under memcheck, on the database of part 1 and on a copy edited into odd values
#    (query, report, status, export, then an endpoint list imported into the copy).
# For each run: memcheck reports no error (its exit status 99 is reserved for that), the command
# ends as it should (0; 2 for `status` of a file no capture is writing) and, for the readers,
# prints something. Skipped in sanitizer builds (valgrind cannot run an ASan binary); the normal
# build in scripts/test.sh runs it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

need_memcheck

# --- 1. capture ------------------------------------------------------------------------------
caps=()
for f in "$TA_PCAPS"/*.pcap; do caps+=("$f"); done
[ "${#caps[@]}" -ge 20 ] || die "the bundled captures are missing (${#caps[@]} in $TA_PCAPS)"
args=()
for f in "${caps[@]}"; do args+=(-r "$f"); done
db=$(fresh_db real)
NONEMPTY=0 memcheck "capture of the ${#caps[@]} bundled captures" 0 \
    "$TA_BIN" capture -q --db "$db" "${args[@]}"
NONEMPTY=0 memcheck "the same with --workers 2" 0 \
    "$TA_BIN" capture -q --workers 2 --db "$(fresh_db workers)" "${args[@]}"
for f in "$TA_DATA"/hostile-*.pcap "$TA_DATA"/encap/*.pcap; do
    NONEMPTY=0 memcheck "capture of ${f#"$TA_DATA"/}" 0 \
        "$TA_BIN" capture -q --db "$(fresh_db one)" -r "$f"
done
if command -v editcap >/dev/null; then
    editcap -F pcapng "$TA_PCAPS/office365.pcap" "$IT_TMP/o365.pcapng" || die "editcap failed"
    NONEMPTY=0 memcheck "capture of a pcapng file" 0 \
        "$TA_BIN" capture -q --db "$(fresh_db one)" -r "$IT_TMP/o365.pcapng"
else
    fail "editcap not found (wireshark-common, scripts/install-deps.sh)"
fi
gzip -c "$TA_PCAPS/tls10.pcap" >"$IT_TMP/tls10.pcap.gz"
NONEMPTY=0 memcheck "capture of a gzip file" 0 \
    "$TA_BIN" capture -q --db "$(fresh_db one)" -r "$IT_TMP/tls10.pcap.gz"

# --- 2. the readers --------------------------------------------------------------------------
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
    memcheck "$name: export --format ecs" 0 "$TA_BIN" export --db "$file" --format ecs
    memcheck "$name: query plaintext" 0 "$TA_BIN" query plaintext --db "$file"
    memcheck "$name: query runs" 0 "$TA_BIN" query runs --db "$file"
done
# An endpoint list imported into the odd copy re-classifies its rows and rebuilds the
# inventory from them; then the list is shown and the legacy clients listed again.
memcheck "odd: endpoints import" 0 "$TA_BIN" endpoints import "$TA_DATA/endpoints-sample.json" \
    --db "$odd" --version 2026120101
memcheck "odd: endpoints show --list" 0 "$TA_BIN" endpoints show --db "$odd" --list
memcheck "odd: query legacy after the import" 0 "$TA_BIN" query legacy --db "$odd" --all

it_done
