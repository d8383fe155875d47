#!/bin/bash
# it_privs.sh - live capture drops what it does not need.
#
# 1. `capture -i lo -Z nobody` (started as root): once the interface and database are open the
#    process runs as nobody/nogroup (real, effective, saved and fs ids; no supplementary group
#    but nogroup) with no capability left (CapPrm = CapEff = CapAmb = 0), read from
#    /proc/PID/status. The database lives in a temporary directory owned by nobody (SQLite must
#    be able to create -wal/-shm there after the drop). A real openssl handshake on 127.0.9.1 is
#    recorded after the drop; SIGINT ends the run cleanly. The database, -wal and -shm files are
#    owned by nobody and mode 0640 or tighter (no group write, nothing for others).
# 2. `-Z` with an unknown user fails (non-zero) with a message naming the user.
# 3. As nobody with only CAP_NET_RAW (setpriv: inheritable + ambient net_raw, nothing else) the
#    live capture works and stores the handshake; as nobody without it, it fails clearly.
# Root only (exit 77 otherwise). Traffic only on 127.0.0.0/8.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (drops privileges itself)"
[ -e /sys/class/net/lo ] || skip "no loopback interface 'lo'"
command -v openssl >/dev/null || skip "openssl not installed"
getent passwd nobody >/dev/null || skip "no user 'nobody'"

ADDR=127.0.9.1
PORT=$((45000 + $$ % 1000))
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)
chmod 0711 "$IT_TMP" # nobody must reach its own directory below
dir=$IT_TMP/nobody
mkdir -m 0700 "$dir"
chown nobody:"$NOBODY_GID" "$dir"

openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=privs.example.test" \
    -keyout "$IT_TMP/k.pem" -out "$IT_TMP/c.pem" 2>/dev/null || die "openssl req failed"
mkfifo "$IT_TMP/hold"
exec 9<>"$IT_TMP/hold"

# handshake SNI: one TLS 1.2 handshake through a fresh s_server on ADDR:PORT.
handshake() {
    # Empty the log first: the server's own redirect runs in the background job, and the wait
    # below would otherwise find the previous call's ACCEPT and connect before it listens.
    : >"$IT_TMP/server.log"
    timeout 20 openssl s_server -accept "$ADDR:$PORT" -cert "$IT_TMP/c.pem" -key "$IT_TMP/k.pem" \
        -naccept 1 <&9 >"$IT_TMP/server.log" 2>&1 &
    local srv=$!
    IT_CLEANUP_PIDS+=("$srv")
    for _ in $(seq 100); do grep -q ACCEPT "$IT_TMP/server.log" && break; sleep 0.05; done
    { sleep 1; } | timeout 10 openssl s_client -connect "$ADDR:$PORT" -servername "$1" -tls1_2 \
        >>"$IT_TMP/client.log" 2>&1
    for _ in $(seq 100); do kill -0 "$srv" 2>/dev/null || break; sleep 0.05; done
    sleep 0.5
}

