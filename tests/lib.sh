# tests/lib.sh - shared helpers for the integration tests (tests/it_*.sh), sourced by bash.
#
# Environment (set by ctest, see tests/CMakeLists.txt): TA_BIN (the built tlsaudit), TA_SRC (the
# source tree), TA_SHARED_PCAPS (the shared captures, optional). Every test ends with it_done,
# which prints "N passed, N failed" and exits non-zero when anything failed; exit 77 = skipped.

set -u
IT_PASS=0
IT_FAIL=0
IT_NAME=$(basename "${0:-it}" .sh)
TA_BIN=${TA_BIN:-}
TA_SRC=${TA_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
TA_PCAPS=${TA_PCAPS:-$TA_SRC/pcaps}
TA_DATA=$TA_SRC/tests/data
export TA_SRC TA_PCAPS TA_DATA

# die MSG: the test itself cannot run (broken setup, not a failed assertion).
die() {
    echo "$IT_NAME: ERROR: $*" >&2
    exit 2
}

# skip REASON: report "skipped" to ctest (exit 77), loudly so nobody mistakes it for a pass.
skip() {
    echo "=================================================================="
    echo "SKIPPED: $IT_NAME: $*"
    echo "=================================================================="
    exit 77
}

[ -n "$TA_BIN" ] || die "TA_BIN is not set (run through ctest, or export TA_BIN=path/to/tlsaudit)"
[ -x "$TA_BIN" ] || die "TA_BIN=$TA_BIN is not an executable"
command -v sqlite3 >/dev/null || die "the sqlite3 command-line tool is needed"
command -v python3 >/dev/null || die "python3 is needed (CSV parsing)"

IT_TMP=$(mktemp -d "/tmp/ta-$IT_NAME.XXXXXX")
IT_CLEANUP_PIDS=()
it_cleanup() {
    local p
    for p in "${IT_CLEANUP_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "${IT_KEEP:-}" ] && echo "$IT_NAME: work files kept in $IT_TMP" || rm -rf "$IT_TMP"
}
trap it_cleanup EXIT

# ns_start PREFIX: a network namespace of the test's own, NS=PREFIX-PID, its loopback up; it is
# removed when the test exits, with what still runs in it and /etc/netns/NS (its hosts file, for
# a test that writes one). Skips the test when no namespace can be made (not root, no ip(8)).
# in_ns CMD...: CMD in it. Not for a background job, whose $! would be a subshell's that a
# signal does not reach the command through: those call ip netns exec "$NS" themselves.
ns_start() {
    command -v ip >/dev/null || skip "ip(8) not installed (scripts/install-deps.sh)"
    NS=$1-$$
    ip netns add "$NS" 2>"$IT_TMP/netns.err" ||
        skip "cannot create a network namespace: $(cat "$IT_TMP/netns.err")"
    trap ns_cleanup EXIT
    in_ns ip link set lo up || die "cannot bring up lo in $NS"
}
ns_cleanup() {
    it_cleanup
    ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "/etc/netns/$NS"
}
in_ns() { ip netns exec "$NS" "$@"; }

# ns_tcpdump FILE IFACE FILTER: tcpdump on IFACE of the namespace into FILE (its log FILE.log),
# its pid in TCPDUMP_PID once it listens. A 32 MiB buffer and a 64 KiB snap length: with -s 0
# and the default 2 MiB a loaded machine saw the kernel drop a whole server flight.
# ns_tcpdump_stop PID FILE: stop it; dies if the kernel dropped packets (the capture would not
# hold the traffic the test made, and its checks would fail for that reason).
ns_tcpdump() {
    : >"$1.log"
    ip netns exec "$NS" tcpdump -i "$2" --immediate-mode -U -n -B 32768 -s 65535 -w "$1" "$3" \
        >"$1.log" 2>&1 &
    TCPDUMP_PID=$!
    IT_CLEANUP_PIDS+=("$TCPDUMP_PID")
    for _ in $(seq 100); do grep -q "listening on" "$1.log" && break; sleep 0.05; done
    grep -q "listening on" "$1.log" || die "tcpdump -i $2 did not start: $(cat "$1.log")"
}
ns_tcpdump_stop() {
    kill -INT "$1"
    wait "$1" 2>/dev/null
    grep -q "^0 packets dropped by kernel" "$2.log" ||
        die "tcpdump lost packets of the test's own traffic: $(tr '\n' ' ' <"$2.log")"
}

# ns_cert CN CERT KEY: a self-signed P-256 certificate for CN in CERT, its key in KEY; fd 9 is
# opened (once) on a FIFO that keeps ns_hello's s_server reading.
ns_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj "/CN=$1" -keyout "$3" -out "$2" 2>/dev/null || die "openssl req failed"
    [ -e "$IT_TMP/hold" ] || { mkfifo "$IT_TMP/hold" && exec 9<>"$IT_TMP/hold"; }
}

