#!/bin/sh
# test.sh - build and run the whole test suite: a normal build (warnings are errors), the clang
# static analyzer and cppcheck, then the same suite under AddressSanitizer +
# UndefinedBehaviorSanitizer, then short fuzz runs.
set -eu
cd "$(dirname "$0")/.."
status=0
# skipped DIR: ctest prints no output of a skipped test; say why each one skipped.
skipped() {
    grep -h '^SKIPPED: ' "$1/Testing/Temporary/LastTest.log" 2>/dev/null | sed "s|^|$1: |" || true
}
sh scripts/build.sh build
(cd build && ctest --output-on-failure -j2) || status=1
skipped build
# scan-build over every target and cppcheck over every C file; TA_SKIP_ANALYZE=1 skips both.
if [ "${TA_SKIP_ANALYZE:-0}" != 1 ]; then
    sh scripts/analyze.sh build-analyze || status=1
    sh scripts/cppcheck.sh || status=1
fi
if [ "${TA_SKIP_ASAN:-0}" != 1 ]; then
    sh scripts/build.sh build-asan -DTA_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
    (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j2) || status=1
    skipped build-asan
    # Short libFuzzer runs (clang, ASan + UBSan) of every fuzz target: TA_FUZZ_SECONDS each
    # (default 30, two at a time; 0 skips). Longer runs by hand: sh scripts/fuzz.sh 600.
    if [ "${TA_FUZZ_SECONDS:-30}" != 0 ]; then
        TA_FUZZ_JOBS=2 sh scripts/fuzz.sh "${TA_FUZZ_SECONDS:-30}" || status=1
    fi
fi
exit $status
