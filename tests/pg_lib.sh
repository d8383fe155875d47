# tests/pg_lib.sh - a throwaway PostgreSQL cluster for the sync tests (sourced after lib.sh).
#
# pg_start makes a cluster with initdb in a folder of its own, runs it with pg_ctl as an
# unprivileged user (postgres refuses to run as root; CI runs as root, so the cluster runs as
# 'nobody' then), listening on a Unix socket in that folder and on 127.0.0.1 at a free port,
# and stops it at exit (pg_stop from the EXIT trap). Skips (77) when PostgreSQL is not installed.
# After pg_start: PG_DIR, PG_PORT, PG_SOCK; psql_owner DB SQL runs SQL as the superuser.

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_DIR=""
PG_RUNAS=()

pg_stop() {
    [ -n "$PG_DIR" ] || return 0
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    [ -n "${IT_KEEP:-}" ] || rm -rf "$PG_DIR"
}
trap 'pg_stop; it_cleanup' EXIT

# free_port: a TCP port nobody listens on at 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# pg_start [EXTRA postgres -c options...]: make and start the cluster.
pg_start() {
    [ -x "$PG_BIN/initdb" ] || skip "PostgreSQL server binaries not installed (scripts/install-deps.sh)"
    PG_DIR=$(mktemp -d /tmp/ta-central-pg.XXXXXX)
    chmod 755 "$PG_DIR"
    if [ "$(id -u)" -eq 0 ]; then
        PG_RUNAS=(runuser -u nobody --)
        chown nobody "$PG_DIR"
    fi
    PG_SOCK=$PG_DIR
    PG_PORT=$(free_port)
    "${PG_RUNAS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C \
        --no-sync >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed: $(tail -5 "$PG_DIR/initdb.log")"
    # Unix socket: trust (the test's superuser); TCP: passwords (scram) for everyone.
    "${PG_RUNAS[@]}" tee "$PG_DIR/data/pg_hba.conf" >/dev/null <<HBA
local all all trust
host all all 127.0.0.1/32 scram-sha-256
HBA
    PG_OPTS="-p $PG_PORT -k $PG_SOCK -c listen_addresses=127.0.0.1 -c fsync=off $*"
    pg_up
    psql_owner postgres "CREATE DATABASE central" >/dev/null || die "createdb"
}

# pg_up / pg_down: start and stop (immediately, as a crash would) the cluster pg_start made.
pg_up() {
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
        -o "$PG_OPTS" start >/dev/null || die "pg_ctl start: $(tail -5 "$PG_DIR/server.log")"
}
pg_down() {
    "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null
}

# psql_owner DB SQL: run SQL as the superuser over the socket; tuples only, '|' separated.
psql_owner() {
    psql -X -q -At -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d "$1" -c "$2"
}

# owner_url DB: the connection string of the superuser over the socket (no password).
owner_url() {
    echo "host=$PG_SOCK port=$PG_PORT user=postgres dbname=$1"
}

# cap DB SENSOR FILE...: capture files into DB as sensor SENSOR, keeping every row (retention
# would delete the synthetic old days some tests make; central retention is separate).
cap() {
    local db=$1 sensor=$2 f args=()
    shift 2
    for f in "$@"; do args+=(-r "$f"); done
    "$TA_BIN" capture -q --db "$db" --sensor "$sensor" --retain-days 0 "${args[@]}" 2>"$IT_TMP/capture.err"
}

# fill_inventory DB: rebuild inventory / daily_rollups / daily_clients from the rows, with the
# statements of schema/004_inventory.sql's migration: for rows a test added with SQL (the
# writer keeps these tables for the rows it writes), and as an inventory rebuild (new ids).
fill_inventory() {
    sed -n '/^CREATE TEMP TABLE ta_mig/,/^DROP TABLE ta_mig;/p' "$TA_SRC/schema/004_inventory.sql" \
        >"$IT_TMP/fill.sql"
    sqlite3 "$1" "DELETE FROM inventory; DELETE FROM daily_rollups; DELETE FROM daily_clients;" \
        ".read $IT_TMP/fill.sql" || die "fill_inventory"
}