# ns_hello ADDR PORT VERSION CERT KEY [S_CLIENT-ARGS...]: one TLS handshake on the namespace's
# loopback: an openssl s_server for one connection at ADDR:PORT with CERT and KEY, and an
# s_client -VERSION (tls1, tls1_2, tls1_3, ...) with ARGS, both at security level 0 (TLS 1.0 on
# Debian 12's OpenSSL). Dies when the handshake fails; returns once the server has gone.
ns_hello() {
    local addr=$1 port=$2 v=$3 cert=$4 key=$5 slog=$IT_TMP/server-$2.log clog=$IT_TMP/client-$2.log
    shift 5
    : >"$slog"
    ip netns exec "$NS" timeout 20 openssl s_server -accept "$addr:$port" -cert "$cert" \
        -key "$key" "-$v" -cipher 'DEFAULT:@SECLEVEL=0' -naccept 1 <&9 >"$slog" 2>&1 &
    local srv=$!
    IT_CLEANUP_PIDS+=("$srv")
    for _ in $(seq 100); do grep -q ACCEPT "$slog" && break; sleep 0.05; done
    { sleep 0.5; } | in_ns timeout 10 openssl s_client -connect "$addr:$port" "-$v" \
        -cipher 'DEFAULT:@SECLEVEL=0' "$@" >"$clog" 2>&1
    grep -q '^SSL handshake has read' "$clog" || die "$v handshake failed: $(tail -3 "$clog")"
    for _ in $(seq 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.05; done
}

pass() { IT_PASS=$((IT_PASS + 1)); }
fail() {
    IT_FAIL=$((IT_FAIL + 1))
    echo "FAIL: $*" >&2
}

# assert_eq GOT EXPECTED WHAT: equal strings; on failure print both, each on its own lines.
assert_eq() {
    if [ "$1" == "$2" ]; then
        pass
    else
        fail "$3"
        printf '  got:      %s\n' "$1" | sed '2,$s/^/            /' >&2
        printf '  expected: %s\n' "$2" | sed '2,$s/^/            /' >&2
    fi
}

# assert_in HAYSTACK NEEDLE WHAT: NEEDLE is a substring of HAYSTACK.
assert_in() {
    case "$1" in
    *"$2"*) pass ;;
    *) fail "$3: '$2' not found in: $1" ;;
    esac
}

# assert_ge GOT MIN WHAT: integer GOT >= MIN.
assert_ge() {
    if [ "$1" -ge "$2" ] 2>/dev/null; then pass; else fail "$3: got '$1', expected >= $2"; fi
}

# ta_capture DB FILE...: read captures into DB (a new or existing file), quietly. Returns the
# tool's exit status; stderr goes to $IT_TMP/capture.err.
ta_capture() {
    local db=$1 f args=()
    shift
    for f in "$@"; do args+=(-r "$f"); done
    "$TA_BIN" capture -q --db "$db" "${args[@]}" 2>"$IT_TMP/capture.err"
}

# fresh_db NAME: path of a database file that does not exist yet.
fresh_db() {
    rm -f "$IT_TMP/$1.db" "$IT_TMP/$1.db-wal" "$IT_TMP/$1.db-shm"
    echo "$IT_TMP/$1.db"
}

# sql DB QUERY: run QUERY with the sqlite3 CLI, '|' between columns, no header.
# (The ta_version()/ta_cipher() SQL functions exist only inside tlsaudit: use raw columns.)
# A busy timeout: a test may read while another reader opens the file, and the first to open a
# WAL file whose -shm is gone rebuilds it under a lock (it_pcaps reads with tlsaudit and sqlite3
# at once); without one, sqlite3 fails at once with "database is locked".
sql() {
    sqlite3 -batch -noheader -separator '|' -cmd '.timeout 10000' "$1" "$2"
}

# query DB REPORT [OPTS...]: tlsaudit query REPORT --db DB --format csv OPTS...
query() {
    local db=$1 report=$2
    shift 2
    "$TA_BIN" query "$report" --db "$db" --format csv "$@"
}

# csv_cols COLS: read CSV with a header on stdin, print the named columns (comma-separated
# list) of each row separated by tabs, in row order. Unknown column -> exit 3.
csv_cols() {
    python3 -c '
import csv, sys
cols = sys.argv[1].split(",")
rows = list(csv.reader(sys.stdin))
if not rows:
    sys.exit(0)
head = rows[0]
missing = [c for c in cols if c not in head]
if missing:
    sys.stderr.write("csv_cols: no column %s in header %s\n" % (missing, head))
    sys.exit(3)
idx = [head.index(c) for c in cols]
for r in rows[1:]:
    print("\t".join(r[i] if i < len(r) else "" for i in idx))
' "$1"
}

