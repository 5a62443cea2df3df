#!/usr/bin/env bash
# Diagnostic: the Postgres admission transaction alone, without governed-chat, via pgbench.
#
#   bench/pg_admission.sh
#
# Replays what store/pg/admit.rs sends for a turn — one call of `gc_admit`
# (migrations/0005, rewritten in 0006) as an unnamed extended-protocol statement — against a fresh migrated
# database, at concurrency 1 and 32, beside `SELECT 1` (the round-trip floor), in variants:
#   new-session   a turn that opens a session (session insert + address row)
#   continuing    a turn that continues one of 128 sessions opened beforehand
# each with TLS (`sslmode=require`) and without, and with the extended protocol (what
# tokio-postgres `query_typed` does: the outer SELECT is parsed every time) and prepared.
# Every call comes from one client address, as in bench/run.sh (one shared address row).
# Knobs: BENCH_SECONDS (default 10), BENCH_CONCURRENCY ("1 32"),
# PGHOST/PGPORT/PGUSER (127.0.0.1, 5432, postgres).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_SECONDS=${BENCH_SECONDS:-10}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
PGBENCH=$(command -v pgbench || ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -n 1 || true)
[ -x "$PGBENCH" ] || {
    echo "pgbench not found (Debian: postgresql-contrib or the server package)" >&2
    exit 1
}
BIN="$ROOT/target/release/governed-chat"
[ -x "$BIN" ] || {
    echo "build first: cargo build --release" >&2
    exit 1
}
DB="gc_pgbench_$(date -u +%Y%m%d%H%M%S)_$$"
TMP=$(mktemp -d /tmp/gc-pgbench.XXXXXX)
cleanup() {
    dropdb --if-exists --force "$DB" 2>/dev/null || echo "warning: could not drop $DB" >&2
    rm -rf "$TMP"
}
trap cleanup EXIT

createdb "$DB"
env -i PATH="$PATH" ENV=development DATABASE_URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB" \
    "$BIN" migrate >"$TMP/migrate.log" 2>&1 || {
    cat "$TMP/migrate.log" >&2
    exit 1
}

LIMITS="86400::float8, 1000000, 100000000, 1000000, 100000000, 1000000, 100000000, 2000"
ADDRESS="repeat('ab', 32)"
echo 'SELECT 1;' >"$TMP/select1.sql"
cat >"$TMP/new-session.sql" <<EOF
SELECT admitted FROM gc_admit(NULL, md5(random()::text) || md5(random()::text), $ADDRESS, NULL, $LIMITS);
EOF
cat >"$TMP/continuing.sql" <<EOF
\set s random(1, 128)
SELECT admitted FROM gc_admit(md5(:s::text) || md5(:s::text), md5(random()::text), $ADDRESS, NULL, $LIMITS);
EOF
psql -qX -v ON_ERROR_STOP=1 -d "$DB" >/dev/null <<EOF
SELECT gc_admit(NULL, md5(n::text) || md5(n::text), $ADDRESS, NULL, $LIMITS) FROM generate_series(1, 128) n;
EOF

printf '| statement | TLS | protocol | c | calls/s | mean latency |\n| --- | --- | --- | ---: | ---: | ---: |\n'
for variant in select1 new-session continuing; do
    for sslmode in require disable; do
        for mode in extended prepared; do
            for c in ${BENCH_CONCURRENCY:-1 32}; do
                j=1
                if [ "$c" -gt 1 ]; then j=2; fi
                PGSSLMODE=$sslmode "$PGBENCH" -n -M "$mode" -c "$c" -j "$j" -T "$BENCH_SECONDS" \
                    -f "$TMP/$variant.sql" "$DB" >"$TMP/out.txt" 2>&1 || {
                    cat "$TMP/out.txt" >&2
                    exit 1
                }
                tps=$(awk '/^tps = /{print $3; exit}' "$TMP/out.txt")
                lat=$(awk '/^latency average = /{print $4, $5; exit}' "$TMP/out.txt")
                printf '| %s | %s | %s | %s | %.0f | %s |\n' "$variant" "$sslmode" "$mode" "$c" "$tps" "$lat"
            done
        done
    done
done
