# Shared by the bench scripts: logging and stopping what they started.
# Set BENCH_TAG (e.g. "bench", "stream") before sourcing.

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
