#!/bin/bash
# it_time_order.sh - captures given out of time order in one run. An analyst reads a directory of
# rotated captures by name (`capture -r cap1.pcap -r cap0.pcap`, a ring that wrapped), or a
# sensor's clock is stepped back: the packets' time goes back. The idle timeout compares a flow's
# last packet with the latest time seen, so before the fix every flow of the earlier time looked
# idle at the next check (every 256 packets) and was cut into pieces, its handshake stored in
# parts. Now the flows of the later time end when the time goes back, as at the end of a file,
# and the run counts it (runs.time_back, schema 019):
#  - "old": every bundled capture moved to start within the same 30 s, merged by time (their
#    connections overlap), dated a month before "new" (one bundled capture);
#  - `-r new -r old` stores the rows that `-r new` and `-r old`, run one after the other, store
#    (every field that does not depend on the run), counts time_back 1 and notes it once with
#    -v (not by default: the rows are right);
#  - `-r old -r new` (in time order): the same rows, time_back 0, no warning;
#  - `--workers 2 -r new -r old`: the same rows, time_back 1 (also when every engine thread
#    had flows of the later time: a step is counted once, not once per engine).
# Needs mergecap (wireshark-common) and python3.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

command -v mergecap >/dev/null || skip "mergecap (wireshark-common) not installed"
command -v python3 >/dev/null || skip "python3 not installed"

