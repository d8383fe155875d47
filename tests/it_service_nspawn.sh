#!/bin/bash
# it_service_nspawn.sh - tlsaudit.service started for real by systemd, as PID 1 of a container
# the test boots itself (issue 12: "where systemd can run in the test machine, for real").
#
# The container: a Debian 12 minbase root made by debootstrap once and kept in a cache outside
# the repository ($TA_NSPAWN_CACHE, default /var/tmp/tlsaudit-nspawn-root; one directory per
# package list, built under a lock), copied per run into the test's temp dir, `cmake --install`
# of the build put into the copy (DESTDIR), then `systemd-nspawn --boot` with a user namespace
# (container root is not host root), a private network (its own loopback, no other interface)
# and no registration with a host machined (PID 1 of the test machines is not systemd; the test
# gives nspawn a cgroup of its own then). Commands run inside with nsenter; the TLS traffic is
# made by openssl on the container's loopback (nsenter into its network namespace only).
# What it proves, with the real systemd 252 of Debian 12 as PID 1:
#   - the boot's systemd-sysusers.service creates the tlsaudit user from the shipped entry;
#   - `systemctl start tlsaudit` runs the capture as that user, no new privileges, a seccomp
#     filter, its own mount namespace, and only CAP_NET_RAW and CAP_NET_ADMIN (effective,
#     permitted, bounding, ambient); the database in the StateDirectory belongs to it;
#   - it stores a handshake made on the container's loopback;
#   - `systemctl reload` (SIGHUP) keeps the same process running, the reload is counted;
#   - tlsaudit-endpoints.timer is enabled and listed by `systemctl list-timers`, and
#     tlsaudit-endpoints.service, pointed by a drop-in at a file:// copy of the web service
#     (never the network), imports the list as the tlsaudit user and signals the capture
#     through `--unit tlsaudit.service`; `tlsaudit status` then exits 0 (healthy);
#   - `systemctl kill -s KILL`: systemd restarts it (Restart=on-failure), a new run in the same
#     database, status 0 again, and the next handshake is stored beside the first;
#   - `systemctl stop` ends the run cleanly (SIGTERM, exit 0, run row closed): status exits 2.
# Skips (77, saying why) when it is not root, a tool is missing, the root cannot be made
# (debootstrap needs the Debian mirror once) or systemd does not boot in the container; once
# systemd has booted, anything wrong with the units is a failure.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/service_lib.sh
. "$(dirname "$0")/service_lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (systemd-nspawn)"
for tool in systemd-nspawn nsenter flock openssl; do
    command -v "$tool" >/dev/null ||
        skip "$tool not installed (Debian: systemd-container, util-linux, openssl; scripts/install-deps.sh)"
done
[ -n "${TA_BUILD:-}" ] || die "TA_BUILD is not set"
grep -q '^TA_SANITIZE:BOOL=ON' "$TA_BUILD/CMakeCache.txt" &&
    skip "sanitizer build: the container root has no ASan/UBSan runtime (the normal build runs this test)"
PREFIX=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$TA_BUILD/CMakeCache.txt")
CONFDIR=$(sed -n 's/^TA_CONFDIR:PATH=//p' "$TA_BUILD/CMakeCache.txt")
UNITDIR=$(sed -n 's/^TA_SYSTEMD_UNITDIR:PATH=//p' "$TA_BUILD/CMakeCache.txt")
SYSUSERSDIR=$(sed -n 's/^TA_SYSUSERSDIR:PATH=//p' "$TA_BUILD/CMakeCache.txt")
case $UNITDIR:$SYSUSERSDIR in
/usr/local/lib/systemd/system:/usr/local/lib/sysusers.d | /usr/lib/systemd/system:/usr/lib/sysusers.d) ;;
*) skip "units in $UNITDIR and sysusers entry in $SYSUSERSDIR: not where systemd looks (prefix $PREFIX)" ;;
esac

