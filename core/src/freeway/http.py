"""The one shared outbound HTTP client (pooled, timeouts from settings).

Production uses aiohttp behind ``httpx.AsyncClient`` (:mod:`freeway.aiohttp_transport`):
on a 2-core machine it serves roughly three times what httpx's own transport does in
a bare proxy.  ``FREEWAY_HTTP_TRANSPORT=httpx`` switches back.  Tests hand adapters
an ``httpx.AsyncClient(transport=httpx.MockTransport(...))`` instead.

On the proxied path adapters build requests with :func:`build_request`, send them with
:func:`send` (or :func:`fetch` / :func:`stream`) and read them with :func:`read_body` /
:func:`iter_body`: the same httpx objects, a fraction of the per-call work of
``client.post`` (``docs/performance.md``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from freeway.aiohttp_transport import AiohttpStream, AiohttpTransport
from freeway.settings import Settings

_client: httpx.AsyncClient | None = None

LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=200, keepalive_expiry=30)


def build_client(settings: Settings) -> httpx.AsyncClient:
    """A new pooled client configured from ``settings``."""
    timeout = httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout)
    if settings.http_transport == "aiohttp":
        transport: httpx.AsyncBaseTransport = AiohttpTransport(limits=LIMITS)
    else:
        transport = httpx.AsyncHTTPTransport(limits=LIMITS)
    return httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)


def build_request(
    method: str, url: httpx.URL, headers: dict[str, str], body: bytes | None = None
) -> httpx.Request:
    """The ``httpx.Request`` that ``httpx.Request(method, url, headers=…, content=body)``
    builds, with a third of the work: ``Host`` and ``Content-Length`` go in with the
    other headers instead of through httpx's one-at-a-time header preparation."""
    pairs = [("host", _host(url))]
    if not body and method in _BODY_METHODS:
        pairs.append(("content-length", "0"))
    pairs += headers.items()
    if body:
        pairs.append(("content-length", str(len(body))))
    request = httpx.Request(method, url, headers=pairs, stream=httpx.ByteStream(body or b""))
    request.read()
    return request


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_HOSTS: dict[tuple[str, str | None, int | None], str] = {}


def _host(url: httpx.URL) -> str:
    """The ``Host`` header httpx derives for ``url`` (default ports left out)."""
    key = (url.scheme, url.host, url.port)
    host = _HOSTS.get(key)
    if host is None:
        host = _HOSTS[key] = httpx.Request("GET", url).headers["host"]
    return host


async def send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send ``request`` through ``client``'s transport; the body is left unread.

    ``AsyncClient.send`` wraps every call in work Freeway never uses (auth flows,
    redirect handling, event hooks, an elapsed timer, an INFO log line) and a cookie
    jar that would carry one upstream's cookies into every later call, whichever
    project made it.  On the proxied path that machinery cost about a third of an
    upstream call (``docs/performance.md``), so adapters call the transport the client
    would pick (proxy mounts included) with the client's timeouts.  The caller reads
    the body (:func:`read_body` / :func:`iter_body`) and must ``aclose()`` the response
    (:func:`fetch` and :func:`stream` do both).
    """
    if client.is_closed:
        raise RuntimeError("the HTTP client is closed")
    extensions: dict[str, Any] = request.extensions
    if "timeout" not in extensions:
        extensions["timeout"] = client.timeout.as_dict()
    transport = client._transport_for_url(request.url)
    response = await transport.handle_async_request(request)
    response.request = request
    return response


async def read_body(response: httpx.Response) -> bytes:
    """The whole body of a :func:`send` response.

    From Freeway's aiohttp transport the body is read in one call; httpx's
    ``aread()`` (used for any other transport, and for encoded bodies, which httpx
    decodes) passes each read through three layers of generators."""
    stream = response.stream
    if type(stream) is AiohttpStream and "content-encoding" not in response.headers:
        body = await stream.read()
        response._content = body  # what aread() stores: .content and aread() work after
        return body
    return await response.aread()


async def fetch(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """:func:`send`, read the whole body (``response.content``), release the connection."""
    response = await send(client, request)
    try:
        await read_body(response)
    finally:
        await response.aclose()
    return response


@asynccontextmanager
async def stream(
    client: httpx.AsyncClient, request: httpx.Request
) -> AsyncIterator[httpx.Response]:
    """:func:`send` for reading as the body arrives (:func:`iter_body`); the response
    is closed on exit, which hangs up on an upstream that is still sending."""
    response = await send(client, request)
    try:
        yield response
    finally:
        await response.aclose()


def iter_body(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body of a :func:`send` response as it arrives (decoded, like
    ``aiter_bytes()``, but straight from Freeway's aiohttp transport when it can)."""
    stream = response.stream
    if type(stream) is AiohttpStream and "content-encoding" not in response.headers:
        return stream.__aiter__()
    return response.aiter_bytes()


def shared_client(settings: Settings) -> httpx.AsyncClient:
    """The process-wide client; created on first use, recreated after it was closed."""
    global _client
    if _client is None or _client.is_closed:
        _client = build_client(settings)
    return _client


async def close_shared_client() -> None:
    """Close the process-wide client (app shutdown)."""
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
