"""The production transport behind the shared ``httpx.AsyncClient``: aiohttp, lean.

``httpx-aiohttp``'s :class:`~httpx_aiohttp.AiohttpTransport` with less work per call,
because this runs under every proxied request:

* no cookie jar in the aiohttp session (an upstream's cookies must not ride along on
  later calls for other projects, and the jar costs time on every response);
* one ``ClientTimeout`` per distinct timeout, not one per request;
* headers handed over as a list of pairs (no case-insensitive mapping round trip);
* the response body readable in one piece (:meth:`AiohttpStream.read`), which
  :func:`freeway.http.read_body` uses instead of httpx's generator chain.

aiohttp's exceptions become the httpx exceptions httpx's own transport raises for the
same failure (httpx-aiohttp reports a refused connection as a connect *timeout*).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport as _BaseTransport

_EXTENSIONS = {"http_version": b"HTTP/1.1"}

# Most specific first: the first match wins.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.HTTPError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.TimeoutException),
    (aiohttp.ClientProxyConnectionError, httpx.ProxyError),
    (aiohttp.ClientHttpProxyError, httpx.ProxyError),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.InvalidUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),
    (aiohttp.ClientConnectionError, httpx.ReadError),
)


@contextmanager
def httpx_errors() -> Iterator[None]:
    """Re-raise aiohttp's exceptions as httpx's (the original is the ``__cause__``)."""
    try:
        yield
    except aiohttp.ClientError as exc:
        for theirs, ours in _ERRORS:
            if isinstance(exc, theirs):
                raise ours(str(exc) or type(exc).__name__) from exc
        raise


class AiohttpStream(httpx.AsyncByteStream):
    """An aiohttp response body as an httpx stream."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with httpx_errors():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def read(self) -> bytes:
        """The whole body in one call."""
        with httpx_errors():
            return await self._response.content.read()

    async def aclose(self) -> None:
        # Releasing an unfinished response closes its connection: that is what
        # cancels an upstream stream the client walked away from.
        with httpx_errors():
            await self._response.__aexit__(None, None, None)


class AiohttpTransport(_BaseTransport):
    """See the module docstring.  Proxies, unix sockets and limits as in the base."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._timeouts: dict[tuple[Any, Any, Any], aiohttp.ClientTimeout] = {}

    def get_client(self) -> aiohttp.ClientSession:
        """The base's session settings, without a cookie jar."""
        session = super().get_client()  # builds the connector from our settings
        connector = session.connector
        session.detach()  # hand the connector over; the throwaway session is closed
        return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        timeout = request.extensions.get("timeout") or {}
        key = (timeout.get("connect"), timeout.get("read"), timeout.get("pool"))
        found = self._timeouts.get(key)
        if found is None:
            found = self._timeouts[key] = aiohttp.ClientTimeout(
                sock_connect=key[0], sock_read=key[1], connect=key[2]
            )
        return found

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self.client
        if not isinstance(session, aiohttp.ClientSession):
            session = self.client = self.get_client()
        data: Any
        try:
            data = request.content or None
        except httpx.RequestNotRead:
            data = request.stream
            request.headers.pop("transfer-encoding", None)  # aiohttp chunks it itself
        proxy = self.proxy
        with httpx_errors():
            response = await session.request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=data,
                allow_redirects=False,
                auto_decompress=False,  # httpx decodes, as with its own transport
                compress=False,
                timeout=self._timeout(request),
                server_hostname=request.extensions.get("sni_hostname"),
                proxy=str(proxy.url) if proxy else None,
                proxy_auth=aiohttp.BasicAuth(*proxy.auth) if proxy and proxy.auth else None,
                proxy_headers=proxy.headers if proxy else None,
            )
        extensions = _EXTENSIONS
        if response.reason:
            extensions = {**_EXTENSIONS, "reason_phrase": response.reason.encode()}
        return httpx.Response(
            status_code=response.status,
            headers=response.raw_headers,
            stream=AiohttpStream(response),
            request=request,
            extensions=extensions,
        )