# --- the container root: debootstrap once, then a copy per run --------------------------------
# The packages: systemd as PID 1 (systemd-sysv), dbus (systemctl as the tlsaudit user, in the
# refresh script), procps (/bin/kill of ExecReload), curl (the refresh script), and the runtime
# libraries of the binary. Their list names the cache directory: change it, get a new root.
PKGS=systemd,systemd-sysv,dbus,procps,curl,libpcap0.8,libndpi4.2,libsqlite3-0,libssl3,libpq5
CACHE=${TA_NSPAWN_CACHE:-/var/tmp/tlsaudit-nspawn-root}
BASE=$CACHE/bookworm-$(printf '%s' "$PKGS" | md5sum | cut -c1-12)
MIRROR=${TA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE" || skip "cannot create the cache directory $CACHE"
(
    flock 8
    [ -e "$BASE/.complete" ] && exit 0
    command -v debootstrap >/dev/null || exit 3
    echo "building the container root in $BASE (debootstrap from $MIRROR, once)"
    rm -rf "$BASE.tmp"
    timeout 420 debootstrap --variant=minbase --include="$PKGS" bookworm "$BASE.tmp" "$MIRROR" \
        >"$CACHE/debootstrap.log" 2>&1 || { rm -rf "$BASE.tmp"; exit 4; }
    touch "$BASE.tmp/.complete" && mv "$BASE.tmp" "$BASE"
) 8>"$CACHE/lock"
case $? in
0) ;;
3) skip "no container root in $BASE and debootstrap is not installed (Debian: debootstrap)" ;;
4) skip "debootstrap of the container root failed (mirror $MIRROR): $(tail -3 "$CACHE/debootstrap.log")" ;;
*) skip "cannot make the container root in $BASE" ;;
esac
R=$IT_TMP/root
cp -a --reflink=auto "$BASE" "$R" || die "cannot copy $BASE"
DESTDIR=$R cmake --install "$TA_BUILD" >"$IT_TMP/install.out" 2>&1 ||
    die "cmake --install failed: $(tail -5 "$IT_TMP/install.out")"

MACHINE=nspawn-svc-$$ # also its hostname and the name of its cgroups
PORT=$((45000 + $$ % 1000))
echo "$MACHINE" >"$R/etc/hostname"
conf=$R$CONFDIR/tlsaudit.conf
assert_in "$(grep '^db = ' "$conf")" "db = /var/lib/tlsaudit/tlsaudit.db" "the shipped config's database is in the state directory"
sed -i "s|^interface = .*|interface = lo|; s|^log-level = .*|log-level = info|" "$conf"
echo "filter = tcp port $PORT" >>"$conf"
# Microsoft's endpoints web service as files (the script asks .../version/Worldwide, then
# .../endpoints/Worldwide); the drop-in points the refresh there instead of the network.
ws=$R/srv/ta-endpoints
mkdir -p "$ws/version" "$ws/endpoints" "$R/etc/systemd/system/tlsaudit-endpoints.service.d"
echo '{"instance":"Worldwide","latest":"2026120100"}' >"$ws/version/Worldwide"
cp "$TA_DATA/endpoints-sample.json" "$ws/endpoints/Worldwide"
chmod -R a+rX "$R/srv"
refresh_exec=$(sed -n 's/^ExecStart=//p' "$R$UNITDIR/tlsaudit-endpoints.service")
printf '[Service]\nExecStart=\nExecStart=%s --base-url file:///srv/ta-endpoints\n' "$refresh_exec" \
    >"$R/etc/systemd/system/tlsaudit-endpoints.service.d/test-local-file.conf"

# --- boot ---------------------------------------------------------------------------------------
# Without systemd as the host's PID 1 there is no machined to register with and no scope to
# be put in: nspawn then runs in the cgroup it is started in (--keep-unit), which must be its
# own (it makes supervisor/ and payload/ in it). CGROUPS: that cgroup in each hierarchy nspawn
# uses (cgroup2, and the v1 name=systemd one of a hybrid setup, as here), under the test's own
# cgroup; made and entered by the subshell that becomes nspawn, removed at exit with what the
# container's systemd left in them.
CGROUPS=()
while read -r mnt; do
    CGROUPS+=("$mnt$(sed -n 's|^0::/*|/|p' /proc/self/cgroup | sed 's|/$||')/$MACHINE")
done < <(awk '$3 == "cgroup2" { print $2 }' /proc/self/mounts)
while read -r mnt; do
    CGROUPS+=("$mnt$(sed -n 's|^[0-9]*:name=systemd:/*|/|p' /proc/self/cgroup | sed 's|/$||')/$MACHINE")
done < <(awk '$3 == "cgroup" && $4 ~ /name=systemd/ { print $2 }' /proc/self/mounts)
# cg_enter: make the CGROUPS and move this (sub)shell into them.
cg_enter() {
    local dir
    for dir in "${CGROUPS[@]}"; do
        mkdir -p "$dir" && echo "$BASHPID" >"$dir/cgroup.procs" || return 1
    done
}
NSPAWN_ARGS=(-D "$R" --boot --machine="$MACHINE" --private-network --private-users=pick
             --private-users-ownership=auto --console=read-only)
