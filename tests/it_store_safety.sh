#!/bin/bash
# it_store_safety.sh - the database survives what a sensor meets: kill -9 at random moments
# (repeated), two captures writing one database at once, a read-only database, a full disk, a
# disk that fills during a run and has room again before it ends.
. "$(dirname "$0")/lib.sh"
BIN=$TA_BIN
TRIALS=${TA_KILL_TRIALS:-25}

shopt -s nullglob
inputs=("$TA_SRC"/pcaps/*.pcap "$TA_SHARED_PCAPS"/flowtest__tls1*.pcap "$TA_SHARED_PCAPS"/zeek__*.pcap)
if [ ${#inputs[@]} -lt 3 ]; then
    skip "not enough captures (pcaps/ or shared) to exercise the store"
fi
tmp=$IT_TMP
trap '[ -n "${mnt:-}" ] && umount "$mnt" 2>/dev/null; it_cleanup' EXIT
args=()
for round in 1 2 3 4 5 6; do
    for f in "${inputs[@]}"; do
        case "$f" in *incomplete-header*) continue ;; esac
        args+=(-r "$f")
    done
done
args=("${args[@]:0:500}")

# A database made beforehand (run 1: one small capture), so that the trials kill the run being
# read and not the creation of the file (creating and migrating a new file is atomic, and takes
# longer as schema files are added: a kill there proves nothing about the run).
"$BIN" capture -q --db "$tmp/tmpl.db" -r "$TA_SRC/pcaps/tls12.pcap" || fail "template run failed"
# Reference run into a copy of it.
cp "$tmp/tmpl.db" "$tmp/ref.db"
t0=$(date +%s%N)
"$BIN" capture -q --db "$tmp/ref.db" "${args[@]}" || fail "reference run failed"
ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ref_ms" -ge 20 ] || ref_ms=20
ref=$(sqlite3 "$tmp/ref.db" "select count(*) from handshakes where run_id > 1")

# kill -9 at random moments: integrity always ok, the run row marked unclean unless it finished.
corrupt=0 unclean=0
RANDOM=42
for i in $(seq 1 "$TRIALS"); do
    db="$tmp/k$i.db"
    cp "$tmp/tmpl.db" "$db"
    "$BIN" capture -q --db "$db" "${args[@]}" & pid=$!
    # a moment inside the run: the input takes ref_ms to read
    ms=$((RANDOM % (ref_ms * 9 / 10) + 1))
    sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -e "$db" ] || continue
    ic=$(sqlite3 "$db" "pragma integrity_check" 2>&1)
    [ "$ic" = ok ] || { corrupt=$((corrupt + 1)); echo "trial $i: $ic" >&2; }
    st=$(sqlite3 "$db" "select count(*), sum(clean = 0 and ended is null) from runs where id > 1" 2>/dev/null)
    n=$(sqlite3 "$db" "select count(*) from handshakes where run_id > 1" 2>/dev/null || echo -1)
    [ "$n" -le "$ref" ] || fail "trial $i: more rows ($n) than the whole input ($ref)"
    case "$st" in 1\|1) unclean=$((unclean + 1)) ;; 1\|0) ;; 0\|*) ;; *) fail "trial $i: run rows '$st'" ;; esac
    # a killed database is still readable by the query tool
    "$BIN" query sessions --db "$db" --all --format csv >/dev/null 2>&1 || fail "trial $i: query failed after kill"
done
assert_eq "$corrupt" 0 "corrupt databases after $TRIALS kill -9 trials"
echo "kill -9: $TRIALS trials, $corrupt corrupt, $unclean runs left marked unclean"
[ "$unclean" -gt 0 ] && pass || fail "no trial was killed mid-run (input too small to test)"

# Two captures writing one database at once: both succeed, every row is there.
"$BIN" capture -q --db "$tmp/two.db" "${args[@]}" & p1=$!
"$BIN" capture -q --db "$tmp/two.db" "${args[@]}" & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
assert_eq "$r1$r2" "00" "two concurrent writers exit status"
assert_eq "$(sqlite3 "$tmp/two.db" 'select count(*) from handshakes')" "$((2 * ref))" "rows of two concurrent writers"
assert_eq "$(sqlite3 "$tmp/two.db" 'select count(*) from runs where clean = 1')" 2 "two clean runs"

# File modes: database created 0640 or tighter.
mode=$(stat -c %a "$tmp/ref.db")
case "$mode" in 640|600|620|400|440) pass ;; *) fail "database mode $mode is wider than 0640" ;; esac

# A database the user cannot write: a clear error, no crash (needs root to switch user).
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
    cp "$tmp/ref.db" "$tmp/ro.db"; chmod 0644 "$tmp/ro.db"; chmod 0755 "$tmp"
    out=$(runuser -u nobody -- "$BIN" capture -q --db "$tmp/ro.db" -r "${inputs[0]}" 2>&1); rc=$?
    assert_eq "$rc" 1 "read-only database exit status"
    case "$out" in *ro.db*) pass ;; *) fail "read-only database message does not name it: $out" ;; esac
    assert_eq "$(sqlite3 "$tmp/ro.db" 'pragma integrity_check')" ok "read-only database untouched"
fi

# A full disk: a 320 KiB tmpfs fills up (the empty schema 004 database takes ~180 KiB); a clear error, no crash, the database stays consistent.
mnt="$tmp/full"
mkdir -p "$mnt"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=320k tmpfs "$mnt" 2>/dev/null; then
    out=$("$BIN" capture -q --db "$mnt/full.db" "${args[@]}" 2>&1); rc=$?
    [ "$rc" -ne 0 ] && pass || fail "full disk not reported (exit 0)"
    case "$out" in *full*|*space*) pass ;; *) fail "full disk message unclear: $out" ;; esac
    [ "$rc" -lt 128 ] && pass || fail "full disk crashed the capture (status $rc)"
    # Every later write fails too: one line says so, and the lost rows are counted, not hidden.
    assert_eq "$(printf '%s\n' "$out" | grep -c 'cannot write')" 1 "full disk: write failure logged once"
    case "$out" in *"could not be"*) pass ;; *) fail "full disk: lost rows not reported: $out" ;; esac
    ic=$(sqlite3 "$mnt/full.db" "pragma integrity_check" 2>&1)
    assert_eq "$ic" ok "database on the full disk passes integrity_check"
    umount "$mnt"; mnt=""
else
    echo "SKIPPED (part): cannot mount a small tmpfs for the disk-full check (not root?)"
    mnt=""
fi

# A disk that fills during a run and has room again before it ends (a sensor's disk cleaned up by
# hand): the batches written meanwhile are lost, and the run must say so (exit 1, a count, the
# run row's error) even though its last commit succeeds; it also goes on storing afterwards. The
# capture reads a generated month through a pipe in three parts: the disk fills once the first
# part's rows are in the file, and is freed once the capture has said it cannot write.
mnt="$tmp/fills"
mkdir -p "$mnt"
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=24m tmpfs "$mnt" 2>/dev/null; then
    # shellcheck source=tests/inv_lib.sh
    . "$(dirname "$0")/inv_lib.sh"
    gen=$(build_gen) || die "cannot build bench/gen.c: $(head -c 300 "$IT_TMP/gen.err")"
    "$gen" --shape handshake --hs-share 1 --bytes 40000000 --clients 800 --days 30 --dns 0 \
        --out "$tmp/fills.pcap" "$TA_SRC"/pcaps/*.pcap >/dev/null || die "generator failed"
    python3 - "$tmp/fills.pcap" "$tmp/fills" <<'PY' || die "cannot split the capture"
import struct, sys
d = open(sys.argv[1], 'rb').read()
pos, starts = 24, []
while pos + 16 <= len(d):
    starts.append(pos)
    pos += 16 + struct.unpack('<I', d[pos + 8:pos + 12])[0]
a, b = starts[len(starts) // 3], starts[2 * len(starts) // 3]
for i, part in enumerate((d[:a], d[a:b], d[b:])):
    open('%s.%d' % (sys.argv[2], i + 1), 'wb').write(part)
PY
    db="$mnt/fills.db"
    # a capture that cannot even create its journal on a full disk: the system's reason is said
    "$BIN" capture -q --db "$db" -r "$TA_SRC/pcaps/tls12.pcap" || fail "capture into the empty tmpfs"
    dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
    out=$("$BIN" capture -q --db "$db" -r "$TA_SRC/pcaps/tls12.pcap" 2>&1); rc=$?
    assert_eq "$rc" 1 "full disk at open: the capture fails"
    case "$out" in *"No space left on device"*) pass ;;
        *) fail "full disk at open: the system's reason is missing: $out" ;; esac
    rm -f "$mnt/filler"
    mkfifo "$tmp/fills.fifo"
    "$BIN" capture --db "$db" -r - <"$tmp/fills.fifo" >"$tmp/fills.out" 2>"$tmp/fills.err" &
    cpid=$!
    exec 7>"$tmp/fills.fifo"
    cat "$tmp/fills.1" >&7
    # events, not times: each wait ends as soon as what it waits for is there (a minute at most)
    rows=0
    for _ in $(seq 240); do
        rows=$(sqlite3 "$db" "SELECT count(*) FROM handshakes" 2>/dev/null || echo 0)
        [ "${rows:-0}" -gt 0 ] && break
        sleep 0.25
    done
    assert_ge "$rows" 1 "disk that fills: the first part's rows are in the file"
    dd if=/dev/zero of="$mnt/filler" bs=64k 2>/dev/null
    cat "$tmp/fills.2" >&7
    for _ in $(seq 240); do
        grep -q "cannot write" "$tmp/fills.err" && break
        sleep 0.25
    done
    grep -q "cannot write" "$tmp/fills.err" && pass || fail "full disk not said: $(cat "$tmp/fills.err")"
    rm -f "$mnt/filler"
    cat "$tmp/fills.3" >&7
    exec 7>&-
    wait "$cpid"; rc=$?
    seen=$(sed -n 's/.* flows, \([0-9]*\) handshakes,.*/\1/p' "$tmp/fills.err")  # the summary line
    stored=$(sql "$db" "SELECT count(*) FROM handshakes WHERE run_id = (SELECT max(id) FROM runs)")
    assert_ge "$seen" 3000 "disk that fills: handshakes seen"
    echo "disk that fills: $stored of $seen handshakes stored, exit $rc"
    assert_ge "$(sql "$db" "SELECT count(*) FROM handshakes WHERE ts_us >= (SELECT max(ts_us) FROM
        handshakes) - 86400000000")" 1 "disk that fills: rows stored after the disk had room again"
    if [ "$stored" -lt "$seen" ]; then
        assert_eq "$rc" 1 "disk that fills: lost rows fail the run ($stored of $seen stored)"
        lost=$(sed -n 's/.*: \([0-9]*\) rows (records, DNS answers) could not be committed.*/\1/p' \
            "$tmp/fills.err")
        assert_ge "${lost:-0}" $((seen - stored)) "disk that fills: the lost rows are counted"
        case "$(sql "$db" "SELECT error FROM runs ORDER BY id DESC LIMIT 1")" in
            *"could not be committed"*) pass ;;
            *) fail "disk that fills: the run row does not say rows were lost" ;;
        esac
    else
        assert_eq "$rc" 0 "disk that fills: nothing lost, the run succeeds"
    fi
    assert_eq "$(inv_mismatch "$db")" "0 0 0" "disk that fills: inventory = pruned + retained rows"
    assert_eq "$(sql "$db" "PRAGMA integrity_check")" ok "disk that fills: integrity_check"
    umount "$mnt"; mnt=""
else
    echo "SKIPPED (part): cannot mount a tmpfs for the disk that fills (not root?)"
    mnt=""
fi

it_done
