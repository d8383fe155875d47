#!/bin/sh
# build.sh [BUILD_DIR] [extra cmake args...] - configure and build tlsaudit (warnings are errors).
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
[ $# -gt 0 ] && shift
cmake -S . -B "$dir" -DTA_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
