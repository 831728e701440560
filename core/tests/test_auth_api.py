"""Users and JWTs: register, login, me, change-password, logout, revocation, throttling.

Every test runs on SQLite and on PostgreSQL (``database_url``).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid

import jwt
import pytest
from litestar.testing import AsyncTestClient

from freeway.app import create_app

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def fast_argon2(monkeypatch):
    """Still argon2id, with the cheapest parameters: tests hash many passwords."""
    from argon2 import PasswordHasher, Type

    from freeway.auth import passwords

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
    monkeypatch.setattr(passwords, "_hasher", cheap)


@pytest.fixture
async def client(make_settings, database_url):
    settings = make_settings(
        DATABASE_URL=database_url, FREEWAY_PLUGINS="core", FREEWAY_LOGIN_MAX_FAILURES=3
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.admin_key = settings.admin_api_key  # type: ignore[attr-defined]
        client.jwt_secret = settings.jwt_secret  # type: ignore[attr-defined]
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client, username: str, password: str = PASSWORD):
    return await client.post("/auth/login", json={"username": username, "password": password})


async def admin_token(client) -> str:
    assert (
        await client.post("/auth/register", json={"username": "root", "password": PASSWORD})
    ).status_code == 201
    return (await login(client, "root")).json()["token"]


async def test_first_user_becomes_admin_and_later_ones_need_an_admin(client):
    first = await client.post(
        "/auth/register", json={"username": "alice", "password": PASSWORD, "role": "viewer"}
    )
    assert first.status_code == 201
    assert first.json()["role"] == "admin" and first.json()["username"] == "alice"
    assert "password" not in first.text and "hash" not in first.text

    anonymous = await client.post("/auth/register", json={"username": "bob", "password": PASSWORD})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "authentication_error"

    token = (await login(client, "alice")).json()["token"]
    by_admin = await client.post(
        "/auth/register", json={"username": "bob", "password": PASSWORD}, headers=bearer(token)
    )
    assert by_admin.status_code == 201 and by_admin.json()["role"] == "viewer"

    viewer_token = (await login(client, "bob")).json()["token"]
    by_viewer = await client.post(
        "/auth/register",
        json={"username": "carol", "password": PASSWORD},
        headers=bearer(viewer_token),
    )
    assert by_viewer.status_code == 403

    by_admin_key = await client.post(
        "/auth/register",
        json={"username": "dave", "password": PASSWORD, "role": "admin"},
        headers={"X-Api-Key": client.admin_key},
    )
    assert by_admin_key.status_code == 201 and by_admin_key.json()["role"] == "admin"
    assert (await login(client, "carol")).status_code == 401  # carol was never created


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"username": "ab", "password": PASSWORD}, "username"),
        ({"username": "x" * 65, "password": PASSWORD}, "username"),
        ({"username": "has space", "password": PASSWORD}, "username"),
        ({"username": "emoji😀", "password": PASSWORD}, "username"),
        ({"username": 123, "password": PASSWORD}, "username"),
        ({"password": PASSWORD}, "username"),
        ({"username": "alice", "password": "short-11chr"}, "password"),
        ({"username": "alice"}, "password"),
        ({"username": "alice", "password": PASSWORD, "role": "owner"}, "role"),
        ({"username": "alice", "password": PASSWORD, "is_admin": True}, "is_admin"),
    ],
)
async def test_bad_registration_is_400_naming_the_field_and_creates_nobody(client, body, param):
    token = await admin_token(client)
    response = await client.post("/auth/register", json=body, headers=bearer(token))
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    users = (await client.get("/admin/users", headers=bearer(token))).json()
    assert [u["username"] for u in users["items"]] == ["root"]


async def test_register_rejects_non_json_and_duplicate_usernames(client):
    bad = await client.post(
        "/auth/register", content=b"username=alice", headers={"Content-Type": "text/plain"}
    )
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]["message"]
    token = await admin_token(client)
    for name in ("root", "ROOT"):
        dup = await client.post(
            "/auth/register", json={"username": name, "password": PASSWORD}, headers=bearer(token)
        )
        assert dup.status_code == 409 and dup.json()["error"]["param"] == "username"


async def test_login_returns_token_user_and_expiry_and_sets_httponly_cookie(client):
    await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    response = await login(client, "alice")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "user", "expiresAt"}
    assert set(body["user"]) == {"id", "username", "role"}
    assert body["user"]["username"] == "alice" and body["user"]["role"] == "admin"
    expires = dt.datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert dt.timedelta(hours=23) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=24)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"freeway_token={body['token']}")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie

    me = await client.get("/auth/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"] and me.json()["username"] == "alice"


async def test_login_is_case_insensitive_on_username_and_refuses_wrong_password(client):
    await client.post("/auth/register", json={"username": "Alice", "password": PASSWORD})
    assert (await login(client, "alice")).status_code == 200
    wrong = await login(client, "Alice", "not the password!")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == "invalid username or password"
    unknown = await login(client, "nobody", PASSWORD)
    assert unknown.status_code == 401
    assert unknown.json()["error"]["message"] == "invalid username or password"


async def test_cookie_authenticates_safe_methods_only(client):
    await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    token = (await login(client, "alice")).json()["token"]
    client.cookies.clear()
    cookies = {"freeway_token": token}
    me = await client.get("/auth/me", cookies=cookies)
    assert me.status_code == 200
    assert (await client.get("/admin/projects", cookies=cookies)).status_code == 200
    # A state-changing request must not ride on the cookie (CSRF) until the panel adds a check.
    create = await client.post("/admin/projects", json={"name": "x"}, cookies=cookies)
    assert create.status_code == 401
    logout = await client.post("/auth/logout", cookies=cookies)
    assert logout.status_code == 401
    assert (await client.get("/auth/me", cookies=cookies)).status_code == 200


async def test_logout_revokes_the_token_server_side_but_not_other_sessions(client):
    await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    first = (await login(client, "alice")).json()["token"]
    second = (await login(client, "alice")).json()["token"]
    response = await client.post("/auth/logout", headers=bearer(first))
    assert response.status_code == 204
    assert (
        'freeway_token=""' in response.headers["set-cookie"]
        or "Max-Age=0" in response.headers["set-cookie"]
    )
    refused = await client.get("/auth/me", headers=bearer(first))
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "token_revoked"
    assert (await client.get("/admin/projects", headers=bearer(first))).status_code == 401
    assert (await client.get("/auth/me", headers=bearer(second))).status_code == 200


async def test_change_password_needs_current_password_and_revokes_other_tokens(client):
    await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    session = (await login(client, "alice")).json()["token"]
    other = (await login(client, "alice")).json()["token"]
    new_password = "an even better passphrase"

    wrong = await client.post(
        "/auth/change-password",
        json={"current_password": "not my password", "new_password": new_password},
        headers=bearer(session),
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "current_password"
    short = await client.post(
        "/auth/change-password",
        json={"current_password": PASSWORD, "new_password": "short"},
        headers=bearer(session),
    )
    assert short.status_code == 400 and short.json()["error"]["param"] == "new_password"
    missing = await client.post(
        "/auth/change-password", json={"new_password": new_password}, headers=bearer(session)
    )
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "current_password"
    # Nothing changed so far: the old password still works, both tokens still work.
    assert (await client.get("/auth/me", headers=bearer(other))).status_code == 200

    changed = await client.post(
        "/auth/change-password",
        json={"current_password": PASSWORD, "new_password": new_password},
        headers=bearer(session),
    )
    assert changed.status_code == 200
    fresh = changed.json()["token"]
    assert changed.json()["user"]["username"] == "alice"
    assert (await client.get("/auth/me", headers=bearer(fresh))).status_code == 200
    for old in (session, other):
        refused = await client.get("/auth/me", headers=bearer(old))
        assert refused.status_code == 401
    assert (await login(client, "alice", PASSWORD)).status_code == 401
    assert (await login(client, "alice", new_password)).status_code == 200


def _forge(secret: str, **claims) -> str:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    payload = {"jti": uuid.uuid4().hex, "tv": 0, "iat": now, "exp": now + 3600, "iss": "freeway"}
    payload.update(claims)
    return jwt.encode(payload, secret, algorithm="HS256")


async def test_expired_token_is_refused(client):
    await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    user_id = (await login(client, "alice")).json()["user"]["id"]
    past = int((dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).timestamp())
    expired = _forge(client.jwt_secret, sub=user_id, iat=past - 3600, exp=past)
    response = await client.get("/auth/me", headers=bearer(expired))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "token_expired"
    # The same claims, unexpired and correctly signed, are accepted: the test is honest.
    assert (
        await client.get("/auth/me", headers=bearer(_forge(client.jwt_secret, sub=user_id)))
    ).status_code == 200


async def test_tampered_tokens_are_refused(client):
    await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    await client.post(
        "/auth/register",
        json={"username": "bob", "password": PASSWORD},
        headers={"X-Api-Key": client.admin_key},
    )
    bob = (await login(client, "bob")).json()
    alice_id = (await login(client, "alice")).json()["user"]["id"]
    header, payload, signature = bob["token"].split(".")

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = alice_id  # bob tries to become alice
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    swapped = f"{header}.{forged_payload}.{signature}"
    flipped = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    wrong_secret = _forge("another-secret-that-is-long-enough-0123456789", sub=alice_id)
    none_alg = jwt.encode(
        {"sub": alice_id, "jti": "x", "tv": 0, "iat": 1, "exp": 2**40, "iss": "freeway"},
        None,
        algorithm="none",
    )
    for token in (swapped, flipped, wrong_secret, none_alg):
        response = await client.get("/auth/me", headers=bearer(token))
        assert response.status_code == 401, token
    assert (await client.get("/auth/me", headers=bearer(bob["token"]))).json()["username"] == "bob"


async def test_repeated_wrong_passwords_are_throttled_with_retry_after(client):
    await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    for _ in range(3):
        assert (await login(client, "alice", "wrong password!!")).status_code == 401
    throttled = await login(client, "alice", "wrong password!!")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["type"] == "rate_limit_error"
    retry_after = int(throttled.headers["retry-after"])
    assert 0 < retry_after <= 900
    # Even the right password is refused until the window ends: guessing gains nothing.
    assert (await login(client, "alice")).status_code == 429
    # Another account is not locked by alice's failures.
    await client.post(
        "/auth/register",
        json={"username": "bob", "password": PASSWORD},
        headers={"X-Api-Key": client.admin_key},
    )
    assert (await login(client, "bob")).status_code == 200


async def test_successful_login_resets_the_username_failure_count(client):
    await client.post("/auth/register", json={"username": "alice", "password": PASSWORD})
    for _ in range(2):
        assert (await login(client, "alice", "wrong password!!")).status_code == 401
    assert (await login(client, "alice")).status_code == 200
    for _ in range(2):
        assert (await login(client, "alice", "wrong password!!")).status_code == 401
    assert (await login(client, "alice")).status_code == 200


async def test_failures_from_one_address_across_usernames_are_throttled(
    make_settings, database_url
):
    settings = make_settings(
        DATABASE_URL=database_url,
        FREEWAY_PLUGINS="core",
        FREEWAY_LOGIN_MAX_FAILURES=100,
        FREEWAY_LOGIN_MAX_FAILURES_PER_ADDRESS=4,
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        for i in range(4):
            assert (await login(client, f"user{i}", "wrong password!!")).status_code == 401
        throttled = await login(client, "someone-else", "wrong password!!")
        assert throttled.status_code == 429 and "address" in throttled.json()["error"]["message"]
        assert "retry-after" in throttled.headers


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'{"username":"a"}',
        b'{"username":"alice","password":1}',
        b'{"username":"alice","password":"x","remember":true}',
    ],
)
async def test_bad_login_bodies_are_400(client, body):
    response = await client.post(
        "/auth/login", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_me_needs_a_user_token(client):
    assert (await client.get("/auth/me")).status_code == 401
    assert (await client.get("/auth/me", headers=bearer("eyJnot.a.jwt"))).status_code == 401
    # The admin key is valid, but it is not a user.
    assert (
        await client.get("/auth/me", headers={"X-Api-Key": client.admin_key})
    ).status_code == 403


async def test_deleted_or_deactivated_user_token_is_refused(client):
    token = await admin_token(client)
    await client.post(
        "/auth/register", json={"username": "bob", "password": PASSWORD}, headers=bearer(token)
    )
    bob = (await login(client, "bob")).json()
    off = await client.patch(
        f"/admin/users/{bob['user']['id']}", json={"is_active": False}, headers=bearer(token)
    )
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert (await client.get("/auth/me", headers=bearer(bob["token"]))).status_code == 401
    assert (await login(client, "bob")).status_code == 401
    # Reactivation lets bob log in again but does not revive the old token.
    await client.patch(
        f"/admin/users/{bob['user']['id']}", json={"is_active": True}, headers=bearer(token)
    )
    assert (await client.get("/auth/me", headers=bearer(bob["token"]))).status_code == 401
    assert (await login(client, "bob")).status_code == 200
