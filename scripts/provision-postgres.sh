#!/usr/bin/env bash
# Provision what the store tests need, idempotently:
#   - PostgreSQL answering on 127.0.0.1:5432 (trust auth on 127.0.0.1, ssl on), installed
#     and started with apt-get when nothing answers there;
#   - a private pgbouncer in transaction mode on 127.0.0.1:6432 in front of it, so the same
#     tests can run a second time through a transaction-mode pooler;
#   - the server binaries (initdb, pg_ctl under /usr/lib/postgresql/<version>/bin) and
#     runuser, for the fault test that restarts a private cluster of its own
#     (tests/common/pg_cluster.rs).
# Run as root (or with sudo available). Fails loudly, with a reason, when anything is missing.
#
#   scripts/provision-postgres.sh
#   cargo test --test store
#   GC_TEST_CONNECT_URL_TEMPLATE='postgres://postgres@127.0.0.1:6432/{db}' cargo test --test store
set -euo pipefail

PG_PORT=5432
BOUNCER_PORT="${PGBOUNCER_PORT:-6432}"
RUN_DIR="${PGBOUNCER_RUN_DIR:-/tmp/governed-chat-pgbouncer}"

say() { echo "provision-postgres: $*"; }
die() { echo "provision-postgres: ERROR: $*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root (or sudo) to run: $*"; fi
}

as_postgres() { as_root runuser -u postgres -- "$@"; }

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
    for _ in $(seq 1 50); do answers "$1" && return 0; sleep 0.2; done
    return 1
}

psql_at() { psql -X -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atc "$2"; }

apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "$* is missing and apt-get is not available to install it"
    say "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null \
        || { as_root apt-get update >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >/dev/null; } \
        || die "apt-get could not install $*"
}

start_postgres() {
    command -v pg_lsclusters >/dev/null 2>&1 || apt_install postgresql
    command -v psql >/dev/null 2>&1 || apt_install postgresql-client
    local cluster version name
    cluster="$(pg_lsclusters -h | head -n1)"
    [ -n "$cluster" ] || die "postgresql is installed but has no cluster (try pg_createcluster)"
    version="$(awk '{print $1}' <<<"$cluster")"
    name="$(awk '{print $2}' <<<"$cluster")"
    local conf_dir="/etc/postgresql/$version/$name"
    local hba="$conf_dir/pg_hba.conf"
    if ! as_root grep -q '^host[[:space:]]\+all[[:space:]]\+all[[:space:]]\+127.0.0.1/32[[:space:]]\+trust' "$hba"; then
        say "allowing trust auth from 127.0.0.1 in $hba"
        as_root sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
    as_root sed -i "s/^#\?ssl = .*/ssl = on/; s/^#\?port = .*/port = $PG_PORT/" "$conf_dir/postgresql.conf"
    say "starting PostgreSQL $version/$name"
    as_root pg_ctlcluster "$version" "$name" start || as_root pg_ctlcluster "$version" "$name" restart \
        || die "PostgreSQL $version/$name did not start (see /var/log/postgresql/)"
    wait_for_port "$PG_PORT" || die "PostgreSQL did not start answering on 127.0.0.1:$PG_PORT"
}

ensure_ssl() {
    local ssl
    ssl="$(psql_at "$PG_PORT" 'SHOW ssl')" || die "cannot query PostgreSQL on 127.0.0.1:$PG_PORT as postgres (trust auth?)"
    if [ "$ssl" != "on" ]; then
        local cert=/etc/ssl/certs/ssl-cert-snakeoil.pem key=/etc/ssl/private/ssl-cert-snakeoil.key
        [ -r "$cert" ] || apt_install ssl-cert
        say "turning ssl on (snakeoil certificate)"
        psql_at "$PG_PORT" "ALTER SYSTEM SET ssl_cert_file = '$cert'" >/dev/null
        psql_at "$PG_PORT" "ALTER SYSTEM SET ssl_key_file = '$key'" >/dev/null
        psql_at "$PG_PORT" "ALTER SYSTEM SET ssl = on" >/dev/null
        psql_at "$PG_PORT" 'SELECT pg_reload_conf()' >/dev/null
        sleep 1
        ssl="$(psql_at "$PG_PORT" 'SHOW ssl')"
    fi
    [ "$ssl" = "on" ] || die "PostgreSQL ssl is still off (check ssl_cert_file / ssl_key_file)"
}

start_pgbouncer() {
    command -v pgbouncer >/dev/null 2>&1 || apt_install pgbouncer
    as_root mkdir -p "$RUN_DIR"
    as_root chown postgres: "$RUN_DIR"
    as_postgres tee "$RUN_DIR/userlist.txt" >/dev/null <<<'"postgres" ""'
    as_postgres tee "$RUN_DIR/pgbouncer.ini" >/dev/null <<INI
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir = $RUN_DIR
auth_type = trust
auth_file = $RUN_DIR/userlist.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 1000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options,statement_timeout
logfile = $RUN_DIR/pgbouncer.log
pidfile = $RUN_DIR/pgbouncer.pid
INI
    say "starting pgbouncer (transaction mode) on 127.0.0.1:$BOUNCER_PORT, config in $RUN_DIR"
    as_postgres pgbouncer -d -q "$RUN_DIR/pgbouncer.ini" \
        || die "pgbouncer did not start (see $RUN_DIR/pgbouncer.log)"
    wait_for_port "$BOUNCER_PORT" || die "pgbouncer did not start answering on 127.0.0.1:$BOUNCER_PORT (see $RUN_DIR/pgbouncer.log)"
}

if answers "$PG_PORT"; then
    say "PostgreSQL already answers on 127.0.0.1:$PG_PORT"
else
    start_postgres
fi
command -v psql >/dev/null 2>&1 || apt_install postgresql-client
ensure_ssl
say "PostgreSQL ready: $(psql_at "$PG_PORT" 'SHOW server_version'), ssl on"

if ! ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    apt_install postgresql
fi
command -v runuser >/dev/null 2>&1 || apt_install util-linux
id postgres >/dev/null 2>&1 || die "the postgres user is missing (the postgresql package creates it)"
say "server binaries for private test clusters: $(ls -d /usr/lib/postgresql/*/bin | tail -n1)"

if answers "$BOUNCER_PORT"; then
    say "something already answers on 127.0.0.1:$BOUNCER_PORT; assuming it is pgbouncer"
else
    start_pgbouncer
fi
[ "$(psql_at "$BOUNCER_PORT" 'SELECT 1')" = "1" ] \
    || die "cannot run a query through pgbouncer on 127.0.0.1:$BOUNCER_PORT"
say "pgbouncer ready: $(pgbouncer --version 2>/dev/null | head -n1), pool_mode = transaction"
