# Shared by the bench scripts: logging, installing tools, loopback ports, waiting for a
# server, the release binary, stopping what they started, and the end of their cleanup.
# Set BENCH_TAG (e.g. "bench", "stream") and TMP before sourcing.

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

apt_install() { # packages...: from Debian's packages; apt-get update once if the install fails
    log "installing from Debian packages: $*"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >"$TMP/apt.log" 2>&1; then
        log "install failed; refreshing package lists once (apt-get update) and retrying"
        apt-get update >>"$TMP/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y "$@" >>"$TMP/apt.log" 2>&1 ||
            die "apt-get install $* failed, see $TMP/apt.log"
    fi
}

free_ports() { # n: print n free loopback TCP ports
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

wait_http() { # url pid what [log] [seconds]: wait (default 30 s) for a 200 while pid lives
    local url=$1 pid=$2 what=$3 logfile=${4:-/dev/null} seconds=${5:-30} i
    for i in $(seq $((seconds * 10))); do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 5 "$logfile" >&2 || true
            die "$what exited during startup (see $TMP)"
        fi
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true)" = 200 ]; then
            return 0
        fi
        sleep 0.1
    done
    tail -n 5 "$logfile" >&2 || true
    die "$what not ready at $url after $seconds s ($i checks)"
}

build_release() { # path [cargo args...]: cargo build --release [args] unless
    # BENCH_SKIP_BUILD=1; the binary at path must exist
    local path=$1
    shift
    if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
        log "cargo build --release${*:+ $*}"
        (cd "$ROOT" && cargo build --release --quiet "$@") ||
            die "cargo build --release${*:+ $*} failed"
    fi
    [ -x "$path" ] || die "no binary at $path"
}

release_binary() { # builds target/release unless BENCH_BIN or BENCH_SKIP_BUILD=1; BIN must exist
    if [ -z "${BENCH_BIN:-}" ]; then
        build_release "$BIN"
    fi
    [ -x "$BIN" ] || die "no binary at $BIN"
}
