"""The app shell: health, error envelopes, request ids, limits, CORS, API docs."""

from __future__ import annotations

import re

import msgspec
import pytest
from litestar import post
from litestar.params import JSONBody
from litestar.testing import AsyncTestClient

from freeway import __version__
from freeway.app import create_app
from freeway.hookspecs import hookimpl


class Echo(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    count: int


@post("/echo", sync_to_thread=False)
def echo(data: JSONBody[Echo]) -> dict[str, object]:
    return {"name": data.name, "count": data.count}


class EchoPlugin:
    @hookimpl
    def freeway_routes(self):
        return [echo]


@pytest.fixture
async def client(settings):
    app = create_app(settings, extra_plugins=[("echo", EchoPlugin())])
    async with AsyncTestClient(app=app) as client:
        yield client


def assert_envelope(response, status, code=None):
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["message"]
    if code:
        assert error["code"] == code
    return error


async def test_health_reports_ok_and_version(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


async def test_ready_checks_the_database(client):
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "not configured"


async def test_ready_is_503_naming_the_failing_part(client):
    gateway = client.app.state.gateway

    async def broken_ping():
        raise ConnectionError("database is gone")

    gateway.db.ping = broken_ping
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
    assert "database is gone" in response.json()["checks"]["database"]["error"]


async def test_unknown_route_is_a_404_envelope(client):
    error = assert_envelope(await client.get("/no/such/thing"), 404, "not_found")
    assert "/no/such/thing" in error["message"]


async def test_wrong_method_is_a_405_envelope(client):
    error = assert_envelope(await client.delete("/health"), 405, "method_not_allowed")
    assert "DELETE" in error["message"]


async def test_malformed_json_is_a_400_envelope(client):
    response = await client.post(
        "/echo", content=b"{not json", headers={"content-type": "application/json"}
    )
    error = assert_envelope(response, 400)
    assert error["type"] == "invalid_request_error"


async def test_validation_error_names_the_field(client):
    response = await client.post("/echo", json={"name": "x", "count": "many"})
    error = assert_envelope(response, 400)
    assert "count" in error["message"]
    assert error["param"] == "count"


async def test_unknown_field_is_rejected_naming_it(client):
    response = await client.post("/echo", json={"name": "x", "count": 1, "extra": 2})
    error = assert_envelope(response, 400)
    assert "extra" in error["message"]


async def test_request_id_is_generated_or_echoed(client):
    generated = (await client.get("/health")).headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    given = await client.get("/health", headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"


async def test_oversized_body_is_a_413_envelope(make_settings):
    settings = make_settings(FREEWAY_MAX_BODY_BYTES=2048)
    app = create_app(settings, extra_plugins=[("echo", EchoPlugin())])
    async with AsyncTestClient(app=app) as client:
        response = await client.post("/echo", json={"name": "x" * 5000, "count": 1})
    assert_envelope(response, 413)


async def test_cors_headers_only_for_allowed_origins(make_settings):
    app = create_app(make_settings(ALLOWED_ORIGINS="https://app.example.com"))
    async with AsyncTestClient(app=app) as client:
        allowed = await client.get("/health", headers={"origin": "https://app.example.com"})
        other = await client.get("/health", headers={"origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers


async def test_no_cors_headers_by_default(client):
    response = await client.get("/health", headers={"origin": "https://app.example.com"})
    assert "access-control-allow-origin" not in response.headers


async def test_openapi_schema_is_served(client):
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    assert "/health" in response.json()["paths"]


async def test_api_reference_references_no_external_host(client):
    page = await client.get("/docs")
    assert page.status_code == 200
    html = page.text
    urls = re.findall(r"""(?:src|href|data-url)=["']([^"']+)["']""", html)
    assert urls, "the page must load its script"
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
    script = await client.get("/docs/assets/standalone.js")
    assert len(script.content) > 100_000  # the real bundle, not a placeholder