T0=1790000000                     # 2026-09-21: the old captures
i=0 parts=()
for set in 0 1 2; do              # three times, 1,000 s apart (past the idle timeout)
    for f in "$TA_PCAPS"/*.pcap; do
        i=$((i + 1))
        python3 "$TA_SRC/tests/pcap_redate.py" "$f" "$IT_TMP/part$i.pcap" \
            $((T0 + set * 1000 + i % 30)) || die "pcap_redate.py $f failed"
        parts+=("$IT_TMP/part$i.pcap")
    done
done
assert_ge "$i" 60 "(the bundled captures are here: $((i / 3)))"
mergecap -F pcap -w "$IT_TMP/old.pcap" "${parts[@]}" || die "mergecap failed"
python3 "$TA_SRC/tests/pcap_redate.py" "$TA_PCAPS/tls13.pcap" "$IT_TMP/new.pcap" $((T0 + 30 * 86400)) ||
    die "pcap_redate.py failed"
npk=$(python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); n=0; o=24
while o + 16 <= len(d): n += 1; o += 16 + int.from_bytes(d[o+8:o+12], "little")
print(n)' "$IT_TMP/old.pcap")
assert_ge "$npk" 768 "(the old capture is long enough for several idle checks: $npk packets)"

# Every field of a row that does not depend on the run (not ids, not run_id), in a stable order.
rows() {
    sql "$1" "SELECT ts_us, client_ip, client_port, server_ip, server_port, app, sni, version,
                     client_max_version, cipher_id, client_hello, server_hello, established,
                     alert_level, alert_desc, anomalies, ja3, ja3s, ja4, cert_cn, ndpi_name,
                     o365, o365_reason
              FROM handshakes ORDER BY ts_us, client_port, server_port"
}
mails() {
    sql "$1" "SELECT ts_us, client_ip, client_port, app, client_name, starttls_sent,
                     starttls_accepted, auth_in_clear, handshake_id IS NOT NULL
              FROM mail_sessions ORDER BY ts_us, client_port"
}

sep=$(fresh_db sep)
ta_capture "$sep" "$IT_TMP/new.pcap" || die "capture new failed: $(cat "$IT_TMP/capture.err")"
ta_capture "$sep" "$IT_TMP/old.pcap" || die "capture old failed: $(cat "$IT_TMP/capture.err")"
ref=$(rows "$sep")
refm=$(mails "$sep")
assert_ge "$(sql "$sep" "SELECT count(*) FROM handshakes")" 25 "(separate runs store the handshakes)"
assert_ge "$(sql "$sep" "SELECT count(*) FROM mail_sessions")" 5 "(and the mail sessions)"
assert_eq "$(sql "$sep" "SELECT sum(time_back) FROM runs")" 0 "separate runs: time never went back"
idle=$(sql "$sep" "SELECT sum(flows_timed_out) FROM runs")

back=$(fresh_db back)
"$TA_BIN" capture -v --db "$back" -r "$IT_TMP/new.pcap" -r "$IT_TMP/old.pcap" >"$IT_TMP/back.out" 2>&1
assert_eq "$?" 0 "new then old: exit status ($(head -c 300 "$IT_TMP/back.out"))"
assert_eq "$(rows "$back")" "$ref" "new then old in one run: the rows of two separate runs"
assert_eq "$(mails "$back")" "$refm" "new then old in one run: the mail sessions of two separate runs"
assert_eq "$(sql "$back" "SELECT time_back, flows_timed_out, clean FROM runs")" "1|$idle|1" \
    "new then old: the run counts the time going back once, the flows idle as in separate runs, clean"
assert_eq "$(grep -c "the packets' time went back 1 time (files not given in time order" "$IT_TMP/back.out")" 1 \
    "new then old, -v: one note"
"$TA_BIN" capture --db "$(fresh_db back2)" -r "$IT_TMP/new.pcap" -r "$IT_TMP/old.pcap" >"$IT_TMP/back2.out" 2>&1
case "$(cat "$IT_TMP/back2.out")" in
*"time went back"*) fail "new then old: a note without -v (the rows are right): $(cat "$IT_TMP/back2.out")" ;;
*) pass ;;
esac

fwd=$(fresh_db fwd)
"$TA_BIN" capture --db "$fwd" -r "$IT_TMP/old.pcap" -r "$IT_TMP/new.pcap" >"$IT_TMP/fwd.out" 2>&1
assert_eq "$?" 0 "old then new: exit status"
assert_eq "$(rows "$fwd")" "$ref" "old then new in one run: the same rows"
assert_eq "$(sql "$fwd" "SELECT time_back FROM runs")" 0 "old then new: time never went back"
case "$(cat "$IT_TMP/fwd.out")" in
*"time went back"*) fail "old then new: a warning about time: $(cat "$IT_TMP/fwd.out")" ;;
*) pass ;;
esac

wk=$(fresh_db wk)
"$TA_BIN" capture -q --workers 2 --db "$wk" -r "$IT_TMP/new.pcap" -r "$IT_TMP/old.pcap" \
    >"$IT_TMP/wk.out" 2>&1
assert_eq "$?" 0 "--workers 2, new then old: exit status ($(head -c 300 "$IT_TMP/wk.out"))"
assert_eq "$(rows "$wk")" "$ref" "--workers 2, new then old: the rows of two separate runs"
assert_eq "$(sql "$wk" "SELECT time_back FROM runs")" 1 "--workers 2: the time going back is counted once"

# Every engine thread sees the step when each had flows of the later time: still one step.
python3 "$TA_SRC/tests/pcap_redate.py" "$IT_TMP/old.pcap" "$IT_TMP/new2.pcap" $((T0 + 30 * 86400)) ||
    die "pcap_redate.py failed"
wk2=$(fresh_db wk2)
"$TA_BIN" capture -q --workers 2 --db "$wk2" -r "$IT_TMP/new2.pcap" -r "$IT_TMP/old.pcap" \
    >"$IT_TMP/wk2.out" 2>&1
assert_eq "$?" 0 "--workers 2, a busy new then old: exit status ($(head -c 300 "$IT_TMP/wk2.out"))"
assert_eq "$(sql "$wk2" "SELECT time_back, flows_timed_out FROM runs")" "1|$((2 * idle))" \
    "--workers 2, both engine threads busy when the time goes back: counted once"

it_done
