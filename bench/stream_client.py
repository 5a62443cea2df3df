#!/usr/bin/env python3
"""Load client for bench/stream.sh (loopback only, Python 3 stdlib asyncio).

Sends `POST /api/chat` with `Accept: text/event-stream` and reads the AI SDK UI message
stream (start, text-start, text-delta..., text-end, finish, [DONE]), one connection per
turn. Times are time.monotonic_ns(), the clock bench/stream_stub.py records with too.

  latency    --turns N --warmup W: N turns one after another (c=1); each turn is matched by
             order with the stub's records of its reasoning and expression requests. Prints
             JSON: per-turn times and their p50/p90/p99/max.
  concurrent --streams N --pid PID: N streams at once (the stub holds every expression
             stream until N are open); samples VmRSS/VmHWM of PID every 50 ms. Prints JSON:
             how many streams finished, peak streams open, RSS.
"""
import argparse
import asyncio
import json
import sys
import time

MESSAGE = "How do I read a file in Rust?"


class Turn:
    def __init__(self):
        self.status = 0
        self.sent = 0
        self.first_delta = 0
        self.ended = 0
        self.parts: dict[str, int] = {}
        self.done = False
        self.outcome = None
        self.category = None
        self.delta_bytes = 0
        self.first_delta_bytes = 0
        self.error = None


async def http(host: str, port: int, method: str, path: str, body: bytes = b"") -> bytes:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            f"{method} {path} HTTP/1.1\r\nhost: {host}:{port}\r\ncontent-length: {len(body)}\r\n"
            f"connection: close\r\n\r\n".encode() + body
        )
        await writer.drain()
        data = await reader.read()
        return data.split(b"\r\n\r\n", 1)[1]
    finally:
        writer.close()


async def stream_turn(host: str, port: int, opened: dict, timeout: float) -> Turn:
    turn = Turn()
    try:
        await asyncio.wait_for(_stream_turn(host, port, turn, opened), timeout)
    except Exception as error:  # counted, reported by kind only
        turn.error = type(error).__name__
    turn.ended = time.monotonic_ns()
    return turn


