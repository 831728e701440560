"""Projects API: key lifecycle on a protected route, validation, listing, roles.

Every test runs on SQLite and on PostgreSQL (``database_url``).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar import Request, get
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from freeway.app import create_app
from freeway.auth.guards import principal_of, require_project
from freeway.db import create_database
from freeway.db.models import Base
from freeway.hookspecs import hookimpl
from freeway.state import gateway_of


@get("/test/project-only", guards=[require_project], sync_to_thread=False)
def project_only(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """A route only a project key may call (the test stand-in for /chat/completions)."""
    principal = principal_of(request)
    assert principal.project is not None
    return {"project_id": principal.project.id, "name": principal.project.name}


class ProjectRoutePlugin:
    @hookimpl
    def freeway_routes(self) -> list[Any]:
        return [project_only]


class RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
async def app(make_settings, database_url):
    settings = make_settings(DATABASE_URL=database_url, LOG_LEVEL="debug", FREEWAY_PLUGINS="core")
    app = create_app(settings, extra_plugins=[("test-routes", ProjectRoutePlugin())])
    async with AsyncTestClient(app=app) as client:
        client.headers["X-Api-Key"] = settings.admin_api_key
        yield app, client


@pytest.fixture
def admin(app):
    return app[1]


async def call_with_key(client: AsyncTestClient, key: str, *, bearer: bool = False) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if bearer else {"X-Api-Key": key}
    # Drop the admin key the client sends by default.
    return await client.get("/test/project-only", headers={"X-Api-Key": "", **headers})


async def test_created_key_works_as_x_api_key_and_as_bearer(admin):
    created = await admin.post(
        "/admin/projects",
        json={"name": "My Project", "rate_limit_per_minute": 60, "metadata": {"team": "backend"}},
    )
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {
        "id",
        "name",
        "api_key",
        "api_key_prefix",
        "rate_limit_per_minute",
        "metadata",
        "is_active",
        "created_at",
        "updated_at",
    }
    key = body["api_key"]
    assert key.startswith("fw_") and body["api_key_prefix"] == key[:8]
    assert body["rate_limit_per_minute"] == 60 and body["metadata"] == {"team": "backend"}
    assert body["is_active"] is True

    for bearer in (False, True):
        response = await call_with_key(admin, key, bearer=bearer)
        assert response.status_code == 200, response.text
        assert response.json() == {"project_id": body["id"], "name": "My Project"}


async def test_rotate_refuses_old_key_and_accepts_new_one(admin):
    created = (await admin.post("/admin/projects", json={"name": "p"})).json()
    rotated = await admin.post(f"/admin/projects/{created['id']}/rotate-key")
    assert rotated.status_code == 200
    new_key = rotated.json()["api_key"]
    assert new_key != created["api_key"]
    assert rotated.json()["api_key_prefix"] == new_key[:8]

    old = await call_with_key(admin, created["api_key"])
    assert old.status_code == 401
    assert old.json()["error"]["type"] == "authentication_error"
    assert (await call_with_key(admin, new_key)).status_code == 200


async def test_deactivated_project_gets_403_and_reactivation_restores(admin):
    created = (await admin.post("/admin/projects", json={"name": "p"})).json()
    patched = await admin.patch(f"/admin/projects/{created['id']}", json={"is_active": False})
    assert patched.status_code == 200 and patched.json()["is_active"] is False

    refused = await call_with_key(admin, created["api_key"])
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["type"] == "permission_error" and "inactive" in error["message"]

    await admin.patch(f"/admin/projects/{created['id']}", json={"is_active": True})
    assert (await call_with_key(admin, created["api_key"])).status_code == 200


async def test_deleted_project_key_gets_401(admin):
    created = (await admin.post("/admin/projects", json={"name": "p"})).json()
    assert (await admin.delete(f"/admin/projects/{created['id']}")).status_code == 204
    assert (await admin.get(f"/admin/projects/{created['id']}")).status_code == 404
    refused = await call_with_key(admin, created["api_key"])
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "invalid_api_key"


async def test_unknown_and_missing_keys_get_401_and_admin_key_is_not_a_project_key(admin):
    assert (await call_with_key(admin, "fw_not-a-real-key")).status_code == 401
    assert (await admin.get("/test/project-only", headers={"X-Api-Key": ""})).status_code == 401
    # The admin key is valid, but it is not a project key.
    assert (await admin.get("/test/project-only")).status_code == 403


async def test_project_key_cannot_use_admin_endpoints(admin):
    key = (await admin.post("/admin/projects", json={"name": "p"})).json()["api_key"]
    response = await admin.get("/admin/projects", headers={"X-Api-Key": key})
    assert response.status_code == 403


async def test_raw_key_appears_in_no_get_no_log_line_and_no_db_column(app):
    the_app, admin = app
    handler = RecordingHandler()
    for name in ("freeway", ""):
        logging.getLogger(name).addHandler(handler)
    try:
        created = (
            await admin.post("/admin/projects", json={"name": "secret-test", "metadata": {"a": 1}})
        ).json()
        rotated = (await admin.post(f"/admin/projects/{created['id']}/rotate-key")).json()
        keys = [created["api_key"], rotated["api_key"]]
        await call_with_key(admin, keys[0])  # refused, but must not be logged
        await call_with_key(admin, keys[1], bearer=True)
        await admin.patch(f"/admin/projects/{created['id']}", json={"name": "renamed"})
        responses = [
            await admin.get("/admin/projects"),
            await admin.get(f"/admin/projects/{created['id']}"),
            await admin.get("/admin/projects?name=renamed"),
            await admin.patch(f"/admin/projects/{created['id']}", json={}),
        ]
    finally:
        for name in ("freeway", ""):
            logging.getLogger(name).removeHandler(handler)

    for response in responses:
        assert response.status_code == 200
        assert "api_key" not in response.text.replace("api_key_prefix", "")
        for key in keys:
            assert key not in response.text
    assert handler.lines, "debug logging should have produced some lines"
    for key in keys:
        assert not [line for line in handler.lines if key in line]

    # The app runs on the test client's own event loop: inspect with a separate engine.
    db = create_database(gateway_of(the_app).settings)
    try:
        async with db.sessionmaker() as session:
            dump = []
            for table in Base.metadata.sorted_tables:
                rows = (await session.execute(select(table))).all()
                dump.extend(repr(tuple(row)) for row in rows)
    finally:
        await db.dispose()
    text = "\n".join(dump)
    assert "secret-test" not in text and "renamed" in text  # the dump does see the table
    for key in keys:
        assert key not in text
        assert key[8:] not in text  # not even the secret part


@pytest.mark.parametrize(
    ("body", "param", "fragment"),
    [
        ({}, "name", "required"),
        ({"name": ""}, "name", "1-200"),
        ({"name": "   "}, "name", "1-200"),
        ({"name": "x" * 201}, "name", "1-200"),
        ({"name": 5}, "name", "string"),
        ({"name": "p", "rate_limit_per_minute": 0}, "rate_limit_per_minute", "positive"),
        ({"name": "p", "rate_limit_per_minute": -3}, "rate_limit_per_minute", "positive"),
        ({"name": "p", "rate_limit_per_minute": 1.5}, "rate_limit_per_minute", "integer"),
        ({"name": "p", "rate_limit_per_minute": "60"}, "rate_limit_per_minute", "integer"),
        ({"name": "p", "rate_limit_per_minute": True}, "rate_limit_per_minute", "integer"),
        ({"name": "p", "metadata": [1, 2]}, "metadata", "object"),
        ({"name": "p", "metadata": "x"}, "metadata", "object"),
        ({"name": "p", "metadata": {"blob": "x" * 17000}}, "metadata", "too large"),
        ({"name": "p", "is_active": "yes"}, "is_active", "true or false"),
        ({"name": "p", "api_key": "fw_mine"}, "api_key", "unknown field"),
        ({"name": "p", "colour": "red"}, "colour", "unknown field"),
    ],
)
async def test_bad_create_input_is_400_naming_the_field_and_writes_nothing(
    admin, body, param, fragment
):
    response = await admin.post("/admin/projects", json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert fragment in error["message"]
    listing = (await admin.get("/admin/projects")).json()
    assert listing["total"] == 0 and listing["items"] == []


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1,2]", b'"name"', b"null"])
async def test_non_json_or_non_object_body_is_400_and_writes_nothing(admin, raw):
    response = await admin.post(
        "/admin/projects", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]["message"]
    assert (await admin.get("/admin/projects")).json()["total"] == 0


async def test_metadata_at_the_size_limit_is_accepted(admin):
    # {"k":"xxx…"} encodes to 8 bytes of overhead.
    response = await admin.post(
        "/admin/projects", json={"name": "big", "metadata": {"k": "x" * (16 * 1024 - 8)}}
    )
    assert response.status_code == 201


async def test_bad_patch_input_changes_nothing(admin):
    created = (await admin.post("/admin/projects", json={"name": "p", "metadata": {"a": 1}})).json()
    for body in (
        {"name": "ok", "rate_limit_per_minute": 0},
        {"metadata": {"a": 2}, "bogus": 1},
        {"is_active": False, "name": ""},
    ):
        response = await admin.patch(f"/admin/projects/{created['id']}", json=body)
        assert response.status_code == 400
    current = (await admin.get(f"/admin/projects/{created['id']}")).json()
    assert current["name"] == "p" and current["metadata"] == {"a": 1} and current["is_active"]
    assert (await call_with_key(admin, created["api_key"])).status_code == 200


async def test_duplicate_name_is_409_on_create_and_rename(admin):
    first = (await admin.post("/admin/projects", json={"name": "alpha"})).json()
    second = (await admin.post("/admin/projects", json={"name": "beta"})).json()
    dup = await admin.post("/admin/projects", json={"name": "alpha"})
    assert dup.status_code == 409 and dup.json()["error"]["param"] == "name"
    rename = await admin.patch(f"/admin/projects/{second['id']}", json={"name": "alpha"})
    assert rename.status_code == 409
    # Renaming a project to its own name is fine.
    same = await admin.patch(f"/admin/projects/{first['id']}", json={"name": "alpha"})
    assert same.status_code == 200
    assert (await admin.get("/admin/projects")).json()["total"] == 2


async def test_rate_limit_can_be_cleared_to_unlimited(admin):
    created = (
        await admin.post("/admin/projects", json={"name": "p", "rate_limit_per_minute": 5})
    ).json()
    patched = await admin.patch(
        f"/admin/projects/{created['id']}", json={"rate_limit_per_minute": None}
    )
    assert patched.json()["rate_limit_per_minute"] is None
    cached = gateway_of(admin.app).project_cache.lookup(created["api_key"])
    assert cached.rate_limit_per_minute is None


async def test_list_is_paginated_and_filterable(admin):
    for i in range(7):
        await admin.post("/admin/projects", json={"name": f"team-{i}", "is_active": i % 2 == 0})
    await admin.post("/admin/projects", json={"name": "100%_odd"})

    page = (await admin.get("/admin/projects?page=1&page_size=3")).json()
    assert page["total"] == 8 and page["page"] == 1 and page["page_size"] == 3
    assert len(page["items"]) == 3
    last = (await admin.get("/admin/projects?page=3&page_size=3")).json()
    assert len(last["items"]) == 2
    names = {p["name"] for p in page["items"]} | {p["name"] for p in last["items"]}
    middle = (await admin.get("/admin/projects?page=2&page_size=3")).json()
    names |= {p["name"] for p in middle["items"]}
    assert len(names) == 8  # pages do not overlap

    active = (await admin.get("/admin/projects?is_active=true&page_size=200")).json()
    assert active["total"] == 5
    assert all(p["is_active"] for p in active["items"])
    inactive = (await admin.get("/admin/projects?is_active=false")).json()
    assert inactive["total"] == 3

    by_name = (await admin.get("/admin/projects?name=TEAM-")).json()
    assert by_name["total"] == 7
    # % and _ are literal characters in the filter, not wildcards.
    assert (await admin.get("/admin/projects?name=0%25_")).json()["total"] == 1
    assert (await admin.get("/admin/projects?name=m_")).json()["total"] == 0


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("page=0", "page"),
        ("page_size=0", "page_size"),
        ("page_size=201", "page_size"),
        ("page=abc", "page"),
        ("is_active=maybe", "is_active"),
    ],
)
async def test_bad_list_parameters_are_400_naming_the_parameter(admin, query, param):
    response = await admin.get(f"/admin/projects?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_unknown_project_id_is_404(admin):
    for path in (
        "/admin/projects/not-a-uuid",
        "/admin/projects/6d0f3f5e-2f59-4a4e-9d51-1e1b1c1d1e1f",
    ):
        assert (await admin.get(path)).status_code == 404
        assert (await admin.patch(path, json={"name": "x"})).status_code == 404
        assert (await admin.delete(path)).status_code == 404
        assert (await admin.post(path + "/rotate-key")).status_code == 404


async def test_cache_lookup_does_not_touch_the_database(app):
    import asyncio

    from sqlalchemy import event

    the_app, admin = app
    key = (await admin.post("/admin/projects", json={"name": "p"})).json()["api_key"]
    gw = gateway_of(the_app)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(gw.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        # Let other areas' startup work (jobs, catalogue) go quiet first.
        for _ in range(50):
            seen = len(statements)
            await asyncio.sleep(0.1)
            if len(statements) == seen:
                break
        statements.clear()
        for _ in range(5):
            assert (await call_with_key(admin, key)).status_code == 200
            assert (await call_with_key(admin, key, bearer=True)).status_code == 200
    finally:
        event.remove(gw.db.engine.sync_engine, "before_cursor_execute", record)
    auth_tables = ("projects", "users", "revoked_tokens")
    assert [sql for sql in statements if any(t in sql for t in auth_tables)] == []
