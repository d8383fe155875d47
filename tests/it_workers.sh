#!/bin/bash
# it_workers.sh - live capture with two worker threads: `tlsaudit capture -i lo --workers 2`
# (two capture handles in one PACKET_FANOUT group, one engine each, one store writer) while real
# openssl s_server/s_client make 24 handshakes from distinct client ports, 20 over 127.0.8.1
# (four clients at a time) and 4 over ::1, then SIGINT. Every handshake must be stored exactly
# once and whole (both directions reached the same worker: ServerHello, version, SNI), and the
# run row closed cleanly with the packets of both workers, each worker's share kept in it
# (while capturing and at the end) and shown by `status`. 0 or 17 workers are usage errors
# (exit 2); an unknown interface is an error naming it (exit 1). (--workers with -r is the file
# source with engine threads: tests/it_file_workers.sh.)
# Skipped (77) when not root or without a loopback interface. Traffic stays on 127.0.0.0/8 and ::1.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

# Usage errors need no privileges: checked first.
db=$(fresh_db usage)
for n in 0 17 x; do
    "$TA_BIN" capture --workers "$n" -i lo --db "$db" >"$IT_TMP/u.out" 2>&1
    assert_eq "$?" 2 "--workers $n: usage error"
    assert_in "$(cat "$IT_TMP/u.out")" "--workers must be 1 to 16" "--workers $n: message"
done

[ "$(id -u)" -eq 0 ] || skip "live capture needs root"
[ -e /sys/class/net/lo ] || skip "no loopback interface 'lo'"
command -v openssl >/dev/null || skip "openssl not installed"
[ -e /proc/sys/net/ipv6 ] || skip "no IPv6 (the test uses ::1)"

"$TA_BIN" capture -i ta-no-such-if0 --workers 2 --db "$db" >"$IT_TMP/u.out" 2>&1
assert_eq "$?" 1 "unknown interface: exit 1"
assert_in "$(cat "$IT_TMP/u.out")" "ta-no-such-if0" "unknown interface: named"

ADDR=127.0.8.1
PORT=$((45000 + $$ % 1000))
N4=20
N6=4
db=$(fresh_db workers)

mkfifo "$IT_TMP/hold4" "$IT_TMP/hold6"
exec 8<>"$IT_TMP/hold4" 9<>"$IT_TMP/hold6"

start_capture "$db" "$IT_TMP/cap.out" -i lo --workers 2 -f "tcp port $PORT"
# main thread + 2 capture workers + the store writer
assert_eq "$(find "/proc/$cap_pid/task" -mindepth 1 -maxdepth 1 | wc -l)" 4 "threads while capturing"
sleep 0.3

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=workers.example.test" -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null ||
    die "openssl req failed"
serve() { # ADDR:PORT N FD LOG
    timeout 60 openssl s_server -accept "$1" -cert "$IT_TMP/c.pem" -key "$IT_TMP/k.pem" \
        -naccept "$2" <&"$3" >"$4" 2>&1 &
    IT_CLEANUP_PIDS+=("$!")
}
serve "$ADDR:$PORT" $N4 8 "$IT_TMP/server4.log"
srv4=$!
serve "[::1]:$PORT" $N6 9 "$IT_TMP/server6.log"
srv6=$!
for _ in $(seq 100); do
    grep -q ACCEPT "$IT_TMP/server4.log" && grep -q ACCEPT "$IT_TMP/server6.log" && break
    sleep 0.05
done

# Client ports are chosen (-bind), distinct and known, so each row is found by its port (left to
# the kernel, loopback ports are reused at once: tcp_tw_reuse = 2).
CBASE=$((52000 + $$ % 400 * 20))
hello() { # CLIENT-ADDR CLIENT-PORT SERVER-ADDR SNI OPENSSL-ARGS...: one handshake; stdin stays
    local cli=$1 cport=$2 srv=$3 sni=$4     # open half a second so that it completes
    shift 4
    { sleep 0.5; } | timeout 10 openssl s_client -bind "$cli:$cport" -connect "$srv:$PORT" \
        -servername "$sni" "$@" >"$IT_TMP/client-$sni.log" 2>&1
}
# Clients four at a time; wait for the clients only (a bare `wait` would wait for the capture).
clients=()
for i in $(seq 1 $N4); do
    if [ $((i % 4)) = 0 ]; then v=-tls1_2; else v=-tls1_3; fi
    hello 127.0.0.1 $((CBASE + i)) "$ADDR" "w$i.example.test" "$v" &
    clients+=("$!")
    if [ $((i % 4)) = 0 ]; then wait "${clients[@]}"; clients=(); fi
done
for i in $(seq 1 $N6); do
    hello "[::1]" $((CBASE + N4 + i)) "[::1]" "v6-$i.example.test" -tls1_3 &
    clients+=("$!")
done
wait "${clients[@]}"
for _ in $(seq 100); do
    kill -0 "$srv4" 2>/dev/null || kill -0 "$srv6" 2>/dev/null || break
    sleep 0.05
done
sleep 1
# The run row's counters are rewritten every 5 s, with each worker's share (schema 018).
for _ in $(seq 80); do
    [ "$(sql "$db" "SELECT json_array_length(workers) FROM runs" 2>/dev/null)" = 2 ] && break
    sleep 0.1
done
assert_eq "$(sql "$db" "SELECT json_array_length(workers) FROM runs")" 2 \
    "while capturing: the run row has both workers' counters"
