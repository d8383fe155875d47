#!/bin/bash
# it_summary_pass.sh - `query summary` counts the distinct clients of every section in one pass
# over the inventory in client order (src/query/query_clients.c, schema 010) and the handshakes per
# transport from the rows of the less common transports (the most common one gets the rest of the
# rollups' total). it_inventory_same.sh never has TCP and QUIC in one database; here:
#   - TCP and QUIC rows in one database, TCP the most common (QUIC rows read by id), then QUIC
#     the most common (TCP rows read by id);
#   - clients with several versions, applications and destinations;
# and every summary form must equal --from-rows and, section by section, the count(DISTINCT
# client_ip) / sum(handshakes) SQL over the inventory that the summary used before (an oracle
# that does not share the new code).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

need_shared
quic=()
for f in "$TA_SHARED_PCAPS"/*quic*; do
    [ -s "$f" ] && quic+=("$f")
done
[ ${#quic[@]} -ge 2 ] || skip "fewer than two QUIC captures in $TA_SHARED_PCAPS"

# cap DB FILE...: one capture run of the files, retention off.
cap() {
    local db=$1 f args=()
    shift
    for f in "$@"; do args+=(-r "$f"); done
    "$TA_BIN" capture -q --retain-days 0 --db "$db" "${args[@]}" 2>"$IT_TMP/capture.err" ||
        die "capture failed: $(head -c 300 "$IT_TMP/capture.err")"
}

# oracle DB [WHERE]: the summary's section,key-less rows as the old SQL counts them:
# "section|handshakes-or-empty|clients" per line, in the report's order.
oracle() {
    local db=$1 w=${2:-1}
    sql "$db" "SELECT 'o365_version||' || count(DISTINCT client_ip) FROM inventory
               WHERE o365 = 1 AND $w GROUP BY version ORDER BY version = 0, version DESC"
    sql "$db" "SELECT 'other_version||' || count(DISTINCT client_ip) FROM inventory
               WHERE o365 <> 1 AND $w GROUP BY version ORDER BY version = 0, version DESC"
    sql "$db" "SELECT 'app|' || app || '|' || count(DISTINCT client_ip) FROM inventory
               WHERE $w GROUP BY app ORDER BY sum(handshakes) DESC, app"
    sql "$db" "SELECT 'transport|' || transport || '|' || sum(handshakes) || '|' ||
               count(DISTINCT client_ip) FROM inventory WHERE $w GROUP BY transport
               ORDER BY sum(handshakes) DESC, transport"
    sql "$db" "SELECT 'legacy|o365|' || count(DISTINCT client_ip) FROM inventory
               WHERE legacy = 1 AND o365 = 1 AND $w"
    sql "$db" "SELECT 'legacy|other|' || count(DISTINCT client_ip) FROM inventory
               WHERE legacy = 1 AND o365 = 0 AND $w"
    sql "$db" "SELECT 'legacy|all|' || count(DISTINCT client_ip) FROM inventory
               WHERE legacy = 1 AND $w"
}

# reported DB [OPTS...]: the summary's CSV in the oracle's shape.
reported() {
    local db=$1
    shift
    query "$db" summary "$@" | python3 -c '
import csv, sys
for r in csv.DictReader(sys.stdin):
    s = r["section"]
    if s.endswith("_version"):
        print("%s||%s" % (s, r["clients"]))
    elif s == "transport":
        print("transport|%s|%s|%s" % (r["key"], r["handshakes"], r["clients"]))
    else:
        print("%s|%s|%s" % (s, r["key"], r["clients"]))'
}

# check DB LABEL: every form against --from-rows, and the default and --o365 against the oracle.
check() {
    local db=$1 label=$2 v a b bad=0
    for v in "" "--format csv" "--format json" "--format jsonl" "--o365" "--all --format csv" \
             "--app https --format csv" "--app smtp" "--o365 --app HTTPS --format json"; do
        # shellcheck disable=SC2086  # the variant is a word list on purpose
        a=$("$TA_BIN" query summary $v --db "$db" 2>&1)
        # shellcheck disable=SC2086
        b=$("$TA_BIN" query summary $v --db "$db" --from-rows 2>&1)
        if [ "$a" != "$b" ]; then
            fail "$label: summary $v differs from --from-rows"
            diff <(echo "$a") <(echo "$b") | head -10 >&2
            bad=1
        fi
    done
    [ $bad = 0 ] && pass
    assert_eq "$(reported "$db")" "$(oracle "$db")" "$label: summary = count(DISTINCT) SQL"
    assert_eq "$(reported "$db" --o365)" "$(oracle "$db" "o365 = 1")" \
        "$label: summary --o365 = count(DISTINCT) SQL"
}

# TCP the most common transport: every bundled capture (several versions and apps per client)
# and the QUIC captures.
mixed=$(fresh_db mixed)
cap "$mixed" "$TA_PCAPS"/*.pcap "${quic[@]}"
tcp=$(sql "$mixed" "SELECT count(*) FROM inventory WHERE transport = 'tcp'")
udp=$(sql "$mixed" "SELECT count(*) FROM inventory WHERE transport = 'quic'")
assert_ge "$udp" 1 "mixed: QUIC rows in the inventory"
assert_ge "$tcp" $((udp + 1)) "mixed: TCP the most common transport"
assert_ge "$(sql "$mixed" "SELECT max(n) FROM (SELECT count(DISTINCT version) AS n FROM inventory
                           GROUP BY client_ip)")" 3 "mixed: a client with several versions"
assert_ge "$(sql "$mixed" "SELECT max(n) FROM (SELECT count(DISTINCT app) AS n FROM inventory
                           GROUP BY client_ip)")" 2 "mixed: a client with several apps"
assert_ge "$(sql "$mixed" "SELECT count(DISTINCT legacy || o365) FROM inventory")" 3 \
    "mixed: legacy and not, Office 365 and not"
check "$mixed" "mixed"
assert_in "$(query "$mixed" summary)" "transport,quic," "mixed: a QUIC transport row"

# QUIC the most common transport: one TCP capture and the QUIC ones.
quicdb=$(fresh_db quic)
cap "$quicdb" "$TA_PCAPS/tls10.pcap" "${quic[@]}"
tcp=$(sql "$quicdb" "SELECT count(*) FROM inventory WHERE transport = 'tcp'")
udp=$(sql "$quicdb" "SELECT count(*) FROM inventory WHERE transport = 'quic'")
assert_ge "$tcp" 1 "quic: TCP rows in the inventory"
assert_ge "$udp" $((tcp + 1)) "quic: QUIC the most common transport"
check "$quicdb" "quic"

# The oracle can fail: one more client with a new app is seen by both, a changed count by both.
sql "$mixed" "UPDATE inventory SET handshakes = handshakes + 5, app = 'x-test'
              WHERE id = (SELECT min(id) FROM inventory WHERE transport = 'quic')"
a=$(reported "$mixed")
[ "$a" != "$(oracle "$mixed")" ] && pass ||
    fail "an inventory edited behind the rollups' back goes unnoticed"
# Rows out of client order: without an index that starts with client_ip (a hand-edited file, a
# later schema), SQLite sorts after the WHERE clause, so the folding function of `summary` sees
# the rows in table order. It must notice and count the other way: the same output as with the
# indexes. (The default `legacy` table has the same fallback, but its highest-offer lookup needs
# inventory_clients to start with client_ip, and while it does SQLite reads in that order: not
# reachable from a test.)
ord=$(fresh_db reorder)
cap "$ord" "$TA_PCAPS"/*.pcap "${quic[@]}"
forms=("summary" "summary --format csv" "summary --o365 --format json" "summary --app https")
before=()
for v in "${forms[@]}"; do
    # shellcheck disable=SC2086
    before+=("$("$TA_BIN" query $v --db "$ord" 2>&1; echo "rc=$?")")
done
sql "$ord" "DROP INDEX inventory_clients;
            CREATE INDEX inventory_clients ON inventory(o365, version, app, legacy, client_ip)"
assert_in "$(sql "$ord" "EXPLAIN QUERY PLAN SELECT 1 FROM inventory h ORDER BY h.client_ip")" \
    "TEMP B-TREE FOR ORDER BY" "without a client-first index the rows are sorted after the WHERE clause"
for i in "${!forms[@]}"; do
    # shellcheck disable=SC2086
    assert_eq "$("$TA_BIN" query ${forms[$i]} --db "$ord" 2>&1; echo "rc=$?")" "${before[$i]}" \
        "rows out of client order: query ${forms[$i]} as with the indexes"
done
it_done
