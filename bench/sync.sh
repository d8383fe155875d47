#!/bin/bash
# bench/sync.sh - the central store at volume: N simulated sensors (each the bundled captures,
# its handshakes doubled K times over as many days, client addresses made per sensor), pushed
# with `tlsaudit sync` into a throwaway PostgreSQL started here (rows/s per sensor), then the
# latency of the central reports' queries over all of them (median of 5).
#   bench/sync.sh [--sensors N] [--doublings K] [--bin path/to/tlsaudit]
# Work files in $BENCH_DIR (default /tmp/tlsaudit-bench/sync); prints a Markdown section.
set -eu
N=4
K=13
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$SRC/build/src/cli/tlsaudit
while [ $# -gt 0 ]; do
    case $1 in
    --sensors) N=$2; shift 2 ;;
    --doublings) K=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    *) echo "usage: $0 [--sensors N] [--doublings K] [--bin tlsaudit]" >&2; exit 2 ;;
    esac
done
W=${BENCH_DIR:-/tmp/tlsaudit-bench}/sync
rm -rf "$W"
mkdir -p "$W"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGD=$(mktemp -d /tmp/ta-central-bench.XXXXXX)
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then RUNAS=(runuser -u nobody --); chown nobody "$PGD"; fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${RUNAS[@]}" "$PG_BIN/initdb" -D "$PGD/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
trap '"${RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PGD/data" -m fast -w stop >/dev/null 2>&1; rm -rf "$PGD"' EXIT
# Defaults but for the socket: fsync stays on (what a central server runs with).
"${RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w -o "-p $PORT -k $PGD -c listen_addresses=''" start >/dev/null
psql() { command psql -X -q -At -h "$PGD" -p "$PORT" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE central"
TO="host=$PGD port=$PORT user=postgres dbname=central"
sed -n '/^CREATE TEMP TABLE ta_mig/,/^DROP TABLE ta_mig;/p' "$SRC/schema/004_inventory.sql" >"$W/fill.sql"

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
echo "## Central store: sync and queries (bench/sync.sh, commit $(git -C "$SRC" rev-parse --short HEAD))"
echo
echo "$N sensors, each the bundled captures with handshakes doubled $K times over $((K + 1)) days;"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on a Unix socket, fsync on, $(nproc) cores shared with other work."
echo
echo "| sensor | handshakes | inventory rows | sync wall s | handshakes/s (all tables pushed in that time) |"
echo "|---|---|---|---|---|"
total=0
for s in $(seq "$N"); do
    db=$W/s$s.db
    args=()
    for f in "$SRC"/pcaps/*.pcap; do args+=(-r "$f"); done
    "$BIN" capture -q --db "$db" --sensor "site-$s" --retain-days 0 "${args[@]}"
    for i in $(seq "$K"); do
        sqlite3 "$db" "CREATE TEMP TABLE t AS SELECT * FROM handshakes;
            UPDATE t SET id = NULL, ts = date(substr(ts, 1, 10), '+$i day') || substr(ts, 11),
                   ts_us = ts_us + $i * 86400000000,
                   client_ip = '10.$s.' || ($i * 7 % 250) || '.' || (abs(random()) % 250);
            INSERT INTO handshakes SELECT * FROM t;"
    done
    sqlite3 "$db" "DELETE FROM inventory; DELETE FROM daily_rollups; DELETE FROM daily_clients;" ".read $W/fill.sql"
    rows=$(sqlite3 "$db" "SELECT count(*) FROM handshakes")
    inv=$(sqlite3 "$db" "SELECT count(*) FROM inventory")
    t0=$(date +%s%N)
    "$BIN" sync -q --db "$db" --to "$TO"
    t=$(ms "$t0")
    total=$((total + rows))
    echo "| site-$s | $rows | $inv | $(awk -v t="$t" 'BEGIN{printf "%.2f", t/1000}') | $(awk -v r="$rows" -v t="$t" 'BEGIN{printf "%.0f", r*1000/t}') |"
done
[ "$(psql -d central -c "SELECT count(*) FROM tlsaudit.handshakes")" = "$total" ] || { echo "central count mismatch" >&2; exit 1; }
psql -d central -c "ANALYZE"
echo
echo "Central queries over $total handshakes (median of 5, psql round trip included):"
echo
echo "| query | ms |"
echo "|---|---|"
q() {
    local name=$1 sql=$2 i t all=()
    for i in 1 2 3 4 5; do
        t=$(date +%s%N)
        psql -d central -c "$sql" >/dev/null
        all+=($(ms "$t"))
    done
    echo "| $name | $(printf '%s\n' "${all[@]}" | sort -n | sed -n 3p) |"
}
q "legacy clients (any destination) from the merged inventory" \
  "SELECT client_ip, string_agg(DISTINCT sensor, ','), sum(handshakes), sum(refused), min(first_seen), max(last_seen) FROM tlsaudit.inventory WHERE legacy = 1 GROUP BY client_ip"
q "legacy clients from the rows (every partition)" \
  "SELECT client_ip, count(*) FROM tlsaudit.handshakes WHERE version IN (2, 768, 769, 770) GROUP BY client_ip"
day=$(psql -d central -c "SELECT min(day) + 3 FROM tlsaudit.handshakes")
q "one day of rows ($day: the planner reads one partition)" \
  "SELECT count(*), count(DISTINCT client_ip) FROM tlsaudit.handshakes WHERE day = '$day'"
q "summary per day and version from the rollups" \
  "SELECT day, version, sum(handshakes), sum(refused) FROM tlsaudit.daily_rollups GROUP BY day, version ORDER BY day, version"
q "distinct clients per day across sensors (daily_clients)" \
  "SELECT day, count(DISTINCT client_ip) FROM tlsaudit.daily_clients GROUP BY day ORDER BY day"
