#!/bin/bash
# it_golden.sh - golden-output tests in the tcpdump TESTLIST manner: every capture of pcaps/ and of
# the shared corpus ($TA_SHARED_PCAPS) is read into a fresh database, and the whole
# `tlsaudit query sessions --format csv` output is compared with its committed expected file
# tests/golden/<name>.csv, so any change of behaviour shows up as a reviewed diff.
#
# tests/golden/TESTLIST has one line per test: NAME CAPTURE [OPTION...] EXPECTED (see
# tests/golden/README.md). A capture of either folder without a line fails the test, so a new
# capture gets its golden file; a line whose capture is gone fails too, and so does a .csv in
# tests/golden/ that no line names. Without the shared corpus its lines are skipped, loudly,
# and the project's half still runs.
#
# TA_GOLDEN_UPDATE=1 rewrites the expected files (and adds a line for every uncovered capture)
# instead of comparing: review the diff, then commit it.
#
# No column is left out: every column of `query sessions` comes from the capture (the time is the
# ClientHello's packet time, the Office 365 columns come from the built-in endpoint list), none
# from the run (run id, row id and the run's wall clock are not in the report). Rows are in the
# report's own order (ORDER BY ts_us, id), except among rows of the same time: see
# ties_in_text_order.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

GOLDEN=$TA_SRC/tests/golden
TESTLIST=$GOLDEN/TESTLIST
[ -s "$TESTLIST" ] || die "$TESTLIST missing"
UPDATE=${TA_GOLDEN_UPDATE:-}
[ "$UPDATE" = "" ] || [ "$UPDATE" = 0 ] || [ "$UPDATE" = 1 ] || die "TA_GOLDEN_UPDATE must be 1 (or unset)"
[ "$UPDATE" = 1 ] || UPDATE=""
DIFF_LINES=${TA_GOLDEN_DIFF_LINES:-200}   # longest diff printed per capture

SHARED=""
if [ -n "${TA_SHARED_PCAPS:-}" ] && [ -d "$TA_SHARED_PCAPS" ]; then
    SHARED=$TA_SHARED_PCAPS
fi

n_ok=0 n_diff=0 n_err=0 n_skip=0 n_upd=0
declare -A seen_name=() covered=() named_csv=()

# capture_path CAPTURE: the file a TESTLIST capture field names ("" for a shared one without the
# corpus).
capture_path() {
    case "$1" in
    shared:*) [ -n "$SHARED" ] && echo "$SHARED/${1#shared:}" ;;
    *) echo "$TA_PCAPS/$1" ;;
    esac
}

# ties_in_text_order: copy the CSV on stdin (header first) to stdout unchanged, except that rows
# next to each other with the same time (first column) are put in the order of their bytes. The report orders rows
# by time, then by row id; rows of one microsecond are those the engine flushed together (at the
# end of the capture, say), and their ids follow the flow table's walk, an implementation detail
# that a refactoring may change without changing what is reported. Records are split by the CSV
# rule (a newline inside a quoted cell does not end a record), never re-quoted.
ties_in_text_order() {
    python3 -c '
import sys
data = sys.stdin.buffer.read()
recs, start, quoted = [], 0, False
for i, b in enumerate(data):
    if b == 0x22:
        quoted = not quoted
    elif b == 0x0A and not quoted:
        recs.append(data[start:i + 1])
        start = i + 1
if start < len(data):
    sys.exit("last record has no newline")
if quoted:
    sys.exit("unterminated quoted cell")
out, group = recs[:1], []
for r in recs[1:] + [None]:
    if group and (r is None or r.split(b",", 1)[0] != group[0].split(b",", 1)[0]):
        out += sorted(group)
        group = []
    if r is not None:
        group.append(r)
sys.stdout.buffer.write(b"".join(out))
'
}

