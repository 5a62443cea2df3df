#!/usr/bin/env bash
# Benchmark: what does governing a turn cost on top of the two upstream calls it makes?
#
#   bench/run.sh
#
# Builds the release binary, starts on loopback only
#   * a stub OpenAI-compatible upstream (nginx `return 200 <fixed completion>`),
#   * a bare nginx reverse-proxy hop in front of that stub (the yardstick),
#   * governed-chat (release, Postgres on, a fresh database created for this run),
#   * the stack floor (examples/stack_floor.rs: actix-web + reqwest making the same two
#     calls and nothing else), which shows what governed-chat adds above its own stack,
# drives each with wrk at concurrency 1 and 32, and prints a Markdown table plus
# bench-results/<timestamp>.json. Everything it starts is stopped and the database is
# dropped on exit, also on failure or Ctrl-C. See docs/BENCHMARKS.md.
#
# Knobs (environment):
#   BENCH_SECONDS=10          measured seconds per (target, concurrency)
#   BENCH_WARMUP_SECONDS=3    unmeasured warm-up before each measured run
#   BENCH_CONCURRENCY="1 32"  connection counts (wrk uses 1 thread for c=1, else 2)
#   BENCH_INFO_LOG=1          also measure governed-chat with LOG_LEVEL=info (0: skip)
#   BENCH_NODB=1              also measure governed-chat with the in-memory store (0: skip)
#   BENCH_SESSIONS=1          also measure turns that continue existing sessions (0: skip)
#   BENCH_FLOOR=1             also measure the stack floor (0: skip); built (cargo build
#                             --release --example stack_floor) unless BENCH_SKIP_BUILD=1, also
#                             with BENCH_BIN; then target/release/examples/stack_floor must exist
#   BENCH_SKIP_BUILD=0        1: use the existing target/release binary
#   BENCH_BIN=                a governed-chat binary to measure instead of target/release's
#                             (implies no build of it; e.g. an older build, for a before/after)
#   BENCH_KEEP=0              1: keep the temp dir (configs, logs, raw wrk output)
#   BENCH_APP_ENV=""          extra NAME=value settings for every governed-chat started (experiments)
#   BENCH_PG_SSLMODE=         sslmode added to DATABASE_URL (default: none, i.e. the
#                             driver's "prefer": TLS whenever the server offers it)
#   BENCH_PG_WAITS=1          sample pg_stat_activity wait events every 0.5 s during the
#                             governed c>1 runs (0: skip)
#   BENCH_PERF=0              1: profile every governed run machine-wide with `perf record
#                             -a` (a diagnostic: it costs CPU, so do not quote its numbers);
#                             reports land next to the JSON as <timestamp>-perf-*.txt
#   PGHOST/PGPORT/PGUSER      Postgres server (default 127.0.0.1:5432, postgres, trust auth)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR="$ROOT/bench"
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_WARMUP_SECONDS=${BENCH_WARMUP_SECONDS:-3}
BENCH_CONCURRENCY=${BENCH_CONCURRENCY:-"1 32"}
BENCH_INFO_LOG=${BENCH_INFO_LOG:-1}
BENCH_NODB=${BENCH_NODB:-1}
BENCH_SESSIONS=${BENCH_SESSIONS:-1}
BENCH_FLOOR=${BENCH_FLOOR:-1}
BENCH_SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
BENCH_BIN=${BENCH_BIN:-}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_APP_ENV=${BENCH_APP_ENV:-}
BENCH_PG_SSLMODE=${BENCH_PG_SSLMODE:-}
BENCH_PG_WAITS=${BENCH_PG_WAITS:-1}
BENCH_PERF=${BENCH_PERF:-0}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-postgres}
export PGHOST PGPORT PGUSER
export PATH="$PATH:/usr/sbin:/sbin"

