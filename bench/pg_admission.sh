#!/usr/bin/env bash
# Diagnostic: the Postgres admission transaction alone, without governed-chat, via pgbench.
#
#   bench/pg_admission.sh
#
# Replays what store/pg/admit.rs sends for a turn that opens a new session (BEGIN; SET
# LOCAL statement_timeout; address-limit upsert; session insert; COMMIT) against a fresh
# migrated database, at concurrency 1 and 32, in these variants:
#   one-address   every transaction from one client address (as in bench/run.sh: all wrk
#                 connections come from 127.0.0.1, so they share one address_limits row)
#   many-address  a random address out of 10,000 per transaction (no shared hot row)
# each with the extended protocol and unnamed statements (what tokio-postgres query_typed
# does: parse + plan every time) and with prepared statements (plan cached).
# Knobs: BENCH_SECONDS (default 10), PGHOST/PGPORT/PGUSER (127.0.0.1, 5432, postgres).
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

write_script() { # file address-expression
    cat >"$1" <<EOF
\\set a random(1, 10000)
BEGIN;
SET LOCAL statement_timeout = 2000;
INSERT INTO address_limits AS a (address_hash, window_start, new_sessions, expires_at)
    VALUES ($2, now(), 1, now() + make_interval(secs => 86400::float8))
    ON CONFLICT (address_hash) DO UPDATE SET
        new_sessions = CASE WHEN a.window_start > now() - interval '1 hour' AND a.expires_at > now()
                            THEN a.new_sessions + 1 ELSE 1 END,
        window_start = CASE WHEN a.window_start > now() - interval '1 hour' AND a.expires_at > now()
                            THEN a.window_start ELSE now() END,
        expires_at = now() + make_interval(secs => 86400::float8)
    WHERE a.window_start <= now() - interval '1 hour' OR a.expires_at <= now() OR a.new_sessions < 1000000000
    RETURNING new_sessions;
INSERT INTO sessions (id, created_at, last_seen_at, expires_at, turn_count,
                      minute_window_start, minute_count, day_window_start, day_count)
    VALUES (md5(random()::text) || md5(random()::text), now(), now(),
            now() + make_interval(secs => 86400::float8), 1, now(), 1, now(), 1);
COMMIT;
EOF
}
write_script "$TMP/one-address.sql" "repeat('ab', 32)"
write_script "$TMP/many-address.sql" "md5(:a::text) || md5(:a::text)"

printf '| variant | protocol | c | transactions/s | mean latency |\n| --- | --- | ---: | ---: | ---: |\n'
for variant in one-address many-address; do
    for mode in extended prepared; do
        for c in 1 32; do
            j=1
            if [ "$c" -gt 1 ]; then j=2; fi
            "$PGBENCH" -n -M "$mode" -c "$c" -j "$j" -T "$BENCH_SECONDS" -f "$TMP/$variant.sql" "$DB" \
                >"$TMP/out.txt" 2>&1 || {
                cat "$TMP/out.txt" >&2
                exit 1
            }
            tps=$(awk '/^tps = /{print $3; exit}' "$TMP/out.txt")
            lat=$(awk '/^latency average = /{print $4, $5; exit}' "$TMP/out.txt")
            printf '| %s | %s | %s | %.0f | %s |\n' "$variant" "$mode" "$c" "$tps" "$lat"
        done
    done
done
