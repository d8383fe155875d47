#!/bin/bash
# profile.sh - where tlsaudit spends its time on a benchmark capture: perf record (call graphs)
# of `tlsaudit capture -r FILE`, then the top functions by self time and by children, the share
# of each library (self time), and each stage's share of the samples with the wall-clock span of
# the threads and of the serial tail (run end, Office 365 classification, close). Falls back to
# valgrind --tool=callgrind when perf cannot record here.
# usage: bench/profile.sh FILE [TOP]   env: TLSAUDIT (binary), BENCH_DIR (work dir),
#        TLSAUDIT_ARGS (more capture options, e.g. "--workers 2")
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=${BENCH_DIR:-/tmp/tlsaudit-bench}
FILE=${1:?usage: profile.sh FILE [TOP]}
TOP=${2:-25}
TLSAUDIT=${TLSAUDIT:-$REPO/build-bench/src/cli/tlsaudit}
mkdir -p "$DIR/db"
DB=$DIR/db/profile.db
rm -f "$DB" "$DB-wal" "$DB-shm"
cat "$FILE" >/dev/null
if perf record -q --call-graph dwarf,16384 -o "$DIR/perf.data" -- "$TLSAUDIT" capture -r "$FILE" --db "$DB" ${TLSAUDIT_ARGS:-} >/dev/null 2>"$DIR/perf.err"; then
    set +o pipefail     # head closes the pipes early: not a failure
    echo "== self time (perf report --no-children)"
    perf report -i "$DIR/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -n "$TOP"
    echo "== including callees (perf report --children)"
    perf report -i "$DIR/perf.data" --children --sort symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+% +[0-9.]+%' | head -n "$TOP"
    echo "== by library (self time)"
    perf report -i "$DIR/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null |
        grep -E '^ +[0-9.]+%'
    echo "== by stage (a sample counts for the first stage found in its call chain)"
    perf script -i "$DIR/perf.data" -F tid,time,ip,sym 2>/dev/null | awk -f <(cat <<'AWK'
function stage(s) {
    if (s ~ /\|ta_o365_classify/) return "tail: Office 365 classification (o365.c)"
    if (s ~ /\|ta_store_run_end/) return "tail: run end"
    if (s ~ /\|ta_store_close/) return "tail: close (PRAGMA optimize, last checkpoint)"
    if (s ~ /\|ta_ja3|\|ta_ja4/) return "store: JA3/JA3S/JA4"
    if (s ~ /\|ta_dns_feed_store/) return "store: DNS answer rows"
    if (s ~ /\|ta_store_maybe_commit|\|ta_store_commit/) return "store: commits (WAL writes, checkpoints)"
    if (s ~ /\|ta_store_add/) return "store: handshake/mail rows (SQLite insert, indexes)"
    if (s ~ /\|writer_main/) return "store: writer thread other (queue)"
    if (s ~ /\|ta_ndpi_packet|\|ta_ndpi_finish/) return "engine: nDPI"
    if (s ~ /\|ta_flow_find/) return "engine: flow table lookup"
    if (s ~ /\|ta__ring_put|\|ta__ring_publish|\|route/ && s !~ /\|ta_engine/)
        return "files: reader thread (decode for routing, copy into the rings)"
    if (s ~ /\|ta__ring_consume/ && s !~ /\|ta_engine/) return "files: engine threads waiting on their ring"
    if (s ~ /_IO_fread|_IO_file_xsgetn|\|pcap_next|\|pcap_dispatch|\|pcap_loop|\|read_sources/ && s !~ /\|ta_engine/)
        return "engine: reading the file (libpcap, kernel copy)"
    if (s ~ /\|ta_stream|\|engine_sink|\|ta__tls|\|tls_|\|ta__text|\|ta_dns_/) return "engine: streams and dissectors"
    if (s ~ /\|ta_engine|\|ta_decode/) return "engine: decode, flows, other"
    return "other (start-up, unresolved)"
}
function emit() {
    if (tid == "") return
    n++; st = stage(stack); c[st]++; nt[tid]++
    if (!(tid in t0)) t0[tid] = t
    t1[tid] = t
    if (st ~ /^tail/) { if (!(st in p0)) p0[st] = t; p1[st] = t }
    tid = ""
}
/^ *[0-9]+ +[0-9.]+:/ { emit(); tid = $1; t = $2; sub(":", "", t); stack = ""; next }
/^$/ { emit(); next }
{ stack = stack "|" $2 }
END {
    emit()
    for (k in c) printf "  %5.1f%%  %s\n", 100 * c[k] / n, k | "sort -rn"
    close("sort -rn")
    for (k in t0) printf "  thread %s: %.3f s from first to last sample, %.1f%% of the samples\n", k, t1[k] - t0[k], 100 * nt[k] / n
    for (k in p0) printf "  %s: %.3f s\n", k, p1[k] - p0[k]
}
AWK
)
else
    echo "perf record failed ($(head -1 "$DIR/perf.err")); using callgrind" >&2
    valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.out" \
        "$TLSAUDIT" capture -r "$FILE" --db "$DB" >/dev/null 2>&1
    callgrind_annotate --inclusive=yes "$DIR/callgrind.out" | head -n $((TOP + 20))
fi