# wait_run DB PID: wait until the run row exists (interface and database open). Looks only once
# the file exists, read-only: the sqlite3 tool (root) would otherwise create it, root-owned.
wait_run() {
    for _ in $(seq 100); do
        [ -s "$1" ] && [ "$(sqlite3 -readonly "$1" "SELECT count(*) FROM runs" 2>/dev/null)" = 1 ] &&
            return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stop PID: SIGINT, wait up to 10 s; the exit status is left in STOP_RC.
stop() {
    kill -INT "$1"
    for _ in $(seq 200); do kill -0 "$1" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$1" 2>/dev/null && kill -KILL "$1"
    wait "$1"
    STOP_RC=$?
}

# --- 1. -Z nobody ---------------------------------------------------------------------------
db=$dir/privs.db
"$TA_BIN" capture -i lo -Z nobody -f "host $ADDR and tcp port $PORT" --db "$db" \
    >"$IT_TMP/cap.out" 2>&1 &
cap=$!
IT_CLEANUP_PIDS+=("$cap")
wait_run "$db" "$cap" || die "capture did not start: $(cat "$IT_TMP/cap.out")"
for _ in $(seq 100); do # the drop follows the run row
    [ "$(awk '/^Uid:/ {print $2}' "/proc/$cap/status")" = "$NOBODY_UID" ] && break
    sleep 0.05
done
st=/proc/$cap/status
assert_eq "$(awk '/^Uid:/ {print $2,$3,$4,$5}' "$st")" \
    "$NOBODY_UID $NOBODY_UID $NOBODY_UID $NOBODY_UID" "Uid (real, effective, saved, fs) is nobody"
assert_eq "$(awk '/^Gid:/ {print $2,$3,$4,$5}' "$st")" \
    "$NOBODY_GID $NOBODY_GID $NOBODY_GID $NOBODY_GID" "Gid is nobody's group"
assert_eq "$(awk '/^Groups:/ {$1=""; print}' "$st" | xargs)" "$NOBODY_GID" \
    "supplementary groups: only nobody's"
assert_eq "$(awk '/^Cap(Prm|Eff|Amb):/ {printf "%s=%s ", $1, $2}' "$st")" \
    "CapPrm:=0000000000000000 CapEff:=0000000000000000 CapAmb:=0000000000000000 " \
    "no capability left after the drop"
handshake privs.example.test
for f in "$db" "$db-wal" "$db-shm"; do
    if [ -e "$f" ]; then
        m=$(stat -c '%U %a' "$f")
        assert_eq "$(( 8#${m#* } & 8#137 ))|${m% *}" "0|nobody" "$(basename "$f"): owner nobody, mode ${m#* } is 0640 or tighter"
    else
        fail "$(basename "$f") does not exist while the capture runs"
    fi
done
stop "$cap"
assert_eq "$STOP_RC" 0 "capture -Z nobody exits 0 on SIGINT ($(tail -2 "$IT_TMP/cap.out"))"
assert_eq "$(sql "$db" "SELECT clean, error IS NULL FROM runs")" "1|1" "run ended cleanly"
assert_eq "$(sql "$db" "SELECT client_ip, server_ip, server_port, version, sni, established
                        FROM handshakes")" \
    "127.0.0.1|$ADDR|$PORT|771|privs.example.test|1" "handshake captured after the drop"
assert_eq "$(( 8#$(stat -c %a "$db") & 8#137 ))" 0 "database mode 0640 or tighter after the run"

# --- 2. -Z unknown user -----------------------------------------------------------------------
bad=$IT_TMP/bad.db
"$TA_BIN" capture -i lo -Z no-such-user-ta -f "tcp port $PORT" --db "$bad" >"$IT_TMP/bad.out" 2>&1 &
badpid=$!
IT_CLEANUP_PIDS+=("$badpid")
for _ in $(seq 100); do kill -0 "$badpid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$badpid" 2>/dev/null; then
    fail "-Z no-such-user-ta: capture still running"
    kill -KILL "$badpid"
fi
wait "$badpid"
rc=$?
if [ "$rc" -ne 0 ]; then pass; else fail "-Z with an unknown user exits 0"; fi
assert_in "$(cat "$IT_TMP/bad.out")" "no-such-user-ta" "-Z unknown user: the message names it"
assert_in "$(cat "$IT_TMP/bad.out")" "no such user" "-Z unknown user: the message says why"
[ -e "$bad" ] && fail "-Z unknown user: the database was created anyway" || pass
echo "-Z unknown user: exit $rc: $(cat "$IT_TMP/bad.out")"

# --- 3. only CAP_NET_RAW, as nobody ------------------------------------------------------------
if command -v setpriv >/dev/null; then
    db2=$dir/netraw.db
    setpriv --reuid=nobody --regid="$NOBODY_GID" --init-groups --inh-caps=-all,+net_raw \
        --ambient-caps=-all,+net_raw --bounding-set=-all,+net_raw -- \
        "$TA_BIN" capture -i lo -f "host $ADDR and tcp port $PORT" --db "$db2" \
        >"$IT_TMP/raw.out" 2>&1 &
    raw=$!
    IT_CLEANUP_PIDS+=("$raw")
    if wait_run "$db2" "$raw"; then
        pass
        assert_eq "$(awk '/^Uid:/ {print $2} /^CapEff:/ {print $2}' "/proc/$raw/status" | xargs)" \
            "$NOBODY_UID 0000000000002000" "CAP_NET_RAW-only capture runs as nobody with CapEff = net_raw"
        handshake netraw.example.test
        stop "$raw"
        assert_eq "$STOP_RC" 0 "CAP_NET_RAW-only capture exits 0 on SIGINT"
        assert_eq "$(sql "$db2" "SELECT sni, version FROM handshakes")" "netraw.example.test|771" \
            "CAP_NET_RAW-only capture records the handshake (capture: $(tail -3 "$IT_TMP/raw.out" |
            tr '\n' ' '); run: $(sql "$db2" "SELECT packets, flows, handshakes, error FROM runs");
            client: $(grep -E 'Protocol|CONNECTED|error' "$IT_TMP/client.log" | tail -3 | tr '\n' ' '))"
    else
        fail "capture as nobody with only CAP_NET_RAW did not start: $(cat "$IT_TMP/raw.out")"
    fi
    # Without the capability: a clear error naming the interface, no run.
    out=$(setpriv --reuid=nobody --regid="$NOBODY_GID" --init-groups --inh-caps=-all \
        --bounding-set=-all -- "$TA_BIN" capture -i lo --db "$dir/nocap.db" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ]; then pass; else fail "capture as nobody without CAP_NET_RAW exits 0"; fi
    assert_in "$out" "lo" "no CAP_NET_RAW: the message names the interface"
    echo "no CAP_NET_RAW: exit $rc: $out"
else
    echo "setpriv not installed: CAP_NET_RAW-only capture not tested"
fi
it_done
