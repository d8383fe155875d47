#!/bin/bash
# it_sync.sh - `tlsaudit sync` into a real PostgreSQL 15 the test starts itself: every table
# arrives exactly (counts and values on both sides), again and again without duplicates;
# re-classified rows and moved inventory follow; two sensors give the union; day partitions
# and their retention; the security rules (no password in the string or in messages, the
# documented sync role suffices and can create nothing, sslmode=verify-full with a CA made
# here, a sensor name owned by another database is refused).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pg_lib.sh"
command -v psql >/dev/null || skip "psql not installed"
command -v openssl >/dev/null || die "openssl is needed"

# TLS for the server: a throwaway CA and a certificate for 127.0.0.1 (IP SAN), made here.
ssl=$IT_TMP/ssl
mkdir -p "$ssl"
(cd "$ssl" &&
 openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj "/CN=ta test CA" &&
 openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" &&
 printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
 openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext &&
 openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt -days 2 -subj "/CN=other CA") \
    >"$IT_TMP/openssl.log" 2>&1 || die "openssl: $(tail -3 "$IT_TMP/openssl.log")"
pg_start
cp "$ssl/server.crt" "$ssl/server.key" "$PG_DIR/"
[ -n "${PG_RUNAS[*]}" ] && chown nobody "$PG_DIR/server.crt" "$PG_DIR/server.key"
chmod 600 "$PG_DIR/server.key"
pg_down
PG_OPTS="$PG_OPTS -c ssl=on -c ssl_cert_file=$PG_DIR/server.crt -c ssl_key_file=$PG_DIR/server.key"
pg_up

OWNER=$(owner_url central)
central() { psql_owner central "$1"; }

