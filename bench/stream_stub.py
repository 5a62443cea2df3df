#!/usr/bin/env python3
"""Streaming stub upstream for bench/stream.sh (loopback only, Python 3 stdlib).

POST /v1/chat/completions
  * with "stream": true (the expression stage): 200 text/event-stream, headers at once,
    then CHUNKS OpenAI-style chunks `data: {"choices":[{"delta":{"content":...}}]}`,
    the first one INTERVAL ms after the request arrived and each next one INTERVAL ms
    later, then `data: [DONE]`. Each chunk is one short sentence of prose plus a space
    (--split sentences) or the same prose cut into CHUNKS pieces at word boundaries that
    ignore sentence ends (--split words).
  * otherwise (the reasoning stage): a whole Chat Completions JSON answer with notes.
GET /records   what was sent, per request, in arrival order (monotonic ns, the clock
               time.monotonic_ns() shares with every process on the machine):
               {"reasoning": [[received, answered], ...],
                "expression": [[received, [chunk_sent, ...]], ...],
                "open_now": n, "open_peak": n}
POST /reset[?barrier=N]  forget the records and the peak (and set --barrier).

--barrier N: the expression streams wait (up to --barrier-timeout seconds) until N of them
are open at once before the first chunk is sent, so that N streams are held at once.
"""
import argparse
import asyncio
import json
import time

from stub_json import completion  # the same whole-answer shape as bench/run.sh's stub

SENTENCES = [
    "Reading a file in Rust takes one line.",
    "Call fs::read_to_string with the path.",
    "It gives back the whole text as a String.",
    "The call can fail, so it returns a Result.",
    "Use the question mark to pass the error up.",
    "Your main function can return io::Result too.",
    "Big files need a different approach.",
    "Open the file with File::open first.",
    "Then wrap the handle in a BufReader.",
    "The reader hands you one line at a time.",
    "Memory use then stays small and flat.",
    "Each line also comes wrapped in a Result.",
    "Binary data wants fs::read instead.",
    "That one returns a vector of bytes.",
    "Paths can be plain string slices.",
    "A PathBuf works just as well.",
    "Missing files give a NotFound error kind.",
    "Match on the kind to give a clear message.",
    "Tests can write a temporary file first.",
    "That covers the common cases well.",
]

NOTES = (
    "Topic: file input in the standard library. Mention the one-call helper, streaming "
    "with a buffered reader for large inputs, the byte variant, and error handling."
)


def chunks(split: str, n: int) -> list[str]:
    sentences = (SENTENCES * (n // len(SENTENCES) + 1))[:n]
    if split == "sentences":
        return [s + " " for s in sentences]
    words = " ".join(sentences).split(" ")
    out, per = [], len(words) / n
    for i in range(n):
        part = words[round(i * per) : round((i + 1) * per)]
        out.append(" ".join(part) + (" " if i < n - 1 else ""))
    return out


def sse_chunk(content: str) -> bytes:
    data = json.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "bench-stub",
            "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}],
        },
        separators=(",", ":"),
    )
    return f"data: {data}\n\n".encode()


def http_chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class Stub:
    def __init__(self, args):
        self.args = args
        self.pieces = [sse_chunk(c) for c in chunks(args.split, args.chunks)]
        self.notes = completion(NOTES).encode()
        self.reasoning: list[list[int]] = []
        self.expression: list[list[int]] = []
        self.open_now = 0
        self.open_peak = 0
        self.barrier = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                received = time.monotonic_ns()
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length, close = 0, False
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    name = name.strip().lower()
                    if name == "content-length":
                        length = int(value.strip())
                    elif name == "connection":
                        close = value.strip().lower() == "close"
                body = await reader.readexactly(length) if length else b""
                if method == "POST" and path.endswith("/chat/completions"):
                    request = json.loads(body)
                    if request.get("stream"):
                        await self.stream(writer, received)
                    else:
                        self.respond(writer, b"application/json", self.notes)
                        await writer.drain()
                        self.reasoning.append([received, time.monotonic_ns()])
                elif method == "GET" and path == "/records":
                    self.respond(writer, b"application/json", json.dumps({
                        "reasoning": self.reasoning,
                        "expression": self.expression,
                        "open_now": self.open_now,
                        "open_peak": self.open_peak,
                    }).encode())
                    await writer.drain()
                elif method == "POST" and path.split("?")[0] == "/reset":
                    self.reasoning, self.expression, self.open_peak = [], [], self.open_now
                    self.barrier = asyncio.Event()
                    query = path.partition("?")[2]
                    if query.startswith("barrier="):
                        self.args.barrier = int(query.split("=", 1)[1])
                    self.respond(writer, b"application/json", b"{}")
                    await writer.drain()
                else:
                    writer.write(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                    await writer.drain()
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    @staticmethod
    def respond(writer, content_type: bytes, body: bytes):
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: %s\r\ncontent-length: %d\r\n\r\n%s"
            % (content_type, len(body), body)
        )

    async def stream(self, writer: asyncio.StreamWriter, received: int):
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        await writer.drain()
        record = [received, []]
        self.expression.append(record)
        self.open_now += 1
        self.open_peak = max(self.open_peak, self.open_now)
        try:
            start = received / 1e9
            if self.args.barrier:
                if self.open_now >= self.args.barrier:
                    self.barrier.set()
                try:
                    await asyncio.wait_for(self.barrier.wait(), self.args.barrier_timeout)
                except asyncio.TimeoutError:
                    pass
                start = time.monotonic()
            interval = self.args.interval_ms / 1000
            for i, piece in enumerate(self.pieces):
                delay = start + (i + 1) * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                writer.write(http_chunk(piece))
                await writer.drain()
                record[1].append(time.monotonic_ns())
            writer.write(http_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
            await writer.drain()
        finally:
            self.open_now -= 1


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--interval-ms", type=float, default=50)
    parser.add_argument("--split", choices=["sentences", "words"], default="sentences")
    parser.add_argument("--barrier", type=int, default=0)
    parser.add_argument("--barrier-timeout", type=float, default=60)
    args = parser.parse_args()
    stub = Stub(args)
    server = await asyncio.start_server(stub.handle, "127.0.0.1", args.port, backlog=2048)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
