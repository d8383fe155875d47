#!/bin/bash
# it_clock_back.sh - a live capture whose wall clock is stepped back while a TLS connection is
# open (an NTP step, a VM restored, an operator's `date -s`). The engines compare the packets'
# time with the wall clock at each idle check; a clock far behind the packets ends the flows
# open then, as at the end of a file, and the capture warns at its end ("the clock went back").
#
# The machine's clock is never touched: libfaketime (LD_PRELOAD, package faketime) moves the
# capture's CLOCK_REALTIME back one hour at a moment the test picks, through its timestamp file
# (re-read at every call); the kernel's packet times and CLOCK_MONOTONIC stay real. So this is
# the wall-clock side of the step (the packet side, packets' times going back, is
# tests/it_time_order.sh and test_engine). With one worker and with --workers 2:
#  - the open connection's handshake is stored once;
#  - runs.time_back is 1 (with two workers too: a step counts once, not once per engine);
#  - the capture's output warns once: "the clock went back 1 time".
# Skipped (77) when not root, without lo, openssl or libfaketime. Traffic stays on 127.0.0.0/8.
# It runs in the sanitizer build too (libfaketime preloaded ahead of libasan: ASan is told it may be).
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "live capture needs root"
[ -e /sys/class/net/lo ] || skip "no loopback interface 'lo'"
command -v openssl >/dev/null || skip "openssl not installed"
FT=""
for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
    [ -f "$f" ] && FT=$f && break
done
[ -n "$FT" ] || skip "libfaketime not installed (apt-get install faketime)"
# In the sanitizer build libfaketime is preloaded ahead of libasan, which ASan accepts when told.
sanitizer_build && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

ADDR=127.0.7.2
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=clock.example.test" \
    -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null || die "openssl req failed"

# one_run WORKERS: a capture under libfaketime, one TLS connection held open, the clock stepped
# back an hour while it is open, then the capture stopped; checks what it stored and said.
one_run() {
    local workers=$1 port=$((45000 + $$ % 1000 + $1)) db out srv_pid cli_pid
    db=$(fresh_db "clock$workers")
    out=$IT_TMP/cap$workers.out
    echo "+0" >"$IT_TMP/faketime"
    LD_PRELOAD=$FT FAKETIME_TIMESTAMP_FILE=$IT_TMP/faketime FAKETIME_NO_CACHE=1 \
        FAKETIME_DONT_FAKE_MONOTONIC=1 \
        start_capture "$db" "$out" -i lo --workers "$workers" -f "host $ADDR and tcp port $port"
    sleep 0.3

    mkfifo "$IT_TMP/hold$workers" "$IT_TMP/cin$workers"
    exec 8<>"$IT_TMP/hold$workers" 7<>"$IT_TMP/cin$workers"
    timeout 60 openssl s_server -accept "$ADDR:$port" -cert "$IT_TMP/c.pem" \
        -key "$IT_TMP/k.pem" -naccept 1 <&8 >"$IT_TMP/server$workers.log" 2>&1 &
    srv_pid=$!
    IT_CLEANUP_PIDS+=("$srv_pid")
    for _ in $(seq 100); do grep -q ACCEPT "$IT_TMP/server$workers.log" && break; sleep 0.05; done
    # the client's stdin is a FIFO held open: the connection stays up after its handshake
    timeout 60 openssl s_client -connect "$ADDR:$port" -servername clock.example.test -tls1_2 \
        <&7 >"$IT_TMP/client$workers.log" 2>&1 &
    cli_pid=$!
    IT_CLEANUP_PIDS+=("$cli_pid")
    for _ in $(seq 200); do grep -q "^    Protocol" "$IT_TMP/client$workers.log" && break; sleep 0.05; done
    grep -q "^    Protocol" "$IT_TMP/client$workers.log" || die "no TLS connection: $(cat "$IT_TMP/client$workers.log")"
    sleep 1

    echo "-3600" >"$IT_TMP/faketime"                     # the capture's clock goes back 1 h
    sleep 2                                              # idle checks (each poll timeout)
    # stopped while the connection is still up: its closing packets, at the kernel's real time,
    # would be a new flow and put the packets' time ahead of the clock again (a second step)
    stop_capture "$cap_pid" "$out"
    kill "$cli_pid" 2>/dev/null
    exec 7>&- 8>&-
    rm -f "$IT_TMP/hold$workers" "$IT_TMP/cin$workers"

    assert_eq "$(sql "$db" "SELECT count(*), min(sni), min(version) FROM handshakes")" \
        "1|clock.example.test|771" "--workers $workers: the open connection's handshake, once"
    assert_eq "$(sql "$db" "SELECT time_back, clean FROM runs")" "1|1" \
        "--workers $workers: the step counted once, run ended cleanly"
    assert_eq "$(grep -c "the clock went back 1 time:" "$out")" 1 \
        "--workers $workers: one warning ($(head -c 400 "$out"))"
}

one_run 1
one_run 2

it_done
