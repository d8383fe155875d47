#!/bin/sh
# analyze.sh [BUILD_DIR] - the clang static analyzer (scan-build) over every target: the
# library, the binary, the tests and the fuzz targets. Fails when it reports anything; the HTML
# reports are kept in BUILD_DIR/scan-build (open index.html). Run by scripts/test.sh.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build-analyze}
command -v scan-build >/dev/null || { echo "analyze.sh: scan-build not found (clang-tools)" >&2; exit 2; }
# A fresh tree: scan-build reports only what it compiles. Only a build directory is emptied:
# one with a CMakeCache.txt, and no sources or repository of its own.
if [ -e "$dir" ]; then
    if [ ! -f "$dir/CMakeCache.txt" ] || [ -e "$dir/CMakeLists.txt" ] || [ -e "$dir/.git" ]; then
        echo "analyze.sh: $dir is not a build directory (no CMakeCache.txt, or a source tree): not emptied" >&2
        exit 2
    fi
    rm -rf "$dir"
fi
scan-build -o "$dir/scan-build" cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug >/dev/null
scan-build -o "$dir/scan-build" --status-bugs make -C "$dir" -j"$(nproc)" >"$dir/make.log" 2>&1 || {
    grep -E 'warning:|bugs found' "$dir/make.log" | sort -u >&2
    echo "analyze.sh: scan-build found problems (reports in $dir/scan-build)" >&2
    exit 1
}
echo "analyze.sh: scan-build: no bugs found"
