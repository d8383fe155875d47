#!/bin/bash
# it_o365_endpoints.sh - `tlsaudit endpoints show` says which publication of Microsoft's list the
# built-in one is (the feed version and the docs page's date, as data/o365_endpoints.json records
# them), and says so when a database still holds the built-in list of an older tlsaudit.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

PCAP=$TA_PCAPS/office365.pcap
need_pcap "$PCAP"
JSON=$TA_SRC/data/o365_endpoints.json
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$JSON" "$1"; }
version=$(field version)
[[ $version =~ ^[0-9]{10}$ ]] || die "$JSON: version '$version' is not YYYYMMDDNN"

db=$(fresh_db show)
ta_capture "$db" "$PCAP" || fail "capture failed: $(head -c 300 "$IT_TMP/capture.err")"
out=$("$TA_BIN" endpoints show --db "$db")
assert_eq "$?" 0 "endpoints show exit status"
assert_eq "$(echo "$out" | sed -n 's/^version: *//p')" "$version" "show: the feed version of the built-in list"
assert_eq "$(echo "$out" | sed -n 's/^published: *//p')" \
    "Microsoft 365 URLs and IP address ranges, last updated $(field docsDate); worldwide endpoints generated $(field generated)" \
    "show: the docs page's date and the feed's generation date"
assert_eq "$(echo "$out" | grep -c '^note:')" 0 "show: no note when the database holds this built-in list"
assert_eq "$(sql "$db" "SELECT version, builtin FROM endpoint_sets")" "$version|1" "endpoint_sets row"

# A database that got its built-in list from an older tlsaudit keeps it, and show says so.
sql "$db" "UPDATE endpoint_sets SET version = '2023073100'"
out=$("$TA_BIN" endpoints show --db "$db")
assert_eq "$(echo "$out" | sed -n 's/^version: *//p')" "2023073100" "show: the database's version"
assert_eq "$(echo "$out" | sed -n 's/^note: *//p')" \
    "this tlsaudit's built-in list is version $version; the database keeps the one it was created with" \
    "show: note on an older built-in list"
assert_eq "$(echo "$out" | grep -c '^published:')" 0 "show: no publication line for another version"

# An imported list is not the built-in one: neither line.
"$TA_BIN" endpoints import "$TA_DATA/endpoints-minimal.json" --db "$db" >/dev/null || fail "import failed"
assert_eq "$("$TA_BIN" endpoints show --db "$db" | grep -c '^published:\|^note:')" 0 \
    "show: no built-in lines for an imported list"
it_done
