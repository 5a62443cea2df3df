# Shared by the bench scripts: logging, stopping what they started, and the end of their
# cleanup. Set BENCH_TAG (e.g. "bench", "stream") before sourcing.

log() { printf '[%s %s] %s\n' "${BENCH_TAG:-bench}" "$(date +%T)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

stop_pid() { # pid [seconds]: TERM, wait up to that long (default 5 s), then KILL
    local pid=$1 tenths=$((${2:-5} * 10)) i
    [ -n "$pid" ] || return 0
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq "$tenths"); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "pid $pid did not stop after ${2:-5} s (check $i), killing"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

finish_run() { # exit code: drop the run's database (if DB_CREATED=1), keep TMP when asked
    # (BENCH_KEEP=1) or on failure, else remove it, and exit with that code
    local rc=$1
    if [ "${DB_CREATED:-0}" = 1 ]; then
        dropdb --if-exists --force "$DB" 2>/dev/null ||
            log "warning: could not drop database $DB"
    fi
    if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
        log "temp dir kept: $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}

on_exit() { # function: run it on exit and on Ctrl-C / TERM (exit codes 130 / 143)
    trap "$1" EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}
