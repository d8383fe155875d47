#!/bin/bash
# it_service_unit.sh - what `cmake --install` ships for the service, installed into a DESTDIR,
# and run as the unit would run it (issue 12, the service).
#
# 1. The install puts tlsaudit.service, tlsaudit-endpoints.{service,timer}, the sysusers.d entry,
#    the refresh script, tlsaudit.conf and its .example in place; a second install keeps an
#    edited tlsaudit.conf.
# 2. `systemd-analyze verify` accepts the three units (with --root = the DESTDIR, which gets a
#    copy of the host's own units for the targets they name), and refuses a copy with a typo,
#    so the check can fail. The unit has the hardening and capabilities it must have.
# 3. systemd-sysusers --root creates the tlsaudit user from the shipped entry.
# 4. PID 1 here is not systemd (checked: if it is, the test says so and still runs the rest),
#    so the unit is not started by systemd here (tests/it_service_nspawn.sh does that, in a
#    container it boots). Instead its exact ExecStart line (paths mapped into
#    the DESTDIR) runs as the unit would run it: setpriv as an unprivileged user (nobody: the
#    tlsaudit user exists only in the DESTDIR), no new privileges, the capability bounding,
#    inheritable and ambient sets reduced to CAP_NET_RAW and CAP_NET_ADMIN, in a network
#    namespace of the test's own (interface lo there). It captures a real TLS handshake, `status`
#    reports it running and healthy (after a fresh endpoint import), ExecReload's SIGHUP keeps
#    it running, and SIGTERM (systemd's stop) ends the run cleanly: status then exits 2.
# Root only. Traffic only inside the namespace's loopback.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/service_lib.sh
. "$(dirname "$0")/service_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (setpriv, network namespace)"
command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed (Debian: systemd)"
command -v setpriv >/dev/null || skip "setpriv not installed (Debian: util-linux)"
command -v openssl >/dev/null || skip "openssl not installed"
[ -n "${TA_BUILD:-}" ] || die "TA_BUILD is not set"

D=$IT_TMP/dest
PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$TA_BUILD/CMakeCache.txt")
CONFDIR=$(sed -n 's/^TA_CONFDIR:PATH=//p' "$TA_BUILD/CMakeCache.txt")
UNITDIR=$(sed -n 's/^TA_SYSTEMD_UNITDIR:PATH=//p' "$TA_BUILD/CMakeCache.txt")
SYSUSERSDIR=$(sed -n 's/^TA_SYSUSERSDIR:PATH=//p' "$TA_BUILD/CMakeCache.txt")

# --- 1. install ---------------------------------------------------------------------------
DESTDIR=$D cmake --install "$TA_BUILD" >"$IT_TMP/install.out" 2>&1 ||
    die "cmake --install failed: $(tail -5 "$IT_TMP/install.out")"
for f in "$UNITDIR/tlsaudit.service" "$UNITDIR/tlsaudit-endpoints.service" \
         "$UNITDIR/tlsaudit-endpoints.timer" "$SYSUSERSDIR/tlsaudit.conf" \
         "$CONFDIR/tlsaudit.conf" "$CONFDIR/tlsaudit.conf.example" "$PREFIX/bin/tlsaudit"; do
    [ -f "$D$f" ] && pass || fail "not installed: $f"
done
[ -x "$D$PREFIX/libexec/tlsaudit/tlsaudit-endpoints-refresh" ] && pass ||
    fail "refresh script not installed executable"
echo "# edited by the admin" >>"$D$CONFDIR/tlsaudit.conf"
DESTDIR=$D cmake --install "$TA_BUILD" >"$IT_TMP/install2.out" 2>&1 || die "second install failed"
assert_eq "$(tail -1 "$D$CONFDIR/tlsaudit.conf")" "# edited by the admin" "a second install keeps the edited config"
assert_in "$(cat "$IT_TMP/install2.out")" "Kept existing: $D$CONFDIR/tlsaudit.conf" "the install says it kept it"

