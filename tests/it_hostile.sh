#!/bin/bash
# it_hostile.sh - output safety on a real capture with a hostile SNI, in every format.
#
# tests/data/hostile-sni.pcap (made on loopback by tests/data/hostile-sni-make.sh: a raw TLS 1.0
# ClientHello to openssl s_server) carries the SNI  =2+5,"q'"<ESC>[31m<LF>x<FF><C3>.evil
# The capture must store those bytes as sent; then `query sessions --all` (column sni) and
# `query legacy --all` (column destinations) are checked in each format against the escaping
# rules of include/output/tlsaudit/output.h:
#   table  no raw control byte (C0 but the line ends, DEL, C1), valid UTF-8, one line per row,
#          the SNI shown as  =2+5,"q'"\x1B[31m\x0Ax\xFF\xC3.evil
#   csv    parses with python's csv module to a header and one row of the same width; the SNI
#          cell is  '=2+5,"q'"\x1B[31m<LF>x<U+FFFD><U+FFFD>.evil  (formula neutralised by the
#          leading quote, ESC shown as \x1B, the newline kept inside the quoted field, invalid
#          bytes replaced); no cell starts with = + - @ unless it is a plain number
#   json   parses with python's json module to a list of one object whose SNI is exactly the
#          raw bytes decoded as UTF-8 with each invalid byte replaced by U+FFFD (lossless
#          otherwise: the ESC and the newline come back)
#   jsonl  one line, one object, same value.
# No format may contain a raw ESC byte.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

PCAP=$TA_DATA/hostile-sni.pcap
[ -s "$PCAP" ] || die "$PCAP missing (make it with: sudo tests/data/hostile-sni-make.sh)"
db=$(fresh_db hostile)
ta_capture "$db" "$PCAP" || fail "capture of $PCAP failed: $(cat "$IT_TMP/capture.err")"
# hex of  =2+5,"q'"  ESC [31m  LF  x  FF C3  .evil
SNI_HEX=3D322B352C227127221B5B33316D0A78FFC32E6576696C
assert_eq "$(sql "$db" "SELECT hex(CAST(sni AS BLOB)), version, established FROM handshakes")" \
    "$SNI_HEX|769|1" "the SNI is stored as the bytes sent (TLS 1.0, established)"

check() { # REPORT COLUMN FORMAT FILE: the python checker below
    python3 - "$@" <<'PY'
import csv, io, json, sys

report, col, fmt, path = sys.argv[1:5]
raw = bytes.fromhex(sys.argv[5])
data = open(path, "rb").read()
errors = []

def need(cond, what):
    if not cond:
        errors.append(what)

need(b"\x1b" not in data, "raw ESC byte in the output")
if fmt == "table":
    bad = sorted({b for b in data if (b < 0x20 and b != 0x0a) or b == 0x7f})
    need(not bad, "raw control bytes %s" % [hex(b) for b in bad])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        text = ""
        need(False, "not valid UTF-8: %s" % e)
    need(not any(0x80 <= ord(c) <= 0x9f for c in text), "C1 control in the output")
    lines = text.split("\n")
    need(lines[-1] == "" and len(lines) == 4, "expected header, rule and 1 row, got %d lines" % (len(lines) - 1))
    shown = '=2+5,"q\'"\\x1B[31m\\x0Ax\\xFF\\xC3.evil'
    need(len(lines) > 2 and shown in lines[2], "row does not show %r: %r" % (shown, lines[2:3]))
elif fmt == "csv":
    text = data.decode("utf-8")  # must be valid UTF-8
    rows = list(csv.reader(io.StringIO(text, newline="")))
    need(len(rows) == 2, "expected header + 1 row, got %d records" % len(rows))
    need(all(len(r) == len(rows[0]) for r in rows), "records of different widths")
    cell = rows[1][rows[0].index(col)] if len(rows) == 2 else None
    want = "'" + '=2+5,"q\'"\\x1B[31m\nx\ufffd\ufffd.evil'
    need(cell == want, "%s cell %r, expected %r" % (col, cell, want))
    for r in rows[1:]:
        for c in r:
            if c[:1] in ("=", "+", "-", "@"):
                try:
                    float(c)
                except ValueError:
                    need(False, "cell starts with a formula character: %r" % c)
elif fmt in ("json", "jsonl"):
    text = data.decode("utf-8")
    if fmt == "json":
        objs = json.loads(text)
        need(isinstance(objs, list), "JSON is not an array")
    else:
        objs = [json.loads(l) for l in text.split("\n") if l]
    need(len(objs) == 1, "expected 1 object, got %d" % len(objs))
    want = raw.decode("utf-8", "replace")
    got = objs[0].get(col) if objs else None
    need(got == want, "%s %r, expected %r" % (col, got, want))
for e in errors:
    print("  %s %s: %s" % (report, fmt, e))
sys.exit(1 if errors else 0)
PY
}

for spec in sessions:sni legacy:destinations; do
    report=${spec%%:*}
    col=${spec#*:}
    for fmt in table csv json jsonl; do
        out=$IT_TMP/$report.$fmt
        if ! "$TA_BIN" query "$report" --all --db "$db" --format "$fmt" >"$out" 2>"$IT_TMP/q.err"; then
            fail "query $report --format $fmt failed: $(cat "$IT_TMP/q.err")"
            continue
        fi
        if check "$report" "$col" "$fmt" "$out" "$SNI_HEX"; then
            pass
        else
            fail "query $report --format $fmt: output not safe (see above)"
        fi
    done
done
it_done
