#!/bin/bash
# live.sh - live-capture benchmark: the highest replay rate tlsaudit captures with zero drops.
#
# Creates two network namespaces joined by a veth pair (nothing else: no addresses, no routes,
# no forwarding, so replayed frames go nowhere but the other end), runs
# `tlsaudit capture -i` on one end and replays a benchmark capture with tcpreplay into the other
# at increasing rates (--mbps steps, then --topspeed). After each step tlsaudit is stopped with
# SIGINT and the run row (packets, drops, if_drops) is read back with `tlsaudit query runs`.
# The whole rate ladder is run once per --workers value (capture threads, PACKET_FANOUT); the
# cpu column is tlsaudit's user+system CPU seconds for the step (all its threads).
#
# usage: bench/live.sh [--file PCAP] [--rates "100 200 500 ..."] [--scale F] [--workers "1 2"]
#                      [--buffer MiB]   (tlsaudit -B, per worker; default 64)
#                      [--pin TX:RX]    (taskset CPU lists for tcpreplay and tlsaudit; default
#                                        0:1 on a machine with 2 or more CPUs, "" = no pinning)
#                      [--prefill DB]   (each step starts from a copy of DB instead of an empty
#                                        file: with --args "--max-db-size SIZE" below DB's size,
#                                        a sensor at steady state, retention deleting each batch)
#                      [--args "ARGS"]  (more `tlsaudit capture` arguments)
# Needs root, iproute2 and tcpreplay. Default file: the bulk-heavy capture of bench/run.sh at
# --scale 0.25 (generated if absent, ~500 MB: well above the 64 MiB capture buffer, so a
# step measures sustained capture, not the buffer absorbing a burst).
set -euo pipefail
export LC_ALL=C
REPO=$(cd "$(dirname "$0")/.." && pwd)
DIR=${BENCH_DIR:-/tmp/tlsaudit-bench}
FILE=""
SCALE=0.25
RATES="500 1000 2000 4000 8000 topspeed"
WORKERS="1 2"
BUFFER=64
PIN=$([ "$(nproc)" -ge 2 ] && echo 0:1 || true)
PREFILL=""
ARGS=""
while [ $# -gt 0 ]; do
    case "$1" in
    --file) FILE=$2; shift 2 ;;
    --rates) RATES=$2; shift 2 ;;
    --scale) SCALE=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --buffer) BUFFER=$2; shift 2 ;;
    --pin) PIN=$2; shift 2 ;;
    --prefill) PREFILL=$2; shift 2 ;;
    --args) ARGS=$2; shift 2 ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "live.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" -eq 0 ] || { echo "live.sh: needs root (network namespaces)" >&2; exit 77; }
command -v tcpreplay >/dev/null || { echo "live.sh: tcpreplay not found (apt-get install tcpreplay)" >&2; exit 77; }
command -v ip >/dev/null || { echo "live.sh: ip not found (apt-get install iproute2)" >&2; exit 77; }

if [ -z "${TLSAUDIT:-}" ]; then
    cmake -S "$REPO" -B "$REPO/build-bench" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$REPO/build-bench" -j"$(nproc)" --target tlsaudit >/dev/null
    TLSAUDIT=$REPO/build-bench/src/cli/tlsaudit
fi
if [ -z "$FILE" ]; then
    FILE=$DIR/bulk-s$SCALE.pcap
    if [ ! -f "$FILE" ]; then
        "$REPO/bench/run.sh" --only bulk --scale "$SCALE" --runs 1 --no-ndpi --no-tshark --results "$DIR/live-gen.md" >/dev/null
    fi
fi
[ -f "$FILE" ] || { echo "live.sh: no capture $FILE" >&2; exit 1; }
[ -z "$PREFILL" ] || [ -f "$PREFILL" ] || { echo "live.sh: no database $PREFILL" >&2; exit 1; }
read -r -a EXTRA <<<"$ARGS"
TX_PIN=()
RX_PIN=()
if [ -n "$PIN" ]; then
    command -v taskset >/dev/null || { echo "live.sh: taskset not found (util-linux)" >&2; exit 77; }
    TX_PIN=(taskset -c "${PIN%%:*}")
    RX_PIN=(taskset -c "${PIN#*:}")
fi
mkdir -p "$DIR/db"
PKTS=$(capinfos -M -c "$FILE" 2>/dev/null | sed -n 's/^Number of packets: *//p')