if [ -d /run/systemd/system ]; then
    echo "PID 1 is systemd: nspawn registers with machined as usual"
else
    echo "PID 1 is '$(cat /proc/1/comm)', not systemd: nspawn runs unregistered, in a cgroup of the test's own"
    NSPAWN_ARGS+=(--register=no --keep-unit)
fi
# shellcheck disable=SC2317 # (called by the trap)
stop_container() {
    local i
    if [ -n "${NSPAWN:-}" ] && kill -0 "$NSPAWN" 2>/dev/null; then
        kill -TERM "$NSPAWN" 2>/dev/null # nspawn asks the container's systemd to power off
        for i in $(seq 100); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
        [ -n "${LEADER:-}" ] && kill -KILL "$LEADER" 2>/dev/null # the whole PID namespace
        kill -KILL "$NSPAWN" 2>/dev/null
        wait "$NSPAWN" 2>/dev/null
    fi
    for i in "${CGROUPS[@]}"; do
        [ -d "$i" ] && find "$i" -depth -type d -exec rmdir {} + 2>/dev/null
    done
    rmdir "/run/systemd/nspawn/propagate/$MACHINE" 2>/dev/null
    it_cleanup
}
trap stop_container EXIT
(
    if [ ! -d /run/systemd/system ]; then
        cg_enter || { echo "cannot make a cgroup of the test's own (${CGROUPS[*]})"; exit 1; }
    fi
    exec systemd-nspawn "${NSPAWN_ARGS[@]}"
) </dev/null >"$IT_TMP/boot.log" 2>&1 &
NSPAWN=$!
LEADER=
for _ in $(seq 300); do
    kill -0 "$NSPAWN" 2>/dev/null || break
    LEADER=$(pgrep -P "$NSPAWN" | head -1)
    [ -n "$LEADER" ] && [ "$(cat "/proc/$LEADER/comm" 2>/dev/null)" = systemd ] && break
    LEADER=
    sleep 0.1
done
[ -n "$LEADER" ] || skip "systemd-nspawn did not start systemd in the container: $(tail -5 "$IT_TMP/boot.log")"
# in_ct CMD...: run CMD in the container (all its namespaces: as its root, in its file system).
in_ct() { timeout 120 nsenter -t "$LEADER" -a "$@"; }
# prop UNIT PROPERTY...: the unit's properties, their values in the order asked, on one line.
prop() {
    local u=$1 p out=()
    shift
    for p in "$@"; do out+=("$(in_ct systemctl show -p "$p" --value "$u")"); done
    echo "${out[*]}"
}
# in_ns CMD...: run CMD (a host program) in the container's network namespace only (tls_once).
in_ns() { nsenter -t "$LEADER" -n "$@"; }
for _ in $(seq 300); do # systemctl talks to PID 1 through this socket, made early in the boot
    in_ct test -S /run/systemd/private && break
    kill -0 "$NSPAWN" 2>/dev/null || break
    sleep 0.1
done
state=$(in_ct systemctl is-system-running --wait 2>&1)
case $state in
running) ;;
degraded) echo "the container booted degraded: $(in_ct systemctl --failed --no-legend --plain | xargs)" ;;
*) skip "systemd in the container did not finish booting ('$state'): $(tail -5 "$IT_TMP/boot.log")" ;;
esac
echo "systemd booted in the container ($(in_ct systemctl --version | head -1)), leader pid $LEADER on the host"
assert_eq "$(in_ct cat /proc/1/comm)" systemd "PID 1 in the container is systemd"
read -r _ host_base _ < <(in_ct cat /proc/self/uid_map)
echo "user namespace: container root is uid ${host_base:-?} on the host"
[ "${host_base:-0}" -gt 0 ] && pass || fail "user namespace: container root is host uid '${host_base:-?}', not an unprivileged range"
for u in tlsaudit.service tlsaudit-endpoints.service tlsaudit-endpoints.timer; do
    assert_eq "$(prop "$u" LoadState FragmentPath)" \
        "loaded $UNITDIR/$u" "systemd loads $u from the install"
done

# --- the user, the start ------------------------------------------------------------------------
pw=$(in_ct getent passwd tlsaudit)
assert_in "$pw" ":/var/lib/tlsaudit:/usr/sbin/nologin" "the boot's systemd-sysusers made the tlsaudit user ($pw)"
uid=$(printf '%s' "$pw" | cut -d: -f3)
in_ct systemctl start tlsaudit >"$IT_TMP/start.out" 2>&1
assert_eq "$?" 0 "systemctl start tlsaudit ($(cat "$IT_TMP/start.out"))"
pid=$(prop tlsaudit MainPID)
db_host=$R/var/lib/tlsaudit/tlsaudit.db # the same file, seen from the host
wait_sql "$db_host" "SELECT count(*) FROM runs" 1 ||
    die "the service wrote no run row: $(in_ct journalctl -u tlsaudit --no-pager | tail -5)"
