"""The panel over HTTP (no browser): plugin wiring, session cookie, CSRF, roles, forms."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from freeway.app import create_app
from freeway.settings import Settings

PASSWORD = "correct-horse-battery-staple"
CSRF_FIELD = re.compile(r'name="_csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Any]:
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        test_client.follow_redirects = False
        yield test_client


async def first_run(client: Any, username: str = "admin") -> str:
    """Create the first admin through the setup page; returns a CSRF token."""
    page = await client.get("/panel/setup")
    assert page.status_code == 200
    token = csrf_of(page.text)
    done = await client.post(
        "/panel/setup",
        data={"_csrf": token, "username": username, "password": PASSWORD, "confirm": PASSWORD},
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/panel/"
    # Logging in issued a new CSRF token; read it from a page.
    return csrf_of((await client.get("/panel/settings")).text)


async def test_panel_routes_come_from_the_panel_plugin_and_disabling_it_removes_them(
    make_settings: Callable[..., Settings],
) -> None:
    enabled = create_app(make_settings())
    async with AsyncTestClient(app=enabled) as client:
        client.follow_redirects = False
        assert (await client.get("/panel/login")).status_code == 303
        assert enabled.state.gateway.pm.get_plugin("panel") is not None
    disabled = create_app(make_settings(FREEWAY_DISABLE_PLUGINS="panel"))
    async with AsyncTestClient(app=disabled) as client:
        assert (await client.get("/panel/login")).status_code == 404
        assert (await client.get("/panel/static/htmx.min.js")).status_code == 404
        assert (await client.get("/health")).status_code == 200


async def test_with_no_users_every_page_leads_to_the_first_run_screen(client: Any) -> None:
    response = await client.get("/panel/projects")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/panel/login?next=")
    response = await client.get("/panel/login")
    assert response.status_code == 303
    assert response.headers["location"] == "/panel/setup"
    page = await client.get("/panel/setup")
    assert "create the admin account" in page.text


async def test_first_run_creates_an_admin_and_a_strict_httponly_session_cookie(
    client: Any, settings: Settings
) -> None:
    page = await client.get("/panel/setup")
    token = csrf_of(page.text)
    response = await client.post(
        "/panel/setup",
        data={"_csrf": token, "username": "root", "password": PASSWORD, "confirm": PASSWORD},
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if "freeway_token=" in c)
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "Path=/;" in cookie or cookie.endswith("Path=/")
    assert "Secure" not in cookie  # plain HTTP here
    dashboard = await client.get("/panel/")
    assert dashboard.status_code == 200
    assert "Welcome, root" in dashboard.text
    settings_page = await client.get("/panel/settings")
    assert re.search(r"Role</dt><dd>.*admin", settings_page.text, re.S)
    # Once a user exists the first-run screen is gone.
    again = await client.get("/panel/setup")
    assert again.status_code == 303
    assert again.headers["location"] == "/panel/login"


async def test_setup_with_mismatched_passwords_says_so_and_creates_nobody(client: Any) -> None:
    token = csrf_of((await client.get("/panel/setup")).text)
    response = await client.post(
        "/panel/setup",
        data={"_csrf": token, "username": "root", "password": PASSWORD, "confirm": PASSWORD + "x"},
    )
    assert response.status_code == 400
    assert "The two passwords differ" in response.text
    assert (await client.get("/panel/login")).headers["location"] == "/panel/setup"


async def test_session_cookie_is_secure_behind_an_https_proxy(client: Any) -> None:
    await first_run(client)
    client.cookies.delete("freeway_token")
    token = csrf_of((await client.get("/panel/login")).text)
    response = await client.post(
        "/panel/login",
        data={"_csrf": token, "username": "admin", "password": PASSWORD},
        headers={"x-forwarded-proto": "https"},
    )
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if "freeway_token=" in c)
    assert "Secure" in cookie


async def test_a_post_without_the_csrf_token_is_refused(client: Any) -> None:
    token = await first_run(client)
    form = {"name": "sneaky", "rate_limit_per_minute": "", "metadata": "{}", "is_active": "true"}
    missing = await client.post("/panel/projects", data=form)
    assert missing.status_code == 403
    assert "CSRF check failed" in missing.text
    wrong = await client.post("/panel/projects", data={**form, "_csrf": "x" * 43})
    assert wrong.status_code == 403
    page = await client.get("/panel/projects")
    assert "sneaky" not in page.text
    # The same form with the token (as field, or as htmx's header) goes through.
    ok = await client.post("/panel/projects", data={**form, "_csrf": token})
    assert ok.status_code == 201
    header = await client.post(
        "/panel/projects", data={**form, "name": "via-header"}, headers={"x-csrf-token": token}
    )
    assert header.status_code == 201


async def test_the_csrf_token_changes_at_login_so_an_older_one_is_refused(client: Any) -> None:
    before = csrf_of((await client.get("/panel/setup")).text)
    await client.post(
        "/panel/setup",
        data={"_csrf": before, "username": "admin", "password": PASSWORD, "confirm": PASSWORD},
    )
    after = csrf_of((await client.get("/panel/settings")).text)
    assert after != before
    form = {"name": "late", "metadata": "{}", "is_active": "true"}
    stale = await client.post("/panel/projects", data={**form, "_csrf": before})
    assert stale.status_code == 403
    fresh = await client.post("/panel/projects", data={**form, "_csrf": after})
    assert fresh.status_code == 201


async def test_login_form_needs_the_csrf_token_too(client: Any) -> None:
    await first_run(client)
    client.cookies.delete("freeway_token")
    response = await client.post("/panel/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "freeway_token=" not in " ".join(response.headers.get_list("set-cookie"))


async def test_wrong_password_shows_a_message_and_sets_no_session(client: Any) -> None:
    await first_run(client)
    client.cookies.delete("freeway_token")
    token = csrf_of((await client.get("/panel/login")).text)
    response = await client.post(
        "/panel/login", data={"_csrf": token, "username": "admin", "password": "wrong-password!!"}
    )
    assert response.status_code == 401
    assert "Invalid username or password" in response.text
    assert "freeway_token=" not in " ".join(response.headers.get_list("set-cookie"))


async def test_login_returns_to_the_page_asked_for_but_never_off_the_panel(client: Any) -> None:
    await first_run(client)
    client.cookies.delete("freeway_token")
    page = await client.get("/panel/login", params={"next": "/panel/analytics?status=ok"})
    token = csrf_of(page.text)
    response = await client.post(
        "/panel/login",
        data={
            "_csrf": token,
            "username": "admin",
            "password": PASSWORD,
            "next": "/panel/analytics?status=ok",
        },
    )
    assert response.headers["location"] == "/panel/analytics?status=ok"
    client.cookies.delete("freeway_token")
    for evil in ("//evil.example/panel", "https://evil.example", "/panel\\@evil"):
        token = csrf_of((await client.get("/panel/login")).text)
        response = await client.post(
            "/panel/login",
            data={"_csrf": token, "username": "admin", "password": PASSWORD, "next": evil},
        )
        assert response.headers["location"] == "/panel/", evil
        client.cookies.delete("freeway_token")


async def test_htmx_requests_without_a_session_get_an_hx_redirect(client: Any) -> None:
    await first_run(client)
    client.cookies.delete("freeway_token")
    response = await client.get("/panel/models", headers={"hx-request": "true"})
    assert response.status_code == 200
    assert response.headers["hx-redirect"].startswith("/panel/login")


async def test_viewers_read_everything_but_every_write_is_refused(client: Any) -> None:
    token = await first_run(client)
    created = await client.post(
        "/panel/users",
        data={"_csrf": token, "username": "watcher", "password": PASSWORD, "role": "viewer"},
    )
    assert created.status_code == 303
    await client.post("/panel/logout", data={"_csrf": token})
    login = await client.get("/panel/login")
    token = csrf_of(login.text)
    await client.post(
        "/panel/login", data={"_csrf": token, "username": "watcher", "password": PASSWORD}
    )
    token = csrf_of((await client.get("/panel/")).text)
    for path in ("/panel/", "/panel/projects", "/panel/models", "/panel/analytics", "/panel/users"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert "read-only access" in page.text
    projects = await client.get("/panel/projects")
    assert "New project" not in projects.text
    refused = await client.post(
        "/panel/projects",
        data={"_csrf": token, "name": "nope", "metadata": "{}", "is_active": "true"},
    )
    assert refused.status_code == 403
    assert "read-only" in refused.text
    promote = await client.post("/panel/users", data={"_csrf": token, "username": "x"})
    assert promote.status_code == 403
    # Their own password and the theme are theirs to change.
    theme = await client.post("/panel/theme", data={"_csrf": token, "theme": "dark"})
    assert theme.status_code == 303


async def test_project_form_rejects_invalid_json_and_bad_numbers_with_messages(
    client: Any,
) -> None:
    token = await first_run(client)
    base = {"_csrf": token, "name": "alpha", "rate_limit_per_minute": "", "is_active": "true"}
    bad_json = await client.post("/panel/projects", data={**base, "metadata": '{"team": }'})
    assert bad_json.status_code == 400
    assert "metadata is not valid JSON" in bad_json.text
    assert "line 1, column 10" in bad_json.text
    not_object = await client.post("/panel/projects", data={**base, "metadata": "[1, 2]"})
    assert not_object.status_code == 400
    assert "metadata must be a JSON object" in not_object.text
    bad_limit = await client.post(
        "/panel/projects", data={**base, "metadata": "{}", "rate_limit_per_minute": "fast"}
    )
    assert bad_limit.status_code == 400
    assert "rate_limit_per_minute must be a whole number" in bad_limit.text
    negative = await client.post(
        "/panel/projects", data={**base, "metadata": "{}", "rate_limit_per_minute": "-5"}
    )
    assert negative.status_code == 400
    assert "rate_limit_per_minute must be a positive integer" in negative.text
    listing = await client.get("/panel/projects")
    assert "alpha" not in listing.text  # nothing half-written


async def test_created_key_is_shown_once_and_works_against_the_api(client: Any) -> None:
    token = await first_run(client)
    created = await client.post(
        "/panel/projects",
        data={
            "_csrf": token,
            "name": "beta",
            "rate_limit_per_minute": "30",
            "metadata": '{"team": "backend"}',
            "is_active": "true",
        },
    )
    assert created.status_code == 201
    key = re.search(r'id="issued-key"[^>]*value="(fw_[^"]+)"', created.text)
    assert key, "the key dialog shows the key"
    assert "shown only once" in created.text
    assert created.headers["cache-control"] == "no-store"
    models = await client.get("/v1/models", headers={"authorization": f"Bearer {key.group(1)}"})
    assert models.status_code == 200
    listing = await client.get("/panel/projects")
    assert key.group(1) not in listing.text
    assert key.group(1)[:8] in listing.text  # the prefix stays visible


async def test_logout_revokes_the_token_server_side(client: Any) -> None:
    token = await first_run(client)
    session = client.cookies.get("freeway_token")
    assert (await client.get("/auth/me", headers={"authorization": f"Bearer {session}"})).is_success
    response = await client.post("/panel/logout", data={"_csrf": token})
    assert response.headers["location"] == "/panel/login"
    me = await client.get("/auth/me", headers={"authorization": f"Bearer {session}"})
    assert me.status_code == 401
    assert (await client.get("/panel/projects")).status_code == 303


async def test_csv_export_link_accepts_the_session_cookie(client: Any) -> None:
    await first_run(client)
    page = await client.get("/panel/analytics", params={"status": "ok"})
    link = re.search(r'href="(/admin/analytics/logs\.csv\?[^"]*)"', page.text)
    assert link
    assert "status=ok" in link.group(1)
    csv = await client.get(link.group(1).replace("&amp;", "&"))
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("id,")


async def test_pages_carry_a_strict_content_security_policy(client: Any) -> None:
    page = await client.get("/panel/setup")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert "<script>" not in page.text  # no inline script: the policy forbids it


async def test_vendored_htmx_is_served_locally_with_its_version_noted(client: Any) -> None:
    response = await client.get("/panel/static/htmx.min.js")
    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert 'version:"2.0.11"' in response.text
    from pathlib import Path

    import freeway_panel

    readme = (Path(freeway_panel.__file__).parent / "static" / "README.md").read_text()
    assert "2.0.11" in readme and "Zero-Clause BSD" in readme
    layout = (await client.get("/panel/setup")).text
    assert "/panel/static/htmx.min.js" in layout
    assert "unpkg" not in layout and "cdn" not in layout.lower()


async def test_theme_choice_is_remembered_in_a_cookie_and_rendered(client: Any) -> None:
    token = csrf_of((await client.get("/panel/setup")).text)
    response = await client.post(
        "/panel/theme", data={"_csrf": token, "theme": "dark", "next": "/panel/setup"}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/panel/setup"
    page = await client.get("/panel/setup")
    assert '<html lang="en" data-theme="dark">' in page.text
    bad = await client.post("/panel/theme", data={"_csrf": token, "theme": "neon"})
    assert bad.status_code == 400


async def test_changing_the_password_ends_other_sessions_and_keeps_this_one(
    client: Any, settings: Settings
) -> None:
    token = await first_run(client)
    other = client.cookies.get("freeway_token")
    mismatch = await client.post(
        "/panel/settings/password",
        data={
            "_csrf": token,
            "current_password": PASSWORD,
            "new_password": "a-new-long-password",
            "confirm_password": "another-long-password",
        },
    )
    assert mismatch.status_code == 400
    assert "The two new passwords differ" in mismatch.text
    wrong = await client.post(
        "/panel/settings/password",
        data={
            "_csrf": token,
            "current_password": "not-my-password",
            "new_password": "a-new-long-password",
            "confirm_password": "a-new-long-password",
        },
    )
    assert wrong.status_code == 400
    assert "current_password is wrong" in wrong.text
    changed = await client.post(
        "/panel/settings/password",
        data={
            "_csrf": token,
            "current_password": PASSWORD,
            "new_password": "a-new-long-password",
            "confirm_password": "a-new-long-password",
        },
    )
    assert changed.status_code == 303
    assert (await client.get("/panel/settings")).status_code == 200  # still logged in
    old = await client.get("/auth/me", headers={"authorization": f"Bearer {other}"})
    assert old.status_code == 401