async def _stream_turn(host: str, port: int, turn: Turn, opened: dict):
    body = json.dumps({"message": MESSAGE}).encode()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        request = (
            f"POST /api/chat HTTP/1.1\r\nhost: {host}:{port}\r\n"
            f"content-type: application/json\r\naccept: text/event-stream\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode() + body
        turn.sent = time.monotonic_ns()
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        turn.status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if turn.status != 200 or "chunked" not in headers.get("transfer-encoding", ""):
            return
        opened["now"] += 1
        opened["peak"] = max(opened["peak"], opened["now"])
        try:
            buffer = b""
            while not turn.done:
                size = int((await reader.readline()).strip().split(b";")[0], 16)
                if size == 0:
                    break
                data = (await reader.readexactly(size + 2))[:-2]
                now = time.monotonic_ns()
                buffer += data
                while b"\n\n" in buffer:
                    event, buffer = buffer.split(b"\n\n", 1)
                    handle_event(turn, event, now)
        finally:
            opened["now"] -= 1
    finally:
        writer.close()


def handle_event(turn: Turn, event: bytes, now: int):
    for line in event.split(b"\n"):
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            turn.done = True
            continue
        part = json.loads(data)
        kind = part.get("type", "?")
        turn.parts[kind] = turn.parts.get(kind, 0) + 1
        if kind == "text-delta":
            turn.delta_bytes += len(part.get("delta", "").encode())
            if not turn.first_delta:
                turn.first_delta = now
                turn.first_delta_bytes = len(part.get("delta", "").encode())
        elif kind == "finish":
            meta = part.get("messageMetadata") or {}
            turn.outcome = meta.get("outcome")
            turn.category = meta.get("category")


def complete(turn: Turn) -> bool:
    return (
        turn.status == 200
        and turn.done
        and turn.parts.get("finish", 0) == 1
        and turn.outcome == "accepted"
        and turn.parts.get("text-delta", 0) > 0
    )


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def rank(p: float) -> float:  # nearest rank
        index = max(0, min(len(ordered) - 1, -(-len(ordered) * p // 100) - 1))
        return round(ordered[int(index)], 3)

    return {
        "n": len(ordered),
        "min": round(ordered[0], 3),
        "p50": rank(50),
        "p90": rank(90),
        "p99": rank(99),
        "max": round(ordered[-1], 3),
    }


def summary(turns: list[Turn]) -> dict:
    outcomes: dict[str, int] = {}
    for t in turns:
        key = t.error or f"{t.status} {t.outcome} {t.category}"
        outcomes[key] = outcomes.get(key, 0) + 1
    parts: dict[str, int] = {}
    for t in turns:
        for kind, count in t.parts.items():
            parts[kind] = parts.get(kind, 0) + count
    return {
        "turns": len(turns),
        "complete": sum(complete(t) for t in turns),
        "done": sum(t.done for t in turns),
        "finish_parts": parts.get("finish", 0),
        "parts": parts,
        "outcomes": outcomes,
    }


async def latency(args) -> dict:
    opened = {"now": 0, "peak": 0}
    for _ in range(args.warmup):
        await stream_turn(args.host, args.port, opened, args.timeout)
    await http(args.host, args.stub_port, "POST", "/reset")
    turns = []
    for _ in range(args.turns):
        turns.append(await stream_turn(args.host, args.port, opened, args.timeout))
    records = json.loads(await http(args.host, args.stub_port, "GET", "/records"))
    reasoning, expression = records["reasoning"], records["expression"]
    result = summary(turns)
    result["stub_reasoning_requests"] = len(reasoning)
    result["stub_expression_requests"] = len(expression)
    if not (len(reasoning) == len(expression) == len(turns)):
        result["error"] = "stub records do not match the turns one to one"
        return result
    ms = 1e6
    rows = []
    for t, r, e in zip(turns, reasoning, expression):
        if not complete(t) or not t.first_delta or not e[1]:
            continue
        received, chunks = e
        # The chunk that made the first governed text releasable: the last one sent before
        # the client had the first delta (chunks are 50 ms apart, far more than the path).
        before = [c for c in chunks if c <= t.first_delta]
        trigger = before[-1] if before else chunks[0]
        reasoning_own = r[1] - r[0]
        ttfd = t.first_delta - t.sent
        rows.append({
            "ttfd": ttfd / ms,
            "upstream_first": (reasoning_own + chunks[0] - received) / ms,
            "literal": (ttfd - reasoning_own - (chunks[0] - received)) / ms,
            "trigger_chunk": len(before),
            "holdback_wait": (trigger - chunks[0]) / ms,
            "added": (ttfd - reasoning_own - (trigger - received)) / ms,
            "delivery": (t.first_delta - trigger) / ms,
            "before_expression": (received - t.sent - reasoning_own) / ms,
            "after_last_chunk": (t.ended - chunks[-1]) / ms,
            "first_delta_bytes": t.first_delta_bytes,
        })
    for key in ["ttfd", "upstream_first", "literal", "trigger_chunk", "holdback_wait", "added",
                "delivery", "before_expression", "after_last_chunk", "first_delta_bytes"]:
        result[key] = percentiles([r[key] for r in rows])
    return result


def rss_kb(pid: int) -> tuple[int, int]:
    rss = hwm = 0
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    return rss, hwm


async def concurrent(args) -> dict:
    await http(args.host, args.stub_port, "POST", f"/reset?barrier={args.streams}")
    before = rss_kb(args.pid)
    opened = {"now": 0, "peak": 0}
    samples = []
    stop = asyncio.Event()

    async def sample():
        while not stop.is_set():
            samples.append((time.monotonic(), opened["now"], *rss_kb(args.pid)))
            try:
                await asyncio.wait_for(stop.wait(), 0.05)
            except asyncio.TimeoutError:
                pass

    sampler = asyncio.create_task(sample())
    started = time.monotonic()

    async def launch(i: int) -> Turn:
        await asyncio.sleep(args.ramp_seconds * i / args.streams)
        return await stream_turn(args.host, args.port, opened, args.timeout)

    turns = await asyncio.gather(*(launch(i) for i in range(args.streams)))
    elapsed = time.monotonic() - started
    stop.set()
    await sampler
    after = rss_kb(args.pid)
    records = json.loads(await http(args.host, args.stub_port, "GET", "/records"))
    result = summary(list(turns))
    result.update({
        "seconds": round(elapsed, 2),
        "client_open_peak": opened["peak"],
        "stub_expression_open_peak": records["open_peak"],
        "stub_expression_requests": len(records["expression"]),
        "rss_kb_before": before[0],
        "hwm_kb_before": before[1],
        "rss_kb_peak_sampled": max(s[2] for s in samples),
        "rss_kb_after": after[0],
        "hwm_kb_after": after[1],
        "samples": len(samples),
    })
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["latency", "concurrent"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--stub-port", type=int, required=True)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--ramp-seconds", type=float, default=2)
    parser.add_argument("--pid", type=int)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    if args.mode == "concurrent" and not args.pid:
        sys.exit("concurrent needs --pid")
    run = latency if args.mode == "latency" else concurrent
    print(json.dumps(asyncio.run(run(args)), indent=1))


if __name__ == "__main__":
    main()