assert_eq "$(in_ct systemctl is-active tlsaudit)" active "tlsaudit.service is active"
assert_eq "$(in_ct cat "/proc/$pid/comm")" tlsaudit "its main process is the capture"
st=$(in_ct cat "/proc/$pid/status")
assert_eq "$(printf '%s\n' "$st" | awk '/^(Uid|Gid):/ {print $2,$3,$4,$5} /^NoNewPrivs:/ {print $2}' | xargs)" \
    "$uid $uid $uid $uid $uid $uid $uid $uid 1" "runs as the tlsaudit user and group ($uid), no new privileges"
assert_eq "$(printf '%s\n' "$st" | awk '/^Cap(Prm|Eff|Bnd|Amb):/ {printf "%s%s ", $1, $2}')" \
    "CapPrm:0000000000003000 CapEff:0000000000003000 CapBnd:0000000000003000 CapAmb:0000000000003000 " \
    "only CAP_NET_RAW and CAP_NET_ADMIN (permitted, effective, bounding, ambient)"
assert_eq "$(printf '%s\n' "$st" | awk '/^Seccomp:/ {print $2}')" 2 "a seccomp filter is in force (SystemCallFilter)"
[ "$(in_ct readlink "/proc/$pid/ns/mnt")" != "$(in_ct readlink /proc/1/ns/mnt)" ] && pass ||
    fail "the service has no mount namespace of its own (ProtectSystem, PrivateTmp ...)"
assert_eq "$(in_ct stat -c '%U %a' /var/lib/tlsaudit /var/lib/tlsaudit/tlsaudit.db)" \
    "$(printf 'tlsaudit 750\ntlsaudit 640')" "state directory and database belong to the service user (UMask 0027)"

# --- traffic on the container's loopback ----------------------------------------------------------
make_cert
sleep 0.3
tls_once "$PORT" one.nspawn.example.test -tls1_2 || fail "no TLS handshake on the container's loopback"
wait_sql "$db_host" "SELECT sni || '|' || version FROM handshakes" "one.nspawn.example.test|771" ||
    fail "handshake not stored by the service: $(sql "$db_host" "SELECT sni, version FROM handshakes")"

# --- reload ----------------------------------------------------------------------------------------
in_ct systemctl reload tlsaudit >"$IT_TMP/reload.out" 2>&1
assert_eq "$?" 0 "systemctl reload tlsaudit ($(cat "$IT_TMP/reload.out"))"
wait_sql "$db_host" "SELECT reloads FROM runs" 1 || fail "the reload is not counted in the run row"
assert_eq "$(prop tlsaudit ActiveState MainPID)" "active $pid" \
    "after the reload: still active, same process"
assert_in "$(in_ct journalctl -u tlsaudit --no-pager)" "Office 365 endpoint list reloaded" \
    "the journal has the capture's reload line"

# --- the timer and the refresh --------------------------------------------------------------------
in_ct systemctl enable --now tlsaudit-endpoints.timer >"$IT_TMP/timer.out" 2>&1
assert_eq "$?" 0 "systemctl enable --now tlsaudit-endpoints.timer ($(cat "$IT_TMP/timer.out"))"
assert_eq "$(in_ct systemctl is-enabled tlsaudit-endpoints.timer) $(in_ct systemctl is-active tlsaudit-endpoints.timer)" \
    "enabled active" "the timer is enabled (its [Install] section) and active"
assert_in "$(in_ct systemctl list-timers --all --no-legend --no-pager | awk '{ print $(NF - 1), $NF }')" \
    "tlsaudit-endpoints.timer tlsaudit-endpoints.service" "systemctl list-timers lists it"
in_ct "$PREFIX/bin/tlsaudit" status --db /var/lib/tlsaudit/tlsaudit.db >"$IT_TMP/st1.out"
assert_eq "$?" 1 "status before the refresh: degraded, the built-in list is old ($(tail -1 "$IT_TMP/st1.out"))"
in_ct systemctl start tlsaudit-endpoints.service >"$IT_TMP/refresh.out" 2>&1
assert_eq "$?|$(prop tlsaudit-endpoints.service Result)" "0|success" \
    "the refresh service ran to success ($(in_ct journalctl -u tlsaudit-endpoints --no-pager | tail -3))"