# csv_field COLNAME ROW: field COLNAME of data row ROW (1-based) of the CSV on stdin.
csv_field() {
    csv_cols "$1" | sed -n "${2}p"
}

# expected_rows FILE KEY: the rows of a tests/data TSV whose first column is KEY, without that
# column ('#' lines are comments).
expected_rows() {
    awk -F'\t' -v k="$2" '!/^#/ && $1 == k { sub(/^[^\t]*\t/, ""); print }' "$1"
}

# need_pcap FILE: skip the test when one of the project's captures is missing.
# start_capture DB OUTFILE ARGS...: run `tlsaudit capture --db DB ARGS...` in the background
# (its pid in cap_pid, killed at cleanup) and wait up to 5 s for its run row, which is written
# once the interface is open; dies when the capture exits first.
start_capture() {
    local db=$1 out=$2
    shift 2
    "$TA_BIN" capture --db "$db" "$@" >"$out" 2>&1 &
    cap_pid=$!
    IT_CLEANUP_PIDS+=("$cap_pid")
    for _ in $(seq 100); do
        [ "$(sql "$db" "SELECT count(*) FROM runs" 2>/dev/null)" = 1 ] && break
        kill -0 "$cap_pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$cap_pid" 2>/dev/null || die "capture did not start: $(cat "$out")"
}

# start_capture_ns NS DB OUTFILE ARGS...: start_capture inside the network namespace NS (a test
# of its own made it), through a wrapper that runs the binary under `ip netns exec`.
start_capture_ns() {
    local ns=$1 real=$TA_BIN
    shift
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns" "$TA_BIN" >"$IT_TMP/tlsaudit-ns"
    chmod +x "$IT_TMP/tlsaudit-ns"
    TA_BIN=$IT_TMP/tlsaudit-ns
    start_capture "$@"
    TA_BIN=$real
}

# stop_capture PID OUTFILE: SIGINT a running capture, give it 10 s to finish (then SIGKILL, a
# failure), and assert it exited 0 (OUTFILE, its output, is quoted in the message).
stop_capture() {
    kill -INT "$1"
    for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$1" 2>/dev/null; then
        fail "capture still running 10 s after SIGINT"
        kill -KILL "$1"
    fi
    wait "$1"
    assert_eq "$?" 0 "capture exit status after SIGINT ($(head -c 300 "$2"))"
}

need_pcap() {
    [ -s "$1" ] || skip "capture $1 not found (regenerate with: sudo pcaps/make-pcaps.sh)"
}

# need_shared: skip when the shared captures are absent.
need_shared() {
    [ -n "${TA_SHARED_PCAPS:-}" ] && [ -d "$TA_SHARED_PCAPS" ] ||
        skip "shared captures not found (TA_SHARED_PCAPS='${TA_SHARED_PCAPS:-}')"
}

# sanitizer_build: true when TA_BIN was built with ASan (TA_SANITIZE=ON).
sanitizer_build() {
    nm -C "$TA_BIN" 2>/dev/null | grep -q __asan_init || ldd "$TA_BIN" | grep -q libasan
}

# need_memcheck: skip in a sanitizer build (valgrind cannot run an ASan binary; the normal build
# runs the test); die without valgrind (scripts/install-deps.sh installs it).
need_memcheck() {
    if sanitizer_build; then
        skip "sanitizer build: valgrind cannot run an ASan binary (the normal build runs this test)"
    fi
    command -v valgrind >/dev/null || die "valgrind is needed (scripts/install-deps.sh installs it)"
}

# memcheck CHECK_NAME EXPECTED_STATUS CMD...: run CMD under memcheck; errors exit with 99.
# NONEMPTY=1 (the default) also asks for some output on stdout.
memcheck() {
    local what=$1 want=$2 rc
    shift 2
    valgrind -q --error-exitcode=99 --leak-check=no "$@" >"$IT_TMP/out" 2>"$IT_TMP/err"
    rc=$?
    if [ "$rc" = 99 ]; then
        fail "$what: memcheck found errors:"
        grep -m 12 '^==' "$IT_TMP/err" >&2
        return
    fi
    assert_eq "$rc" "$want" "$what: exit status ($(tail -n 2 "$IT_TMP/err" | tr '\n' ' '))"
    [ "${NONEMPTY:-1}" = 0 ] || assert_ge "$(wc -c <"$IT_TMP/out")" 1 "$what: prints something"
}

# it_done: the summary line and the exit status.
it_done() {
    echo "$IT_NAME: done"
    echo "$IT_PASS passed, $IT_FAIL failed"
    [ "$IT_FAIL" -eq 0 ] && [ "$IT_PASS" -gt 0 ]
    exit $?
}
