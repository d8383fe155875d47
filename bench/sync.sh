#!/bin/bash
# bench/sync.sh - the central store at volume: N simulated sensors (each the bundled captures,
# its handshakes doubled K times, each copy moved by as many days as its doubling's number,
# client addresses made per sensor and doubling), pushed with `tlsaudit sync` into a throwaway
# PostgreSQL started here (rows/s per sensor), then the latency of the central reports' SQL
# (psql, median of 5) and of the real commands over the central store (`tlsaudit query ...
# --db host=...` and `tlsaudit report`, whole process, all sensors and one, median of 5 or of 3
# when a run takes over 20 s) with their peak RSS (/usr/bin/time) and the TMPDIR space of the
# private SQLite copy they read (the largest `du` of their TMPDIR, sampled every 0.2 s).
#   bench/sync.sh [--sensors N] [--doublings K] [--bin path/to/tlsaudit] [--keep] [--reuse]
# --keep leaves the PostgreSQL cluster in $BENCH_DIR/sync/pg (stopped); --reuse starts that
# cluster again and times the commands only (another build, the same data).
# Work files in $BENCH_DIR (default /tmp/tlsaudit-bench/sync); prints a Markdown section.
set -eu
N=4
K=13
KEEP=0
REUSE=0
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$SRC/build/tlsaudit
while [ $# -gt 0 ]; do
    case $1 in
    --sensors) N=$2; shift 2 ;;
    --doublings) K=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --reuse) REUSE=1; KEEP=1; shift ;;
    *) echo "usage: $0 [--sensors N] [--doublings K] [--bin tlsaudit] [--keep] [--reuse]" >&2; exit 2 ;;
    esac
done
W=${BENCH_DIR:-/tmp/tlsaudit-bench}/sync
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
PGD=$W/pg
if [ "$REUSE" = 1 ]; then
    [ -d "$PGD/data" ] || { echo "$0: --reuse: no cluster kept in $PGD" >&2; exit 2; }
    N=$(cat "$W/sensors")
else
    rm -rf "$W"
    mkdir -p "$PGD"
    echo "$N" >"$W/sensors"
fi
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then RUNAS=(runuser -u nobody --); chown nobody "$PGD"; fi
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# TMPDIR of the timed commands: short (central_view.c takes at most 31 characters) and ours
TD=$(mktemp -d /tmp/ta-cbench.XXXXXX)
[ "$REUSE" = 1 ] || "${RUNAS[@]}" "$PG_BIN/initdb" -D "$PGD/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
trap '"${RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PGD/data" -m fast -w stop >/dev/null 2>&1; rm -rf "$TD"; [ "$KEEP" = 1 ] || rm -rf "$PGD"' EXIT
# Defaults but for the socket: fsync stays on (what a central server runs with).
"${RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PGD/data" -l "$PGD/log" -w -t 300 -o "-p $PORT -k $PGD -c listen_addresses=''" start >/dev/null
psql() { command psql -X -q -At -h "$PGD" -p "$PORT" -U postgres "$@"; }
TO="host=$PGD port=$PORT user=postgres dbname=central"
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
load() { awk '{print $1, $2, $3}' /proc/loadavg; }