journal=$(in_ct journalctl -u tlsaudit-endpoints --no-pager)
assert_in "$journal" "imported Worldwide list 2026120100" "the refresh imported the list from the local file"
assert_in "$journal" "sent SIGHUP to the capture (pid $pid)" "the refresh found the capture through systemd and signalled it"
assert_eq "$(sql "$db_host" "SELECT version, builtin FROM endpoint_sets ORDER BY id DESC LIMIT 1")" \
    "2026120100|0" "the imported list is in force"
wait_sql "$db_host" "SELECT reloads FROM runs" 2 || fail "the refresh's SIGHUP is not counted in the run row"
in_ct "$PREFIX/bin/tlsaudit" status --db /var/lib/tlsaudit/tlsaudit.db >"$IT_TMP/st2.out"
assert_eq "$?" 0 "status while it runs: healthy ($(tail -1 "$IT_TMP/st2.out"))"
assert_in "$(head -1 "$IT_TMP/st2.out")" "(run 1, pid $pid on $MACHINE)" "status names the run, the pid and the container"

# --- kill -9: systemd restarts it -------------------------------------------------------------------
in_ct systemctl kill -s KILL tlsaudit
for _ in $(seq 150); do # RestartSec=5s
    [ "$(prop tlsaudit NRestarts ActiveState)" = "1 active" ] && break
    sleep 0.1
done
pid2=$(prop tlsaudit MainPID)
assert_eq "$(prop tlsaudit NRestarts ActiveState)" "1 active" \
    "after SIGKILL systemd restarted it (Restart=on-failure)"
[ -n "$pid2" ] && [ "$pid2" != 0 ] && [ "$pid2" != "$pid" ] && pass || fail "no new main process ($pid -> $pid2)"
assert_in "$(in_ct journalctl -u tlsaudit --no-pager)" "Main process exited, code=killed, status=9/KILL" \
    "the journal has the kill"
wait_sql "$db_host" "SELECT count(*) FROM runs" 2 || fail "the restarted capture wrote no new run row"
assert_eq "$(sql "$db_host" "SELECT id, pid, ended IS NULL FROM runs ORDER BY id" | tr '\n' ' ')" \
    "1|$pid|1 2|$pid2|1 " "the killed run never ended; the new one runs, in the same database"
in_ct "$PREFIX/bin/tlsaudit" status --db /var/lib/tlsaudit/tlsaudit.db >"$IT_TMP/st3.out"
assert_eq "$?" 0 "status after the restart: healthy ($(tail -1 "$IT_TMP/st3.out"))"
assert_in "$(head -1 "$IT_TMP/st3.out")" "(run 2, pid $pid2 on $MACHINE)" "status names the new run"
sleep 0.3
tls_once "$PORT" two.nspawn.example.test -tls1_2 || fail "no second TLS handshake on the container's loopback"
wait_sql "$db_host" "SELECT count(*) FROM handshakes WHERE sni = 'two.nspawn.example.test' AND run_id = 2" 1 ||
    fail "handshake after the restart not stored"
assert_eq "$(sql "$db_host" "SELECT run_id, sni FROM handshakes ORDER BY id" | tr '\n' ' ')" \
    "1|one.nspawn.example.test 2|two.nspawn.example.test " "the inventory goes on: both handshakes, each in its run"

# --- stop ----------------------------------------------------------------------------------------------
in_ct systemctl stop tlsaudit >"$IT_TMP/stop.out" 2>&1
assert_eq "$?" 0 "systemctl stop tlsaudit ($(cat "$IT_TMP/stop.out"))"
assert_eq "$(prop tlsaudit ActiveState Result ExecMainStatus)" \
    "inactive success 0" "stopped: SIGTERM, exit status 0"
assert_eq "$(sql "$db_host" "SELECT clean, ended IS NOT NULL FROM runs WHERE id = 2")" "1|1" \
    "the run ended cleanly"
in_ct "$PREFIX/bin/tlsaudit" status --db /var/lib/tlsaudit/tlsaudit.db >"$IT_TMP/st4.out"
assert_eq "$?" 2 "status after the stop: not running ($(head -1 "$IT_TMP/st4.out"))"

# --- power off --------------------------------------------------------------------------------------------
in_ct systemctl poweroff >/dev/null 2>&1
for _ in $(seq 300); do kill -0 "$NSPAWN" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$NSPAWN" 2>/dev/null; then
    fail "the container did not power off within 30 s"
else
    wait "$NSPAWN"
    assert_eq "$?" 0 "the container powered off cleanly"
fi
it_done
