"""``freeway.http.send``: the transport the client would pick, without its cookie jar."""

from __future__ import annotations

import asyncio
import gzip
import socket
import ssl
from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer

from freeway.aiohttp_transport import AiohttpTransport
from freeway.http import build_request, iter_body, read_body, send

GONE = web.AppKey("gone", asyncio.Event)


async def test_send_uses_client_timeouts_and_keeps_no_cookies() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers={"set-cookie": "session=abc; Path=/"}, text="ok")

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer), timeout=httpx.Timeout(7))
    for _ in range(2):
        response = await send(client, httpx.Request("GET", "http://upstream.test/v1/models"))
        assert await response.aread() == b"ok"
        await response.aclose()
        assert response.request is seen[-1]
    # The upstream's cookie must not travel to the next call (another project's).
    assert "cookie" not in seen[1].headers
    assert seen[0].extensions["timeout"] == {"connect": 7, "read": 7, "write": 7, "pool": 7}
    await client.aclose()


async def test_send_keeps_a_timeout_set_on_the_request() -> None:
    seen: list[httpx.Request] = []
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(204))
    )
    own = {"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0}
    response = await send(
        client, httpx.Request("GET", "http://upstream.test/", extensions={"timeout": own})
    )
    await response.aclose()
    assert seen[0].extensions["timeout"] == own
    await client.aclose()


async def test_send_honours_the_clients_mounts() -> None:
    default = httpx.MockTransport(lambda r: httpx.Response(200, text="default"))
    proxied = httpx.MockTransport(lambda r: httpx.Response(200, text="proxied"))
    client = httpx.AsyncClient(transport=default, mounts={"http://internal.test": proxied})
    for url, expected in (
        ("http://internal.test/v1", b"proxied"),
        ("http://other.test/", b"default"),
    ):
        response = await send(client, httpx.Request("GET", url))
        assert await response.aread() == expected
        await response.aclose()
    await client.aclose()


async def test_send_on_a_closed_client_fails() -> None:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    await client.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await send(client, httpx.Request("GET", "http://upstream.test/"))


# --- build_request ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9123/v1/chat/completions",
        "https://api.openai.com/v1/models",
        "https://api.openai.com:443/v1",
        "http://[::1]:8080/v1",
        "https://bücher.example/v1",
    ],
)
@pytest.mark.parametrize(
    ("method", "body"), [("POST", b'{"a":1}'), ("POST", None), ("POST", b""), ("GET", None)]
)
def test_build_request_matches_httpx(url: str, method: str, body: bytes | None) -> None:
    headers = {"content-type": "application/json", "authorization": "Bearer sk-x"}
    ours = build_request(method, httpx.URL(url), headers, body)
    theirs = httpx.Request(method, httpx.URL(url), headers=headers, content=body)
    assert ours.headers.multi_items() == theirs.headers.multi_items()
    assert ours.content == theirs.content
    assert ours.method == theirs.method and ours.url == theirs.url


# --- the aiohttp transport, against a real local server ---------------------------------


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    async def cookie(request: web.Request) -> web.Response:
        response = web.json_response({"cookie": request.headers.get("cookie")})
        response.set_cookie("session", "abc")
        return response

    async def gzipped(request: web.Request) -> web.Response:
        body = gzip.compress(b'{"ok": true}')
        return web.Response(body=body, headers={"content-encoding": "gzip"})

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return web.Response(text="late")

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for n in range(3):
            await response.write(f"data: {n}\n\n".encode())
            await asyncio.sleep(0.01)
        return response

    async def echo(request: web.Request) -> web.Response:
        return web.json_response(
            {"body": (await request.read()).decode(), "type": request.content_type}
        )

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        try:
            while True:
                await response.write(b"data: more\n\n")
                await asyncio.sleep(0.01)
        except (ConnectionResetError, asyncio.CancelledError):
            request.app[GONE].set()
            raise

    app = web.Application()
    app[GONE] = asyncio.Event()
    app.router.add_get("/endless", endless)
    app.router.add_get("/cookie", cookie)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/slow", slow)
    app.router.add_get("/events", events)
    app.router.add_post("/echo", echo)
    async with TestServer(app) as test_server:
        yield test_server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=AiohttpTransport(), timeout=httpx.Timeout(0.5))
    yield client
    await client.aclose()


