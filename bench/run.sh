#!/bin/bash
# run.sh - the tlsaudit speed and memory benchmark (issue "Speed and memory").
#
# Generates two captures from the project's own seed captures (pcaps/*.pcap) with bench/gen
# (bulk-heavy ~2 GB, handshake-heavy ~400 MB, both times --scale), warms the page cache, then
# times, as medians of --runs runs: the bare libpcap read loop (bench/floor), tcpdump -r -w
# /dev/null, tlsaudit capture (fresh database each run), ndpiReader and tshark extracting the
# hello fields. Reports packets/s, ratio to the floor, peak RSS and database bytes per
# handshake, checks tlsaudit's legacy lists against the generator's ground truth (OK/FAIL) and
# writes a Markdown table (bench/RESULTS.md for a full-size run).
#
# usage: bench/run.sh [--runs N] [--scale F] [--dir DIR] [--skip-tshark-bulk] [--tshark-runs N]
#                     [--no-ndpi] [--no-tshark] [--with-shared] [--results FILE] [--only bulk|handshake]
#                     [--bin PATH] [--workers "1 2"]
#        bench/run.sh --month [--scale F] [--runs N] ...   (bench/month.sh: a month of a sensor)
# env:   BENCH_DIR (work dir, default /tmp/tlsaudit-bench), TLSAUDIT (binary, same as --bin;
#        default: build the repository in build-bench, Release)
set -euo pipefail
export LC_ALL=C

REPO=$(cd "$(dirname "$0")/.." && pwd)
RUNS=5
SCALE=1
TSHARK_RUNS=1
SKIP_TSHARK_BULK=0
NO_NDPI=0
NO_TSHARK=0
WITH_SHARED=0
ONLY=""
RESULTS=""
WORKERS="1 2"       # tlsaudit capture -r --workers N is timed for each N too ("" = none)
DIR=${BENCH_DIR:-/tmp/tlsaudit-bench}

[ "${1:-}" = --month ] && { shift; exec "$(dirname "$0")/month.sh" "$@"; }  # a sensor's month
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --tshark-runs) TSHARK_RUNS=$2; shift 2 ;;
    --skip-tshark-bulk) SKIP_TSHARK_BULK=1; shift ;;
    --no-ndpi) NO_NDPI=1; shift ;;
    --no-tshark) NO_TSHARK=1; shift ;;
    --with-shared) WITH_SHARED=1; shift ;;
    --only) ONLY=$2; shift 2 ;;
    --results) RESULTS=$2; shift 2 ;;
    --bin) TLSAUDIT=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
if [ -z "$RESULTS" ]; then
    if [ "$SCALE" = 1 ]; then RESULTS=$REPO/bench/RESULTS.md; else RESULTS=$DIR/RESULTS-scale$SCALE.md; fi
