# shellcheck shell=bash
# tests/service_lib.sh - helpers of the service tests (it_service_*.sh), sourced after lib.sh:
# a network namespace of the test's own (so a live capture sees only the test's traffic, while
# others capture on the host's lo), a certificate, one TLS handshake inside the namespace.

# netns_up: create namespace $NS (name: service-<test>-<pid>) with lo up; removed at exit.
netns_up() {
    NS=service-${IT_NAME#it_service_}-$$
    ip netns add "$NS" || skip "cannot create a network namespace"
    IT_NETNS=$NS
    trap 'ip netns pids "$IT_NETNS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null; ip netns del "$IT_NETNS" 2>/dev/null; it_cleanup' EXIT
    ip netns exec "$NS" ip link set lo up
}

# in_ns CMD...: run CMD inside the namespace.
in_ns() {
    ip netns exec "$NS" "$@"
}

# make_cert: a self-signed certificate in $IT_TMP/c.pem, key in $IT_TMP/k.pem.
make_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=service.example.test" \
        -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null || die "openssl req failed"
    [ -e "$IT_TMP/hold" ] || mkfifo "$IT_TMP/hold"
    exec 9<>"$IT_TMP/hold"
}

# tls_once PORT SNI [OPENSSL-ARGS...]: one TLS handshake to 127.0.0.1:PORT inside the
# namespace, through a fresh s_server; returns once the server has gone. On a loaded machine
# openssl may be slow to listen: it waits up to 15 s for it, and tries a second time when the
# client did not complete a handshake (then says so on stderr, with the client's last words).
tls_once() {
    local port=$1 sni=$2 try srv
    shift 2
    for try in 1 2; do
        : >"$IT_TMP/server-$port.log" # not the previous try's ACCEPT (the job's redirect may lag)
        in_ns timeout 30 openssl s_server -accept "127.0.0.1:$port" -cert "$IT_TMP/c.pem" \
            -key "$IT_TMP/k.pem" -naccept 1 -cipher 'DEFAULT:@SECLEVEL=0' <&9 \
            >"$IT_TMP/server-$port.log" 2>&1 &
        srv=$!
        for _ in $(seq 300); do grep -q ACCEPT "$IT_TMP/server-$port.log" && break; sleep 0.05; done
        { sleep 0.5; } | in_ns timeout 15 openssl s_client -connect "127.0.0.1:$port" \
            -servername "$sni" "$@" >"$IT_TMP/client-$sni.log" 2>&1
        for _ in $(seq 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.05; done
        kill "$srv" 2>/dev/null
        grep -q '^SSL handshake has read' "$IT_TMP/client-$sni.log" && return 0
        echo "tls_once: handshake $sni to port $port failed (try $try): $(tail -2 "$IT_TMP/client-$sni.log")" >&2
    done
    return 1
}

# ns_capture DB RUNS ARGS...: start `tlsaudit capture ARGS...` inside the namespace (its output
# in $IT_TMP/cap.out, its pid in $cap, killed at exit) and wait until DB holds RUNS runs (the
# capture's own included); dies when it does not start.
ns_capture() {
    local db=$1 runs=$2
    shift 2
    ip netns exec "$NS" "$TA_BIN" capture "$@" >"$IT_TMP/cap.out" 2>&1 &
    cap=$!
    IT_CLEANUP_PIDS+=("$cap")
    wait_sql "$db" "SELECT count(*) FROM runs" "$runs" ||
        die "capture did not start: $(cat "$IT_TMP/cap.out")"
}

# wait_sql DB QUERY EXPECTED [SECONDS]: poll until QUERY gives EXPECTED (default 10 s);
# returns 1 on timeout.
wait_sql() {
    local n=$(( ${4:-10} * 10 ))
    for _ in $(seq "$n"); do
        [ "$(sqlite3 -readonly "$1" "$2" 2>/dev/null)" = "$3" ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_log FILE TEXT [SECONDS]: poll until FILE contains TEXT (default 10 s).
wait_log() {
    local n=$(( ${3:-10} * 10 ))
    for _ in $(seq "$n"); do
        grep -qF -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}