async def _get(client: httpx.AsyncClient, url: str) -> tuple[httpx.Response, bytes]:
    response = await send(client, build_request("GET", httpx.URL(url), {}))
    try:
        return response, await read_body(response)
    finally:
        await response.aclose()


async def test_transport_posts_and_reads(server: TestServer, client: httpx.AsyncClient) -> None:
    url = httpx.URL(str(server.make_url("/echo")))
    request = build_request("POST", url, {"content-type": "application/json"}, b'{"x": 1}')
    response = await send(client, request)
    assert response.status_code == 200
    assert msgspec.json.decode(await read_body(response)) == {
        "body": '{"x": 1}',
        "type": "application/json",
    }
    await response.aclose()


async def test_transport_keeps_no_cookies(server: TestServer, client: httpx.AsyncClient) -> None:
    url = str(server.make_url("/cookie"))
    first, _ = await _get(client, url)
    assert "session=abc" in first.headers["set-cookie"]
    _, body = await _get(client, url)
    assert msgspec.json.decode(body) == {"cookie": None}


async def test_transport_body_is_decoded(server: TestServer, client: httpx.AsyncClient) -> None:
    _, body = await _get(client, str(server.make_url("/gzip")))
    assert msgspec.json.decode(body) == {"ok": True}


async def test_transport_read_timeout_is_httpx_timeout(
    server: TestServer, client: httpx.AsyncClient
) -> None:
    with pytest.raises(httpx.ReadTimeout):
        await _get(client, str(server.make_url("/slow")))


async def test_transport_connect_error_is_httpx_error(client: httpx.AsyncClient) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        await _get(client, f"http://127.0.0.1:{port}/")


async def test_transport_streams_as_it_arrives(
    server: TestServer, client: httpx.AsyncClient
) -> None:
    response = await send(
        client, build_request("GET", httpx.URL(str(server.make_url("/events"))), {})
    )
    chunks = [chunk async for chunk in iter_body(response)]
    await response.aclose()
    assert b"".join(chunks) == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
    assert len(chunks) == 3  # one per write: nothing held back


async def test_closing_an_unfinished_stream_hangs_up_on_the_upstream(
    server: TestServer, client: httpx.AsyncClient
) -> None:
    url = httpx.URL(str(server.make_url("/endless")))
    response = await send(client, build_request("GET", url, {}))
    async for chunk in iter_body(response):
        assert chunk.startswith(b"data: more")
        break
    await response.aclose()
    # The upstream notices the closed connection: that is what stops its generation.
    await asyncio.wait_for(server.app[GONE].wait(), 5)


# --- TLS (every real provider is HTTPS) ---------------------------------------------------


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def tls_server(ca: trustme.CA) -> AsyncIterator[TestServer]:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"scheme": request.scheme})

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
    app = web.Application()
    app.router.add_get("/hello", hello)
    test_server = TestServer(app)
    await test_server.start_server(ssl=context)
    try:
        yield test_server
    finally:
        await test_server.close()


async def test_transport_speaks_tls_with_the_trusted_ca(
    tls_server: TestServer, ca: trustme.CA
) -> None:
    verify = ssl.create_default_context()
    ca.configure_trust(verify)
    client = httpx.AsyncClient(transport=AiohttpTransport(verify=verify), timeout=5)
    try:
        url = str(tls_server.make_url("/hello"))
        assert url.startswith("https://")
        _, body = await _get(client, url)
        assert msgspec.json.decode(body) == {"scheme": "https"}
    finally:
        await client.aclose()


async def test_transport_refuses_an_untrusted_certificate(tls_server: TestServer) -> None:
    client = httpx.AsyncClient(transport=AiohttpTransport(), timeout=5)  # system CAs only
    try:
        with pytest.raises(httpx.ConnectError, match=r"(?i)certificate"):
            await _get(client, str(tls_server.make_url("/hello")))
    finally:
        await client.aclose()