"$TA_BIN" status --db "$db" >"$IT_TMP/status-run.txt"
if grep -Eq '^  workers: +2, packets [0-9.]+% / [0-9.]+%, kernel drops 0 / 0$' "$IT_TMP/status-run.txt"; then
    pass
else
    fail "status while capturing: each worker's share and drops: $(cat "$IT_TMP/status-run.txt")"
fi
# Packets after that rewrite: a connection refused (SYN, RST; one more flow, no handshake). Only
# the run's end can count them in the workers' shares. A second, as for the handshakes above: a
# capture stopped reads no packet the kernel holds in a block not yet handed over (250 ms).
(exec 3<>"/dev/tcp/$ADDR/$PORT") 2>/dev/null && die "port $PORT still open"
sleep 1

stop_capture "$cap_pid" "$IT_TMP/cap.out"

total=$((N4 + N6))
# Exactly once, by client port (every s_client had its own ephemeral port).
assert_eq "$(sql "$db" "SELECT count(*), count(DISTINCT client_ip || ' ' || client_port) FROM handshakes")" \
    "$total|$total" "one row per client port"
assert_eq "$(sql "$db" "SELECT count(*) FROM (SELECT client_port FROM handshakes
                        GROUP BY client_ip, client_port HAVING count(*) > 1)")" 0 "no client port twice"
# Whole: both directions of each connection were read by the same worker (a worker that saw
# one direction only would store a hello without its answer).
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE client_hello = 1 AND server_hello = 1
                        AND established = 1 AND server_port = $PORT")" "$total" "both hellos in every row"
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE cert_cn = 'workers.example.test'")" \
    $((N4 / 4)) "certificate read in every TLS 1.2 handshake"
got=$(sql "$db" "SELECT client_port || ' ' || client_ip || ' ' || sni || ' ' || version || ' ' ||
                 established FROM handshakes ORDER BY client_port")
exp=$( { for i in $(seq 1 $N4); do
           if [ $((i % 4)) = 0 ]; then v=771; else v=772; fi
           echo "$((CBASE + i)) 127.0.0.1 w$i.example.test $v 1"
         done
         for i in $(seq 1 $N6); do echo "$((CBASE + N4 + i)) ::1 v6-$i.example.test 772 1"; done; } )
assert_eq "$got" "$exp" "every client port once, with its address, SNI, version, established"
assert_eq "$(sql "$db" "SELECT count(*) FROM handshakes WHERE anomalies != 0")" 0 "no anomalies"

run=$(sql "$db" "SELECT source, ended IS NOT NULL, clean, error IS NULL, handshakes, flows, drops
                 FROM runs")
assert_eq "$run" "live:lo|1|1|1|$total|$((total + 1))|0" \
    "run row (source|ended|clean|no error|handshakes|flows with the refused one|drops)"
assert_ge "$(sql "$db" "SELECT packets FROM runs")" $((total * 8)) "packets of both workers counted"
# Each worker's final packets and drops: as many as there are workers, and they add up to the
# run's (the last rewrite, at the end, after the workers stopped).
assert_eq "$(sql "$db" "SELECT count(*), sum(json_extract(value, '$.packets')) = (SELECT packets FROM runs),
                        sum(json_extract(value, '$.drops')) = (SELECT drops FROM runs)
                        FROM runs, json_each(runs.workers)")" "2|1|1" \
    "runs.workers: two workers whose packets and drops add up to the run's"
"$TA_BIN" status --db "$db" --format json >"$IT_TMP/status.json"
assert_eq "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]
print(r["workers"], sum(int(x) for x in r["worker_packets"].split()) == r["packets"], r["worker_drops"])' \
    "$IT_TMP/status.json")" "2 True 0 0" "status JSON: workers, their packets add up, their drops"

# -Z with workers: every handle is opened before the drop, and every thread (main, 2 workers,
# writer) runs as nobody without capabilities.
if NOBODY_UID=$(id -u nobody 2>/dev/null); then
    chmod 0711 "$IT_TMP"
    mkdir -m 0777 "$IT_TMP/z"
    db=$IT_TMP/z/z.db
    "$TA_BIN" capture -i lo --workers 2 -Z nobody -f "tcp port $PORT" --db "$db" >"$IT_TMP/z.out" 2>&1 &
    cap_pid=$!
    IT_CLEANUP_PIDS+=("$cap_pid")
    for _ in $(seq 100); do
        [ "$(find "/proc/$cap_pid/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)" = 4 ] && break
        kill -0 "$cap_pid" 2>/dev/null || break
        sleep 0.05
    done
    ids=$(cat /proc/"$cap_pid"/task/*/status 2>/dev/null | awk '/^Uid:/ {print $2,$3,$4,$5} /^CapEff:/ {print $2}' | sort | uniq -c | xargs)
    assert_eq "$ids" "4 0000000000000000 4 $NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" \
        "-Z nobody --workers 2: 4 threads, all nobody, no capability ($(head -c 200 "$IT_TMP/z.out"))"
    kill -INT "$cap_pid"
    for _ in $(seq 200); do kill -0 "$cap_pid" 2>/dev/null || break; sleep 0.05; done
    wait "$cap_pid"
    assert_eq "$?" 0 "-Z nobody --workers 2: exit status"
    assert_eq "$(sql "$db" "SELECT clean, error IS NULL FROM runs")" "1|1" "-Z nobody --workers 2: run row clean"
fi

it_done
