"""``/admin/users``: listing, role changes, read-only viewers; passwords stored as argon2id."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from freeway.app import create_app
from freeway.db import create_database
from freeway.db.models import User

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    from argon2 import PasswordHasher, Type

    from freeway.auth import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    monkeypatch.setattr(passwords, "_hasher", cheap)


@pytest.fixture
async def setup(make_settings, database_url):
    """An app with an admin (root) and a viewer (viv), and their tokens."""
    settings = make_settings(DATABASE_URL=database_url, FREEWAY_PLUGINS="core")
    async with AsyncTestClient(app=create_app(settings)) as client:
        await client.post("/auth/register", json={"username": "root", "password": PASSWORD})
        root = (
            await client.post("/auth/login", json={"username": "root", "password": PASSWORD})
        ).json()
        await client.post(
            "/auth/register",
            json={"username": "viv", "password": PASSWORD},
            headers=auth(root["token"]),
        )
        viv = (
            await client.post("/auth/login", json={"username": "viv", "password": PASSWORD})
        ).json()
        client.cookies.clear()
        yield client, root, viv, settings


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_admin_lists_users_paginated_without_secrets(setup):
    client, root, _, _ = setup
    response = await client.get("/admin/users", headers=auth(root["token"]))
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and body["page"] == 1 and body["page_size"] == 50
    assert [(u["username"], u["role"]) for u in body["items"]] == [
        ("root", "admin"),
        ("viv", "viewer"),
    ]
    assert set(body["items"][0]) == {
        "id",
        "username",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    }
    assert "argon2" not in response.text
    page = (await client.get("/admin/users?page=2&page_size=1", headers=auth(root["token"]))).json()
    assert [u["username"] for u in page["items"]] == ["viv"]
    assert (
        await client.get("/admin/users?page_size=500", headers=auth(root["token"]))
    ).status_code == 400


async def test_viewer_may_read_admin_resources_but_not_write(setup):
    client, _, viv, settings = setup
    headers = auth(viv["token"])
    assert (await client.get("/admin/users", headers=headers)).status_code == 200
    assert (await client.get("/admin/projects", headers=headers)).status_code == 200
    denied = [
        await client.post("/admin/projects", json={"name": "x"}, headers=headers),
        await client.patch(
            f"/admin/users/{viv['user']['id']}", json={"role": "admin"}, headers=headers
        ),
        await client.post(
            "/auth/register", json={"username": "eve", "password": PASSWORD}, headers=headers
        ),
    ]
    for response in denied:
        assert response.status_code == 403
        assert response.json()["error"]["type"] == "permission_error"
    listing = (
        await client.get("/admin/projects", headers={"X-Api-Key": settings.admin_api_key})
    ).json()
    assert listing["total"] == 0
    me = (await client.get("/auth/me", headers=headers)).json()
    assert me["role"] == "viewer"


async def test_role_change_takes_effect_on_the_next_request(setup):
    client, root, viv, _ = setup
    promoted = await client.patch(
        f"/admin/users/{viv['user']['id']}", json={"role": "admin"}, headers=auth(root["token"])
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    # viv's existing token now carries admin rights (the role is read on each request).
    created = await client.post(
        "/admin/projects", json={"name": "by-viv"}, headers=auth(viv["token"])
    )
    assert created.status_code == 201
    demoted = await client.patch(
        f"/admin/users/{viv['user']['id']}", json={"role": "viewer"}, headers=auth(root["token"])
    )
    assert demoted.json()["role"] == "viewer"
    again = await client.post("/admin/projects", json={"name": "again"}, headers=auth(viv["token"]))
    assert again.status_code == 403


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(setup):
    client, root, _, _ = setup
    root_id = root["user"]["id"]
    for body in ({"role": "viewer"}, {"is_active": False}):
        response = await client.patch(
            f"/admin/users/{root_id}", json=body, headers=auth(root["token"])
        )
        assert response.status_code == 409
        assert "last active admin" in response.json()["error"]["message"]
    assert (await client.get("/auth/me", headers=auth(root["token"]))).json()["role"] == "admin"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"role": "owner"}, "role"),
        ({"is_active": "no"}, "is_active"),
        ({"username": "x"}, "username"),
    ],
)
async def test_bad_user_patch_is_400_and_changes_nothing(setup, body, param):
    client, root, viv, _ = setup
    response = await client.patch(
        f"/admin/users/{viv['user']['id']}", json=body, headers=auth(root["token"])
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == param
    user = (
        await client.get(f"/admin/users/{viv['user']['id']}", headers=auth(root["token"]))
    ).json()
    assert user["role"] == "viewer" and user["is_active"] is True and user["username"] == "viv"


async def test_unknown_user_is_404(setup):
    client, root, _, _ = setup
    for user_id in ("nope", "6d0f3f5e-2f59-4a4e-9d51-1e1b1c1d1e1f"):
        assert (
            await client.get(f"/admin/users/{user_id}", headers=auth(root["token"]))
        ).status_code == 404
        response = await client.patch(
            f"/admin/users/{user_id}", json={"role": "admin"}, headers=auth(root["token"])
        )
        assert response.status_code == 404


async def test_admin_users_needs_credentials(setup):
    client, _, _, settings = setup
    assert (await client.get("/admin/users")).status_code == 401
    assert (
        await client.get("/admin/users", headers={"X-Api-Key": settings.admin_api_key})
    ).status_code == 200


async def test_passwords_are_stored_as_argon2id_only(setup):
    _, _, _, settings = setup
    db = create_database(settings)
    try:
        async with db.sessionmaker() as session:
            users = (await session.execute(select(User))).scalars().all()
    finally:
        await db.dispose()
    assert len(users) == 2
    for user in users:
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