# --- 2. systemd-analyze verify --------------------------------------------------------------
mkdir -p "$D/lib/systemd" "$D/bin" "$D/etc/systemd/system"
cp -a /lib/systemd/system "$D/lib/systemd/" # the targets the units name (network, timers ...)
cp /bin/kill "$D/bin/kill"                  # ExecReload=/bin/kill
units=("$D$UNITDIR/tlsaudit.service" "$D$UNITDIR/tlsaudit-endpoints.service" "$D$UNITDIR/tlsaudit-endpoints.timer")
out=$(MANPATH=$D$PREFIX/share/man systemd-analyze verify --root="$D" "${units[@]}" 2>&1)
assert_eq "$?|$out" "0|" "systemd-analyze verify: the three units, no complaint"
sed 's/^ProtectSystem=strict/ProtectSystem=strictly/; s/^Restart=on-failure/Restart=sometimes/' \
    "$D$UNITDIR/tlsaudit.service" >"$D/etc/systemd/system/ta-broken.service"
out=$(MANPATH=$D$PREFIX/share/man systemd-analyze verify --root="$D" "$D/etc/systemd/system/ta-broken.service" 2>&1)
assert_in "$out" "Failed to parse protect system value, ignoring: strictly" \
    "systemd-analyze verify names a bad value (the check can fail)"
unit=$(cat "$D$UNITDIR/tlsaudit.service")
for want in "User=tlsaudit" "StateDirectory=tlsaudit" "AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN" \
            "CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN" "NoNewPrivileges=yes" \
            "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" \
            "RestrictAddressFamilies=AF_PACKET AF_UNIX AF_INET AF_INET6 AF_NETLINK" \
            "SystemCallFilter=@system-service" "MemoryDenyWriteExecute=yes" "Restart=on-failure" \
            'ExecReload=/bin/kill -HUP $MAINPID' \
            "ExecStart=$PREFIX/bin/tlsaudit capture --config $CONFDIR/tlsaudit.conf"; do
    assert_in "$unit" "$want" "tlsaudit.service has $want"
