# A throw-away PostgreSQL cluster from Debian's packages: a temporary folder, a free loopback port,
# no system service. start_postgres sets POSTGRES_URL; stop_postgres removes everything.
# shellcheck source=packages.sh
source "$(dirname "${BASH_SOURCE[0]}")/packages.sh"

postgres_as_owner() {
    # initdb and postgres refuse to run as root; the Debian package creates the postgres user.
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_postgres() {
    ensure_packages initdb:postgresql
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_DIR=$(mktemp -d /tmp/turno-postgres.XXXXXX)
    [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
    PG_PORT=$(free_port)
    postgres_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -U turno --auth=trust -E UTF8 --no-instructions >/dev/null
    postgres_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
        -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=1000 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${POSTGRES_EXTRA_OPTIONS:-}" \
        start >/dev/null
    POSTGRES_URL="postgres://turno@127.0.0.1:$PG_PORT/postgres"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT ($PG_DIR)" >&2
}

stop_postgres() {
    [ -n "${PG_DIR:-}" ] || return 0
    postgres_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    PG_DIR=""
}
