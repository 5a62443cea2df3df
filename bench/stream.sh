#!/usr/bin/env bash
# Streaming benchmark: what does governed-chat add to the first streamed byte, and does it
# hold 500 streams at once in little memory?
#
#   bench/stream.sh
#
# Starts on loopback only
#   * bench/stream_stub.py: an OpenAI-compatible upstream that answers the reasoning stage
#     with JSON and streams the expression stage as 20 SSE chunks 50 ms apart (one short
#     sentence of prose each), recording when it received each request and sent each chunk;
#   * governed-chat (release build, Postgres on: a fresh database on $PGHOST:$PGPORT created
#     for this run and dropped on exit; TLS when the server offers it, as in bench/run.sh),
# then drives it with bench/stream_client.py (`Accept: text/event-stream`):
#   1. c=1, STREAM_TURNS turns one after another: time to the first `text-delta` part minus
#      the upstream's own time (reasoning answer + expression time to its first chunk);
#   2. STREAM_CONCURRENT streams held at once (the stub holds every expression stream until
#      all are open): every stream must end with `finish` (accepted) and `[DONE]`; VmRSS and
#      VmHWM of governed-chat from /proc/<pid>/status, sampled every 50 ms.
# Prints a summary and writes bench-results/stream-<timestamp>.json. Everything it starts is
# stopped and the database dropped on exit, also on failure or Ctrl-C. See docs/BENCHMARKS.md.
#
# Knobs (environment):
#   STREAM_TURNS=200          c=1 turns measured (each lasts about 1 s: 20 chunks 50 ms apart)
#   STREAM_WARMUP=10          unmeasured c=1 turns first
#   STREAM_CONCURRENT=500     streams held at once (MAX_CONCURRENT_TURNS is this + 100; 0: skip)
#   STREAM_SPLIT=sentences    stub chunking: sentences (one sentence per chunk) or words
#                             (the same prose cut at word boundaries, across sentence ends)
#   STREAM_NODB=0             1: the in-memory store instead of Postgres (to see what the
#                             Postgres admission adds; not the configuration of the targets)
#   STREAM_SECRET_BYTES=      N: also configure a secret of N random characters
#                             (SUPABASE_SERVICE_ROLE_KEY; a legacy service-role JWT is ~220):
#                             the output governor holds back the longest secret's length
#   BENCH_SKIP_BUILD=0        1: use the existing target/release binary
#   BENCH_BIN=                a governed-chat binary to measure instead (implies no build)
#   BENCH_KEEP=0              1: keep the temp dir (logs, raw JSON)
#   PGHOST/PGPORT/PGUSER      Postgres server (default 127.0.0.1:5432, postgres, trust auth)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR="$ROOT/bench"
STREAM_TURNS=${STREAM_TURNS:-200}
STREAM_WARMUP=${STREAM_WARMUP:-10}
STREAM_CONCURRENT=${STREAM_CONCURRENT:-500}
STREAM_SPLIT=${STREAM_SPLIT:-sentences}
STREAM_NODB=${STREAM_NODB:-0}
STREAM_SECRET_BYTES=${STREAM_SECRET_BYTES:-0}
BENCH_SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
BENCH_BIN=${BENCH_BIN:-}
BENCH_KEEP=${BENCH_KEEP:-0}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
DB="gc_stream_$(date -u +%Y%m%d%H%M%S)_$$"
TMP=$(mktemp -d /tmp/gc-stream.XXXXXX)
RESULTS_DIR="$ROOT/bench-results"
BIN=${BENCH_BIN:-"$ROOT/target/release/governed-chat"}
DB_CREATED=0
APP_PID=""
STUB_PID=""

BENCH_TAG=stream
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$APP_PID" 10
    stop_pid "$STUB_PID" 10
    finish_run "$rc"
}
on_exit cleanup

for tool in python3 curl psql createdb dropdb; do
    command -v "$tool" >/dev/null || die "$tool is required (bench/run.sh provisions curl and postgresql-client)"
done

# Each stream holds a client socket and an upstream socket in governed-chat.
need_fds=$((STREAM_CONCURRENT * 3 + 256))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need_fds" ]; then
    ulimit -n "$need_fds" 2>/dev/null || die "cannot raise ulimit -n to $need_fds (hard limit $(ulimit -Hn))"