# run_one NAME CAPTURE EXPECTED [OPTION...]: capture into a fresh database, query, compare (or
# update). One line of output per test, plus the diff on a mismatch.
run_one() {
    local name=$1 cap=$2 exp=$3 file db got rc want_rc=0 opt args=()
    shift 3
    for opt in "$@"; do
        case "$opt" in
        exit=*) want_rc=${opt#exit=} ;;
        *) args+=("$opt") ;;
        esac
    done
    file=$(capture_path "$cap")
    if [ -z "$file" ]; then
        n_skip=$((n_skip + 1))
        echo "skip $name (no shared corpus)"
        return
    fi
    if [ ! -s "$file" ]; then
        n_err=$((n_err + 1))
        fail "$name: capture $file missing (remove its TESTLIST line, or restore it)"
        return
    fi
    db=$(fresh_db "g")
    "$TA_BIN" capture -q --db "$db" "${args[@]}" -r "$file" 2>"$IT_TMP/capture.err"
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        n_err=$((n_err + 1))
        fail "$name: capture exit status $rc, expected $want_rc: $(head -c 400 "$IT_TMP/capture.err")"
        return
    fi
    got=$IT_TMP/got.csv
    if ! "$TA_BIN" query sessions --db "$db" --format csv >"$IT_TMP/raw.csv" 2>"$IT_TMP/query.err"; then
        n_err=$((n_err + 1))
        fail "$name: query sessions failed: $(head -c 400 "$IT_TMP/query.err")"
        return
    fi
    ties_in_text_order <"$IT_TMP/raw.csv" >"$got" || die "$name: cannot reorder the CSV rows"
    local rows=$(($(wc -l <"$got") - 1))
    if [ -n "$UPDATE" ]; then
        if [ -f "$GOLDEN/$exp" ] && cmp -s "$got" "$GOLDEN/$exp"; then
            echo "ok   $name ($rows rows, unchanged)"
            n_ok=$((n_ok + 1))
        else
            cp "$got" "$GOLDEN/$exp"
            echo "UPD  $name ($rows rows) -> tests/golden/$exp"
            n_upd=$((n_upd + 1))
        fi
        pass
        return
    fi
    if [ ! -f "$GOLDEN/$exp" ]; then
        n_diff=$((n_diff + 1))
        fail "$name: expected file tests/golden/$exp missing (make it with TA_GOLDEN_UPDATE=1)"
        return
    fi
    if cmp -s "$got" "$GOLDEN/$exp"; then
        echo "ok   $name ($rows rows)"
        n_ok=$((n_ok + 1))
        pass
        return
    fi
    n_diff=$((n_diff + 1))
    fail "$name: query sessions output differs from tests/golden/$exp"
    diff -u --label "tests/golden/$exp" --label "$name (this build)" "$GOLDEN/$exp" "$got" >"$IT_TMP/d"
    head -n "$DIFF_LINES" "$IT_TMP/d"
    local total
    total=$(wc -l <"$IT_TMP/d")
    [ "$total" -le "$DIFF_LINES" ] ||
        echo "... $((total - DIFF_LINES)) more diff lines (TA_GOLDEN_DIFF_LINES=N shows more)"
}

# The TESTLIST, line by line.
lineno=0
while read -r -a f; do
    lineno=$((lineno + 1))
    [ "${#f[@]}" -eq 0 ] && continue
    case "${f[0]}" in '#'*) continue ;; esac
    if [ "${#f[@]}" -lt 3 ]; then
        fail "TESTLIST line $lineno: want NAME CAPTURE [OPTION...] EXPECTED, got: ${f[*]}"
        continue
    fi
    name=${f[0]} cap=${f[1]} exp=${f[${#f[@]} - 1]}
    opts=("${f[@]:2:${#f[@]}-3}")
    if [ -n "${seen_name[$name]:-}" ]; then
        fail "TESTLIST line $lineno: name $name used twice"
        continue
    fi
    if [ "$exp" != "$name.csv" ]; then
        fail "TESTLIST line $lineno: expected file must be $name.csv, got $exp"
        continue
    fi
    seen_name[$name]=1
    covered[$cap]=1
    named_csv[$exp]=1
    run_one "$name" "$cap" "$exp" "${opts[@]}"
done <"$TESTLIST"

# Every capture of both folders has a line (update mode adds the missing ones).
uncovered=()
for file in "$TA_PCAPS"/*.pcap "$TA_PCAPS"/*.pcapng; do
    [ -e "$file" ] || continue
    base=$(basename "$file")
    [ -n "${covered[$base]:-}" ] || uncovered+=("$base")
done
if [ -n "$SHARED" ]; then
    for file in "$SHARED"/*.pcap "$SHARED"/*.pcapng; do
        [ -e "$file" ] || continue
        base=$(basename "$file")
        [ -n "${covered[shared:$base]:-}" ] || uncovered+=("shared:$base")
    done
fi
for cap in "${uncovered[@]}"; do
    base=${cap#shared:}
    name=${base%.*}
    if [ -n "$UPDATE" ]; then
        [ -z "${seen_name[$name]:-}" ] || die "new capture $cap: name $name already used in TESTLIST"
        printf '%s\t%s\t%s\n' "$name" "$cap" "$name.csv" >>"$TESTLIST"
        echo "NEW  $name: line added to tests/golden/TESTLIST"
        seen_name[$name]=1
        named_csv[$name.csv]=1
        run_one "$name" "$cap" "$name.csv"
    else
        fail "$cap has no line in tests/golden/TESTLIST (add one with TA_GOLDEN_UPDATE=1)"
    fi
done

# Every expected file belongs to a line (a renamed test leaves no stale file behind).
for file in "$GOLDEN"/*.csv; do
    [ -e "$file" ] || continue
    base=$(basename "$file")
    [ -n "${named_csv[$base]:-}" ] || fail "tests/golden/$base is named by no TESTLIST line (delete it?)"
done

if [ -z "$SHARED" ]; then
    echo "=================================================================="
    echo "SKIPPED: $IT_NAME: $n_skip shared captures (TA_SHARED_PCAPS='${TA_SHARED_PCAPS:-}' absent);"
    echo "         only the project's captures were compared"
    echo "=================================================================="
fi
echo "golden: $((n_ok + n_diff + n_err + n_upd + n_skip)) tests: $n_ok match, $n_diff differ," \
    "$n_err failed to run, $n_upd updated, $n_skip skipped; ${#uncovered[@]} without a TESTLIST line"
[ -z "$UPDATE" ] || [ "$n_upd" -eq 0 ] ||
    echo "golden: $n_upd expected files rewritten: review them with 'git diff tests/golden', commit them"
it_done