done
exposure=$(systemd-analyze security --offline=yes --root="$D" "$D$UNITDIR/tlsaudit.service" 2>&1 |
    sed -n 's/.*Overall exposure level for tlsaudit.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security: exposure ${exposure:-?} (0 = locked down, 10 = exposed)"
if [ -n "$exposure" ] && awk "BEGIN { exit !($exposure <= 3.0) }"; then pass; else
    fail "exposure level '${exposure}' above 3.0"; fi

# --- 3. sysusers --------------------------------------------------------------------------
if command -v systemd-sysusers >/dev/null; then
    mkdir -p "$D/etc"
    : >"$D/etc/passwd"
    : >"$D/etc/group"
    systemd-sysusers --root="$D" >"$IT_TMP/sysusers.out" 2>&1
    assert_in "$(cat "$D/etc/passwd")" "tlsaudit:x:" "systemd-sysusers creates the tlsaudit user"
    assert_in "$(grep '^tlsaudit:' "$D/etc/passwd")" ":/var/lib/tlsaudit:/usr/sbin/nologin" \
        "its home is the state directory, no login shell"
fi

# --- 4. the ExecStart line, as the unit runs it ----------------------------------------------
if [ "$(cat /proc/1/comm)" = systemd ]; then
    echo "PID 1 is systemd: the unit could be started for real (not done: this test runs it by hand)"
else
    echo "PID 1 is '$(cat /proc/1/comm)', not systemd: the unit is run by hand as systemd would"
fi
netns_up
make_cert
PORT=$((47000 + $$ % 1000))
state=$IT_TMP/state # /var/lib/tlsaudit: StateDirectory, owned by the service user, mode 0750
mkdir -m 0750 "$state"
chown nobody:"$(id -g nobody)" "$state"
chmod 0711 "$IT_TMP"
conf=$D$CONFDIR/tlsaudit.conf
sed -i "s|^interface = .*|interface = lo|; s|^db = .*|db = $state/tlsaudit.db|" "$conf"
echo "filter = tcp port $PORT" >>"$conf"
exec_start=$(sed -n 's/^ExecStart=//p' "$D$UNITDIR/tlsaudit.service")
exec_start=${exec_start//$PREFIX\/bin\/tlsaudit/$D$PREFIX/bin/tlsaudit}
exec_start=${exec_start//$CONFDIR\/tlsaudit.conf/$conf}
caps=$(sed -n 's/^AmbientCapabilities=//p' "$D$UNITDIR/tlsaudit.service" | tr 'A-Z ' 'a-z\n' |
    sed 's/^cap_/+/' | paste -sd, -)
echo "ExecStart as run: $exec_start (capabilities $caps)"
db=$state/tlsaudit.db
# shellcheck disable=SC2086 # the unit's command line is split on blanks, as systemd does
(cd "$state" && umask 0027 && exec ip netns exec "$NS" setpriv --reuid=nobody --regid="$(id -g nobody)" \
    --clear-groups --no-new-privs --inh-caps=-all,"$caps" --ambient-caps=-all,"$caps" \
    --bounding-set=-all,"$caps" -- $exec_start) >"$IT_TMP/svc.out" 2>&1 &
svc=$!
IT_CLEANUP_PIDS+=("$svc")
wait_sql "$db" "SELECT count(*) FROM runs" 1 || die "the unit's command did not start: $(cat "$IT_TMP/svc.out")"
st=/proc/$svc/status
assert_eq "$(cat "/proc/$svc/comm")" tlsaudit "the unit's command is the capture itself"
assert_eq "$(awk '/^Uid:/ {print $2,$3,$4} /^NoNewPrivs:/ {print $2}' "$st" | xargs)" \
    "$(id -u nobody) $(id -u nobody) $(id -u nobody) 1" "runs unprivileged, no new privileges"
assert_eq "$(awk '/^Cap(Eff|Bnd|Amb):/ {printf "%s%s ", $1, $2}' "$st")" \
    "CapEff:0000000000003000 CapBnd:0000000000003000 CapAmb:0000000000003000 " \
    "only CAP_NET_RAW and CAP_NET_ADMIN (effective, bounding, ambient)"
sleep 0.3
tls_once "$PORT" unit.example.test -tls1_2
wait_sql "$db" "SELECT sni || '|' || version FROM handshakes" "unit.example.test|771" ||
    fail "handshake not stored by the unit's command: $(cat "$IT_TMP/svc.out")"
assert_eq "$(stat -c %U "$db")" nobody "the database belongs to the service user"
# status: running; healthy once the endpoint list is fresh (the built-in one is years old).
"$TA_BIN" status --db "$db" >"$IT_TMP/st1.out"
assert_eq "$?" 1 "status: degraded with the built-in (old) endpoint list ($(tail -1 "$IT_TMP/st1.out"))"
assert_in "$(cat "$IT_TMP/st1.out")" "endpoint list older than 30 days" "status says why it is degraded"
runuser -u nobody -- "$TA_BIN" endpoints import "$TA_DATA/endpoints-sample.json" --db "$db" \
    --version 2026120100 >/dev/null 2>&1 || fail "endpoint import as the service user failed"
"$TA_BIN" status --db "$db" >"$IT_TMP/st2.out"
assert_eq "$?" 0 "status: healthy ($(cat "$IT_TMP/st2.out"))"
assert_in "$(head -1 "$IT_TMP/st2.out")" "tlsaudit: running since" "status: running since ..."
assert_in "$(cat "$IT_TMP/st2.out")" "pid $svc on $(hostname)" "status names the pid and host"
kill -HUP "$svc" # ExecReload
sleep 1
kill -0 "$svc" 2>/dev/null && pass || fail "ExecReload's SIGHUP stopped the service"
kill -TERM "$svc" # systemd's stop
for _ in $(seq 200); do kill -0 "$svc" 2>/dev/null || break; sleep 0.05; done
wait "$svc"
assert_eq "$?" 0 "SIGTERM: the unit's command exits 0 ($(tail -2 "$IT_TMP/svc.out"))"
assert_eq "$(sql "$db" "SELECT clean, ended IS NOT NULL, reloads FROM runs")" "1|1|1" "run ended cleanly after one reload"
"$TA_BIN" status --db "$db" >"$IT_TMP/st3.out"
assert_eq "$?" 2 "status after the stop: not running ($(head -1 "$IT_TMP/st3.out"))"
it_done