fi

release_binary

read -r STUB_PORT APP_PORT < <(free_ports 2)
started_at=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

python3 "$BENCH_DIR/stream_stub.py" --port "$STUB_PORT" --split "$STREAM_SPLIT" \
    >"$TMP/stub.log" 2>&1 &
STUB_PID=$!
wait_http "http://127.0.0.1:$STUB_PORT/records" "$STUB_PID" "stream stub" "$TMP/stub.log"

URL="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
if [ "$STREAM_NODB" = 1 ]; then
    URL=""
else
    log "creating database $DB"
    createdb "$DB"
    DB_CREATED=1
fi
HIGH=1000000
envs=(
    "PATH=$PATH" "HOME=${HOME:-/root}" ENV=development HOST=127.0.0.1 "PORT=$APP_PORT"
    LOG_LEVEL=warn "NO_PROXY=*"
    "MODEL_PROVIDER_BASE_URL=http://127.0.0.1:$STUB_PORT/v1" MODEL_PROVIDER_API_KEY=bench-key
    "MAX_CONCURRENT_TURNS=$((STREAM_CONCURRENT + 100))"
    "QUOTA_PER_MINUTE=$HIGH" "QUOTA_PER_DAY=$((HIGH * 100))"
    "NEW_SESSIONS_PER_ADDRESS_PER_HOUR=$HIGH" "TURNS_PER_ADDRESS_PER_HOUR=$((HIGH * 100))"
)
if [ "$STREAM_SECRET_BYTES" -gt 0 ]; then
    envs+=("SUPABASE_SERVICE_ROLE_KEY=$(python3 -c 'import secrets, sys
print(secrets.token_urlsafe(int(sys.argv[1]))[: int(sys.argv[1])])' "$STREAM_SECRET_BYTES")")
fi
if [ -n "$URL" ]; then
    envs+=("DATABASE_URL=$URL")
    env -i "${envs[@]}" "$BIN" migrate >"$TMP/migrate.log" 2>&1 ||
        die "governed-chat migrate failed: $(cat "$TMP/migrate.log")"
fi
env -i "${envs[@]}" "$BIN" serve >"$TMP/app.log" 2>&1 &
APP_PID=$!
wait_http "http://127.0.0.1:$APP_PORT/ready" "$APP_PID" "governed-chat" "$TMP/app.log"

client() { # mode args...: the client, bounded in time
    timeout 900 python3 "$BENCH_DIR/stream_client.py" "$1" --port "$APP_PORT" \
        --stub-port "$STUB_PORT" "${@:2}"
}

log "1. c=1: $STREAM_WARMUP warm-up + $STREAM_TURNS measured turns (about 1 s each)"
client latency --turns "$STREAM_TURNS" --warmup "$STREAM_WARMUP" >"$TMP/latency.json" ||
    die "latency run failed"
load_mid=$(cut -d' ' -f1-3 /proc/loadavg)
if [ "$STREAM_CONCURRENT" -gt 0 ]; then
    log "2. $STREAM_CONCURRENT streams at once"
    client concurrent --streams "$STREAM_CONCURRENT" --pid "$APP_PID" >"$TMP/concurrent.json" ||
        die "concurrent run failed"
else
    echo null >"$TMP/concurrent.json"
fi
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

stop_pid "$APP_PID" 10 # flushes the metadata writer
APP_PID=""
rows="none (in-memory store)"
if [ "$DB_CREATED" = 1 ]; then
    rows=$(psql -d "$DB" -Atc "select coalesce(string_agg(outcome || ' ' || n, ', '), 'none')
        from (select outcome, count(*) n from requests group by 1 order by 1) t")
fi
ssl=$(psql -d postgres -Atc 'show ssl')
mkdir -p "$RESULTS_DIR"
OUT="$RESULTS_DIR/stream-$STAMP.json"

python3 - "$TMP/latency.json" "$TMP/concurrent.json" "$OUT" <<PY
import json, sys
lat = json.load(open(sys.argv[1]))
con = json.load(open(sys.argv[2]))
facts = {
    "stamp": "$STAMP",
    "commit": "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)",
    "split": "$STREAM_SPLIT",
    "store": "$([ -n "$URL" ] && echo postgres || echo memory)",
    "load_average_start": "$load_start",
    "load_average_after_c1": "$load_mid",
    "load_average_end": "$load_end",
    "seconds": $(($(date +%s) - started_at)),
    "postgres_ssl": "$ssl",
    "requests_rows": "$rows",
    "nproc": $(nproc),
    # The output governor holds back (longest configured secret - 1) bytes; here the
    # longest are DATABASE_URL and the random 64-hex-digit ADDRESS_HASH_KEY of development.
    "longest_secret_bytes": max(64, ${#URL}, len("bench-key"), len("http://127.0.0.1:$STUB_PORT/v1"), $STREAM_SECRET_BYTES),
}
json.dump({"facts": facts, "latency": lat, "concurrent": con}, open(sys.argv[3], "w"), indent=1)

def row(name, key):
    p = lat.get(key, {})
    return f"| {name} | {p.get('p50')} | {p.get('p90')} | {p.get('p99')} | {p.get('max')} |"

print(f"governed-chat streaming, {facts['stamp']} ({facts['commit']}), chunks: {facts['split']}, "
      f"load average {facts['load_average_start']} (start) / {facts['load_average_end']} (end), "
      f"{facts['seconds']} s, store: {facts['store']}, Postgres ssl={facts['postgres_ssl']}")
print()
print(f"c=1: {lat['complete']}/{lat['turns']} turns complete (accepted, finish, [DONE]); "
      f"stub saw {lat['stub_reasoning_requests']} reasoning + {lat['stub_expression_requests']} expression requests")
if lat.get("error"):
    print(f"ERROR: {lat['error']}")
print()
print("| c=1 | p50 | p90 | p99 | max |")
print("| --- | ---: | ---: | ---: | ---: |")
print(row("time to first text-delta, raw (ms)", "ttfd"))
print(row("upstream's own time to its first expression chunk, incl. reasoning answer (ms)", "upstream_first"))
print(row("raw − that (ms): includes the holdback wait", "literal"))
print(row("chunk that released the first governed text (1 = the first)", "trigger_chunk"))
print(row("holdback wait: that chunk sent − first chunk sent (ms)", "holdback_wait"))
print(row("bytes in the first text-delta", "first_delta_bytes"))
print(row("**added by governed-chat** (raw − upstream's own time to the releasing chunk) (ms)", "added"))
print(row("  of which before the expression request (admission, reasoning round trip) (ms)", "before_expression"))
print(row("  of which releasing chunk sent → client has the delta (ms)", "delivery"))
print(row("upstream's last chunk sent → client has [DONE] (ms)", "after_last_chunk"))
print(f"longest configured secret (the redactor holds back one byte less): {facts['longest_secret_bytes']} bytes")
print()
if con is None:
    p50 = lat.get("added", {}).get("p50")
    print(f"target p50 added < 2 ms: {'met' if p50 is not None and p50 < 2 else 'MISSED'} ({p50} ms)")
    print(f"results: {sys.argv[3]}")
    sys.exit(0)
print(f"{con['turns']} at once: {con['complete']} complete, {con['finish_parts']} finish parts, "
      f"{con['done']} [DONE]; peak open: {con['client_open_peak']} (client), "
      f"{con['stub_expression_open_peak']} (stub expression streams); {con['seconds']} s")
print(f"outcomes: {con['outcomes']}")
print(f"RSS: before {con['rss_kb_before']/1024:.1f} MB, sampled peak {con['rss_kb_peak_sampled']/1024:.1f} MB, "
      f"after {con['rss_kb_after']/1024:.1f} MB; VmHWM {con['hwm_kb_after']/1024:.1f} MB")
print(f"requests rows: {facts['requests_rows']}")
p50 = lat.get("added", {}).get("p50")
ok_lat = p50 is not None and p50 < 2
ok_con = con["complete"] == con["turns"] and con["done"] == con["turns"]
ok_rss = con["hwm_kb_after"] < 64 * 1024
print()
print(f"target p50 added < 2 ms: {'met' if ok_lat else 'MISSED'} ({p50} ms)")
print(f"target all {con['turns']} streams complete: {'met' if ok_con else 'MISSED'}")
print(f"target RSS (VmHWM) < 64 MB: {'met' if ok_rss else 'MISSED'}")
print(f"results: {sys.argv[3]}")
PY
