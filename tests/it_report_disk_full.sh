#!/bin/bash
# it_report_disk_full.sh - `tlsaudit report --out FILE` on a full disk: a clear error (exit 2,
# the system's reason), the earlier report at FILE left whole, no partial or temporary file
# behind; and on a disk with room, the file replaced whole with the usual permissions. The
# full disk is a small tmpfs the test mounts (root); without it the test skips.
. "$(dirname "$0")/lib.sh"
db=$(fresh_db r)
ta_capture "$db" "$TA_PCAPS"/*.pcap || die "capture: $(cat "$IT_TMP/capture.err")"

# with room: written whole, mode 0666 less the umask, nothing else left
(umask 022; "$TA_BIN" report --db "$db" --out "$IT_TMP/ok.html") || fail "report --out"
assert_eq "$(stat -c %a "$IT_TMP/ok.html")" 644 "the report file gets 0666 less the umask"
assert_in "$(tail -c 20 "$IT_TMP/ok.html")" "</html>" "and is complete"
assert_eq "$(ls "$IT_TMP" | grep -c '\.tmp\.')" 0 "no temporary file left"

mnt=$IT_TMP/full
mkdir -p "$mnt"
[ "$(id -u)" = 0 ] && mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null ||
    skip "cannot mount a small tmpfs for the disk-full check (needs root)"
trap 'umount "$mnt" 2>/dev/null; it_cleanup' EXIT
printf 'the report of last week\n' >"$mnt/report.html"
dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null   # fill the rest
out=$("$TA_BIN" report --db "$db" --out "$mnt/report.html" 2>&1)
assert_eq "$?" 2 "report --out on a full disk: exit 2"
assert_in "$out" "No space left on device" "the reason is given"
assert_in "$out" "any earlier file is unchanged" "and what became of the file"
assert_eq "$(cat "$mnt/report.html")" "the report of last week" "the earlier report is whole"
assert_eq "$(ls -A "$mnt" | sort | tr '\n' ' ')" "filler report.html " "no partial or temporary file"
it_done
