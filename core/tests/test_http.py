"""``freeway.http.send``: the transport the client would pick, without its cookie jar."""

from __future__ import annotations

import httpx
import pytest

from freeway.http import send


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
