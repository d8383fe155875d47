#!/bin/bash
# compare.sh - before/after on one capture in one session: the floor and every given tlsaudit
# command run round-robin (so a burst of load from others hits them alike), N rounds, medians,
# ratios to the floor of the same session, peak RSS, user+system CPU seconds. For the per-change
# table of RESULTS.md.
# usage: bench/compare.sh FILE ROUNDS LABEL=BINARY[:EXTRA ARGS] ...
#   e.g. bench/compare.sh /tmp/tlsaudit-bench/handshake-s1.pcap 3 before=/tmp/a/tlsaudit \
#        after=build-bench/src/cli/tlsaudit "after-w2=build-bench/src/cli/tlsaudit:--workers 2"
# env: BENCH_DIR (work dir, default /tmp/tlsaudit-bench; bin/floor is built by run.sh)
set -euo pipefail
export LC_ALL=C
DIR=${BENCH_DIR:-/tmp/tlsaudit-bench}
FILE=${1:?usage: compare.sh FILE ROUNDS LABEL=BINARY[:ARGS] ...}
ROUNDS=${2:?rounds}
shift 2
[ -x "$DIR/bin/floor" ] || { echo "compare.sh: $DIR/bin/floor missing (run bench/run.sh once)" >&2; exit 1; }
mkdir -p "$DIR/db"
OUT=$DIR/compare.tsv
: >"$OUT"
cat "$FILE" >/dev/null; cat "$FILE" >/dev/null

# one LABEL CMD...: one timed run, appended to OUT as label, seconds, RSS KiB, CPU seconds
one() {
    local label=$1 t0 t1 tv=$DIR/compare-time.txt
    shift
    rm -f "$DIR/db/compare.db" "$DIR/db/compare.db-wal" "$DIR/db/compare.db-shm"
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$tv" "$@" >/dev/null 2>"$DIR/compare.err" || {
        echo "compare.sh: failed: $* ($(tail -1 "$DIR/compare.err"))" >&2; return 1; }
    t1=$(date +%s%N)
    awk -v l="$label" -v us=$(( (t1 - t0) / 1000 )) '
        /Maximum resident set size/ { rss = $NF }
        /User time/ { cpu += $NF } /System time/ { cpu += $NF }
        END { printf "%s\t%.3f\t%d\t%.2f\n", l, us / 1e6, rss, cpu }' "$tv" >>"$OUT"
}

for ((r = 0; r < ROUNDS; r++)); do
    one floor "$DIR/bin/floor" "$FILE"
    for spec in "$@"; do
        label=${spec%%=*}
        cmd=${spec#*=}
        bin=${cmd%%:*}
        args=""
        [ "$bin" != "$cmd" ] && args=${cmd#*:}
        # shellcheck disable=SC2086 # args are split on purpose
        one "$label" "$bin" capture -r "$FILE" --db "$DIR/db/compare.db" $args
    done
done

# medians per label, in the order given
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
fl=$(awk -F'\t' '$1=="floor" {print $2}' "$OUT" | median)
echo "| $(basename "$FILE") | median s | x floor | CPU s | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|"
for label in floor "${@%%=*}"; do
    s=$(awk -F'\t' -v l="$label" '$1==l {print $2}' "$OUT" | median)
    rss=$(awk -F'\t' -v l="$label" '$1==l {print $3}' "$OUT" | median)
    cpu=$(awk -F'\t' -v l="$label" '$1==l {print $4}' "$OUT" | median)
    awk -v l="$label" -v s="$s" -v f="$fl" -v r="$rss" -v c="$cpu" \
        'BEGIN { printf "| %s | %.3f | %.2f | %.2f | %.1f |\n", l, s, s / f, c, r / 1024 }'
done
