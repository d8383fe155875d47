#!/bin/sh
# cppcheck.sh - cppcheck over every C file of the project (sources, parsers, tests, fuzzers,
# bench tools) with its warning and portability checks: any finding fails (exit 1). A second
# static analyzer beside scan-build (scripts/analyze.sh): it reasons about C differently and
# has found what the other did not. A false positive is rewritten, or suppressed in place with
# a `// cppcheck-suppress ID` comment that says why. Run by scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
if ! command -v cppcheck >/dev/null; then
    echo "cppcheck.sh: cppcheck not installed (scripts/install-deps.sh)" >&2
    exit 2
fi
incs=
for d in include/*/; do incs="$incs -I $d"; done
# shellcheck disable=SC2086
cppcheck --quiet --enable=warning,portability --std=c11 --inline-suppr --error-exitcode=1 \
    -j2 $incs src dissectors fuzz bench tests
echo "cppcheck.sh: no findings"
