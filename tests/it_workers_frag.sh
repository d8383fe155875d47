#!/bin/bash
# it_workers_frag.sh - live capture with several workers says when IP fragments reach them. With
# --workers N the kernel spreads packets by a flow hash and rebuilds outer IPv4 datagrams first
# (PACKET_FANOUT_FLAG_DEFRAG); IPv6 fragments (and fragments in a tunnel) it spreads by their
# addresses alone, so the worker that rebuilds a datagram may not hold its flow. The capture must
# say so, once, as an error that reaches the log, the run row and `tlsaudit status`.
# Two network namespaces of the test's own (tests/encap_netns.sh: a veth pair c0 <-> s0, both at
# a 1,280-byte MTU; the capture reads s0, as a sensor reads a span port). Not lo: lo hands a packet
# socket each fragment twice (sent and received), and the fanout group's reassembly of the two
# copies delivers no datagram to a reader that ignores what lo sends.
#   1. --workers 2, a 3,000-byte UDP datagram over IPv4 (the kernel fragments it and rebuilds it
#      before the workers): no warning;
#   2. the same over IPv6: the warning, once, in the output, runs.last_error and status;
#   3. one worker, IPv6 again: the datagram rebuilt, no warning.
# Skipped (77) when not root or without ip(8) netns support.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "live capture in network namespaces needs root"
command -v ip >/dev/null || skip "ip(8) not installed (scripts/install-deps.sh)"
. "$TA_SRC/tests/encap_netns.sh"
trap 'enc_ns_down; it_cleanup' EXIT
enc_ns_up || skip "cannot create the namespaces $ENC_NS_C, $ENC_NS_S"
{ enc_c ip link set c0 mtu 1280 && enc_s ip link set s0 mtu 1280; } || die "cannot set the MTU"

# send FAMILY: one 3,000-byte UDP datagram from the client side to port 9 of the sensor's side
# (nobody listens: it is only captured).
send() {
    enc_c python3 -c '
import socket, sys
fam, host = (socket.AF_INET6, "fd77::2") if sys.argv[1] == "6" else (socket.AF_INET, "10.77.0.2")
s = socket.socket(fam, socket.SOCK_DGRAM)
s.sendto(b"x" * 3000, (host, 9))' "$1" || die "cannot send over IPv$1"
}
# wait_error DB: up to 12 s for the run row's last_error (the heartbeat writes it every few s).
wait_error() {
    for _ in $(seq 120); do
        [ -n "$(sql "$1" "SELECT last_error FROM runs WHERE last_error IS NOT NULL")" ] && return
        sleep 0.1
    done
}
msg="IP fragments (IPv6, tunnelled or VLAN-tagged) seen with --workers 2"

# 1 and 2: two workers, on a database with a current endpoint list, so that status has nothing
# else to say.
db=$(fresh_db two)
"$TA_BIN" endpoints import "$TA_DATA/endpoints-sample.json" --db "$db" \
    --version "$(date -u +%Y%m%d)00" >/dev/null || die "endpoint import failed"
start_capture_ns "$ENC_NS_S" "$db" "$IT_TMP/two.out" -i s0 --workers 2 -f "udp port 9 or ip6[6] = 44"
send 4
sleep 7      # past a run-row update (5 s) and a heartbeat: a warning would be there by now
assert_eq "$(sql "$db" "SELECT ifnull(last_error, 'none') FROM runs")" none \
    "IPv4 fragments, rebuilt by the kernel: no warning"
assert_eq "$(sql "$db" "SELECT packets >= 1, ip_fragments FROM runs")" "1|0" \
    "the IPv4 datagram reached a worker whole"
out=$(enc_s "$TA_BIN" status --db "$db")
assert_eq "$?" 0 "status before IPv6: healthy ($out)"
send 6
wait_error "$db"
assert_in "$(sql "$db" "SELECT last_error FROM runs")" "$msg" "IPv6 fragments: runs.last_error"
out=$(enc_s "$TA_BIN" status --db "$db")
assert_eq "$?" 1 "status: degraded"
assert_in "$out" "$msg" "status shows the warning"
send 6
sleep 1.5    # a worker's counters are published every second
stop_capture "$cap_pid" "$IT_TMP/two.out"
assert_eq "$(grep -c "seen with --workers" "$IT_TMP/two.out")" 1 \
    "the warning is given once ($(cat "$IT_TMP/two.out"))"
assert_eq "$(sql "$db" "SELECT ip_fragments >= 6, ip_reassembled >= 2 FROM runs")" "1|1" \
    "run row: the IPv6 fragments counted"

# 3: one worker reads every fragment of every flow: nothing to say.
db=$(fresh_db one)
start_capture_ns "$ENC_NS_S" "$db" "$IT_TMP/one.out" -i s0 -f "udp port 9 or ip6[6] = 44"
send 6
sleep 1.5
stop_capture "$cap_pid" "$IT_TMP/one.out"
assert_eq "$(sql "$db" "SELECT ifnull(last_error, 'none'), ip_reassembled >= 1 FROM runs")" \
    "none|1" "one worker: the datagram rebuilt, no warning"
assert_eq "$(grep -c "seen with --workers" "$IT_TMP/one.out")" 0 "one worker: nothing logged"

it_done