# Sensor A: every bundled capture, sensor name site-a (the writer keeps inventory and rollups).
a=$(fresh_db a)
cap "$a" site-a "$TA_PCAPS"/*.pcap || die "capture: $(cat "$IT_TMP/capture.err")"

# count_both DB SENSOR TABLE: "local central" row counts of one table for one sensor.
count_both() {
    echo "$(sql "$1" "SELECT count(*) FROM $3") $(central "SELECT count(*) FROM tlsaudit.$3 WHERE sensor = '$2'")"
}
# all_equal DB SENSOR WHAT: counts equal on both sides for every table.
all_equal() {
    local t n
    for t in runs handshakes mail_sessions dns_answers inventory daily_rollups daily_clients; do
        n=$(count_both "$1" "$2" "$t")
        assert_eq "$n" "${n%% *} ${n%% *}" "$3: $t rows on both sides"
    done
}

# 1. The first sync is run by the schema owner: it creates the central schema.
"$TA_BIN" sync --db "$a" --to "$OWNER" 2>"$IT_TMP/s1.err"
assert_eq "$?" 0 "first sync as the owner: $(cat "$IT_TMP/s1.err")"
assert_eq "$(central "SELECT max(version) FROM tlsaudit.schema_version")" \
          "$(ls "$TA_SRC"/schema/pg/[0-9][0-9][0-9]_*.sql | wc -l)" "central schema version recorded"
all_equal "$a" site-a "first sync"
assert_ge "$(sql "$a" "SELECT count(*) FROM inventory")" 5 "the sensor has inventory rows"
assert_ge "$(sql "$a" "SELECT count(*) FROM mail_sessions")" 5 "the sensor has mail sessions"

# Values, not only counts: the handshake rows compared column by column.
cols="id, run_id, ts, ts_us, client_ip, client_port, server_ip, server_port, app, sni, version,
      cipher_id, cipher_v2, client_max_version, ciphers_offered, established, cert_cn, ja3, ja3s,
      ja4, greeting, o365, o365_service, o365_reason"
assert_eq "$(central "SELECT $cols FROM tlsaudit.handshakes WHERE sensor = 'site-a' ORDER BY id")" \
          "$(sql "$a" "SELECT $cols FROM handshakes ORDER BY id")" "handshake values identical centrally"
icols="id, client_ip, server_ip, sni, version, legacy, handshakes, established, refused, first_seen, last_seen, local_sensor"
assert_eq "$(central "SELECT $icols FROM tlsaudit.inventory WHERE sensor = 'site-a' ORDER BY id")" \
          "$(sql "$a" "SELECT ${icols/local_sensor/sensor} FROM inventory ORDER BY id")" "inventory values identical"
assert_eq "$(central "SELECT count(*) FROM pg_inherits WHERE inhparent = 'tlsaudit.handshakes'::regclass")" \
          "$(sql "$a" "SELECT count(DISTINCT substr(ts, 1, 10)) FROM handshakes")" "one partition per day"

# 2. The documented role: made from schema/pg/sync_role.sql, password through PGPASSFILE.
psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d central \
    -f "$TA_SRC/schema/pg/sync_role.sql" >/dev/null || die "sync_role.sql"
central "ALTER ROLE tlsaudit_sync PASSWORD 'Sync-Pw-0815'"
printf '127.0.0.1:%s:central:tlsaudit_sync:Sync-Pw-0815\n' "$PG_PORT" >"$IT_TMP/pgpass"
chmod 600 "$IT_TMP/pgpass"
export PGPASSFILE=$IT_TMP/pgpass
SYNC="postgresql://tlsaudit_sync@127.0.0.1:$PG_PORT/central?sslmode=verify-full&sslrootcert=$ssl/ca.crt"

# New rows on the sensor: only they travel, over verify-full TLS, as the sync role.
cap "$a" site-a "$TA_PCAPS/tls10.pcap" "$TA_PCAPS/smtp-starttls-tls11.pcap" || die "capture 2"
"$TA_BIN" sync --db "$a" --to "$SYNC" 2>"$IT_TMP/s2.err"
assert_eq "$?" 0 "sync as tlsaudit_sync with sslmode=verify-full: $(cat "$IT_TMP/s2.err")"
assert_in "$(cat "$IT_TMP/s2.err")" " 1 runs, 2 handshakes, 1 mail sessions" "only the new rows travel"
all_equal "$a" site-a "incremental sync"

# The sync role cannot create tables, nor delete handshakes.
out=$(PGPASSWORD=Sync-Pw-0815 psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U tlsaudit_sync -d central \
      -c "CREATE TABLE tlsaudit.x (a int)" 2>&1)
assert_in "$out" "permission denied" "sync role cannot CREATE"
out=$(PGPASSWORD=Sync-Pw-0815 psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U tlsaudit_sync -d central \
      -c "DELETE FROM tlsaudit.handshakes" 2>&1)
assert_in "$out" "permission denied" "sync role cannot DELETE handshakes"

# verify-full against the wrong CA fails, and says why without the password.
"$TA_BIN" sync --db "$a" --to "${SYNC/ca.crt/other.crt}" 2>"$IT_TMP/badca.err"
assert_eq "$?" 1 "verify-full with a CA that did not sign the server: refused"
assert_in "$(cat "$IT_TMP/badca.err")" "certificate verify failed" "the TLS failure is named"

# A password in the connection string is refused before connecting and never printed.
"$TA_BIN" sync --db "$a" --to "postgresql://tlsaudit_sync:Sync-Pw-0815@127.0.0.1:$PG_PORT/central" 2>"$IT_TMP/pw.err"
assert_eq "$?" 2 "password in the URL: refused"
assert_in "$(cat "$IT_TMP/pw.err")" "PGPASSFILE" "the message says where passwords go"
"$TA_BIN" sync --db "$a" --to "host=127.0.0.1 port=$PG_PORT dbname=central user=x password=Sync-Pw-0815" 2>>"$IT_TMP/pw.err"
assert_eq "$?" 2 "password= in a key=value string: refused"
PGPASSWORD=wrong-Secret-42 PGPASSFILE=/nonexistent "$TA_BIN" sync --db "$a" \
    --to "postgresql://tlsaudit_sync@127.0.0.1:$PG_PORT/central?sslmode=require" 2>>"$IT_TMP/pw.err"
assert_eq "$?" 1 "a wrong password fails"
if grep -q -e Sync-Pw-0815 -e wrong-Secret-42 "$IT_TMP/pw.err"; then
    fail "a password appears in a message"
else
    pass
fi

# 3. Idempotent: forget every watermark, push everything again: still exactly the sensor's rows.
sql "$a" "DELETE FROM sync_state"
"$TA_BIN" sync --db "$a" --to "$SYNC" 2>"$IT_TMP/s3.err"
assert_eq "$?" 0 "full re-push: $(cat "$IT_TMP/s3.err")"
all_equal "$a" site-a "after a full re-push"

# 4. Re-classification (a real endpoints import rewrites the Office 365 verdicts in place) and
# an inventory rebuild (rows disappear, others appear) follow the next sync.
"$TA_BIN" endpoints import "$TA_DATA/endpoints-minimal.json" --db "$a" >/dev/null 2>&1 || die "endpoints import"
sql "$a" "UPDATE handshakes SET o365 = 1 - o365, o365_reason = 'flipped by the test' WHERE id % 3 = 0"
fill_inventory "$a"
"$TA_BIN" sync --db "$a" --to "$SYNC" 2>"$IT_TMP/s4.err"
assert_eq "$?" 0 "sync after re-classification: $(cat "$IT_TMP/s4.err")"
assert_eq "$(central "SELECT id, o365, o365_service, o365_reason FROM tlsaudit.handshakes WHERE sensor = 'site-a' ORDER BY id")" \
          "$(sql "$a" "SELECT id, o365, o365_service, o365_reason FROM handshakes ORDER BY id")" "verdicts follow"
assert_eq "$(central "SELECT $icols FROM tlsaudit.inventory WHERE sensor = 'site-a' ORDER BY id")" \
          "$(sql "$a" "SELECT ${icols/local_sensor/sensor} FROM inventory ORDER BY id")" "rebuilt inventory follows (old ids gone)"
all_equal "$a" site-a "after re-classification"
assert_eq "$(sql "$a" "SELECT count(*) FROM sync_changes")" 0 "pushed changes are forgotten"

# 5. A second sensor: the union. Its own name; a third database that claims site-a is refused.
b=$(fresh_db b)
cap "$b" site-b "$TA_PCAPS"/tls1*.pcap "$TA_PCAPS"/smtp-starttls-tls1*.pcap || die "capture b"
"$TA_BIN" sync --db "$b" --to "$SYNC" --sensor site-b 2>"$IT_TMP/b.err"
assert_eq "$?" 0 "sensor b: $(cat "$IT_TMP/b.err")"
all_equal "$b" site-b "sensor b"
assert_eq "$(central "SELECT count(*) FROM tlsaudit.handshakes")" \
          "$(( $(sql "$a" "SELECT count(*) FROM handshakes") + $(sql "$b" "SELECT count(*) FROM handshakes") ))" "union of handshakes"
assert_eq "$(central "SELECT sum(handshakes) FROM tlsaudit.inventory")" \
          "$(( $(sql "$a" "SELECT sum(handshakes) FROM inventory") + $(sql "$b" "SELECT sum(handshakes) FROM inventory") ))" "inventory counts summed across sensors"
all_equal "$a" site-a "sensor a untouched by b"
c=$(fresh_db c)
cap "$c" site-c "$TA_PCAPS/tls12.pcap" || die "capture c"
"$TA_BIN" sync --db "$c" --to "$SYNC" --sensor site-a 2>"$IT_TMP/c.err"
assert_eq "$?" 2 "a sensor name another database owns is refused"
assert_in "$(cat "$IT_TMP/c.err")" "already used" "and says so"
"$TA_BIN" sync --db "$b" --to "$SYNC" --sensor site-x 2>"$IT_TMP/bx.err"
assert_eq "$?" 2 "renaming a synced sensor is refused"

# 6. Hostile text (invalid UTF-8 in the SNI) does not stall the batch: it arrives as U+FFFD.
h=$(fresh_db h)
cap "$h" hostile "$TA_DATA/hostile-sni.pcap" || die "capture hostile"
"$TA_BIN" sync --db "$h" --to "$SYNC" --sensor hostile 2>"$IT_TMP/h.err"
assert_eq "$?" 0 "hostile bytes sync: $(cat "$IT_TMP/h.err")"
all_equal "$h" hostile "hostile sensor"

# A table emptied (as retention may leave it) restarts its ids under the watermark: sync stops
# with a message instead of skipping those rows or overwriting the central rows of those ids.
sql "$h" "DELETE FROM handshakes"
cap "$h" hostile "$TA_PCAPS/tls12.pcap" || die "capture after emptying"
"$TA_BIN" sync --db "$h" --to "$SYNC" 2>"$IT_TMP/reuse.err"
assert_eq "$?" 1 "reused ids: sync fails"
assert_in "$(cat "$IT_TMP/reuse.err")" "went back below what was synced" "and says why"

# 7. Central retention drops whole day partitions.
days=$(central "SELECT count(*) FROM pg_inherits WHERE inhparent = 'tlsaudit.handshakes'::regclass")
dropped=$(central "SELECT tlsaudit.drop_days_before('2100-01-01')")
assert_ge "$dropped" "$days" "drop_days_before drops every day partition"
assert_eq "$(central "SELECT count(*) FROM tlsaudit.handshakes")" 0 "their rows went with them"

it_done