MESSAGE='How do I read a file in Rust?'
# As high as the configuration allows (per minute and new sessions: 1e6; per day: 1e8).
QUOTA_PER_MINUTE_HIGH=1000000
QUOTA_PER_DAY_HIGH=100000000
NEW_SESSIONS_HIGH=1000000
TURNS_PER_ADDRESS_HIGH=100000000
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
DB="gc_bench_$(date -u +%Y%m%d%H%M%S)_$$"
TMP=$(mktemp -d /tmp/gc-bench.XXXXXX)
RESULTS_DIR="$ROOT/bench-results"
RUNS="$TMP/runs.tsv"
FACTS="$TMP/facts.tsv"
DB_CREATED=0
APP_PID=""
STUB_PID=""
HOP_PID=""
SAMPLER_PID=""
PERF_PID=""

BENCH_TAG=bench
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$SAMPLER_PID"
    stop_pid "$PERF_PID"
    stop_pid "$APP_PID"
    stop_pid "$HOP_PID"
    stop_pid "$STUB_PID"
    finish_run "$rc"
}
on_exit cleanup

# ---------------------------------------------------------------------------------------
# Tools: Debian packages only, installed when absent.
# ---------------------------------------------------------------------------------------
has_candidate() { # package
    apt-cache policy "$1" 2>/dev/null | grep -q 'Candidate: [0-9]'
}

provision() {
    local missing=()
    if ! command -v nginx >/dev/null; then
        if has_candidate nginx-light; then missing+=(nginx-light); else missing+=(nginx); fi
    fi
    command -v wrk >/dev/null || missing+=(wrk)
    command -v psql >/dev/null || missing+=(postgresql-client)
    command -v curl >/dev/null || missing+=(curl)
    if [ "$BENCH_PERF" = 1 ] && ! command -v perf >/dev/null; then
        die "BENCH_PERF=1 needs perf (Debian: linux-perf)"
    fi
    if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
    command -v python3 >/dev/null || die "python3 is required"
    command -v cargo >/dev/null || die "cargo is required"
}

# ---------------------------------------------------------------------------------------
# nginx: stub upstream and bare proxy hop, each its own prefix, 1 worker, no access log.
# ---------------------------------------------------------------------------------------
nginx_common() { # name
    cat <<EOF
worker_processes 1;
pid $TMP/$1.pid;
error_log $TMP/$1-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    keepalive_timeout 75s;
    client_body_buffer_size 64k;
    client_max_body_size 1m;
    client_body_temp_path $TMP/$1-tmp/body;
    proxy_temp_path $TMP/$1-tmp/proxy;
    fastcgi_temp_path $TMP/$1-tmp/fastcgi;
    uwsgi_temp_path $TMP/$1-tmp/uwsgi;
    scgi_temp_path $TMP/$1-tmp/scgi;
EOF
}