NS_TX=tabench-tx-$$
NS_RX=tabench-rx-$$
PID=""
# stop_capture: SIGINT to tlsaudit, which runs as the child of /usr/bin/time (PID; time itself
# ignores SIGINT while it waits), then wait for both.
stop_capture() {
    local child
    child=$(cat "/proc/$PID/task/$PID/children" 2>/dev/null || true)
    [ -n "$child" ] && kill -INT "$child"
    wait "$PID" || true
    PID=""
}
cleanup() {
    if [ -n "$PID" ]; then stop_capture 2>/dev/null; fi
    ip netns del "$NS_TX" 2>/dev/null || true
    ip netns del "$NS_RX" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$NS_TX"
ip netns add "$NS_RX"
for ns in "$NS_TX" "$NS_RX"; do                           # no IPv6 chatter (ND, MLD) either
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add tabtx netns "$NS_TX" type veth peer name tabrx netns "$NS_RX"
for ns in "$NS_TX:tabtx" "$NS_RX:tabrx"; do
    ip -n "${ns%%:*}" link set "${ns#*:}" mtu 9000 up       # frames up to 1514 bytes pass as they are
    ip -n "${ns%%:*}" link set lo up
done
echo "live capture: $FILE ($PKTS packets), veth $NS_TX/tabtx -> $NS_RX/tabrx, workers: $WORKERS, -B $BUFFER, CPUs tcpreplay:tlsaudit ${PIN:-not pinned}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "$PREFILL$ARGS" ] || echo "database: ${PREFILL:-empty}$([ -n "$PREFILL" ] && echo " ($(du -m "$PREFILL" | cut -f1) MB)"), capture arguments: ${ARGS:-none}"
printf '%-7s %-10s %12s %12s %16s %10s %10s %6s %s\n' workers rate replay_pps replay_Mbps captured drops if_drops cpu result
SUMMARY=""
for workers in $WORKERS; do
    BEST=""
    BEST_PPS=0
    FIRST_LOSS=""
    for rate in $RATES; do
        db=$DIR/db/live.db
        rm -f "$db" "$db-wal" "$db-shm"
        [ -z "$PREFILL" ] || cp "$PREFILL" "$db"
        ip netns exec "$NS_RX" "${RX_PIN[@]}" /usr/bin/time -f '%U %S' -o "$DIR/live-cpu.txt" \
            "$TLSAUDIT" capture -i tabrx --workers "$workers" -B "$BUFFER" --db "$db" "${EXTRA[@]}" \
            >"$DIR/live-capture.log" 2>&1 &
        PID=$!
        sleep 1.5
        if [ "$rate" = topspeed ]; then opt=(--topspeed); else opt=(--mbps="$rate"); fi
        out=$(ip netns exec "$NS_TX" "${TX_PIN[@]}" tcpreplay -q -i tabtx "${opt[@]}" "$FILE" 2>&1) || { echo "$out" >&2; exit 1; }
        sleep 2
        stop_capture
        sent=$(echo "$out" | sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p')
        pps=$(echo "$out" | sed -n 's/.*Rated: [0-9.]* Bps, \([0-9.]*\) Mbps, \([0-9.]*\) pps.*/\2/p')
        mbps=$(echo "$out" | sed -n 's/.*Rated: [0-9.]* Bps, \([0-9.]*\) Mbps.*/\1/p')
        row=$("$TLSAUDIT" query runs --db "$db" --format csv | python3 -c '
import csv, sys
r = list(csv.DictReader(sys.stdin))[-1]
print(r["packets"], r["drops"], r["if_drops"])')
        read -r got drops ifdrops <<<"$row"
        cpu=$(awk '{ printf "%.1f", $1 + $2 }' "$DIR/live-cpu.txt")
        ok=lost
        if [ "$drops" = 0 ] && [ "$ifdrops" = 0 ] && [ "$got" -ge "$sent" ]; then
            ok=zero-loss
            # the highest rate tcpreplay reached, not the last step: --topspeed can be slower
            # than a paced step when it shares the CPUs with the capture threads
            if awk -v a="$pps" -v b="$BEST_PPS" 'BEGIN { exit !(a > b) }'; then
                BEST="$rate ($pps pps, $mbps Mbps)"; BEST_PPS=$pps
            fi
        elif [ -z "$FIRST_LOSS" ]; then
            FIRST_LOSS="$rate ($pps pps, $mbps Mbps: $((sent - got)) of $sent not captured)"
        fi
        printf '%-7s %-10s %12s %12s %16s %10s %10s %6s %s\n' "$workers" "$rate" "$pps" "$mbps" "$got/$sent" "$drops" "$ifdrops" "$cpu" "$ok"
    done
    SUMMARY+="workers=$workers: highest rate with zero drops: ${BEST:-none}; first loss: ${FIRST_LOSS:-none}"$'\n'
done
printf '%s' "$SUMMARY"