echo "## Central store: sync and queries (bench/sync.sh, commit $(git -C "$SRC" rev-parse --short HEAD), $(date -u +%Y-%m-%dT%H:%MZ))"
echo
if [ "$REUSE" = 0 ]; then
    psql -d postgres -c "CREATE DATABASE central"
    sed -n '/^CREATE TEMP TABLE ta_mig/,/^DROP TABLE ta_mig;/p' "$SRC/schema/004_inventory.sql" >"$W/fill.sql"
    {
    echo "$N sensors, each the bundled captures with handshakes doubled $K times (doubling i copies"
    echo "every row i days later), pushed one after the other;"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on a Unix socket, fsync on, $(nproc) cores shared with other work."
    echo
    echo "| sensor | handshakes | inventory rows | daily_clients rows | sync wall s | handshakes/s (all tables pushed in that time) | load before |"
    echo "|---|---|---|---|---|---|---|"
    } | tee "$W/sync.md"
    total=0
    for s in $(seq "$N"); do
        db=$W/s$s.db
        args=()
        for f in "$SRC"/pcaps/*.pcap; do args+=(-r "$f"); done
        "$BIN" capture -q --db "$db" --sensor "site-$s" --retain-days 0 "${args[@]}"
        for i in $(seq "$K"); do
            sqlite3 "$db" "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;
                CREATE TEMP TABLE t AS SELECT * FROM handshakes;
                UPDATE t SET id = NULL, ts = date(substr(ts, 1, 10), '+$i day') || substr(ts, 11),
                       ts_us = ts_us + $i * 86400000000,
                       client_ip = '10.$s.' || ($i * 7 % 250) || '.' || (abs(random()) % 250);
                INSERT INTO handshakes SELECT * FROM t;" >/dev/null
        done
        sqlite3 "$db" "DELETE FROM inventory; DELETE FROM daily_rollups; DELETE FROM daily_clients;" ".read $W/fill.sql"
        rows=$(sqlite3 "$db" "SELECT count(*) FROM handshakes")
        inv=$(sqlite3 "$db" "SELECT count(*) FROM inventory")
        dc=$(sqlite3 "$db" "SELECT count(*) FROM daily_clients")
        l=$(load)
        t0=$(date +%s%N)
        "$BIN" sync -q --db "$db" --to "$TO"
        t=$(ms "$t0")
        total=$((total + rows))
        echo "| site-$s | $rows | $inv | $dc | $(awk -v t="$t" 'BEGIN{printf "%.2f", t/1000}') | $(awk -v r="$rows" -v t="$t" 'BEGIN{printf "%.0f", r*1000/t}') | $l |" | tee -a "$W/sync.md"
        rm -f "$db" "$db-wal" "$db-shm"
    done
    [ "$(psql -d central -c "SELECT count(*) FROM tlsaudit.handshakes")" = "$total" ] || { echo "central count mismatch" >&2; exit 1; }
    psql -d central -c "ANALYZE"
else
    echo "(Data of an earlier run, kept with --keep; its sync table:)"
    echo
    cat "$W/sync.md"
fi
total=$(psql -d central -c "SELECT count(*) FROM tlsaudit.handshakes")
echo
echo "Central tables: $total handshakes over $(psql -d central -c "SELECT count(DISTINCT day) FROM tlsaudit.handshakes") days,"
echo "$(psql -d central -c "SELECT count(*) FROM tlsaudit.inventory") inventory rows ($(psql -d central -c "SELECT count(*) FROM tlsaudit.inventory WHERE legacy = 1") legacy),"
echo "$(psql -d central -c "SELECT count(*) FROM tlsaudit.daily_clients") daily_clients rows, $(psql -d central -c "SELECT count(*) FROM tlsaudit.daily_rollups") daily_rollups rows;"
echo "database $(psql -d central -c "SELECT pg_size_pretty(pg_database_size('central'))")."
echo
echo "Central SQL over $total handshakes (median of 5, psql round trip included):"
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
# an average day: the one whose row count is nearest the mean per day
read -r day dayrows < <(psql -F ' ' -d central -c "WITH d AS (SELECT day, count(*) AS n FROM tlsaudit.handshakes GROUP BY day)
    SELECT day, n FROM d ORDER BY abs(n - (SELECT avg(n) FROM d)), day LIMIT 1")
q "one day of rows ($day, $dayrows rows: the planner reads one partition)" \
  "SELECT count(*), count(DISTINCT client_ip) FROM tlsaudit.handshakes WHERE day = '$day'"
q "summary per day and version from the rollups" \
  "SELECT day, version, sum(handshakes), sum(refused) FROM tlsaudit.daily_rollups GROUP BY day, version ORDER BY day, version"
q "distinct clients per day across sensors (daily_clients)" \
  "SELECT day, count(DISTINCT client_ip) FROM tlsaudit.daily_clients GROUP BY day ORDER BY day"

# cmd LABEL ARGS...: `tlsaudit ARGS --db TO`, whole process; median wall, largest peak RSS and
# largest TMPDIR use over the runs (5, or 3 when the first takes over 20 s).
cmd() {
    local label=$1 i runs=5 walls=() peak_rss=0 peak_tmp=0 k pid lines
    shift
    for ((i = 1; i <= runs; i++)); do
        rm -rf "${TD:?}"/*
        TMPDIR=$TD /usr/bin/time -f '%e %M' -o "$W/time.out" "$BIN" "$@" --db "$TO" >"$W/cmd.out" 2>"$W/cmd.err" &
        pid=$!
        while kill -0 "$pid" 2>/dev/null; do
            k=$(du -sk "$TD" 2>/dev/null | cut -f1)
            [ "${k:-0}" -le "$peak_tmp" ] || peak_tmp=$k
            sleep 0.2
        done
        wait "$pid" || { echo "| $label | failed: $(head -c 200 "$W/cmd.err") |"; return; }
        read -r wall rss <"$W/time.out"
        walls+=("$wall")
        [ "$rss" -le "$peak_rss" ] || peak_rss=$rss
        [ "$i" != 1 ] || [ "$(awk -v w="$wall" 'BEGIN{print (w > 20)}')" = 0 ] || runs=3
        [ -z "$(ls -A "$TD")" ] || echo "warning: $label left files in TMPDIR" >&2
    done
    lines=$(wc -l <"$W/cmd.out")
    [ ! -f "$W/report.html" ] || lines="$(wc -c <"$W/report.html") bytes"
    rm -f "$W/report.html"
    echo "| $label | $(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p") | ${#walls[@]} | $(awk -v k="$peak_rss" 'BEGIN{printf "%.0f", k/1024}') | $(awk -v k="$peak_tmp" 'BEGIN{printf "%.1f", k/1024}') | $lines |"
}
echo
echo "The commands over the central store (\`--db host=...\`): whole-process wall time (median),"
echo "the largest peak RSS of the runs and the largest space the private copy took in TMPDIR."
echo "Load average before: $(load)."
echo
echo "| command | median wall s | runs | peak RSS MiB | TMPDIR MiB | output |"
echo "|---|---|---|---|---|---|"
for scope in all site-1; do
    sel=()
    [ "$scope" = all ] || sel=(--sensor "$scope")
    cmd "\`query legacy\` ($scope)" query legacy "${sel[@]}"
    cmd "\`query legacy --all --format csv\` ($scope)" query legacy --all --format csv "${sel[@]}"
    cmd "\`query summary\` ($scope)" query summary "${sel[@]}"
    cmd "\`query sessions --since $day --until $day\` ($scope)" query sessions --since "$day" --until "$day" "${sel[@]}"
    cmd "\`report --out FILE\` ($scope)" report --out "$W/report.html" "${sel[@]}"
done
echo
echo "Load average after: $(load)."
