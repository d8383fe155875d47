#!/bin/bash
# it_report.sh - `tlsaudit report` on the bundled captures: the page's figures equal what
# `tlsaudit query summary` / `query legacy` say for the same period, read back out of the HTML
# (ids with data-value, data- attributes on rows: tests/report_page.py); the page is
# self-contained (no script, nothing fetched); long lists are capped with a note and complete in
# CSV/JSON; periods in whole days; usage errors.
#
# TEMPORARY (issue 17): capture does not maintain the inventory on this branch yet (branch
# `inventory` does), so each capture is followed by scripts/refill-inventory.sh, which re-runs
# the INSERT ... SELECT of schema/004_inventory.sql. Drop those calls once capture keeps it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

PAGE="python3 $TA_SRC/tests/report_page.py"
db=$(fresh_db report)
ta_capture "$db" "$TA_PCAPS"/*.pcap || die "capture failed: $(cat "$IT_TMP/capture.err")"
"$TA_SRC/scripts/refill-inventory.sh" "$db" || die "refill-inventory failed"   # TEMPORARY

# report_figs DB OUT [OPTS...]: write the page to OUT, print its figures
report_figs() {
    local d=$1 out=$2
    shift 2
    "$TA_BIN" report --db "$d" --out "$out" "$@" || { fail "report $* exited $?"; return; }
    $PAGE figures "$out"
}
fig() { # FIGS NAME: value of figure id NAME
    awk -v n="$2" '$1 == "id" && $2 == n { print $3 }' <<<"$1"
}
summary_field() { # DB SECTION KEY COLUMN [QUERY OPTS...]: one figure of query summary
    local d=$1 sec=$2 key=$3 col=$4
    shift 4
    query "$d" summary "$@" | csv_cols section,key,"$col" |
        awk -F'\t' -v s="$sec" -v k="$key" '$1 == s && $2 == k { print $3 }'
}

# check_headline DB FIGS WHAT [QUERY OPTS...]: headline and version figures against the query tool
check_headline() {
    local d=$1 figs=$2 what=$3
    shift 3
    local lhs lcl ahs acl o365hs
    lhs=$(summary_field "$d" legacy o365 handshakes "$@")
    lcl=$(summary_field "$d" legacy o365 clients "$@")
    ahs=$(summary_field "$d" legacy all handshakes "$@")
    acl=$(summary_field "$d" legacy all clients "$@")
    assert_eq "$(fig "$figs" h-legacy-hs)" "$lhs" "$what: legacy handshakes toward O365 = query summary"
    assert_eq "$(fig "$figs" h-legacy-clients)" "$lcl" "$what: legacy O365 clients = query summary"
    assert_eq "$(fig "$figs" h-all-legacy-hs)" "$ahs" "$what: legacy handshakes, all = query summary"
    assert_eq "$(fig "$figs" h-all-legacy-clients)" "$acl" "$what: legacy clients, all = query summary"
    o365hs=$(query "$d" summary "$@" | csv_cols section,handshakes |
             awk -F'\t' '$1 == "o365_version" { s += $2 } END { print s + 0 }')
    assert_eq "$(fig "$figs" h-o365-hs)" "$o365hs" "$what: O365 handshakes = sum of query summary"
    # every version row, both groups: (group, version, handshakes, clients)
    local want got
    want=$(query "$d" summary "$@" | csv_cols section,key,handshakes,clients |
           awk -F'\t' '$1 ~ /_version$/ { g = $1; sub(/_version$/, "", g); k = $2; gsub(/ /, "_", k);
                                          print g, k, $3, $4 }' | sort)
    got=$(awk '$1 == "ver" { print $2, $3, $4, $5 }' <<<"$figs" | sort)
    assert_eq "$got" "$want" "$what: the version table = query summary (group version handshakes clients)"
}

# --- the whole store --------------------------------------------------------------------------
figs=$(report_figs "$db" "$IT_TMP/all.html")
assert_ge "$(fig "$figs" h-legacy-clients)" 1 "the bundled captures have legacy clients toward O365"
check_headline "$db" "$figs" "whole store"
assert_eq "$(fig "$figs" h-o365-clients)" \
    "$(sql "$db" "SELECT count(DISTINCT client_ip) FROM handshakes WHERE o365 = 1")" \
    "clients toward O365 = distinct client_ip of O365 handshakes"
assert_eq "$(fig "$figs" cov-runs)" "$(sql "$db" "SELECT count(*) FROM runs")" "runs in coverage"
assert_eq "$(fig "$figs" cov-packets)" "$(sql "$db" "SELECT sum(packets) FROM runs")" "packets in coverage"
# offender rows = query legacy (client, handshakes, refused), O365 and --all
want=$(query "$db" legacy | csv_cols client_ip,handshakes,refused | tr '\t' ' ' | sort)
got=$(awk '$1 == "off" { print $2, $3, $4 }' <<<"$figs" | sort)
assert_eq "$got" "$want" "offender rows = query legacy (client handshakes refused)"
figs_all=$(report_figs "$db" "$IT_TMP/every.html" --all)
want=$(query "$db" legacy --all | csv_cols client_ip,handshakes,refused | tr '\t' ' ' | sort)
got=$(awk '$1 == "off" { print $2, $3, $4 }' <<<"$figs_all" | sort)
assert_eq "$got" "$want" "--all offender rows = query legacy --all"
# hints: a client whose every legacy handshake was refused says so
refused_ip=$(query "$db" legacy | csv_cols client_ip,handshakes,refused |
             awk -F'\t' '$2 == $3 { print $1; exit }')
[ -n "$refused_ip" ] || die "the bundled captures should hold a refused legacy client"
assert_eq "$(awk -v ip="$refused_ip" '$1 == "off" && $2 == ip { print $5 }' <<<"$figs")" refused \
    "hint of $refused_ip (every legacy handshake refused)"
assert_eq "$(fig "$figs" h-refused-clients)" \
    "$(query "$db" legacy | csv_cols refused | awk '$1 > 0 { n++ } END { print n + 0 }')" \
    "clients already refused = query legacy rows with refused > 0"
# plaintext mail figures = the mail_sessions rows
assert_eq "$(fig "$figs" m-auth)" "$(sql "$db" "SELECT count(*) FROM mail_sessions WHERE auth_in_clear <> 0")" \
    "sessions with credentials in clear"
assert_eq "$(fig "$figs" m-unused)" \
    "$(sql "$db" "SELECT count(*) FROM mail_sessions WHERE starttls_offered <> 0 AND starttls_sent = 0")" \
    "sessions with STARTTLS offered, not used"

# --- self-contained, no script -----------------------------------------------------------------
for f in all every; do
    bad=$($PAGE elements "$IT_TMP/$f.html" | grep '^BAD' || true)
    assert_eq "$bad" "" "$f.html: no script, no external reference, only #anchors"
done
links=$(grep -o 'href="#c-[0-9]*"' "$IT_TMP/all.html" | sort -u | wc -l)
sections=$(grep -o '<section class="client" id="c-[0-9]*"' "$IT_TMP/all.html" | wc -l)
assert_eq "$links" "$(awk '$1 == "off"' <<<"$figs" | wc -l)" "each offender row links to a detail"
assert_eq "$sections" "$links" "each link has its detail section"
assert_in "$(cat "$IT_TMP/all.html")" '<svg class="chart" role="img"' "inline SVG trend chart"
assert_in "$(cat "$IT_TMP/all.html")" '<desc id="t-o365-hs-d">' "the chart has a text alternative"

# --- periods: whole UTC days, equal to query with the same days ---------------------------------
# Move every second handshake and mail session one day back, so the store spans two days (and
# rebuild the inventory from the rows: TEMPORARY, as above).
sql "$db" "UPDATE handshakes SET ts_us = ts_us - 86400000000,
             ts = strftime('%Y-%m-%dT%H:%M:%S', (ts_us - 86400000000) / 1000000, 'unixepoch')
                  || substr(ts, 20) WHERE id % 2 = 0" || die "shift failed"
"$TA_SRC/scripts/refill-inventory.sh" "$db" || die "refill-inventory failed"   # TEMPORARY
d2=$(sql "$db" "SELECT max(substr(ts, 1, 10)) FROM handshakes")
d1=$(sql "$db" "SELECT min(substr(ts, 1, 10)) FROM handshakes")
[ "$d1" != "$d2" ] || die "the store should span two days now"
for p in "$d1 $d1" "$d2 $d2" "$d1 $d2"; do
    set -- $p
    figs=$(report_figs "$db" "$IT_TMP/p.html" --since "$1" --until "$2")
    check_headline "$db" "$figs" "period $1..$2" --since "$1" --until "$2"
done
figs=$(report_figs "$db" "$IT_TMP/p.html" --until 2000-01-01)
assert_eq "$(fig "$figs" h-legacy-hs) $(fig "$figs" h-legacy-clients)" "0 0" "an empty period has no legacy"
"$TA_BIN" report --db "$db" --out "$IT_TMP/two.html" || fail "two-day report"
assert_eq "$(sed 's/<tr>/\n<tr>/g' "$IT_TMP/two.html" | grep -c '^<tr><td>20[0-9][0-9]-')" 2 \
    "the trend table has one row per day (two days)"

# --- caps on the page, complete exports ---------------------------------------------------------
n=$(query "$db" legacy --all | csv_cols client_ip | wc -l)
assert_ge "$n" 2 "at least two legacy clients (for the cap test)"
figs=$(report_figs "$db" "$IT_TMP/cap.html" --all --max-rows 1)
assert_eq "$(awk '$1 == "off"' <<<"$figs" | wc -l)" 1 "--max-rows 1 shows one offender"
assert_in "$figs" "more $((n - 1))" "the page says how many offenders are not shown"
"$TA_BIN" report --db "$db" --all --format csv --out "$IT_TMP/off.csv" || fail "csv export"
assert_eq "$(csv_cols client_ip <"$IT_TMP/off.csv" | sort)" \
    "$(query "$db" legacy --all | csv_cols client_ip | sort)" "csv offenders: every client"
"$TA_BIN" report --db "$db" --all --format json >"$IT_TMP/r.json" || fail "json export"
assert_eq "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted(d)), len(d["offenders"]))' "$IT_TMP/r.json")" \
    "apps ciphers mail offenders services summary trend versions $n" "json: every table, complete"
"$TA_BIN" report --db "$db" --format csv --table trend | head -1 >"$IT_TMP/t.csv"
assert_eq "$(cat "$IT_TMP/t.csv")" "day,group,version,handshakes,clients,clients_exact" "csv --table trend"

# --- usage errors -------------------------------------------------------------------------------
"$TA_BIN" report --db "$db" --since 2026-01-05T10:00 >/dev/null 2>"$IT_TMP/e"
assert_eq "$?" 2 "a date-time period is refused (whole days)"
"$TA_BIN" report --db "$IT_TMP/none.db" >/dev/null 2>&1
assert_eq "$?" 2 "a missing database is an error"
"$TA_BIN" report --db "$db" --format csv --table nope >/dev/null 2>&1
assert_eq "$?" 2 "an unknown table is an error"

it_done
