#!/bin/bash
# it_central_read.sh - `tlsaudit query` and `tlsaudit report` with --db postgresql://... over a
# real PostgreSQL 15 the test starts itself (issue 13):
#   1. one sensor synced: every report, format and filter gives byte for byte what the sensor's
#      SQLite file gives (the HTML page too, with SOURCE_DATE_EPOCH fixing its "generated" time),
#      and so does --sensor NAME once a second sensor is there;
#   2. two sensors that share clients: the central answer equals the answer of one SQLite file
#      into which both sensors' captures were written under their names (the union: a client
#      seen by both lists both sensors, its counts summed); checked against the two sensors' own
#      figures too;
#      --sensor NAME picks one sensor, centrally and in a file with several;
#      `query legacy`, whose copy holds only part of the inventory, still shows a legacy
#      client's highest offer when that comes from a non-legacy row; a database that wrote
#      under two names, synced as one sensor, reads as one that wrote under one name;
#   3. the read role of schema/pg/sync_role.sql (SELECT only) suffices; a password in the
#      string is refused and never printed; an unknown sensor, a server that is down and an old
#      central schema fail clearly with exit 2; nothing is left in TMPDIR, and the copy of a
#      killed read is swept by the next one; a pending inventory rebuild (re-classification)
#      is done by the sync, and a mark that reached the central store makes it read rows.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
command -v psql >/dev/null || skip "psql not installed"
pg_start
OWNER=$(owner_url central)
central() { psql_owner central "$1"; }
export SOURCE_DATE_EPOCH=1767225600   # the report's "generated" time, fixed for comparisons

# Sensor A: every bundled capture. Sensor B: some of them again (the same loopback clients,
# other counts). U: both, written into one file under the two names (the union's oracle).
b_files=("$TA_PCAPS"/tls10.pcap "$TA_PCAPS"/tls11.pcap "$TA_PCAPS"/smtp-starttls-tls10.pcap
         "$TA_PCAPS"/office365.pcap "$TA_PCAPS"/imap-starttls-tls10.pcap "$TA_PCAPS"/tls13.pcap
         "$TA_PCAPS"/smtp-plain-auth.pcap)
