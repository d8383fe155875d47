#!/bin/bash
# it_analyze_guard.sh - scripts/analyze.sh empties its build directory before scan-build (which
# reports only what it compiles), so it must empty nothing else: given the checkout, a source
# folder, .. or any folder without a CMakeCache.txt, it refuses (exit 2) and leaves it whole. An
# earlier version emptied whatever it was given, the checkout included.
# Run on a copy: a tree of its own in the test's folder holding the script, a CMakeLists.txt and
# files that must survive; the real checkout is never given to it.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

command -v scan-build >/dev/null || die "scan-build is needed (clang-tools, scripts/install-deps.sh)"
tree=$IT_TMP/tree
mkdir -p "$tree/scripts" "$tree/src" "$IT_TMP/other"
cp "$TA_SRC/scripts/analyze.sh" "$tree/scripts/"
echo 'project(x C)' >"$tree/CMakeLists.txt"
echo keep >"$tree/src/keep.c"
echo keep >"$IT_TMP/other/keep"
mkdir -p "$tree/.git" && echo keep >"$tree/.git/HEAD"

# refused DIR WHAT: the script refuses DIR (as given, from the tree's root) and nothing goes.
refused() {
    local out rc
    out=$(cd / && sh "$tree/scripts/analyze.sh" "$1" 2>&1)
    rc=$?
    assert_eq "$rc" 2 "$2: refused (exit 2): $out"
    assert_in "$out" "not a build directory" "$2: says why"
    [ -f "$tree/CMakeLists.txt" ] && [ -f "$tree/src/keep.c" ] && [ -f "$tree/.git/HEAD" ] &&
        [ -f "$IT_TMP/other/keep" ] && pass || fail "$2: a file is gone"
}
refused . "the checkout as ."
refused "$tree" "the checkout by its path"
refused src "a source folder"
refused .. "the folder above"
refused "$IT_TMP/other" "a folder without a CMakeCache.txt"
touch "$tree/CMakeCache.txt"     # an in-source build: still the source tree
refused . "a checkout with an in-source CMakeCache.txt"
rm "$tree/CMakeCache.txt"

# A build directory (a CMakeCache.txt, no sources) is emptied; scan-build then fails on this
# toy tree, which is not the point here.
mkdir -p "$tree/build-analyze" && touch "$tree/build-analyze/CMakeCache.txt" "$tree/build-analyze/old.o"
(cd / && sh "$tree/scripts/analyze.sh" >/dev/null 2>&1)
[ ! -e "$tree/build-analyze/old.o" ] && pass || fail "the build directory was not emptied"
[ -f "$tree/src/keep.c" ] && pass || fail "emptying the build directory took a source file"
it_done
