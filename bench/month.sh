#!/bin/bash
# month.sh - a month of a span-port sensor (issue 12): bench/gen --days 30 spreads the seed flows
# over 30 simulated days (full size: ~5,000,000 handshakes from 50,000 clients, an ~18 GB
# capture; --scale shrinks both, at least 500 clients), then measures, in one run:
#   - capture speed with the inventory on against off (TA_BENCH_NO_INVENTORY=1), alternating
#     on/off runs, fresh database each run, default retention (30 days);
#   - the database size with the default retention and with --retain-days 7, and what takes it;
#   - `query legacy` / `query summary` latency (whole process, median of 7) on the default
#     database, from the inventory and from the rows (--from-rows), and a day-bounded summary.
# Writes Markdown to --results (default $DIR/RESULTS-month-s$SCALE.md).
#
# usage: bench/month.sh [--scale F] [--runs N] [--dir DIR] [--bin PATH] [--results FILE]
#        (also reached as bench/run.sh --month ...)
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "$0")/.." && pwd)
SCALE=1
RUNS=2
DIR=${BENCH_DIR:-/tmp/tlsaudit-bench}
RESULTS=""
while [ $# -gt 0 ]; do
    case "$1" in
    --scale) SCALE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --bin) TLSAUDIT=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "month.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$DIR" in "$REPO"|"$REPO"/*) echo "month.sh: the work dir must be outside the repository" >&2; exit 2 ;; esac
RESULTS=${RESULTS:-$DIR/RESULTS-month-s$SCALE.md}
mkdir -p "$DIR/bin" "$DIR/db"

CFLAGS="-O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror"
gcc $CFLAGS -I"$REPO/include/base" "$REPO/bench/gen.c" "$REPO/bench/gen_seed.c" -o "$DIR/bin/gen" -lpcap -lm
BUILT="Release build of $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo 'the work tree')"
if [ -z "${TLSAUDIT:-}" ]; then
    cmake -S "$REPO" -B "$REPO/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$REPO/build-bench" -j"$(nproc)" --target tlsaudit >/dev/null
    TLSAUDIT=$REPO/build-bench/tlsaudit
else
    BUILT="binary $TLSAUDIT"
fi

# ~3,600 bytes of capture per handshake flow of the bundled seeds
BYTES=$(awk -v s="$SCALE" 'BEGIN { printf "%.0f", 5000000 * 3600 * s }')
CLIENTS=$(awk -v s="$SCALE" 'BEGIN { c = 50000 * s; printf "%d", c < 500 ? 500 : c }')
PCAP=$DIR/month-s$SCALE.pcap
if [ ! -f "$PCAP" ] || [ ! -f "$PCAP.meta" ]; then
    echo "generating $PCAP ($BYTES bytes) ..." >&2
    "$DIR/bin/gen" --shape handshake --hs-share 1 --clients "$CLIENTS" --days 30 --bytes "$BYTES" \
        --out "$PCAP" "$REPO"/pcaps/*.pcap >&2
fi
meta() { sed -n "s/^$1=//p" "$PCAP.meta"; }
cat "$PCAP" >/dev/null   # warm the page cache (as far as it fits)

now_us() { echo $(( $(date +%s%N) / 1000 )); }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
fresh() { rm -f "$1" "$1-wal" "$1-shm"; }

# capture DB ENV-ASSIGNMENT ARGS...: one timed capture into a fresh DB; prints seconds.
capture() {
    local db=$1 envset=$2 t0 t1
    shift 2
    fresh "$db"
    t0=$(now_us)
    env $envset "$TLSAUDIT" capture -q --db "$db" -r "$PCAP" "$@" 2>"$DIR/month.err" ||
        { echo "month.sh: capture failed: $(tail -3 "$DIR/month.err")" >&2; exit 1; }
    t1=$(now_us)
    awk -v d=$((t1 - t0)) 'BEGIN { printf "%.2f", d / 1e6 }'
}

ON=() OFF=()
for ((i = 0; i < RUNS; i++)); do
    ON+=("$(capture "$DIR/db/month-on.db" "TA_BENCH_NO_INVENTORY=0" --retain-days 30)")
    echo "  run $((i + 1)): inventory on  ${ON[-1]} s" >&2
    OFF+=("$(capture "$DIR/db/month-off.db" "TA_BENCH_NO_INVENTORY=1" --retain-days 30)")
    echo "  run $((i + 1)): inventory off ${OFF[-1]} s" >&2
done
on=$(printf '%s\n' "${ON[@]}" | median)
off=$(printf '%s\n' "${OFF[@]}" | median)
wk=$(capture "$DIR/db/month-7d.db" "TA_BENCH_NO_INVENTORY=0" --retain-days 7)

DB=$DIR/db/month-on.db
size() { stat -c %s "$1"; }
rows() { sqlite3 "$1" "SELECT count(*) FROM $2"; }
# bytes per object kind, through dbstat when the sqlite3 shell has it
usage_of() {
    sqlite3 "$1" "SELECT CASE WHEN name IN ('inventory','daily_rollups','daily_clients','store_meta')
        OR tbl_name IN ('inventory','daily_rollups','daily_clients') THEN 'inventory+rollups'
        WHEN tbl_name IN ('handshakes','mail_sessions','dns_answers') THEN 'rows (' || tbl_name || ')'
        ELSE 'other' END AS k, sum(pgsize) FROM dbstat JOIN sqlite_schema USING (name)
        GROUP BY k ORDER BY 2 DESC" 2>/dev/null | awk -F'|' '{ printf "%s %.1f MB; ", $1, $2 / 1e6 }'
}

# latency NAME ARGS...: median whole-process milliseconds of 7 queries on $DB
latency() {
    local t=() i t0 t1
    for i in 1 2 3 4 5 6 7; do
        t0=$(now_us)
        "$TLSAUDIT" query "$@" --db "$DB" >/dev/null 2>&1 || true
        t1=$(now_us)
        t+=($((t1 - t0)))
    done
    printf '%s\n' "${t[@]}" | median | awk '{ printf "%.1f", $1 / 1000 }'
}
L_INV=$(latency legacy); S_INV=$(latency summary)
L_ALL=$(latency legacy --all --format csv)
S_DAY=$(latency summary --since 2026-01-10 --until 2026-01-20)
L_ROWS=$(latency legacy --from-rows); S_ROWS=$(latency summary --from-rows)

{
    echo "## A month of a sensor (bench/month.sh, issue 12)"
    echo
    echo "$BUILT, $(date -u +%Y-%m-%d), scale $SCALE, $RUNS on/off run pair(s)."
    echo "Capture: $(meta flows) flows ($(meta tls_flows) TLS) from $(meta clients_used) clients over"
    echo "$(awk -v s="$(meta duration_s)" 'BEGIN{printf "%.1f", s/86400}') days, $(meta packets) packets,"
    echo "$(awk -v b="$(meta bytes)" 'BEGIN{printf "%.2f GB", b/1e9}'); $(rows "$DB" runs) run, handshakes kept: $(rows "$DB" handshakes)"
    echo "of $(sqlite3 "$DB" "SELECT sum(handshakes) FROM inventory") counted by the inventory"
    echo "($(rows "$DB" inventory) inventory rows, $(rows "$DB" daily_rollups) rollup rows, $(rows "$DB" daily_clients) daily client keys)."
    echo
    echo "| measure | value |"
    echo "|---|---:|"
    echo "| capture, inventory on (median s) | $on |"
    echo "| capture, inventory off (median s) | $off |"
    echo "| inventory cost | $(awk -v a="$on" -v b="$off" 'BEGIN{printf "%+.1f%%", (a/b-1)*100}') |"
    echo "| capture with --retain-days 7 (s) | $wk |"
    echo "| database, default retention (30 days) | $(awk -v b="$(size "$DB")" 'BEGIN{printf "%.1f MB", b/1e6}') |"
    echo "| database, --retain-days 7 | $(awk -v b="$(size "$DIR/db/month-7d.db")" 'BEGIN{printf "%.1f MB", b/1e6}') |"
    echo "| query legacy (inventory) | $L_INV ms |"
    echo "| query legacy --all --format csv | $L_ALL ms |"
    echo "| query summary (inventory) | $S_INV ms |"
    echo "| query summary, 10 whole days (daily_clients) | $S_DAY ms |"
    echo "| query legacy --from-rows (scan) | $L_ROWS ms |"
    echo "| query summary --from-rows (scan) | $S_ROWS ms |"
    echo
    echo "Space, default retention: $(usage_of "$DB")"
    echo
    echo "Space, 7 days: $(usage_of "$DIR/db/month-7d.db")"
    echo
    echo "Capture runs (s), on: ${ON[*]}; off: ${OFF[*]}."
} >"$RESULTS"
cat "$RESULTS"