fi
case "$DIR" in "$REPO"|"$REPO"/*) echo "run.sh: the work dir must be outside the repository" >&2; exit 2 ;; esac
mkdir -p "$DIR/bin" "$DIR/db"

need() { command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 not found ($2)" >&2; exit 1; }; }
need gcc "build-essential"
need tcpdump "apt-get install tcpdump"
need sqlite3 "apt-get install sqlite3"
need python3 "apt-get install python3"
[ -x /usr/bin/time ] || { echo "run.sh: /usr/bin/time not found (apt-get install time)" >&2; exit 1; }
if [ $NO_NDPI = 0 ] && ! command -v ndpiReader >/dev/null; then
    echo "run.sh: ndpiReader not found (apt-get install libndpi-bin); skipping it" >&2; NO_NDPI=1
fi
if [ $NO_TSHARK = 0 ] && ! command -v tshark >/dev/null; then
    echo "run.sh: tshark not found (apt-get install tshark); skipping it" >&2; NO_TSHARK=1
fi

# ---- build: generator, floor, tlsaudit ----
CFLAGS="-O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror"
gcc $CFLAGS -I"$REPO/include/base" "$REPO/bench/gen.c" "$REPO/bench/gen_seed.c" -o "$DIR/bin/gen" -lpcap -lm
gcc $CFLAGS "$REPO/bench/floor.c" -o "$DIR/bin/floor" -lpcap
BUILT="Release build of $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo 'the work tree')"
if [ -z "${TLSAUDIT:-}" ]; then
    cmake -S "$REPO" -B "$REPO/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$REPO/build-bench" -j"$(nproc)" --target tlsaudit >/dev/null
    TLSAUDIT=$REPO/build-bench/tlsaudit
else
    BUILT="binary $TLSAUDIT"    # --bin / TLSAUDIT: the caller says what it was built from
fi

# ---- seeds and captures ----
shopt -s nullglob
SEEDS=("$REPO"/pcaps/*.pcap "$REPO"/pcaps/*.pcapng)
if [ $WITH_SHARED = 1 ] && [ -d "$REPO/../shared/pcaps" ]; then
    # not ours to redistribute in derived form: read at bench time only, never committed
    for f in flowtest__tls10 flowtest__tls11 flowtest__tls12 flowtest__tls_ssl30 zeek__hrr \
             suricata__smtp-startssl__input suricata__sslv2-tls-upgrade-01__ssl-v2-s1 ja4__tls-alpn-h2; do
        [ -f "$REPO/../shared/pcaps/$f.pcap" ] && SEEDS+=("$REPO/../shared/pcaps/$f.pcap")
    done
fi
[ ${#SEEDS[@]} -gt 0 ] || { echo "run.sh: no seed captures in $REPO/pcaps" >&2; exit 1; }
SEEDLIST=$(for s in "${SEEDS[@]}"; do basename "$s"; done | paste -sd, -)
TAG=s$SCALE$([ $WITH_SHARED = 1 ] && echo -shared || true)

gen_file() { # shape -> path of the capture, generated when absent or made from other seeds
    local shape=$1 out=$DIR/$1-$TAG.pcap
    if [ ! -f "$out" ] || ! grep -qx "seeds=$SEEDLIST" "$out.meta" 2>/dev/null; then
        echo "generating $out ..." >&2
        "$DIR/bin/gen" --shape "$shape" --scale "$SCALE" --out "$out" "${SEEDS[@]}" >&2
    fi
    echo "$out"
}

meta() { sed -n "s/^$2=//p" "$1.meta"; }

# ---- timing ----
# run_timed LABEL CMD... : one run; prints "seconds rss_kib" (wall clock from date, RSS from
# /usr/bin/time -v). The command's output goes to $DIR/last.out / last.err.
run_timed() {
    local t0 t1 tv=$DIR/time.txt
    t0=$(date +%s%N)
    /usr/bin/time -v -o "$tv" "$@" >"$DIR/last.out" 2>"$DIR/last.err" || {
        echo "run.sh: failed: $* (see $DIR/last.err)" >&2; tail -3 "$DIR/last.err" >&2; return 1; }
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000 )) $(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tv")"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR==0) print 0; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

ROWS=$DIR/rows.tsv
: >"$ROWS"
CHECKS=$DIR/checks.txt
: >"$CHECKS"
FLOOR_US=0

# bench TOOL FILE N CMD... : N runs (a fresh database before each tlsaudit run), one row.
bench() {
    local tool=$1 file=$2 n=$3; shift 3
    local times=() rss=() i r
    for ((i = 0; i < n; i++)); do
        rm -f "$DIR/db/bench.db" "$DIR/db/bench.db-wal" "$DIR/db/bench.db-shm"
        r=$(run_timed "$@") || return 1
        times+=("${r% *}"); rss+=("${r#* }")
    done
    local us kib pk
    us=$(printf '%s\n' "${times[@]}" | median)
    kib=$(printf '%s\n' "${rss[@]}" | median)
    pk=$(meta "$file" packets)
    [ "$tool" = floor ] && FLOOR_US=$us
    awk -v t="$tool" -v f="$(basename "$file")" -v us="$us" -v kib="$kib" -v pk="$pk" -v fl="$FLOOR_US" -v n="$n" \
        'BEGIN { printf "%s\t%s\t%d\t%.3f\t%.2f\t%.2f\t%.1f\n", f, t, n, us/1e6, pk/(us/1e6)/1e6, (fl>0?us/fl:0), kib/1024 }' >>"$ROWS"
    tail -1 "$ROWS" | awk -F'\t' '{ printf "  %-10s runs=%s median %7.3f s  %6.2f Mpkt/s  x%-6.2f  RSS %7.1f MiB\n", $2, $3, $4, $5, $6, $7 }'
}

# Compare tlsaudit's legacy client lists with the ground truth; one OK/FAIL line each.
check_truth() {
    local file=$1 db=$DIR/db/bench.db name
    name=$(basename "$file")${2:+ ($2)}
    for mode in all o365; do
        local args=() want=$file.legacy-$mode.txt got=$DIR/got-$mode.txt
        [ $mode = all ] && args=(--all)
        "$TLSAUDIT" query legacy "${args[@]}" --db "$db" --format csv |
            python3 -c 'import csv,sys; print("\n".join(sorted({r["client_ip"] for r in csv.DictReader(sys.stdin)})))' |
            sed '/^$/d' | sort >"$got"
        local nw ng
        nw=$(wc -l <"$want"); ng=$(wc -l <"$got")
        if cmp -s "$want" "$got"; then
            echo "OK   $name: query legacy $([ $mode = all ] && echo '--all' || echo '(Office 365)') lists the $nw legacy clients of the ground truth" | tee -a "$CHECKS"
        else
            echo "FAIL $name: query legacy $([ $mode = all ] && echo '--all' || echo '(Office 365)'): $ng clients, truth $nw; missing $(comm -23 "$want" "$got" | wc -l) (e.g. $(comm -23 "$want" "$got" | head -3 | paste -sd' ' -)), extra $(comm -13 "$want" "$got" | wc -l) (e.g. $(comm -13 "$want" "$got" | head -3 | paste -sd' ' -))" | tee -a "$CHECKS"
        fi
    done
    local hs bytes
    hs=$(sqlite3 "$db" "select count(*) from handshakes")
    bytes=$(stat -c %s "$db")
    for x in "$db-wal"; do [ -f "$x" ] && bytes=$((bytes + $(stat -c %s "$x"))); done
    echo "     $name: database $bytes bytes for $hs handshakes = $((hs > 0 ? bytes / hs : 0)) bytes/handshake; run row: $("$TLSAUDIT" query runs --db "$db" --format csv | tail -1)" | tee -a "$CHECKS"
    printf '%s\t%s\t%s\n' "$name" "$hs" "$((hs > 0 ? bytes / hs : 0))" >>"$DIR/dbsize.tsv"
}

TSHARK_FIELDS=(-Y 'tls.handshake.type==1 || tls.handshake.type==2' -T fields -e frame.time_epoch -e ip.src
               -e ipv6.src -e ip.dst -e ipv6.dst -e tcp.srcport -e tls.handshake.type -e tls.handshake.version
               -e tls.handshake.extensions.supported_version -e tls.handshake.extensions_server_name
               -e tls.handshake.ciphersuite)

: >"$DIR/dbsize.tsv"
SHAPES=(bulk handshake)
[ -n "$ONLY" ] && SHAPES=("$ONLY")
for shape in "${SHAPES[@]}"; do
    f=$(gen_file "$shape")
    echo "== $(basename "$f"): $(meta "$f" packets) packets, $(meta "$f" bytes) bytes, hs_share $(meta "$f" hs_share), $(meta "$f" flows) flows, $(meta "$f" clients_used) clients"
    cat "$f" >/dev/null; cat "$f" >/dev/null               # warm the page cache
    FLOOR_US=0
    bench floor "$f" "$RUNS" "$DIR/bin/floor" "$f"
    bench tcpdump "$f" "$RUNS" tcpdump -r "$f" -w /dev/null
    bench tlsaudit "$f" "$RUNS" "$TLSAUDIT" capture -r "$f" --db "$DIR/db/bench.db"
    check_truth "$f"
    for w in $WORKERS; do
        bench "tlsaudit --workers $w" "$f" "$RUNS" "$TLSAUDIT" capture -r "$f" --db "$DIR/db/bench.db" --workers "$w"
        check_truth "$f" "--workers $w"
    done
    [ $NO_NDPI = 1 ] || bench ndpiReader "$f" "$RUNS" ndpiReader -i "$f" -q
    if [ $NO_TSHARK = 0 ] && ! { [ "$shape" = bulk ] && [ $SKIP_TSHARK_BULK = 1 ]; }; then
        bench tshark "$f" "$TSHARK_RUNS" tshark -n -r "$f" "${TSHARK_FIELDS[@]}"
    fi
done

# ---- RESULTS.md ----
{
    echo "# tlsaudit benchmark results"
    echo
    echo "Generated by \`bench/run.sh --runs $RUNS --scale $SCALE$([ $SKIP_TSHARK_BULK = 1 ] && echo ' --skip-tshark-bulk')$([ $WITH_SHARED = 1 ] && echo ' --with-shared')\` on $(date -u +%Y-%m-%dT%H:%MZ)."
    echo
    echo "| machine | |"
    echo "|---|---|"
    echo "| CPUs (nproc) | $(nproc) |"
    echo "| CPU model | $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1) |"
    echo "| memory | $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) |"
    echo "| kernel | $(uname -r) |"
    echo "| tlsaudit | $("$TLSAUDIT" version 2>&1 | head -1) ($BUILT) |"
    echo "| libpcap / tcpdump | $(tcpdump --version 2>&1 | sed -n 2p) / $(tcpdump --version 2>&1 | head -1) |"
    [ $NO_NDPI = 1 ] || echo "| ndpiReader | $(ndpiReader -h 2>&1 | sed -n 's/Welcome to //p' | head -1) |"
    [ $NO_TSHARK = 1 ] || echo "| tshark | $(tshark --version 2>/dev/null | head -1) |"
    echo "| seeds | $SEEDLIST |"
    echo
    echo "Times are whole-process wall-clock medians with a warm page cache; the ratio is to the"
    echo "bare libpcap read loop (\`bench/floor\`) on the same file in the same run; RSS is"
    echo "\"Maximum resident set size\" of \`/usr/bin/time -v\` (median over the runs). tshark runs"
    echo "$TSHARK_RUNS time(s) per file (it is slow) with \`-Y 'tls.handshake.type==1 || tls.handshake.type==2' -T fields\`."
    echo
    for shape in "${SHAPES[@]}"; do
        f=$DIR/$shape-$TAG.pcap
        echo "**$(basename "$f")** ($shape-heavy): $(meta "$f" packets) packets, $(awk -v b="$(meta "$f" bytes)" 'BEGIN{printf "%.0f MB", b/1e6}'), $(awk -v s="$(meta "$f" hs_share)" 'BEGIN{printf "%.1f%%", s*100}') of packets in handshake flows, $(meta "$f" flows) flows, $(meta "$f" clients_used) clients, up to $(meta "$f" max_concurrent) concurrent flows, $(meta "$f" duration_s) s of traffic."
        echo
    done
    echo "| file | tool | runs | median s | M packets/s | x floor | peak RSS MiB |"
    echo "|---|---|---:|---:|---:|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, ($2=="floor" ? "1.00" : $6), $7 }' "$ROWS"
    echo
    echo "| file | handshakes stored | database bytes / handshake |"
    echo "|---|---:|---:|"
    awk -F'\t' '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$DIR/dbsize.tsv"
    echo
    echo "Targets (tlsaudit, default flow cap): bulk-heavy at most 1.3x the floor, handshake-heavy at"
    echo "most 3x, peak RSS at most 64 MiB."
    echo
    awk -F'\t' '$2 ~ /^tlsaudit/ { lim = ($1 ~ /^bulk/) ? 1.3 : 3;
        printf "- %s, %s: x%.2f (target %.1f) %s; RSS %.1f MiB (target 64) %s\n", $1, $2, $6, lim, ($6<=lim?"met":"**not met**"), $7, ($7<=64?"met":"**not met**") }' "$ROWS"
    echo
    echo "Correctness against the generator's ground truth:"
    echo
    sed 's/^/    /' "$CHECKS"
} >"$RESULTS"
echo "results written to $RESULTS"
grep -q '^FAIL' "$CHECKS" && exit 1 || exit 0
