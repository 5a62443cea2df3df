#!/usr/bin/env python3
"""Write a wrk Lua script.

    make_wrk_script.py upstream OUT BODY_BYTES MESSAGE   Chat Completions POST to the stub
    make_wrk_script.py chat     OUT 0 MESSAGE            POST /api/chat, a new session per turn
    make_wrk_script.py sessions OUT 0 MESSAGE ID...      POST /api/chat, turns spread over IDs

Every script's done() writes exact numbers (latency percentiles in microseconds, request
and error counts) as JSON to the file named by $WRK_RESULT, so nothing parses wrk's
human-readable units.
"""
import json
import sys

DONE = r"""
function done(summary, latency, requests)
  local path = os.getenv("WRK_RESULT")
  if not path then return end
  local f = assert(io.open(path, "w"))
  local e = summary.errors
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"p50":%d,"p75":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d,"mean":%.1f,"stdev":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency:percentile(50), latency:percentile(75), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9), latency.max, latency.mean, latency.stdev))
  f:close()
end
"""


def lua_string(s: str) -> str:
    level = "=" * 4
    assert f"]{level}]" not in s
    return f"[{level}[{s}]{level}]"


def upstream_body(size: int, message: str) -> str:
    def build(pad: int) -> str:
        return json.dumps(
            {
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "x" * pad},
                    {"role": "user", "content": message},
                ],
                "max_tokens": 1024,
                "temperature": 0,
                "stream": False,
            },
            separators=(",", ":"),
        )

    base = len(build(0).encode())
    return build(max(0, size - base))


def main() -> None:
    kind, out, size, message = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"']
    if kind == "upstream":
        lines.append('wrk.headers["Authorization"] = "Bearer bench-key"')
        lines.append(f"wrk.body = {lua_string(upstream_body(size, message))}")
    elif kind == "chat":
        body = json.dumps({"message": message}, separators=(",", ":"))
        lines.append(f"wrk.body = {lua_string(body)}")
    elif kind == "sessions":
        ids = sys.argv[5:]
        assert ids, "no session ids"
        bodies = [
            json.dumps({"message": message, "session_id": i}, separators=(",", ":"))
            for i in ids
        ]
        lines.append("local bodies = {" + ",".join(lua_string(b) for b in bodies) + "}")
        lines.append("local requests_ = {}")
        lines.append("local n = #bodies")
        lines.append("local counter = 0")
        lines.append("local threads_ = 0")
        # Each thread starts at a different place in the ring so concurrent turns rarely
        # hit the same session row.
        lines.append("function setup(thread) thread:set('offset', threads_ * 61); threads_ = threads_ + 1 end")
        lines.append(
            "function init(args) for i = 1, n do requests_[i] = wrk.format(nil, nil, nil, bodies[i]) end end"
        )
        lines.append(
            "function request() counter = counter + 1; return requests_[((offset or 0) + counter) % n + 1] end"
        )
    else:
        sys.exit(f"unknown kind {kind}")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n" + DONE)


if __name__ == "__main__":
    main()
