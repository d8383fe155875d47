#!/bin/bash
# it_err_escape.sh - the error messages of status, query, report, export, sync, endpoints and the
# command dispatcher print what they quote as text, never as terminal controls.
#
# A database path, a file name or an argument may hold an escape sequence and a newline (copied
# from elsewhere, made by a script), and SQLite's and libpq's messages quote them back. Each
# command below fails on such a name, the same three ways: a folder that does not exist, a file
# that is not a database, and a real database whose runs table was dropped (the path comes back
# in the message with SQLite's own). Every message must exit non-zero, show ESC as \x1B and the
# newline as \x0A (the name stays on the line that says what failed), and no raw ESC may reach
# standard error; status's "not running" line for a database that does not exist (standard
# output) escapes the name the same way. So do capture's messages of a refused option, user or
# config file, and status's line of a run whose times in the file hold controls. Central reads (postgresql:// names) are checked without a server: the refused
# connection's libpq message quotes the socket folder.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

need_pcap "$TA_PCAPS/tls10.pcap"
bad=$'\e[31m\n'        # what every hostile name below carries
shown='\x1B[31m\x0A'   # ... and how a message must show it
missing="$IT_TMP/no${bad}such/x.db"
text="$IT_TMP/text${bad}file.db"
printf 'not a database, a text file of some length\n' >"$text"
norun="$IT_TMP/runs${bad}dropped.db"
ta_capture "$norun" "$TA_PCAPS/tls10.pcap" || die "capture: $(cat "$IT_TMP/capture.err")"
good=$(fresh_db good)
cp "$norun" "$good"
sql "$norun" "DROP TABLE runs" || die "cannot drop the runs table of $norun"

# check_err WHAT WANT ARGS...: `tlsaudit ARGS...` exits non-zero, its standard error holds WANT
# and no ESC byte.
check_err() {
    local what=$1 want=$2 rc
    shift 2
    "$TA_BIN" "$@" >"$IT_TMP/stdout" 2>"$IT_TMP/stderr"
    rc=$?
    if [ "$rc" -ne 0 ]; then pass; else fail "$what: exit status 0"; fi
    assert_eq "$(tr -cd '\033' <"$IT_TMP/stderr" | wc -c)" 0 "$what: no raw ESC on stderr"
    assert_in "$(cat "$IT_TMP/stderr")" "$want" "$what: the message shows the escaped name"
}