a=$(fresh_db a)
b=$(fresh_db b)
u=$(fresh_db u)
cap "$a" site-a "$TA_PCAPS"/*.pcap || die "capture a: $(cat "$IT_TMP/capture.err")"
cap "$b" site-b "${b_files[@]}" || die "capture b: $(cat "$IT_TMP/capture.err")"
cap "$u" site-a "$TA_PCAPS"/*.pcap || die "capture u: $(cat "$IT_TMP/capture.err")"
cap "$u" site-b "${b_files[@]}" || die "capture u: $(cat "$IT_TMP/capture.err")"
# ... and a capture cut short by its snap length (runs.truncated, a hello cut short): the report's
# banner and the JSON export read from the central store must say what the file says.
editcap -s 80 "$TA_PCAPS/tls10.pcap" "$IT_TMP/cut-tls10.pcap" >/dev/null 2>&1 || die "editcap failed"
cap "$a" site-a "$IT_TMP/cut-tls10.pcap" || die "capture a (cut): $(cat "$IT_TMP/capture.err")"
cap "$u" site-a "$IT_TMP/cut-tls10.pcap" || die "capture u (cut): $(cat "$IT_TMP/capture.err")"
assert_ge "$(sql "$a" "SELECT sum(truncated) FROM runs")" 1 "sensor A has a run with packets cut short"
# a retention state to carry: what `report` says about pruned data comes from store_meta
sql "$a" "INSERT OR REPLACE INTO store_meta(key, value) VALUES ('pruned_until_us', 1600000000000000)"
sql "$u" "INSERT OR REPLACE INTO store_meta(key, value) VALUES ('pruned_until_us', 1600000000000000)"
assert_ge "$(sql "$a" "SELECT count(*) FROM inventory WHERE legacy = 1")" 5 "sensor A has legacy clients"
# Site A's daily rows again three days earlier (as older captures would leave them), in A and in
# the union file alike: a report whose period leaves days out then has days to leave out.
for f in "$a" "$u"; do
    sql "$f" "CREATE TEMP TABLE r AS SELECT * FROM daily_rollups WHERE sensor = 'site-a';
              UPDATE r SET day = date(day, '-3 day'); INSERT INTO daily_rollups SELECT * FROM r;
              CREATE TEMP TABLE c AS SELECT * FROM daily_clients WHERE sensor = 'site-a';
              UPDATE c SET day = date(day, '-3 day'); INSERT INTO daily_clients SELECT * FROM c;"
done

"$TA_BIN" sync --db "$a" --to "$OWNER" 2>"$IT_TMP/sync.err" || die "sync a: $(cat "$IT_TMP/sync.err")"
assert_eq "$(central "SELECT value FROM tlsaudit.store_meta WHERE sensor = 'site-a' AND key = 'pruned_until_us'")" \
          1600000000000000 "sync carries the retention state (store_meta)"
assert_eq "$(central "SELECT version FROM tlsaudit.endpoint_sets WHERE sensor = 'site-a' ORDER BY id DESC LIMIT 1")" \
          "$(sql "$a" "SELECT version FROM endpoint_sets ORDER BY id DESC LIMIT 1")" \
          "sync carries the endpoint list version"
assert_eq "$(central "SELECT sum(truncated) FROM tlsaudit.runs WHERE sensor = 'site-a'")" \
          "$(sql "$a" "SELECT sum(truncated) FROM runs")" "sync carries the packets cut short (runs.truncated)"

# same_out LABEL FILE_DB CENTRAL_DB [ARGS...]: `tlsaudit ARGS --db X` gives the same stdout,
# bytes, and exit status on both.
same_out() {
    local label=$1 fdb=$2 cdb=$3 rf rc
    shift 3
    "$TA_BIN" "$@" --db "$fdb" >"$IT_TMP/f.out" 2>"$IT_TMP/f.err"
    rf=$?
    "$TA_BIN" "$@" --db "$cdb" >"$IT_TMP/c.out" 2>"$IT_TMP/c.err"
    rc=$?
    if [ "$rf|$rc" != "$rc|$rc" ] || ! cmp -s "$IT_TMP/f.out" "$IT_TMP/c.out"; then
        fail "$label: '$*' differs (exit file $rf, central $rc): $(diff "$IT_TMP/f.out" "$IT_TMP/c.out" | head -5) $(head -c 300 "$IT_TMP/c.err")"
        return
    fi
    [ -s "$IT_TMP/f.out" ] || { fail "$label: '$*' printed nothing"; return; }
    pass
    echo "same: $label: $* ($(wc -l <"$IT_TMP/c.out") lines, exit $rc)"
}

# every_report LABEL FILE_DB CENTRAL_DB [--sensor NAME]: the reports, formats and filters.
every_report() {
    local label=$1 fdb=$2 cdb=$3 fmt
    shift 3
    local s=("$@")
    for fmt in table csv json; do
        same_out "$label" "$fdb" "$cdb" query legacy --format "$fmt" "${s[@]}"
        same_out "$label" "$fdb" "$cdb" query legacy --all --wide --format "$fmt" "${s[@]}"
        same_out "$label" "$fdb" "$cdb" query summary --format "$fmt" "${s[@]}"
    done
    same_out "$label" "$fdb" "$cdb" query summary --all --format csv "${s[@]}"
    same_out "$label" "$fdb" "$cdb" query legacy --all --from-rows --format csv "${s[@]}"
    same_out "$label" "$fdb" "$cdb" query summary --from-rows --format csv "${s[@]}"
    same_out "$label" "$fdb" "$cdb" query legacy --all --client 127.0.0.0/8 --version 'TLS 1.0' --format csv "${s[@]}"
    same_out "$label" "$fdb" "$cdb" query legacy --fail-if-found --format csv "${s[@]}"
    same_out "$label" "$fdb" "$cdb" report "${s[@]}"
    same_out "$label" "$fdb" "$cdb" report --all --format csv "${s[@]}"
    same_out "$label" "$fdb" "$cdb" report --format json "${s[@]}"
}

# The days the captures cover, for windowed questions.
d1=$(sql "$a" "SELECT substr(min(ts), 1, 10) FROM handshakes")
d2=$(sql "$a" "SELECT substr(max(ts), 1, 10) FROM handshakes")

# 1. One sensor: byte-identical to its file.
every_report "one sensor" "$a" "$OWNER"
for fmt in csv json; do
    same_out "one sensor" "$a" "$OWNER" query sessions --wide --format "$fmt"
    same_out "one sensor" "$a" "$OWNER" query plaintext --format "$fmt"
    same_out "one sensor" "$a" "$OWNER" query runs --format "$fmt"
done
same_out "one sensor" "$a" "$OWNER" query sessions --since "$d2" --until "$d2" --format csv
same_out "one sensor" "$a" "$OWNER" query sessions --client 127.0.0.1 --sni '*office365*' --format csv
same_out "one sensor" "$a" "$OWNER" query summary --since "$d1" --until "$d2" --format csv
same_out "one sensor" "$a" "$OWNER" query legacy --since "$d1" --until "$d2" --format csv
same_out "one sensor" "$a" "$OWNER" report --since "$d1" --until "$d2"
# the report copies only the daily rows of its period (central_view.c): the early days alone,
# the captures' days alone, a period from the early days on; --since twice (the last counts)
e1=$(sql "$a" "SELECT min(day) FROM daily_rollups")
assert_eq "$e1" "$(sql "$a" "SELECT date('$d1', '-3 day')")" "sensor A has daily rows three days early"
same_out "one sensor" "$a" "$OWNER" report --since "$e1" --until "$e1" --format json
same_out "one sensor" "$a" "$OWNER" report --since "$d1" --format json
same_out "one sensor" "$a" "$OWNER" report --until "$e1" --format json
same_out "one sensor" "$a" "$OWNER" report --since "$d2" --since "$e1" --format json
same_out "one sensor" "$a" "$OWNER" query summary --since "$e1" --until "$e1" --format csv

# `query legacy` copies only the legacy inventory rows and, for each legacy client, the rows that
# hold its highest offered version (central_view.c, INV_LEGACY): a client whose highest offer is
# on a non-legacy row must still show that offer.
ip=$(sql "$a" "SELECT client_ip FROM inventory GROUP BY client_ip HAVING max(legacy) = 1 AND
               max(client_max_version) > max(CASE WHEN legacy = 1 THEN client_max_version END)
               ORDER BY client_ip LIMIT 1")
[ -n "$ip" ] || die "sensor A has no legacy client whose highest offer is on a non-legacy row"
want=$(query "$a" legacy --all --client "$ip" | csv_cols client_max_version)
assert_eq "$(query "$OWNER" legacy --all --client "$ip" | csv_cols client_max_version)" "$want" \
          "legacy view: $ip's highest offer ($want) comes from a non-legacy row"
assert_eq "$(query "$a" legacy --all --client "$ip" | csv_cols versions | grep -c "$want")" 0 \
          "legacy view: and $want is not among $ip's legacy versions"
# `query summary` without bounds leaves daily_clients out of the copy, with bounds it reads it
same_out "one sensor" "$a" "$OWNER" query summary --until "$d2" --format csv
same_out "one sensor" "$a" "$OWNER" query summary --since="$d1" --format csv

# 2. The second sensor.
"$TA_BIN" sync --db "$b" --to "$OWNER" 2>"$IT_TMP/sync.err" || die "sync b: $(cat "$IT_TMP/sync.err")"
every_report "--sensor site-a" "$a" "$OWNER" --sensor site-a
same_out "--sensor site-b" "$b" "$OWNER" query legacy --all --wide --format csv --sensor site-b
same_out "--sensor site-b" "$b" "$OWNER" query runs --format csv --sensor site-b

# Without --sensor: the union, equal to the file that has both sensors' captures. (The runs
# report lists local run ids, and sessions that tie on time may list the two sensors' rows in
# another order: those are compared as sets below.)
for fmt in table csv json; do
    same_out "union" "$u" "$OWNER" query legacy --all --wide --format "$fmt"
    same_out "union" "$u" "$OWNER" query summary --format "$fmt"
done
same_out "union" "$u" "$OWNER" query legacy --format csv
same_out "union" "$u" "$OWNER" query summary --all --from-rows --format csv
same_out "union" "$u" "$OWNER" report
same_out "union" "$u" "$OWNER" report --all --format json
same_out "union" "$u" "$OWNER" report --since "$d1" --until "$d2" --format json
"$TA_BIN" query sessions --format csv --db "$u" | sort >"$IT_TMP/us.f"
"$TA_BIN" query sessions --format csv --db "$OWNER" | sort >"$IT_TMP/us.c"
assert_eq "$(cmp -s "$IT_TMP/us.f" "$IT_TMP/us.c" && echo same) $(wc -l <"$IT_TMP/us.c")" \
          "same $(( $(sql "$a" "SELECT count(*) FROM handshakes") + $(sql "$b" "SELECT count(*) FROM handshakes") + 1 ))" \
          "union: sessions are both sensors' rows, each once"

# The union's arithmetic on one client seen by both sensors: its handshakes are A's plus B's,
# and both sensors are listed.
ip=$(query "$b" legacy --all | csv_field client_ip 1)
[ -n "$ip" ] || die "sensor B has no legacy client"
na=$(query "$a" legacy --all --client "$ip" | csv_field handshakes 1)
nb=$(query "$b" legacy --all --client "$ip" | csv_field handshakes 1)
row=$(query "$OWNER" legacy --all --client "$ip" | csv_cols handshakes,sensors)
assert_eq "$row" "$((na + nb))	site-a site-b" "union: client $ip counts summed ($na + $nb), both sensors listed"

# 3. The read role, and the errors.
psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d central \
    -f "$TA_SRC/schema/pg/sync_role.sql" >/dev/null || die "sync_role.sql"
central "ALTER ROLE tlsaudit_read PASSWORD 'Read-Pw-4711'"
printf '127.0.0.1:%s:central:tlsaudit_read:Read-Pw-4711\n' "$PG_PORT" >"$IT_TMP/pgpass"
chmod 600 "$IT_TMP/pgpass"
READ="postgresql://tlsaudit_read@127.0.0.1:$PG_PORT/central"
PGPASSFILE=$IT_TMP/pgpass same_out "read role" "$u" "$READ" query legacy --all --format csv
out=$("$TA_BIN" query legacy --db "postgresql://tlsaudit_read:Read-Pw-4711@127.0.0.1:$PG_PORT/central" 2>&1)
assert_eq "$?" 2 "a password in the string is refused"
case "$out" in *Read-Pw-4711*) fail "the password was printed: $out" ;; *) pass ;; esac
out=$("$TA_BIN" query legacy --db "$OWNER" --sensor nowhere 2>&1)
assert_eq "$?|$out" "2|tlsaudit query: /${PG_SOCK#/}:$PG_PORT/central: no sensor named 'nowhere' has synced there" \
          "an unknown sensor is named"
# --sensor on a file with two sensors: that sensor's part, as its own file says
for r in "legacy --all --wide" "summary" "sessions"; do
    # shellcheck disable=SC2086
    assert_eq "$("$TA_BIN" query $r --format csv --db "$u" --sensor site-b)" \
              "$("$TA_BIN" query $r --format csv --db "$b")" "file --sensor site-b: query $r"
done
assert_eq "$(query "$u" runs --sensor site-b | csv_cols handshakes)" "$(query "$b" runs | csv_cols handshakes)" \
          "file --sensor site-b: query runs lists that sensor's run"

out=$(TMPDIR=$IT_TMP/tmp; mkdir -p "$TMPDIR"; export TMPDIR
      "$TA_BIN" report --db "$OWNER" --out "$IT_TMP/r.html" 2>&1; echo "rc=$?"; ls -A "$TMPDIR" | wc -l)
assert_eq "$out" "rc=0
0" "report over the central store leaves nothing in TMPDIR"
# A read that was killed leaves its copy behind; the next central read removes it, but never a
# folder whose reader still holds its lock (flock(1) stands in for a live reader here), nor one
# younger than a minute (its reader may not have locked it yet). TMPDIR's name holds an escape
# sequence: the message quotes it as text.
sweep=$IT_TMP/$'sweep\e[31m'
mkdir -p "$sweep/tlsaudit-central-dead01" "$sweep/tlsaudit-central-live01" \
         "$sweep/tlsaudit-central-young1" "$sweep/tlsaudit-central-other"
for d in dead01 live01 young1; do echo copy >"$sweep/tlsaudit-central-$d/view.db"; done
echo mine >"$sweep/tlsaudit-central-other/view.db"
touch -d '-2 minutes' "$sweep/tlsaudit-central-dead01" "$sweep/tlsaudit-central-live01" \
      "$sweep/tlsaudit-central-other"
flock "$sweep/tlsaudit-central-live01" sleep 60 &
holder=$!
for _ in $(seq 50); do flock -n "$sweep/tlsaudit-central-live01" true || break; sleep 0.1; done
out=$(TMPDIR=$sweep "$TA_BIN" query legacy --db "$OWNER" 2>&1 >/dev/null)
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
assert_eq "$(cd "$sweep" && ls -A | sort | tr '\n' ' ')" \
          "tlsaudit-central-live01 tlsaudit-central-other tlsaudit-central-young1 " \
          "a dead read's copy is removed; locked, young and foreign folders stay"
assert_in "$out" "removed 1 work folder of central reads that did not end" \
          "the removal is said on stderr"
assert_in "$out" "($IT_TMP/sweep\\x1B[31m/tlsaudit-central-*)" \
          "... naming TMPDIR, ESC shown as \\x1B"
assert_eq "$(tr -cd '\033' <<<"$out" | wc -c)" 0 "... and no raw ESC on stderr"
# A sensor name with the characters of a PostgreSQL array literal and of SQL (quotes,
# backslash, comma, braces): read alone and among the others, as its own file says.
h=$(fresh_db hostile)
hname='q"u\o,te{}'"'"'; --'
cap "$h" "$hname" "$TA_PCAPS/tls10.pcap" || die "capture h: $(cat "$IT_TMP/capture.err")"
"$TA_BIN" sync --db "$h" --to "$OWNER" --sensor "$hname" 2>"$IT_TMP/sync.err" || die "sync h: $(cat "$IT_TMP/sync.err")"
same_out "hostile sensor name" "$h" "$OWNER" query legacy --all --wide --format csv --sensor "$hname"
assert_in "$("$TA_BIN" query legacy --all --format csv --db "$OWNER" | csv_cols sensors)" "$hname" \
          "all sensors: the hostile name is listed as it is"
# A re-classification that did not finish leaves an inventory rebuild pending (the trigger of
# schema 004 marks it when a stored verdict changes). The sync's open performs the rebuild
# before it pushes anything, so the central store never holds the stale inventory.
p=$(fresh_db pending)
cap "$p" site-p "$TA_PCAPS/tls10.pcap" "$TA_PCAPS/office365.pcap" || die "capture p: $(cat "$IT_TMP/capture.err")"
before=$("$TA_BIN" query legacy --all --format csv --db "$p")
sqlite3 "$p" "UPDATE handshakes SET o365 = 1 - o365, o365_reason = 'test' WHERE version = 769" ||
    die "cannot change a verdict in $p"
assert_eq "$(sqlite3 "$p" "SELECT count(*) FROM store_meta WHERE key = 'refresh'")" 1 \
          "a changed verdict leaves a rebuild pending"
"$TA_BIN" sync --db "$p" --to "$OWNER" --sensor site-p 2>"$IT_TMP/sync.err" || die "sync p: $(cat "$IT_TMP/sync.err")"
assert_eq "$(sqlite3 "$p" "SELECT count(*) FROM store_meta WHERE key = 'refresh'")" 0 \
          "the sync's open performed the pending rebuild"
for r in "legacy --all --format csv" "legacy --o365" "summary --format csv"; do
    # shellcheck disable=SC2086
    same_out "after a pending rebuild" "$p" "$OWNER" query $r --sensor site-p
done
if [ "$("$TA_BIN" query legacy --all --format csv --db "$OWNER" --sensor site-p)" != "$before" ]; then
    pass
else
    fail "after a pending rebuild: the central answer is the stale inventory's"
fi
# A mark that reached the central store anyway (a sync of a running capture between the mark
# and its rebuild) makes the central reports read the rows, as the file's would: same answers.
central "INSERT INTO tlsaudit.store_meta(sensor, key, value) VALUES ('site-p', 'refresh', 'all')"
for r in "legacy --all --format csv" "summary --format csv"; do
    # shellcheck disable=SC2086
    same_out "central mark pending" "$p" "$OWNER" query $r --sensor site-p
done
central "DELETE FROM tlsaudit.store_meta WHERE sensor = 'site-p' AND key = 'refresh'"
# Keys that meet in the copy: one database that wrote the same captures under two names, synced
# as one sensor, reads as a file that wrote them twice under that one name. The copy merges the
# two names' inventory rows by key (ON CONFLICT, on a unique index of its own: the sensor schema
# has none since schema 012). The reports sum rows, so they would read the same unmerged: this
# checks that such a database loads and answers as the file does.
m_files=("$TA_PCAPS"/tls10.pcap "$TA_PCAPS"/tls11.pcap "$TA_PCAPS"/smtp-starttls-tls10.pcap)
m2=$(fresh_db m2)
mo=$(fresh_db mo)
cap "$m2" site-m1 "${m_files[@]}" || die "capture m2: $(cat "$IT_TMP/capture.err")"
cap "$m2" site-m2 "${m_files[@]}" || die "capture m2: $(cat "$IT_TMP/capture.err")"
cap "$mo" site-m "${m_files[@]}" || die "capture mo: $(cat "$IT_TMP/capture.err")"
cap "$mo" site-m "${m_files[@]}" || die "capture mo: $(cat "$IT_TMP/capture.err")"
assert_eq "$(sql "$m2" "SELECT count(*) FROM inventory")" \
          "$(( 2 * $(sql "$mo" "SELECT count(*) FROM inventory") ))" "two names: each key twice in the file"
"$TA_BIN" sync --db "$m2" --to "$OWNER" --sensor site-m 2>"$IT_TMP/sync.err" || die "sync m2: $(cat "$IT_TMP/sync.err")"
for fmt in csv json; do
    same_out "keys merged" "$mo" "$OWNER" query legacy --all --wide --format "$fmt" --sensor site-m
done


central "DELETE FROM tlsaudit.schema_version WHERE version = (SELECT max(version) FROM tlsaudit.schema_version)"
out=$("$TA_BIN" query legacy --db "$OWNER" 2>&1)
assert_eq "$?" 2 "an older central schema is refused"
assert_in "$out" "sync with this tlsaudit first" "and the message says what to do"
pg_down
out=$("$TA_BIN" report --db "$OWNER" 2>&1)
assert_eq "$?" 2 "a server that is down: exit 2"
assert_in "$out" "cannot connect" "and says so"
it_done
