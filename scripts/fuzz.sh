#!/bin/sh
# fuzz.sh [SECONDS] [TARGET...] - build the libFuzzer targets with clang (-DTA_FUZZ=ON, ASan +
# UBSan, into build-fuzz) and run each for SECONDS (default 60) over a copy of its seed corpus
# fuzz/corpus/<target>/ (the copy grows; the committed corpus does not). Fails when any target
# crashes, leaks, times out or runs out of memory: the reproducer is left in
# build-fuzz/fuzz-out/<target>/ and the log in build-fuzz/fuzz-out/<target>.log.
# Env: TA_FUZZ_BUILD (default build-fuzz), TA_FUZZ_JOBS (targets run at once, default nproc).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-"tls packet stream mail dns endpoints quic pcapng"}
build=${TA_FUZZ_BUILD:-build-fuzz}
jobs=${TA_FUZZ_JOBS:-$(nproc)}
command -v clang >/dev/null || { echo "fuzz.sh: clang not found" >&2; exit 1; }
CC=clang cmake -S . -B "$build" -DTA_FUZZ=ON -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
for t in $targets; do
    cmake --build "$build" -j"$(nproc)" --target "fuzz_$t"
done
out=$build/fuzz-out
mkdir -p "$out"

# Run one target; writes $out/<t>.rc with its exit status.
run_one() {
    t=$1
    rm -rf "${out:?}/$t" "${out:?}/$t.corpus"
    mkdir -p "$out/$t" "$out/$t.corpus"
    cp fuzz/corpus/"$t"/* "$out/$t.corpus/"
    rc=0
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$out/$t/" "$out/$t.corpus" \
        >"$out/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$out/$t.rc"
}

pids=""
n=0
for t in $targets; do
    run_one "$t" &
    pids="$pids $!"
    n=$((n + 1))
    if [ "$n" -ge "$jobs" ]; then
        wait
        n=0
    fi
done
wait

status=0
for t in $targets; do
    rc=$(cat "$out/$t.rc")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$out/$t.log" | tail -1)
    if [ "$rc" = 0 ]; then
        echo "fuzz_$t: ok, ${execs:-?} execs in ${secs}s, ${cov:-cov: ?}"
    else
        echo "fuzz_$t: FAILED (exit $rc), see $out/$t.log; reproducer in $out/$t/:" >&2
        ls "$out/$t" >&2
        grep -m3 -E 'ERROR|SUMMARY|runtime error' "$out/$t.log" >&2 || true
        status=1
    fi
done
exit $status