# The stub answers every POST /v1/chat/completions with a fixed completion. The reasoning
# request is recognised by its Content-Length (measured once, see calibrate) so the
# reasoning stage gets "notes" and the expression stage a different "reply": with one text
# for both, the reply would echo the private notes and output governance would (rightly)
# treat it as a leak, so the turn would not be a normal accepted turn.
write_stub_conf() { # port reasoning_length|"" log_lengths(0/1)
    local port=$1 rlen=$2 log_lengths=$3
    {
        nginx_common stub
        if [ "$log_lengths" = 1 ]; then
            echo "    log_format lengths '\$content_length';"
        fi
        echo "    map \$http_content_length \$completion {"
        if [ -n "$rlen" ]; then
            echo "        $rlen '$(stub_json notes)';"
        fi
        echo "        default '$(stub_json reply)';"
        echo "    }"
        cat <<EOF
    server {
        listen 127.0.0.1:$port;
        location = /v1/chat/completions {
            default_type application/json;
            return 200 \$completion;
        }
        location / { return 404; }
EOF
        if [ "$log_lengths" = 1 ]; then
            echo "        access_log $TMP/stub-lengths.log lengths;"
        fi
        echo "    }"
        echo "}"
    } >"$TMP/stub.conf"
}

write_hop_conf() { # port stub_port
    {
        nginx_common hop
        cat <<EOF
    upstream stub {
        server 127.0.0.1:$2;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$1;
        location / {
            proxy_pass http://stub;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
EOF
    } >"$TMP/hop.conf"
}

# A Chat Completions response as JSON, escaped for a single-quoted nginx string.
stub_json() { # notes|reply
    python3 "$BENCH_DIR/stub_json.py" "$1"
}

start_nginx() { # name -> sets REPLY_PID
    mkdir -p "$TMP/$1-tmp"
    nginx -t -q -p "$TMP" -e "$TMP/$1-error.log" -c "$TMP/$1.conf" ||
        die "nginx config $TMP/$1.conf is invalid"
    nginx -p "$TMP" -e "$TMP/$1-error.log" -c "$TMP/$1.conf" -g 'daemon off;' \
        >"$TMP/$1.out" 2>&1 &
    REPLY_PID=$!
}

# ---------------------------------------------------------------------------------------
# governed-chat
# ---------------------------------------------------------------------------------------
BIN=${BENCH_BIN:-"$ROOT/target/release/governed-chat"}
FLOOR_BIN="$ROOT/target/release/examples/stack_floor"

app_env() { # port log_level database_url|"" -> env assignments for env -i
    local port=$1 level=$2 url=$3
    echo "PATH=$PATH"
    echo "HOME=${HOME:-/root}"
    echo "ENV=development"
    echo "HOST=127.0.0.1"
    echo "PORT=$port"
    echo "LOG_LEVEL=$level"
    echo "NO_PROXY=*"
    echo "MODEL_PROVIDER_BASE_URL=http://127.0.0.1:$STUB_PORT/v1"
    echo "MODEL_PROVIDER_API_KEY=bench-key"
    echo "QUOTA_PER_MINUTE=$QUOTA_PER_MINUTE_HIGH"
    echo "QUOTA_PER_DAY=$QUOTA_PER_DAY_HIGH"
    echo "NEW_SESSIONS_PER_ADDRESS_PER_HOUR=$NEW_SESSIONS_HIGH"
    echo "TURNS_PER_ADDRESS_PER_HOUR=$TURNS_PER_ADDRESS_HIGH"
    if [ -n "$url" ]; then echo "DATABASE_URL=$url"; fi
    local extra
    for extra in $BENCH_APP_ENV; do echo "$extra"; done
}

start_app() { # name port log_level database_url|""
    local name=$1 port=$2 level=$3 url=$4 envs
    mapfile -t envs < <(app_env "$port" "$level" "$url")
    env -i "${envs[@]}" "$BIN" serve >"$TMP/app-$name.log" 2>&1 &
    APP_PID=$!
    wait_http "http://127.0.0.1:$port/ready" "$APP_PID" "governed-chat ($name)" "$TMP/app-$name.log"
}

stop_app() {
    stop_pid "$APP_PID"
    APP_PID=""
}

chat_probe() { # port: one turn; print the outcome, fail unless accepted
    local port=$1 out
    out=$(curl -s --max-time 10 -H 'content-type: application/json' \
        -d "{\"message\":\"$MESSAGE\"}" "http://127.0.0.1:$port/api/chat") ||
        die "probe turn on port $port failed"
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get("outcome"), d.get("category"))' \
        "$out" >"$TMP/probe.txt"
    grep -q '^accepted ' "$TMP/probe.txt" ||
        die "probe turn was not accepted: $(cat "$TMP/probe.txt") (body: $out)"
}

# ---------------------------------------------------------------------------------------
# Measurement
# ---------------------------------------------------------------------------------------
ticks_of() { # pids...: sum of utime+stime (clock ticks) of the live ones
    local total=0 pid t
    for pid in "$@"; do
        if [ -r "/proc/$pid/stat" ]; then
            # fields after the ") " that ends comm: utime is the 12th, stime the 13th
            t=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')
            total=$((total + t))
        fi
    done
    echo "$total"
}

cpu_busy_total() { # "busy total" jiffies of the whole machine
    awk '/^cpu /{t=0; for(i=2;i<=NF;i++) t+=$i; print t-$5-$6, t}' /proc/stat
}

nginx_workers() { # master pid -> worker pids
    pgrep -P "$1" || true
}

pg_backends() { # pids of our database's backends
    psql -d postgres -Atc "select pid from pg_stat_activity where datname = '$DB'" 2>/dev/null || true
}

metrics_snapshot() { # port|-: "turn_sum turn_count provider_sum" from /metrics
    if [ "$1" = - ]; then
        echo "0 0 0"
        return
    fi
    curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk '
        /^governed_chat_turn_duration_seconds_sum /{ts=$2}
        /^governed_chat_turn_duration_seconds_count /{tc=$2}
        /^governed_chat_provider_duration_seconds_sum /{ps=$2}
        END{printf "%s %s %s\n", ts+0, tc+0, ps+0}'
}

sample_waits() { # out: what our database's non-idle backends wait on, every 0.5 s
    while :; do
        psql -d postgres -AtF' ' -c "select state, coalesce(wait_event_type || ':' || wait_event, 'CPU'), count(*)
            from pg_stat_activity where datname = '$DB' and state <> 'idle' group by 1, 2" \
            >>"$1" 2>/dev/null || true
        echo "--" >>"$1"
        sleep 0.5
    done
}

# run_wrk name url lua_script conns metrics_port|- serverpid_list...
# One warm-up and one measured run; appends a row to $RUNS.
run_wrk() {
    local name=$1 url=$2 script=$3 conns=$4 mport=$5 threads=2
    shift 5
    local pids=("$@") res="$TMP/wrk-$name-c$conns.json"
    if [ "$conns" -lt 2 ]; then threads=1; fi
    log "wrk $name c=$conns: ${BENCH_WARMUP_SECONDS}s warm-up + ${BENCH_SECONDS}s"
    WRK_RESULT="$TMP/warmup.json" timeout $((BENCH_WARMUP_SECONDS + 30)) \
        wrk -t"$threads" -c"$conns" -d"${BENCH_WARMUP_SECONDS}s" --timeout 10s \
        -s "$script" "$url" >"$TMP/warmup.txt" 2>&1 || die "wrk warm-up failed ($name)"
    local pg
    mapfile -t pg < <(pg_backends)
    local t0 c0 t1 c1
    t0=$(ticks_of "${pids[@]}")
    local pg0
    pg0=$(ticks_of "${pg[@]}")
    local m0 m1
    m0=$(metrics_snapshot "$mport")
    if [ "$BENCH_PG_WAITS" = 1 ] && [ "$conns" -gt 1 ] && [ "${#pg[@]}" -gt 0 ]; then
        sample_waits "$TMP/waits-$name-c$conns.txt" &
        SAMPLER_PID=$!
    fi
    local perf_data="$TMP/perf-$name-c$conns.data"
    if [ "$BENCH_PERF" = 1 ] && [ "$mport" != - ]; then
        perf record -a -F 499 -g -o "$perf_data" -- sleep "$BENCH_SECONDS" \
            >"$TMP/perf-$name-c$conns.log" 2>&1 &
        PERF_PID=$!
    fi
    c0=$(cpu_busy_total)
    WRK_RESULT="$res" timeout $((BENCH_SECONDS + 30)) \
        wrk -t"$threads" -c"$conns" -d"${BENCH_SECONDS}s" --timeout 10s --latency \
        -s "$script" "$url" >"$TMP/wrk-$name-c$conns.txt" 2>&1 || die "wrk failed ($name)"
    c1=$(cpu_busy_total)
    stop_pid "$SAMPLER_PID"
    SAMPLER_PID=""
    if [ -n "$PERF_PID" ]; then
        wait "$PERF_PID" || true
        PERF_PID=""
        perf_report "$perf_data" "$name-c$conns" "${pids[0]}"
    fi
PERF_PID=""
    m1=$(metrics_snapshot "$mport")
    t1=$(ticks_of "${pids[@]}")
    # Backends opened during the run count too (each HTTP worker opens its own admission
    # connections on first use; their ticks at the start were zero).
    local pg1 pg_end
    mapfile -t pg_end < <(pg_backends)
    mapfile -t pg < <(printf '%s\n' "${pg[@]}" "${pg_end[@]}" | grep . | sort -u)
    pg1=$(ticks_of "${pg[@]}")
    [ -s "$res" ] || die "wrk wrote no result for $name c=$conns"
    local waits=-
    [ -s "$TMP/waits-$name-c$conns.txt" ] && waits="$TMP/waits-$name-c$conns.txt"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$conns" "$res" \
        "$((t1 - t0))" "$((pg1 - pg0))" "$c0" "$c1" "$m0" "$m1" "$waits" >>"$RUNS"
}

perf_report() { # data label app_pid: machine-wide split by process, then the app's symbols
    local out="$RESULTS_DIR/$STAMP-perf-$2.txt" r=(perf report -i "$1" --no-children --stdio -g none)
    mkdir -p "$RESULTS_DIR"
    {
        echo "## $2: CPU samples by process, machine-wide (perf record -a -F 499)"
        "${r[@]}" --sort pid 2>/dev/null | grep '%' | sed -n '1,15p' || true
        echo
        echo "## $2: governed-chat (pid $3) by shared object"
        "${r[@]}" --pid "$3" --sort dso 2>/dev/null | grep '%' | sed -n '1,12p' || true
        echo
        echo "## $2: governed-chat (pid $3) top symbols"
        "${r[@]}" --pid "$3" --sort dso,symbol 2>/dev/null | grep '%' | sed -n '1,45p' || true
        echo
        echo "## $2: postgres processes top symbols"
        "${r[@]}" --comm postgres --sort dso,symbol 2>/dev/null | grep '%' | sed -n '1,25p' || true
    } >"$out"
    log "perf report: $out"
}

fact() { printf '%s\t%s\n' "$1" "$2" >>"$FACTS"; }

# ---------------------------------------------------------------------------------------
main() {
    provision
    log "temp dir $TMP"

    release_binary
    if [ "$BENCH_FLOOR" = 1 ]; then build_release "$FLOOR_BIN" --example stack_floor; fi

    local ports
    ports=$(free_ports 7)
    read -r STUB_PORT HOP_PORT CAL_PORT PG_APP_PORT INFO_APP_PORT MEM_APP_PORT FLOOR_PORT \
        <<<"$ports"

    # 1. Calibrate: which Content-Length is the reasoning request? (in-memory store)
    write_stub_conf "$STUB_PORT" "" 1
    start_nginx stub
    STUB_PID=$REPLY_PID
    wait_http "http://127.0.0.1:$STUB_PORT/v1/chat/completions" "$STUB_PID" "stub nginx"
    start_app calibrate "$CAL_PORT" warn ""
    curl -s --max-time 10 -o /dev/null -H 'content-type: application/json' \
        -d "{\"message\":\"$MESSAGE\"}" "http://127.0.0.1:$CAL_PORT/api/chat" || true
    stop_app
    local lengths reasoning_len expression_len
    mapfile -t lengths < <(grep -E '^[0-9]+$' "$TMP/stub-lengths.log" || true)
    [ "${#lengths[@]}" -ge 2 ] || die "calibration saw ${#lengths[@]} upstream requests, expected 2"
    reasoning_len=${lengths[0]}
    expression_len=${lengths[1]}
    [ "$reasoning_len" != "$expression_len" ] ||
        die "reasoning and expression requests have the same length; cannot tell them apart"
    stop_pid "$STUB_PID"
    log "upstream request sizes: reasoning $reasoning_len B, expression $expression_len B"
    fact reasoning_request_bytes "$reasoning_len"
    fact expression_request_bytes "$expression_len"

    # 2. The stub and the hop, for real.
    write_stub_conf "$STUB_PORT" "$reasoning_len" 0
    start_nginx stub
    STUB_PID=$REPLY_PID
    write_hop_conf "$HOP_PORT" "$STUB_PORT"
    start_nginx hop
    HOP_PID=$REPLY_PID
    wait_http "http://127.0.0.1:$STUB_PORT/v1/chat/completions" "$STUB_PID" "stub nginx"
    wait_http "http://127.0.0.1:$HOP_PORT/v1/chat/completions" "$HOP_PID" "hop nginx"

    # wrk scripts. The stub gets a Chat Completions body of the expression request's size
    # (the larger of the two) so direct and hop runs move realistic bytes.
    python3 "$BENCH_DIR/make_wrk_script.py" upstream "$TMP/upstream.lua" \
        "$expression_len" "$MESSAGE"
    python3 "$BENCH_DIR/make_wrk_script.py" chat "$TMP/chat.lua" 0 "$MESSAGE"

    local c stub_workers hop_workers
    mapfile -t stub_workers < <(nginx_workers "$STUB_PID")
    mapfile -t hop_workers < <(nginx_workers "$HOP_PID")
    for c in $BENCH_CONCURRENCY; do
        run_wrk stub-direct "http://127.0.0.1:$STUB_PORT/v1/chat/completions" \
            "$TMP/upstream.lua" "$c" - "${stub_workers[@]}"
        run_wrk nginx-hop "http://127.0.0.1:$HOP_PORT/v1/chat/completions" \
            "$TMP/upstream.lua" "$c" - "${hop_workers[@]}"
    done

    # 3. governed-chat with Postgres.
    log "creating database $DB"
    createdb "$DB"
    DB_CREATED=1
    local url="postgres://$PGUSER@$PGHOST:$PGPORT/$DB"
    if [ -n "$BENCH_PG_SSLMODE" ]; then url="$url?sslmode=$BENCH_PG_SSLMODE"; fi
    fact pg_sslmode "${BENCH_PG_SSLMODE:-driver default (prefer)}"
    fact pg_server_ssl "$(psql -d postgres -Atc 'show ssl')"
    fact pg_synchronous_commit "$(psql -d postgres -Atc 'show synchronous_commit')"
    local envs
    mapfile -t envs < <(app_env "$PG_APP_PORT" warn "$url")
    env -i "${envs[@]}" "$BIN" migrate >"$TMP/migrate.log" 2>&1 ||
        die "governed-chat migrate failed: $(cat "$TMP/migrate.log")"

    start_app postgres "$PG_APP_PORT" warn "$url"
    chat_probe "$PG_APP_PORT"
    for c in $BENCH_CONCURRENCY; do
        run_wrk governed "http://127.0.0.1:$PG_APP_PORT/api/chat" "$TMP/chat.lua" "$c" "$PG_APP_PORT" "$APP_PID"
    done
    if [ "$BENCH_SESSIONS" = 1 ]; then
        # Continuing conversations: 128 sessions opened first, turns spread over them.
        local ids=()
        mapfile -t ids < <(python3 "$BENCH_DIR/open_sessions.py" \
            "http://127.0.0.1:$PG_APP_PORT/api/chat" 128 "$MESSAGE")
        [ "${#ids[@]}" = 128 ] || die "opened ${#ids[@]} sessions, expected 128"
        python3 "$BENCH_DIR/make_wrk_script.py" sessions "$TMP/sessions.lua" 0 "$MESSAGE" "${ids[@]}"
        for c in $BENCH_CONCURRENCY; do
            run_wrk governed-sessions "http://127.0.0.1:$PG_APP_PORT/api/chat" \
                "$TMP/sessions.lua" "$c" "$PG_APP_PORT" "$APP_PID"
        done
    fi
    sleep 1.5 # the metadata writer flushes at least every 200 ms
    fact peak_rss_kb "$(awk '/^VmHWM:/{print $2}' "/proc/$APP_PID/status")"
    fact rss_kb "$(awk '/^VmRSS:/{print $2}' "/proc/$APP_PID/status")"
    fact threads "$(awk '/^Threads:/{print $2}' "/proc/$APP_PID/status")"
    fact rows_written "$(psql -d "$DB" -Atc 'select count(*) from requests')"
    fact rows_by_outcome "$(psql -d "$DB" -Atc \
        "select string_agg(outcome || '=' || n, ' ') from (select outcome, count(*) n from requests group by 1 order by 1) t")"
    fact sessions_rows "$(psql -d "$DB" -Atc 'select count(*) from sessions')"
    stop_app

    # 4. Production default logging (info): one line per turn to stdout.
    if [ "$BENCH_INFO_LOG" = 1 ]; then
        start_app info "$INFO_APP_PORT" info "$url"
        chat_probe "$INFO_APP_PORT"
        for c in $BENCH_CONCURRENCY; do
            run_wrk governed-info-log "http://127.0.0.1:$INFO_APP_PORT/api/chat" \
                "$TMP/chat.lua" "$c" "$INFO_APP_PORT" "$APP_PID"
        done
        stop_app
    fi

    # 5. No database (in-memory store): what the Postgres admission costs.
    if [ "$BENCH_NODB" = 1 ]; then
        start_app memory "$MEM_APP_PORT" warn ""
        chat_probe "$MEM_APP_PORT"
        for c in $BENCH_CONCURRENCY; do
            run_wrk governed-no-db "http://127.0.0.1:$MEM_APP_PORT/api/chat" \
                "$TMP/chat.lua" "$c" "$MEM_APP_PORT" "$APP_PID"
        done
        fact peak_rss_kb_no_db "$(awk '/^VmHWM:/{print $2}' "/proc/$APP_PID/status")"
        stop_app
    fi

    # 6. The stack floor: the same two upstream calls through actix-web and reqwest alone.
    if [ "$BENCH_FLOOR" = 1 ]; then
        "$FLOOR_BIN" "$FLOOR_PORT" "http://127.0.0.1:$STUB_PORT/v1/chat/completions" \
            >"$TMP/floor.log" 2>&1 &
        APP_PID=$!
        wait_http "http://127.0.0.1:$FLOOR_PORT/ready" "$APP_PID" "stack floor" "$TMP/floor.log"
        chat_probe "$FLOOR_PORT"
        for c in $BENCH_CONCURRENCY; do
            run_wrk stack-floor "http://127.0.0.1:$FLOOR_PORT/api/chat" "$TMP/chat.lua" "$c" - \
                "$APP_PID"
        done
        stop_app
    fi

    fact nproc "$(nproc)"
    fact cpu_model "$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
    fact mem_total_kb "$(awk '/^MemTotal:/{print $2}' /proc/meminfo)"
    fact loadavg_end "$(cut -d' ' -f1-3 /proc/loadavg)"
    fact clk_tck "$(getconf CLK_TCK)"
    fact bench_seconds "$BENCH_SECONDS"
    fact git_commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    fact binary "$BIN"
    fact git_dirty "$(git -C "$ROOT" status --porcelain -- backend migrations examples Cargo.toml Cargo.lock 2>/dev/null | wc -l)"

    mkdir -p "$RESULTS_DIR"
    python3 "$BENCH_DIR/report.py" "$RUNS" "$FACTS" "$RESULTS_DIR/$STAMP.json"
    log "results: $RESULTS_DIR/$STAMP.json (took $((SECONDS / 60)) min $((SECONDS % 60)) s)"
}

: >"$RUNS"
: >"$FACTS"
fact loadavg_start "$(cut -d' ' -f1-3 /proc/loadavg)"
main "$@"
