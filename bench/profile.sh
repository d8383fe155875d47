#!/bin/bash
# profile.sh - where tlsaudit spends its time on a benchmark capture: perf record (call graphs)
# of `tlsaudit capture -r FILE`, then the top functions by self time and by children. Falls
# back to valgrind --tool=callgrind when perf cannot record here.
# usage: bench/profile.sh FILE [TOP]   env: TLSAUDIT (binary), BENCH_DIR (work dir)
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=${BENCH_DIR:-/tmp/tlsaudit-bench}
FILE=${1:?usage: profile.sh FILE [TOP]}
TOP=${2:-25}
TLSAUDIT=${TLSAUDIT:-$REPO/build-bench/tlsaudit}
mkdir -p "$DIR/db"
DB=$DIR/db/profile.db
rm -f "$DB" "$DB-wal" "$DB-shm"
cat "$FILE" >/dev/null
if perf record -q --call-graph dwarf,16384 -o "$DIR/perf.data" -- "$TLSAUDIT" capture -r "$FILE" --db "$DB" >/dev/null 2>"$DIR/perf.err"; then
    echo "== self time (perf report --no-children)"
    perf report -i "$DIR/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -n "$TOP"
    echo "== including callees (perf report --children)"
    perf report -i "$DIR/perf.data" --children --sort symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+% +[0-9.]+%' | head -n "$TOP"
else
    echo "perf record failed ($(head -1 "$DIR/perf.err")); using callgrind" >&2
    valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.out" \
        "$TLSAUDIT" capture -r "$FILE" --db "$DB" >/dev/null 2>&1
    callgrind_annotate --inclusive=yes "$DIR/callgrind.out" | head -n $((TOP + 20))
fi