for f in "$missing" "$text" "$norun"; do
    case "$f" in
    "$missing") kind="missing folder" ;;
    "$text") kind="text file" ;;
    *) kind="no runs table" ;;
    esac
    shown_f=${f//"$bad"/"$shown"}
    # query legacy reads no runs table: query runs does
    [ "$f" = "$norun" ] ||
        check_err "query legacy, $kind" "tlsaudit query: $shown_f: " query legacy --db "$f"
    check_err "query runs, $kind" "tlsaudit query: $shown_f: " query runs --db "$f"
    check_err "report, $kind" "tlsaudit report: $shown_f: " report --db "$f"
    check_err "export, $kind" "tlsaudit export: $shown_f: " export --format ecs --db "$f"
    # status says "not running" on stdout for a database that does not exist
    [ "$f" = "$missing" ] ||
        check_err "status, $kind" "tlsaudit status: $shown_f: " status --db "$f"
done
assert_in "$(cat "$IT_TMP/stderr")" ": no such table: runs" "status: the SQLite message follows"
# ... and a database that does not exist is "not running", on standard output, the name escaped.
"$TA_BIN" status --db "$missing" >"$IT_TMP/stdout" 2>"$IT_TMP/stderr"
assert_eq "$?" 2 "status, missing folder: exit status (not running)"
assert_eq "$(tr -cd '\033' <"$IT_TMP/stdout" | wc -c)" 0 "status, missing folder: no raw ESC on stdout"
assert_eq "$(cat "$IT_TMP/stdout")" "tlsaudit: not running: ${missing//"$bad"/"$shown"}: no such database" \
    "status, missing folder: the line shows the escaped name"

# The other names a command quotes: an output file, a cursor file, an argument.
check_err "report --out in a missing folder" "tlsaudit report: $IT_TMP/no${shown}such/r.html: " \
    report --db "$good" --out "$IT_TMP/no${bad}such/r.html"
check_err "export --cursor not a cursor" "tlsaudit export: $IT_TMP/text${shown}file.db: not an" \
    export --format ecs --db "$good" --cursor "$text"
check_err "export --cursor under a file" "$IT_TMP/text${shown}file.db/c: Not a directory" \
    export --format ecs --db "$good" --cursor "$text/c"
check_err "sync, missing database" "tlsaudit sync: $IT_TMP/no${shown}such/x.db: no such database" \
    sync --db "$missing" --to "host=$IT_TMP/none dbname=central"
check_err "endpoints show, missing database" \
    "tlsaudit endpoints: $IT_TMP/no${shown}such/x.db: no such database" \
    endpoints show --db "$missing"
check_err "unknown command" "tlsaudit: unknown command 'x${shown}'" "x$bad"
check_err "query, unknown report" "tlsaudit query: unknown report 'x${shown}'" query "x$bad"
check_err "query, unknown option" "tlsaudit query legacy: unknown option '--x${shown}'" \
    query legacy --db "$good" "--x$bad"
check_err "query, bad value" "tlsaudit query: invalid --since value 'x${shown}'" \
    query legacy --db "$good" --since "x$bad"
check_err "report, unknown option" "tlsaudit report: --x${shown}: unknown option" \
    report --db "$good" "--x$bad" 1
check_err "report, bad format" "tlsaudit report: --format: html, csv or json, not 'x${shown}'" \
    report --db "$good" --format "x$bad"
check_err "report, bad day" "tlsaudit report: --since: a UTC day YYYY-MM-DD, not 'x${shown}'" \
    report --db "$good" --since "x$bad"
check_err "export, unknown option" "tlsaudit export: unknown option or missing value: --x${shown}" \
    export --format ecs --db "$good" "--x$bad"
check_err "export, bad --since" "tlsaudit export: --since: not a UTC date or time: x${shown}" \
    export --format ecs --db "$good" --since "x$bad"
check_err "status, unexpected argument" "tlsaudit status: unexpected argument 'x${shown}'" \
    status --db "$good" "x$bad"
check_err "sync, unknown option" "tlsaudit sync: unknown option or missing value: --x${shown}" \
    sync --db "$good" "--x$bad" 1
check_err "endpoints, unknown option" "tlsaudit endpoints: unknown option --x${shown}" \
    endpoints show "--x$bad"

# capture: what getopt refuses (glibc's own message would quote it raw; a file name from a shell
# glob may start with "--"), an unknown -Z user, and the config file named when a value it gave
# is refused.
check_err "capture, unknown option" "tlsaudit capture: unknown option or missing value: --x${shown}" \
    capture --db "$good" -r "$TA_PCAPS/tls10.pcap" "--x$bad"
check_err "capture, unknown -Z user" "tlsaudit capture: -Z x${shown}: no such user" \
    capture --db "$(fresh_db zuser)" -r "$TA_PCAPS/tls10.pcap" -Z "x$bad"
conf="$IT_TMP/conf${bad}file.conf"
printf 'workers = 999\n' >"$conf"
check_err "capture, a refused value from the config file" \
    "tlsaudit capture: options were read from $IT_TMP/conf${shown}file.conf, then from" \
    capture --config "$conf" --db "$(fresh_db conf)" -r "$TA_PCAPS/tls10.pcap"

# status quotes the run's times from the file: a file written by someone else may hold anything.
timed=$(fresh_db timed)
cp "$good" "$timed"
sql "$timed" "UPDATE runs SET ended = 'x' || char(27) || '[31m' || char(10)" ||
    die "cannot set the run's end time of $timed"
"$TA_BIN" status --db "$timed" >"$IT_TMP/stdout" 2>"$IT_TMP/stderr"
assert_eq "$?" 2 "status, a run that ended: exit status (not running)"
assert_eq "$(tr -cd '\033' <"$IT_TMP/stdout" | wc -c)" 0 "status, a hostile end time: no raw ESC on stdout"
assert_in "$(head -1 "$IT_TMP/stdout")" "tlsaudit: not running since x${shown} (run " \
    "status, a hostile end time: shown escaped, on the status line"

# A central read whose socket folder does not exist: libpq's message quotes it.
pgdir="$IT_TMP/pg${bad}none"
for cmd in "query legacy" "report"; do
    # shellcheck disable=SC2086
    check_err "central $cmd, no server" "tlsaudit ${cmd%% *}: " \
        $cmd --db "postgresql:///central?host=$pgdir"
    assert_in "$(cat "$IT_TMP/stderr")" "pg\\x1B[31m" "central $cmd: libpq's message escaped"
done

it_done
