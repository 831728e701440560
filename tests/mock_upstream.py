"""A fast, scriptable, OpenAI-compatible mock upstream (end-to-end tests and ``bench/``).

Raw asyncio + ``httptools`` (what uvicorn uses), HTTP/1.1 keep-alive, no framework, so
it costs far less per request than the gateway in front of it.  Endpoints, under any
path prefix (``/openai/v1/...``, ``/groq/v1/...`` or plain ``/v1/...``; the first path
segment before ``v1`` names the "upstream" for scripting and stats):

* ``POST …/v1/chat/completions`` — non-streamed, or SSE chunks (one per word of the
  reply, then a finish chunk, a usage chunk when ``stream_options.include_usage``,
  ``[DONE]``).  Usage: ``prompt_tokens`` = 12, ``completion_tokens`` = words.
* ``GET …/v1/models`` — the configured model ids (OpenAI list shape).
* ``POST …/v1/images/generations`` — ``n`` placeholder URLs.

Scripting (JSON bodies):

* ``POST /_control/fail`` ``{"prefix", "status", "message", "retry_after", "delay",
  "times"}`` — the next ``times`` chat/image requests under ``prefix`` wait ``delay``
  seconds and then answer ``status`` with an OpenAI error envelope (``status`` 0 or
  absent = answer normally after the delay).
* ``POST /_control/stream`` ``{"chunk_delay": s, "words": n}`` — slow, long streams.
* ``POST /_control/reset`` — forget faults, stats and stream settings.
* ``GET /_control/stats`` — ``{"requests": {prefix: n}, "cancelled_streams": n,
  "cancelled_requests": n}`` (a delayed answer whose caller hung up during the delay).

Run standalone: ``python tests/mock_upstream.py --port 9000 [--models a,b]``; in a
test: ``with MockUpstream() as mock: mock.url("openai")``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import threading
from collections import deque
from typing import Any

import httptools

REPLY = "Hello from the mock upstream, nice to meet you"
PROMPT_TOKENS = 12
DEFAULT_MODELS = ("gpt-4o-mini", "m1", "m2")

_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    401: b"Unauthorized",
    404: b"Not Found",
    429: b"Too Many Requests",
    500: b"Internal Server Error",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
}


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


class MockState:
    """Faults, stream settings and counters shared by every connection."""

    def __init__(self, models: tuple[str, ...] = DEFAULT_MODELS, reply: str = REPLY) -> None:
        self.models = models
        self.words = reply.split(" ")
        self.faults: dict[str, deque[dict[str, Any]]] = {}
        self.chunk_delay = 0.0
        self.requests: dict[str, int] = {}
        self.cancelled_streams = 0
        self.cancelled_requests = 0
        self._cache: dict[tuple[str, bool, bool], Any] = {}

    def reset(self) -> None:
        self.faults.clear()
        self.requests.clear()
        self.cancelled_streams = 0
        self.cancelled_requests = 0
        self.chunk_delay = 0.0
        self.words = REPLY.split(" ")
        self._cache.clear()

    def next_fault(self, prefix: str) -> dict[str, Any] | None:
        queue = self.faults.get(prefix)
        return queue.popleft() if queue else None

    # --- bodies (cached per model: the mock must stay cheap under load) ---

    def completion(self, model: str) -> bytes:
        key = (model, False, False)
        body = self._cache.get(key)
        if body is None:
            words = len(self.words)
            body = self._cache[key] = _dumps(
                {
                    "id": "chatcmpl-mock",
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": " ".join(self.words)},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": PROMPT_TOKENS,
                        "completion_tokens": words,
                        "total_tokens": PROMPT_TOKENS + words,
                    },
                }
            )
        return body  # type: ignore[no-any-return]

    def chunks(self, model: str, include_usage: bool) -> list[bytes]:
        """Every SSE event of one stream, already framed as HTTP chunks."""
        key = (model, True, include_usage)
        cached = self._cache.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        base = {"id": "chatcmpl-mock", "object": "chat.completion.chunk",
                "created": 1_700_000_000, "model": model}  # fmt: skip
        events = []
        for index, word in enumerate(self.words):
            delta: dict[str, Any] = {"content": word if index == 0 else " " + word}
            if index == 0:
                delta["role"] = "assistant"
            events.append(
                {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            )
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if include_usage:
            words = len(self.words)
            events.append(
                {
                    **base,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": PROMPT_TOKENS,
                        "completion_tokens": words,
                        "total_tokens": PROMPT_TOKENS + words,
                    },
                }
            )
        frames = [_http_chunk(b"data: " + _dumps(e) + b"\n\n") for e in events]
        frames.append(_http_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")
        self._cache[key] = frames
        return frames

    def models_body(self) -> bytes:
        return _dumps(
            {
                "object": "list",
                "data": [
                    {"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "mock"}
                    for m in self.models
                ],
            }
        )


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _response(status: int, body: bytes, content_type: bytes = b"application/json",
              extra: bytes = b"") -> bytes:  # fmt: skip
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: %s\r\ncontent-length: %d\r\n%s\r\n"
        % (status, _REASONS.get(status, b"Status"), content_type, len(body), extra)
        + body
    )


STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
    b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n"
)


class _Connection(asyncio.Protocol):
    """One client connection: parse requests with httptools, answer in order."""

    def __init__(self, state: MockState) -> None:
        self.state = state
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []
        self.busy: asyncio.Task[None] | None = None
        self.pending: deque[tuple[bytes, bytes, bytes]] = deque()
        self.closed = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._write(_response(400, b'{"error":"bad http"}'))
            if self.transport:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        self.pending.append((method, self.url, b"".join(self.body)))
        idle = self.busy is None or self.busy.done()
        if idle and not self._answer_fast():
            self.busy = asyncio.ensure_future(self._drain())

    # --- answering ---

    def _write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _answer_fast(self) -> bool:
        """Answer queued requests that need no waiting inline (the common case)."""
        while self.pending:
            method, url, body = self.pending[0]
            plan = self._plan(method, url, body)
            if plan is None:
                return False
            self.pending.popleft()
            self._write(plan)
        return True

    async def _drain(self) -> None:
        while self.pending:
            method, url, body = self.pending.popleft()
            await self._answer_slow(method, url, body)
            if self._answer_fast():
                return

    def _route(self, url: bytes) -> tuple[str, str]:
        path = url.split(b"?", 1)[0].decode()
        head, sep, rest = path.partition("/v1/")
        if not sep:
            return "", path
        return head.strip("/"), "/" + rest

    def _plan(self, method: bytes, url: bytes, body: bytes) -> bytes | None:
        """The whole response when it can be sent right now, else ``None``."""
        state = self.state
        if url.startswith(b"/_control"):
            return self._control(url, body)
        prefix, endpoint = self._route(url)
        if endpoint == "/models" and method == b"GET":
            return _response(200, state.models_body())
        if endpoint not in ("/chat/completions", "/images/generations"):
            return _response(404, b'{"error":{"message":"no such endpoint","type":"not_found"}}')
        if state.faults.get(prefix) or state.chunk_delay:
            return None
        state.requests[prefix] = state.requests.get(prefix, 0) + 1
        request = json.loads(body or b"{}")
        if endpoint == "/images/generations":
            return self._images(request)
        model = request.get("model", "")
        if request.get("stream"):
            options = request.get("stream_options") or {}
            return STREAM_HEAD + b"".join(state.chunks(model, bool(options.get("include_usage"))))
        return _response(200, state.completion(model))

    def _images(self, request: dict[str, Any]) -> bytes:
        n = int(request.get("n") or 1)
        data = [{"url": f"https://mock.invalid/image-{i}.png"} for i in range(n)]
        return _response(200, _dumps({"created": 1_700_000_000, "data": data}))

    async def _answer_slow(self, method: bytes, url: bytes, body: bytes) -> None:
        state = self.state
        prefix, endpoint = self._route(url)
        fault = state.next_fault(prefix)
        state.requests[prefix] = state.requests.get(prefix, 0) + 1
        if fault is not None:
            if fault.get("delay"):
                await asyncio.sleep(float(fault["delay"]))
                if self.closed:  # the caller hung up while we "generated"
                    state.cancelled_requests += 1
                    return
            status = int(fault.get("status") or 0)
            if status:
                extra = b""
                if fault.get("retry_after") is not None:
                    extra = b"retry-after: %d\r\n" % int(fault["retry_after"])
                error = {
                    "error": {
                        "message": fault.get("message") or f"mock upstream error {status}",
                        "type": "invalid_request_error" if status < 500 else "server_error",
                        "param": None,
                        "code": fault.get("code"),
                    }
                }
                self._write(_response(status, _dumps(error), extra=extra))
                return
        request = json.loads(body or b"{}")
        if endpoint == "/images/generations":
            self._write(self._images(request))
            return
        model = request.get("model", "")
        if not request.get("stream"):
            self._write(_response(200, state.completion(model)))
            return
        options = request.get("stream_options") or {}
        self._write(STREAM_HEAD)
        for frame in state.chunks(model, bool(options.get("include_usage"))):
            if self.closed:
                state.cancelled_streams += 1
                return
            self._write(frame)
            if state.chunk_delay:
                await asyncio.sleep(state.chunk_delay)

    def _control(self, url: bytes, body: bytes) -> bytes:
        state = self.state
        data = json.loads(body) if body else {}
        if url.startswith(b"/_control/fail"):
            times = int(data.get("times", 1))
            queue = state.faults.setdefault(str(data.get("prefix", "")), deque())
            queue.extend([data] * times)
        elif url.startswith(b"/_control/stream"):
            state.chunk_delay = float(data.get("chunk_delay", 0))
            if data.get("words"):
                state.words = [f"w{i}" for i in range(int(data["words"]))]
                state._cache.clear()
        elif url.startswith(b"/_control/reset"):
            state.reset()
        stats = {
            "requests": state.requests,
            "cancelled_streams": state.cancelled_streams,
            "cancelled_requests": state.cancelled_requests,
        }
        return _response(200, _dumps(stats))


async def serve(host: str, port: int, state: MockState) -> asyncio.AbstractServer:
    """Start listening; returns the server (``port`` 0 = any free port)."""
    loop = asyncio.get_running_loop()
    return await loop.create_server(lambda: _Connection(state), host, port, backlog=2048)


class MockUpstream:
    """The mock in a background thread with its own event loop (for tests)."""

    def __init__(self, models: tuple[str, ...] = DEFAULT_MODELS) -> None:
        self.state = MockState(models)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> MockUpstream:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._server = loop.run_until_complete(serve("127.0.0.1", 0, self.state))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()
            self._server.close()
            # Slow answers still in flight (scripted delays) end with the mock.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=run, name="mock-upstream", daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def url(self, prefix: str = "") -> str:
        """Base URL (ending in ``/v1``) of the upstream named ``prefix``."""
        path = f"/{prefix}/v1" if prefix else "/v1"
        return f"http://127.0.0.1:{self.port}{path}"

    def _call(self, fn: Any) -> Any:
        assert self._loop is not None
        done = threading.Event()
        box: list[Any] = []

        def run() -> None:
            box.append(fn())
            done.set()

        self._loop.call_soon_threadsafe(run)
        done.wait(5)
        return box[0] if box else None

    def fail(self, prefix: str, status: int = 0, *, times: int = 1, delay: float = 0,
             message: str | None = None, retry_after: float | None = None) -> None:  # fmt: skip
        """Script the next ``times`` requests under ``prefix`` (see the module doc)."""
        fault = {"status": status, "delay": delay, "message": message,
                 "retry_after": retry_after}  # fmt: skip
        self._call(lambda: self.state.faults.setdefault(prefix, deque()).extend([fault] * times))

    def slow_stream(self, chunk_delay: float, words: int = 50) -> None:
        """Make streams long and slow (disconnect tests)."""

        def apply() -> None:
            self.state.chunk_delay = chunk_delay
            self.state.words = [f"w{i}" for i in range(words)]
            self.state._cache.clear()

        self._call(apply)

    def reset(self) -> None:
        self._call(self.state.reset)

    @property
    def requests(self) -> dict[str, int]:
        return dict(self.state.requests)


def main() -> None:
    parser = argparse.ArgumentParser(description="OpenAI-compatible mock upstream")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS))
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def run() -> None:
        server = await serve(args.host, args.port, MockState(tuple(args.models.split(","))))
        print(f"mock upstream on http://{args.host}:{args.port}/v1", flush=True)
        async with server:
            await server.serve_forever()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


if __name__ == "__main__":
    main()
