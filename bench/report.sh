#!/bin/bash
# report.sh - how fast `tlsaudit report` is on a month of a busy sensor, and how big its page is.
#
# Generates (bench/gen.c, --days 30) a capture of ~26,000 clients of which ~11,000 use legacy
# TLS toward Office 365, captures it with the default retention (so the first day is pruned, as
# on a sensor that runs for months), then times the HTML page, the page with --all and the CSV
# and JSON exports (median of --runs runs each) and prints their sizes. Targets (issue 17): the
# page in under 2 s and under 2 MB with 10,000 offenders.
#
# Usage: bench/report.sh [--runs N] [--bin PATH]      work files in $BENCH_DIR/report
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=5
bin=$here/build/tlsaudit
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "usage: bench/report.sh [--runs N] [--bin PATH]" >&2; exit 2 ;;
    esac
done
[ -x "$bin" ] || bin=$here/build/tlsaudit
work=${BENCH_DIR:-/tmp/tlsaudit-bench}/report
mkdir -p "$work"
gcc -O2 -I"$here/include/base" "$here/bench/gen.c" "$here/bench/gen_seed.c" -o "$work/gen" -lpcap -lm
pcap=$work/month.pcap
[ -s "$pcap" ] || "$work/gen" --shape handshake --hs-share 1 --bytes 150000000 --clients 26000 \
    --o365 60 --days 30 --out "$pcap" "$here"/pcaps/*.pcap >/dev/null
db=$work/month.db
rm -f "$db" "$db-wal" "$db-shm"
"$bin" capture -q --db "$db" -r "$pcap"

# median NAME ARGS...: run tlsaudit report ARGS runs times, print the median wall time
median() {
    local name=$1 t
    shift
    for _ in $(seq "$runs"); do
        /usr/bin/time -f %e -o "$work/t" "$bin" report --db "$db" "$@" >/dev/null
        cat "$work/t"
    done | sort -n | awk -v n="$name" '{ v[NR] = $1 } END { printf "%s %s\n", n, v[int((NR + 1) / 2)] }'
}
echo "store: $(stat -c %s "$db") bytes, $(sqlite3 "$db" 'SELECT count(*) FROM inventory') inventory rows," \
     "$(sqlite3 "$db" "SELECT count(DISTINCT client_ip) FROM inventory WHERE legacy = 1 AND o365 = 1") legacy O365 clients," \
     "$(sqlite3 "$db" "SELECT count(DISTINCT client_ip) FROM inventory WHERE legacy = 1") legacy clients," \
     "$(sqlite3 "$db" 'SELECT count(DISTINCT day) FROM daily_rollups') days"
median html --out "$work/r.html"
median html-all --all --out "$work/all.html"
median csv --format csv --out "$work/r.csv"
median json --format json --out "$work/r.json"
for f in r.html all.html r.csv r.json; do echo "size $f $(stat -c %s "$work/$f")"; done
