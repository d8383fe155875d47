#!/bin/bash
# it_memcheck_shared.sh - the capture of every file of the shared corpus (../shared/pcaps, pcap
# and pcapng) under valgrind's memcheck: no error reported, and the exit status the same run
# has without valgrind (a few files are cut or malformed, and stop with an error: that must
# not change). The bundled captures and the readers: it_memcheck.sh. Skipped without the
# shared corpus, and in sanitizer builds.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

need_shared
need_memcheck
n=0
for f in "$TA_SHARED_PCAPS"/*.pcap "$TA_SHARED_PCAPS"/*.pcapng; do
    [ -e "$f" ] || continue
    "$TA_BIN" capture -q --db "$(fresh_db plain)" -r "$f" 2>/dev/null
    want=$?
    NONEMPTY=0 memcheck "capture of ${f##*/}" "$want" \
        "$TA_BIN" capture -q --db "$(fresh_db one)" -r "$f"
    n=$((n + 1))
done
assert_ge "$n" 60 "shared captures read (SOURCES.tsv lists 80)"
it_done
