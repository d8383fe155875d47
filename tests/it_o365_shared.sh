#!/bin/bash
# it_o365_shared.sh - Office 365 verdicts that mean Office 365, on the public captures with
# Microsoft traffic (a Windows browser's session, a Teams client, a tour of web sites): every
# server name gets the verdict, service and reason class hand-checked in
# tests/data/o365-shared-verdicts.tsv. Consumer and marketing Microsoft names (www.microsoft.com,
# login.live.com, outlook.com, onedrive.live.com, xbox, linkedin ...) are not Office 365 and say
# why; the names the built-in list holds keep their verdict. The verdicts written at insert time
# must equal those of a full pass over the database (`endpoints import` of the same list).
# Every TCP handshake's name must be in the file; rows of other transports (QUIC, once decoded)
# are checked for the names the file lists.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

need_shared
EXPECTED=$TA_DATA/o365-shared-verdicts.tsv
[ -s "$EXPECTED" ] || die "$EXPECTED missing"

CLASS="CASE WHEN o365_reason IS NULL THEN 'none' WHEN o365_reason LIKE 'excluded-name:%'
       THEN 'excluded-name' ELSE substr(o365_reason, 1, instr(o365_reason, ':') - 1) END"
# name|o365|service|class for each distinct verdict of the rows (of one transport filter).
verdicts_of() {
    sql "$1" "SELECT DISTINCT sni, o365, coalesce(o365_service, '-'), $CLASS FROM handshakes
              WHERE sni IS NOT NULL $2 ORDER BY 1, 2, 3, 4"
}
# Every row's verdict, for comparing the insert-time verdicts with the pass's.
all_verdicts() {
    sql "$1" "SELECT id, o365, o365_service, o365_reason FROM handshakes UNION ALL
              SELECT -id, o365, o365_service, o365_reason FROM mail_sessions ORDER BY 1"
}

captures=$(awk -F'\t' '!/^#/ && NF { print $1 }' "$EXPECTED" | sort -u)
for base in $captures; do
    f=$TA_SHARED_PCAPS/$base
    [ -s "$f" ] || { fail "$base: listed in $EXPECTED but not in $TA_SHARED_PCAPS"; continue; }
    db=$(fresh_db "${base%%.*}")
    ta_capture "$db" "$f" || fail "$base: capture failed: $(head -c 300 "$IT_TMP/capture.err")"
    want=$(expected_rows "$EXPECTED" "$base" | tr '\t' '|' | sort)
    # All TCP names, each with exactly its expected verdict (a name whose rows disagree shows
    # up twice and fails too).
    assert_eq "$(verdicts_of "$db" "AND transport = 'tcp'" | sort)" "$want" \
        "$base: verdict per server name (tests/data/o365-shared-verdicts.tsv)"
    # Rows of the listed names on any transport.
    names=$(echo "$want" | cut -d'|' -f1 | sed "s/'/''/g; s/.*/'&'/" | paste -sd,)
    assert_eq "$(verdicts_of "$db" "AND sni IN ($names)" | sort)" "$want" \
        "$base: listed names on every transport"
    # An excluded name's reason names it and says why.
    assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE o365_reason LIKE
                            'excluded-name:%' AND (o365 <> 0 OR o365_service IS NOT NULL OR
                            o365_reason NOT LIKE 'excluded-name: ' || sni || ' (%)')")" 0 \
        "$base: excluded-name reasons are 'excluded-name: <sni> (<why>)' with o365 = 0"
    # The pass over the whole database writes what the capture wrote at insert time.
    before=$(all_verdicts "$db")
    "$TA_BIN" endpoints import "$TA_SRC/data/o365_endpoints.json" --db "$db" \
        >"$IT_TMP/import.out" 2>&1 || fail "$base: endpoints import: $(cat "$IT_TMP/import.out")"
    assert_eq "$(all_verdicts "$db")" "$before" "$base: the pass agrees with the insert-time verdicts"
done

# What the issue names, whatever the file says: none of these is Office 365 any more.
db=$IT_TMP/ja4__tls-handshake.db
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE o365 = 1 AND (sni LIKE '%.microsoft.com'
                        OR sni LIKE '%.akamaized.net' OR sni = 'login.live.com')
                        AND sni NOT LIKE '%.teams.microsoft.com'")" 0 \
    "ja4: no microsoft.com marketing host, Akamai-hosted Microsoft page or login.live.com is Office 365"
assert_eq "$(sql "$db" "SELECT o365_reason FROM handshakes WHERE sni = 'login.live.com'")" \
    "excluded-name: login.live.com (consumer Microsoft account)" "ja4: login.live.com says why"
assert_ge "$(sql "$db" "SELECT count(*) FROM handshakes WHERE sni LIKE '%microsoft.com'")" 6 \
    "ja4: the Microsoft marketing handshakes were read"

it_done
