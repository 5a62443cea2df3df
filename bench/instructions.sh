#!/usr/bin/env bash
# Instructions per turn: governed-chat's own work for one turn, counted by callgrind, so
# that two builds can be compared on a shared machine whose timings drift from minute to
# minute (an instruction count does not depend on what else the machine is doing).
#
#   bench/instructions.sh
#
# Starts on loopback only
#   * bench/stream_stub.py: the reasoning stage answered with JSON, the expression stage
#     streamed as INSTR_CHUNKS SSE chunks with no delay between them;
#   * governed-chat (release build, in-memory store, LOG_LEVEL=warn) under
#     `valgrind --tool=callgrind`, twice: once for INSTR_BASE_TURNS turns and once for
#     INSTR_BASE_TURNS + INSTR_TURNS turns, JSON turns one after another on one kept-alive
#     connection.
# Both runs hold the same start-up, the same first INSTR_BASE_TURNS turns (the warm-up) and
# nearly the same shutdown (the longer run's store holds more sessions), so the difference of
# their totals divided by INSTR_TURNS is what one turn costs in user space: governed-chat's
# code, its libraries and the allocator. The kernel's share (sockets, wake-ups) is not
# counted; bench/run.sh measures time. Prints the count and writes
# bench-results/instructions-<timestamp>.json. Everything it starts is stopped on exit.
# valgrind is installed from Debian's packages when absent.
#
# Knobs (environment):
#   INSTR_TURNS=500        turns whose instructions are counted
#   INSTR_BASE_TURNS=100   turns both runs make (start-up and warm-up cancel out)
#   INSTR_CHUNKS=20        SSE chunks of the stub's expression answer
#   BENCH_SKIP_BUILD=0     1: use the existing target/release binary
#   BENCH_BIN=             a governed-chat binary to count instead (implies no build)
#   BENCH_KEEP=0           1: keep the temp dir with both callgrind files (for
#                          callgrind_annotate: the measured run's file minus the base run's)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR="$ROOT/bench"
INSTR_TURNS=${INSTR_TURNS:-500}
INSTR_BASE_TURNS=${INSTR_BASE_TURNS:-100}
INSTR_CHUNKS=${INSTR_CHUNKS:-20}
BENCH_SKIP_BUILD=${BENCH_SKIP_BUILD:-0}
BENCH_BIN=${BENCH_BIN:-}
BENCH_KEEP=${BENCH_KEEP:-0}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TMP=$(mktemp -d /tmp/gc-instructions.XXXXXX)
RESULTS_DIR="$ROOT/bench-results"
STUB_PID=""
APP_PID=""

BENCH_TAG=instructions
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$APP_PID" 60
    stop_pid "$STUB_PID"
    finish_run "$rc"
}
on_exit cleanup

[ "$INSTR_BASE_TURNS" -gt 0 ] || die "INSTR_BASE_TURNS must be positive"
[ "$INSTR_TURNS" -gt 0 ] || die "INSTR_TURNS must be positive"
command -v valgrind >/dev/null || apt_install valgrind
command -v python3 >/dev/null || die "python3 is required"
command -v curl >/dev/null || die "curl is required"

BIN=${BENCH_BIN:-"$ROOT/target/release/governed-chat"}
release_binary
read -r STUB_PORT APP_PORT < <(free_ports 2)

python3 "$BENCH_DIR/stream_stub.py" --port "$STUB_PORT" --chunks "$INSTR_CHUNKS" \
    --interval-ms 0 >"$TMP/stub.log" 2>&1 &
STUB_PID=$!
wait_http "http://127.0.0.1:$STUB_PORT/records" "$STUB_PID" "stream stub" "$TMP/stub.log"

# counted_run name turns: the app under callgrind for `turns` turns; sets TOTAL to its
# instruction count. Not called in a subshell: APP_PID must reach the EXIT trap.
TOTAL=""
counted_run() {
    local name=$1 turns=$2 out="$TMP/callgrind-$1.out"
    env -i PATH="$PATH" HOME="${HOME:-/root}" ENV=development HOST=127.0.0.1 \
        PORT="$APP_PORT" LOG_LEVEL=warn NO_PROXY='*' \
        MODEL_PROVIDER_BASE_URL="http://127.0.0.1:$STUB_PORT/v1" \
        MODEL_PROVIDER_API_KEY=bench-key QUOTA_PER_MINUTE=1000000 QUOTA_PER_DAY=100000000 \
        NEW_SESSIONS_PER_ADDRESS_PER_HOUR=1000000 TURNS_PER_ADDRESS_PER_HOUR=100000000 \
        valgrind --tool=callgrind --callgrind-out-file="$out" "$BIN" serve \
        >"$TMP/app-$name.log" 2>&1 &
    APP_PID=$!
    # valgrind starts slowly: up to 120 s.
    wait_http "http://127.0.0.1:$APP_PORT/ready" "$APP_PID" "governed-chat under callgrind" \
        "$TMP/app-$name.log" 120
    log "$name run: $turns turns under callgrind"
    python3 - "$APP_PORT" "$turns" <<'PY' || die "turns failed in the $name run"
import http.client, json, sys
port, turns = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
body = json.dumps({"message": "How do I read a file in Rust?"})
for i in range(turns):
    conn.request("POST", "/api/chat", body, {"content-type": "application/json"})
    response = conn.getresponse()
    answer = json.loads(response.read())
    if response.status != 200 or answer.get("outcome") != "accepted":
        sys.exit(f"turn {i}: HTTP {response.status}, outcome {answer.get('outcome')}")
PY
    stop_pid "$APP_PID" 60
    APP_PID=""
    TOTAL=$(awk '/^summary:/{print $2}' "$out")
    [ -n "$TOTAL" ] || die "callgrind wrote no summary for the $name run (see $TMP)"
}

counted_run base "$INSTR_BASE_TURNS"
base=$TOTAL
counted_run measured "$((INSTR_BASE_TURNS + INSTR_TURNS))"
measured=$TOTAL

mkdir -p "$RESULTS_DIR"
python3 - "$base" "$measured" "$INSTR_TURNS" "$INSTR_BASE_TURNS" "$INSTR_CHUNKS" "$BIN" \
    "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    "$RESULTS_DIR/instructions-$STAMP.json" <<'PY'
import json, sys
base, measured, turns, base_turns, chunks, binary, commit, out = sys.argv[1:9]
per_turn = (int(measured) - int(base)) / int(turns)
result = {
    "instructions_per_turn": round(per_turn),
    "turns": int(turns),
    "base_turns": int(base_turns),
    "instructions_base_run": int(base),
    "instructions_measured_run": int(measured),
    "stub_chunks": int(chunks),
    "binary": binary,
    "git_commit": commit,
}
with open(out, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")
print(f"instructions per turn (user space, in-memory store, JSON turn, {chunks} upstream "
      f"SSE chunks): {per_turn:,.0f}  ({int(base):,} for {base_turns} turns, "
      f"{int(measured):,} for {int(base_turns) + int(turns)})")
PY
log "results: $RESULTS_DIR/instructions-$STAMP.json"
