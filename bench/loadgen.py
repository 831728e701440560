"""A small, fast HTTP/1.1 load generator: asyncio + httptools, keep-alive connections.

Each of ``concurrency`` connections sends the same request back to back for
``duration`` seconds.  Measured per request: time to the first body bytes (for a
stream, the first chunk) and time to the end of the response.  A hand-rolled client
costs a fraction of aiohttp's per request, which matters: the generator shares a CPU
with the mock upstream, and its own cost must stay far below what it measures.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httptools


@dataclass
class Result:
    """What one scenario measured."""

    requests: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_bytes: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        data = sorted(self.latencies if values is None else values)
        if not data:
            return float("nan")
        index = min(len(data) - 1, max(0, round(q * (len(data) - 1))))
        return data[index]


class _Client(asyncio.Protocol):
    """One keep-alive connection answering one request at a time."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.done: asyncio.Future[int] | None = None
        self.first: float = 0.0
        self.lost: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError("connection lost"))
        if not self.lost.done():
            self.lost.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_body(self, body: bytes) -> None:
        if not self.first:
            self.first = time.perf_counter()

    def on_message_complete(self) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_result(self.parser.get_status_code())

    async def send(self, request: bytes) -> tuple[int, float]:
        """Send ``request``; (status, time of the first body bytes)."""
        assert self.transport is not None
        self.first = 0.0
        self.done = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        status = await self.done
        return status, self.first


def build_request(url: str, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    """The raw bytes of a keep-alive POST (GET when ``body`` is empty)."""
    parts = urlsplit(url)
    lines = [
        f"{'POST' if body else 'GET'} {parts.path or '/'} HTTP/1.1",
        f"host: {parts.netloc}",
        "content-type: application/json",
        f"content-length: {len(body)}",
    ]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _connect(url: str) -> _Client:
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(_Client, parts.hostname, parts.port or 80)
    return client


async def run_load(
    url: str,
    request: bytes,
    concurrency: int,
    duration: float,
    warmup: float = 0.5,
) -> Result:
    """Drive ``concurrency`` connections for ``warmup`` + ``duration`` seconds; only the
    last ``duration`` seconds are measured."""
    result = Result()
    clients = [await _connect(url) for _ in range(concurrency)]
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def worker(client: _Client) -> None:
        while True:
            sent = time.perf_counter()
            if sent >= stop_at:
                return
            try:
                status, first = await client.send(request)
            except ConnectionError:
                result.errors += 1
                return
            end = time.perf_counter()
            if sent < measure_from:
                continue
            result.requests += 1
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status != 200:
                result.errors += 1
            result.latencies.append(end - sent)
            result.first_bytes.append((first or end) - sent)

    await asyncio.gather(*(worker(c) for c in clients))
    result.elapsed = max(1e-9, min(time.perf_counter(), stop_at) - measure_from)
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    return result


async def run_count(url: str, request: bytes, total: int, concurrency: int) -> Result:
    """Send exactly ``total`` requests over ``concurrency`` connections (soak tests)."""
    result = Result()
    clients = [await _connect(url) for _ in range(concurrency)]
    remaining = [total]
    started = time.perf_counter()

    async def worker(client: _Client) -> None:
        while remaining[0] > 0:
            remaining[0] -= 1
            status, _ = await client.send(request)
            result.requests += 1
            if status != 200:
                result.errors += 1

    await asyncio.gather(*(worker(c) for c in clients))
    result.elapsed = time.perf_counter() - started
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    return result
