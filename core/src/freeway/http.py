"""The one shared outbound HTTP client (pooled, timeouts from settings).

Production uses aiohttp's transport behind ``httpx.AsyncClient`` (``httpx-aiohttp``):
on a 2-core machine it serves roughly three times what httpx's own transport does in
a bare proxy.  ``FREEWAY_HTTP_TRANSPORT=httpx`` switches back.  Tests never use this
client; they hand adapters an ``httpx.AsyncClient(transport=httpx.MockTransport(...))``.
"""

from __future__ import annotations

from typing import Any

import httpx

from freeway.settings import Settings

_client: httpx.AsyncClient | None = None

LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=200, keepalive_expiry=30)


def build_client(settings: Settings) -> httpx.AsyncClient:
    """A new pooled client configured from ``settings``."""
    timeout = httpx.Timeout(settings.http_timeout, connect=settings.http_connect_timeout)
    if settings.http_transport == "aiohttp":
        from httpx_aiohttp import AiohttpTransport

        transport: httpx.AsyncBaseTransport = AiohttpTransport(limits=LIMITS)
    else:
        transport = httpx.AsyncHTTPTransport(limits=LIMITS)
    return httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False)


async def send(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send ``request`` through ``client``'s transport; the body is left unread.

    ``AsyncClient.send`` wraps every call in work Freeway never uses (auth flows,
    redirect handling, event hooks, an elapsed timer, an INFO log line) and a cookie
    jar that would carry one upstream's cookies into every later call, whichever
    project made it.  On the proxied path that machinery cost about a third of an
    upstream call (``docs/performance.md``), so adapters call the transport the client
    would pick (proxy mounts included) with the client's timeouts.  The caller reads
    the body (``aread()``/``aiter_bytes()``) and must ``aclose()`` the response.
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
