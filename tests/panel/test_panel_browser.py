"""The panel in a real browser (Chromium driven by Playwright) against the real app.

Each test states what a user does and sees.  Screenshots of every page (light and
dark) are taken along the way; ``conftest.py`` says where they go.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery-staple"


def stat(page: Any, element_id: str) -> str:
    return page.locator(f"#{element_id} .stat-value").inner_text().strip()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def create_project(page: Any, server: Any, name: str, **fields: str) -> str:
    """Create a project through the dialog; returns the key shown once."""
    page.goto(server.url + "/panel/projects")
    page.get_by_role("link", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill(name)
    if "rate" in fields:
        dialog.get_by_label("Rate limit (requests per minute)").fill(fields["rate"])
    if "metadata" in fields:
        dialog.get_by_label("Metadata (JSON object)").fill(fields["metadata"])
    dialog.get_by_role("button", name="Create project").click()
    key_dialog = page.get_by_role("dialog", name=re.compile(f"New project key for “{name}”"))
    expect(key_dialog).to_be_visible()
    return key_dialog.get_by_label("API key").input_value()


def key_works(server: Any, key: str) -> int:
    with server.api(Authorization=f"Bearer {key}") as client:
        return client.get("/v1/models").status_code


def test_first_run_creates_the_admin_who_lands_on_the_dashboard(
    pages: Any, fresh_server: Any, screenshots: Any
) -> None:
    page = pages.new()
    page.goto(fresh_server.url + "/panel/")
    expect(page).to_have_url(fresh_server.url + "/panel/setup")
    expect(page.get_by_role("heading", name="Welcome — create the admin account")).to_be_visible()
    screenshots(page, "first-run")
    page.get_by_label("Username").fill("founder")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD + "!")
    page.get_by_role("button", name="Create admin and log in").click()
    expect(page.get_by_role("alert")).to_have_text("The two passwords differ")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create admin and log in").click()
    expect(page).to_have_url(fresh_server.url + "/panel/")
    expect(page.get_by_role("status")).to_contain_text("Welcome, founder")
    expect(page.locator(".whoami")).to_contain_text("founder")
    expect(page.locator(".whoami")).to_contain_text("admin")
    # The first-run screen is gone now that a user exists.
    page.goto(fresh_server.url + "/panel/setup")
    expect(page).to_have_url(fresh_server.url + "/panel/")
    assert page.errors == []


def test_login_with_wrong_then_right_password_returns_to_the_page_asked_for(
    pages: Any, server: Any, screenshots: Any
) -> None:
    page = pages.new()
    page.goto(server.url + "/panel/projects")
    expect(page).to_have_url(re.compile(r"/panel/login\?next=%2Fpanel%2Fprojects$"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password")
    expect(page.get_by_label("Username")).to_have_value("admin")
    screenshots(page, "login")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(server.url + "/panel/projects")
    expect(page.get_by_role("heading", name="Projects", level=1)).to_be_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "freeway_token")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert page.errors == []


def test_created_key_is_shown_once_with_a_copy_button_and_works(
    pages: Any, server: Any, screenshots: Any
) -> None:
    page = pages.logged_in(server)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    name = unique("checkout")
    page.goto(server.url + "/panel/projects")
    page.get_by_role("link", name="New project").click()
    dialog = page.get_by_role("dialog", name="New project")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Rate limit (requests per minute)").fill("60")
    dialog.get_by_label("Metadata (JSON object)").fill('{"team": "backend"}')
    screenshots(page, "project-create")
    dialog.get_by_role("button", name="Create project").click()

    key_dialog = page.get_by_role("dialog", name=f"New project key for “{name}”")
    expect(key_dialog).to_be_visible()
    expect(key_dialog.get_by_role("alert")).to_contain_text("This key is shown only once")
    key = key_dialog.get_by_label("API key").input_value()
    assert re.fullmatch(r"fw_[A-Za-z0-9_-]{40,}", key)
    key_dialog.get_by_role("button", name="Copy").click()
    expect(key_dialog.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    screenshots(page, "project-key-once")
    assert key_works(server, key) == 200

    key_dialog.get_by_role("button", name="I have stored the key").click()
    expect(key_dialog).to_be_hidden()
    row = page.locator("#projects-table tr", has_text=name)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text(key[:8] + "…")
    expect(row).to_contain_text("60/min")
    # Shown once: a fresh load of the list (or any page) no longer contains it.
    page.goto(server.url + "/panel/projects")
    assert key not in page.content()
    screenshots(page, "projects")
    assert page.errors == []


def test_rotating_a_key_asks_for_confirmation_and_replaces_the_key(
    pages: Any, server: Any, screenshots: Any
) -> None:
    page = pages.logged_in(server)
    name = unique("rotating")
    old_key = create_project(page, server, name)
    page.goto(server.url + "/panel/projects")
    row = page.locator("#projects-table tr", has_text=name)
    row.get_by_role("link", name=f"Rotate key of {name}").click()
    confirm = page.get_by_role("dialog", name=f"Rotate the key of “{name}”?")
    expect(confirm).to_contain_text("stops working immediately")
    screenshots(page, "project-rotate-confirm")
    confirm.get_by_role("link", name="Cancel").click()
    expect(confirm).to_be_hidden()
    assert key_works(server, old_key) == 200  # cancelling changed nothing

    row.get_by_role("link", name=f"Rotate key of {name}").click()
    confirm = page.get_by_role("dialog", name=f"Rotate the key of “{name}”?")
    confirm.get_by_role("button", name="Rotate key").click()
    key_dialog = page.get_by_role("dialog", name=f"Rotated key for “{name}”")
    expect(key_dialog).to_contain_text("The old key has stopped working")
    new_key = key_dialog.get_by_label("API key").input_value()
    assert new_key.startswith("fw_") and new_key != old_key
    assert key_works(server, old_key) == 401
    assert key_works(server, new_key) == 200
    assert page.errors == []


def test_editing_rate_limit_and_metadata_rejects_invalid_json_with_a_message(
    pages: Any, server: Any, screenshots: Any
) -> None:
    page = pages.logged_in(server)
    name = unique("editable")
    create_project(page, server, name)
    page.goto(server.url + "/panel/projects")
    page.get_by_role("link", name=f"Edit {name}").click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    metadata = page.get_by_label("Metadata (JSON object)")

    # In the browser: the editor says what is wrong and the form is not sent.
    metadata.fill('{"team": "ml",}')
    expect(page.locator("#metadata-error")).to_contain_text("metadata is not valid JSON")
    expect(metadata).to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#metadata-error")).to_be_visible()
    expect(metadata).to_be_focused()
    screenshots(page, "project-edit-invalid-json")

    # On the server too (as without JavaScript): rejected with the parser's position.
    page.evaluate("document.querySelector('[data-json-form]').removeAttribute('data-json-form')")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator("#metadata-error")).to_contain_text(
        "metadata is not valid JSON: Expecting property name enclosed in double quotes"
    )
    with server.admin_api() as admin:
        stored = next(p for p in admin.get("/admin/projects").json()["items"] if p["name"] == name)
    assert stored["metadata"] == {}  # nothing was saved

    page.get_by_label("Rate limit (requests per minute)").fill("120")
    page.get_by_label("Metadata (JSON object)").fill('{"team": "ml", "tier": 2}')
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    expect(page.get_by_label("Rate limit (requests per minute)")).to_have_value("120")
    with server.admin_api() as admin:
        stored = admin.get(f"/admin/projects/{stored['id']}").json()
    assert stored["rate_limit_per_minute"] == 120
    assert stored["metadata"] == {"team": "ml", "tier": 2}
    screenshots(page, "project-edit")
    assert page.errors == []


def test_deactivating_a_project_makes_its_key_refused(pages: Any, server: Any) -> None:
    page = pages.logged_in(server)
    name = unique("pausable")
    key = create_project(page, server, name)
    page.goto(server.url + "/panel/projects")
    page.get_by_role("link", name=f"Edit {name}").click()
    switch = page.get_by_role("switch", name=re.compile("Active"))
    expect(switch).to_be_checked()
    page.locator("label.switch").click()
    expect(switch).not_to_be_checked()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Changes saved.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Inactive")
    with server.api(Authorization=f"Bearer {key}") as client:
        refused = client.post(
            "/v1/chat/completions",
            json={"model": "free", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert refused.status_code == 403
    page.goto(server.url + "/panel/projects")
    expect(page.locator("#projects-table tr", has_text=name)).to_contain_text("Inactive")


def test_deleting_a_project_asks_first(pages: Any, server: Any) -> None:
    page = pages.logged_in(server)
    name = unique("doomed")
    key = create_project(page, server, name)
    page.goto(server.url + "/panel/projects")
    page.get_by_role("link", name=f"Delete {name}").click()
    confirm = page.get_by_role("dialog", name=f"Delete “{name}”?")
    expect(confirm).to_contain_text("cannot be undone")
    confirm.get_by_role("button", name="Delete project").click()
    expect(page.get_by_role("status")).to_have_text(f"Project “{name}” deleted.")
    expect(page.locator("#projects-table")).not_to_contain_text(name)
    assert key_works(server, key) == 401


def test_model_tabs_search_sort_details_and_select(
    pages: Any, server: Any, screenshots: Any
) -> None:
    page = pages.logged_in(server)
    page.goto(server.url + "/panel/models")
    tabs = page.get_by_role("navigation", name="Model categories")
    expect(tabs.get_by_role("link", name="free 3")).to_have_attribute("aria-current", "page")
    expect(page.locator("#models-table tbody tr")).to_have_count(3)
    expect(page.locator("#models-table tbody tr").first).to_contain_text("fakeai/gemma-big:free")
    expect(page.locator("#refreshed-at")).to_contain_text("Catalogue refreshed")

    tabs.get_by_role("link", name="image 2").click()
    expect(page).to_have_url(re.compile(r"category=image"))
    expect(page.locator("#models-table tbody tr")).to_have_count(2)
    expect(page.locator("#models-table tbody tr").first).to_contain_text("Pixel Draw")

    # A category added by a plugin's ranker gets its own tab.
    tabs.get_by_role("link", name="fast 3").click()
    expect(page.locator("#models-table tbody tr").first).to_contain_text("fakecloud/qwen-tiny:free")

    tabs.get_by_role("link", name="paid 3").click()
    expect(page.locator("#models-table tbody tr")).to_have_count(3)
    ids = page.locator("#models-table tbody tr code.model-id")
    expect(ids).to_have_text(["fakeai/gpt-mini", "fakeai/claude-fast", "fakecloud/mixtral-medium"])

    # Sortable columns: context, descending on the second click.
    page.get_by_role("link", name=re.compile("^Context")).click()
    expect(ids).to_have_text(["fakecloud/mixtral-medium", "fakeai/gpt-mini", "fakeai/claude-fast"])
    page.get_by_role("link", name=re.compile("^Context")).click()
    expect(ids).to_have_text(["fakeai/claude-fast", "fakeai/gpt-mini", "fakecloud/mixtral-medium"])
    expect(page.get_by_role("columnheader", name=re.compile("Context"))).to_have_attribute(
        "aria-sort", "descending"
    )

    # Search by name or id, as you type.
    search = page.get_by_role("searchbox", name="Search paid models by name or id")
    search.fill("mixtral")
    expect(page.locator("#models-table tbody tr")).to_have_count(1)
    expect(page.locator(".result-count")).to_have_text("1 of 3 paid models matching “mixtral”.")
    search.fill("FAKEAI/")
    expect(page.locator("#models-table tbody tr")).to_have_count(2)
    search.fill("")
    expect(page.locator("#models-table tbody tr")).to_have_count(3)
    screenshots(page, "models")

    # Details drawer.
    page.get_by_role("link", name="Details of GPT Mini").click()
    drawer = page.get_by_role("dialog", name="GPT Mini")
    expect(drawer).to_contain_text("128,000 tokens")
    expect(drawer).to_contain_text("$0.15 per 1M tokens")
    expect(drawer).to_contain_text("$0.60 per 1M tokens")
    screenshots(page, "model-details")
    page.keyboard.press("Escape")
    expect(drawer).to_be_hidden()

    # Select with confirmation.
    page.get_by_role("link", name="Select Mixtral Medium for paid").click()
    confirm = page.get_by_role("dialog", name="Use this model for “paid”?")
    expect(confirm).to_contain_text("instead of GPT Mini")
    screenshots(page, "model-select-confirm")
    confirm.get_by_role("button", name="Select model").click()
    expect(page.get_by_role("status")).to_have_text("fakecloud/mixtral-medium now serves “paid”.")
    row = page.locator("#models-table tr", has_text="fakecloud/mixtral-medium")
    expect(row).to_contain_text("serving")
    expect(page.locator("#current-selection")).to_contain_text("Mixtral Medium")
    expect(page.locator("#current-selection")).to_contain_text("chosen")
    with server.api() as client:
        assert client.get("/model/paid").json()["model"]["id"] == "fakecloud/mixtral-medium"
    with server.admin_api() as admin:
        assert admin.delete("/admin/model/paid").status_code == 200
    assert page.errors == []


def test_refresh_now_runs_the_catalogue_job(pages: Any, server: Any) -> None:
    page = pages.logged_in(server)
    page.goto(server.url + "/panel/models?category=image")
    page.get_by_role("button", name="Refresh now").click()
    expect(page.get_by_role("status")).to_have_text("The model catalogue was refreshed.")
    expect(page).to_have_url(re.compile(r"category=image"))
    expect(page.locator("#refreshed-at")).to_contain_text("just now")


def test_analytics_filters_by_date_range_after_traffic(
    pages: Any, server: Any, traffic: dict[str, Any], screenshots: Any
) -> None:
    project = traffic["project"]
    old_day: dt.date = traffic["old_day"]
    page = pages.logged_in(server)
    page.goto(server.url + "/panel/analytics")
    page.get_by_label("Project", exact=True).select_option(label=project.name)
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Analytics · {project.name}")
    expect(page.locator("#total-requests .stat-value")).to_have_text("9")
    expect(page.locator("#logs-table tbody tr")).to_have_count(9)
    expect(page.locator(".donut .legend li")).to_have_count(3)
    expect(page.locator("svg.bars rect.chart-bar")).to_have_count(30)
    screenshots(page, "analytics")

    # Only the day of the old traffic.
    page.get_by_label("From", exact=True).fill((old_day - dt.timedelta(days=1)).isoformat())
    page.get_by_label("To", exact=True).fill((old_day + dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(f"from={old_day - dt.timedelta(days=1)}"))
    expect(page.locator("#total-requests .stat-value")).to_have_text("3")
    expect(page.locator("#total-requests .stat-hint")).to_contain_text("1 error ·")
    expect(page.locator("#logs-table tbody tr")).to_have_count(3)
    for cell in page.locator("#logs-table tbody tr td:nth-child(3)").all():
        expect(cell).to_contain_text("fakecloud/mixtral-medium")
    expect(page.locator(".donut .legend li")).to_have_count(1)
    expect(page.locator(".donut .legend")).to_contain_text("fakecloud/mixtral-medium")
    expect(page.locator("svg.bars rect.chart-bar")).to_have_count(3)

    # Status filter, then the CSV export of exactly these rows.
    page.get_by_label("Status", exact=True).select_option("error")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#logs-table tbody tr")).to_have_count(1)
    expect(page.locator("#logs-table tbody tr")).to_contain_text("upstream_error")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export logs as CSV").click()
    lines = download_info.value.path().read_text().strip().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("id,") and "upstream_error" in lines[1]

    # A model filter from today's traffic.
    page.goto(server.url + f"/panel/analytics?project_id={project.id}")
    page.get_by_label("Model", exact=True).select_option("fakeai/gpt-mini")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#logs-table tbody tr")).to_have_count(4)
    assert page.errors == []


def test_logs_table_pages_through_results(pages: Any, server: Any, traffic: dict[str, Any]) -> None:
    from freeway.usage.records import UsageRecord
    from freeway.usage.sinks import DatabaseSink

    project_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC)
    batch = [
        UsageRecord(
            request_id=f"bulk-{i}",
            project_id=project_id,
            created_at=now - dt.timedelta(minutes=i),
            requested_model="free",
            model="fakeai/llama-small:free",
            provider="fakeai",
            total_tokens=i,
        )
        for i in range(30)
    ]

    async def write() -> None:
        sink = DatabaseSink()
        sink.bind(server.gw.db)
        await sink.write(batch)

    server.run(write())
    page = pages.logged_in(server)
    page.goto(server.url + f"/panel/analytics?project_id={project_id}")
    expect(page.locator("#logs-count")).to_have_text("30 matching")
    expect(page.locator("#logs-table tbody tr")).to_have_count(25)
    pagination = page.get_by_role("navigation", name="Pagination")
    expect(pagination).to_contain_text("Page 1 of 2")
    pagination.get_by_role("link", name="Next →").click()
    expect(page.locator("#logs-table tbody tr")).to_have_count(5)
    expect(page.get_by_role("navigation", name="Pagination")).to_contain_text("Page 2 of 2")


def test_theme_switch_persists_across_reload(pages: Any, server: Any, screenshots: Any) -> None:
    page = pages.logged_in(server)
    page.goto(server.url + "/panel/settings")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "system")
    light_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.locator(".sidebar label[title='Dark theme']").click()
    expect(html).to_have_attribute("data-theme", "dark")
    dark_bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert dark_bg != light_bg
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == dark_bg
    expect(page.locator(".sidebar input[value=dark]")).to_be_checked()
    assert page.evaluate("localStorage.getItem('freeway-theme')") == "dark"
    theme_cookie = next(c for c in page.context.cookies() if c["name"] == "freeway_theme")
    assert theme_cookie["value"] == "dark"
    screenshots(page, "settings")

    # The settings card's switch works the same way, and "system" follows the OS.
    page.get_by_role("main").get_by_role("radio", name="Light").check()
    expect(html).to_have_attribute("data-theme", "light")
    page.reload()
    expect(html).to_have_attribute("data-theme", "light")
    page.get_by_role("main").get_by_role("radio", name="System").check()
    page.emulate_media(color_scheme="dark")
    page.reload()
    expect(html).to_have_attribute("data-theme", "system")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == dark_bg
    assert page.errors == []


def test_logout_then_a_protected_page_redirects_to_login(pages: Any, server: Any) -> None:
    page = pages.logged_in(server)
    page.goto(server.url + "/panel/analytics")
    token = next(c for c in page.context.cookies() if c["name"] == "freeway_token")["value"]
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Log out").click()
    expect(page).to_have_url(server.url + "/panel/login")
    expect(page.get_by_role("status")).to_have_text("You are logged out.")
    assert not [c for c in page.context.cookies() if c["name"] == "freeway_token"]
    page.goto(server.url + "/panel/projects")
    expect(page).to_have_url(re.compile(r"/panel/login\?next=%2Fpanel%2Fprojects$"))
    # The token is revoked server-side, not just forgotten by the browser.
    with server.api(Authorization=f"Bearer {token}") as client:
        assert client.get("/auth/me").status_code == 401


def test_post_without_csrf_token_is_refused(server: Any) -> None:
    token = server.session_cookie("admin", PASSWORD)
    cookies = {"freeway_token": token}
    form = {"name": unique("forged"), "metadata": "{}", "is_active": "true"}
    with httpx.Client(base_url=server.url, cookies=cookies) as client:
        refused = client.post("/panel/projects", data=form)
        assert refused.status_code == 403
        assert "CSRF check failed" in refused.text
        # A token the browser's cookie does not hold is refused as well.
        client.cookies.set("freeway_csrf", "a" * 43, path="/panel")
        forged = client.post("/panel/projects", data={**form, "_csrf": "b" * 43})
        assert forged.status_code == 403
        deleted = client.post("/panel/logout")
        assert deleted.status_code == 403
    with server.admin_api() as admin:
        names = [p["name"] for p in admin.get("/admin/projects").json()["items"]]
    assert form["name"] not in names
    with server.api(Authorization=f"Bearer {token}") as client:
        assert client.get("/auth/me").status_code == 200  # the logout was refused too


def test_users_page_creates_a_viewer_who_sees_everything_read_only(
    pages: Any, server: Any, screenshots: Any
) -> None:
    admin = pages.logged_in(server)
    admin.goto(server.url + "/panel/users")
    username = unique("viewer")
    admin.get_by_label("Username").fill(username)
    admin.get_by_label("Initial password").fill(PASSWORD)
    admin.get_by_label("Role", exact=True).select_option("viewer")
    admin.get_by_role("button", name="Create user").click()
    expect(admin.get_by_role("status")).to_have_text(f"User “{username}” created (viewer).")
    row = admin.locator("#users-table tr", has_text=username)
    expect(row.get_by_label(f"Role of {username}")).to_have_value("viewer")
    screenshots(admin, "users")

    viewer = pages.logged_in(server, (username, PASSWORD))
    for path in ("/panel/", "/panel/projects", "/panel/models", "/panel/analytics"):
        viewer.goto(server.url + path)
        expect(viewer.locator(".readonly-note")).to_contain_text("read-only")
    viewer.goto(server.url + "/panel/projects")
    expect(viewer.get_by_role("link", name="New project")).to_have_count(0)
    expect(viewer.get_by_role("link", name=re.compile("^Rotate key"))).to_have_count(0)
    viewer.goto(server.url + "/panel/models?category=paid")
    expect(viewer.get_by_role("link", name=re.compile("^Select "))).to_have_count(0)
    expect(viewer.get_by_role("button", name="Refresh now")).to_have_count(0)
    # The server refuses a viewer's write even with a valid CSRF token.
    csrf = viewer.locator("input[name=_csrf]").first.input_value()
    status = viewer.evaluate(
        """async (csrf) => (await fetch('/panel/models/refresh', {method: 'POST',
            headers: {'X-CSRF-Token': csrf}})).status""",
        csrf,
    )
    assert status == 403

    # Promote them back through the role switch.
    row.get_by_label(f"Role of {username}").select_option("admin")
    row.get_by_role("button", name=f"Change role of {username}").click()
    expect(admin.get_by_role("status")).to_have_text(f"“{username}” is now admin, active.")
    viewer.goto(server.url + "/panel/projects")
    expect(viewer.get_by_role("link", name="New project")).to_be_visible()


def test_keyboard_alone_reaches_content_and_confirmation_dialogs(pages: Any, server: Any) -> None:
    page = pages.logged_in(server)
    name = unique("keyboard")
    create_project(page, server, name)
    page.goto(server.url + "/panel/projects")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
    rotate = page.get_by_role("link", name=f"Rotate key of {name}")
    rotate.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=f"Rotate the key of “{name}”?")
    expect(dialog).to_be_visible()
    focused_inside = page.evaluate("document.activeElement.closest('dialog') !== null")
    assert focused_inside
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Visible focus ring on keyboard focus.
    page.keyboard.press("Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_mobile_layout_has_a_menu_button_for_the_navigation(
    pages: Any, server: Any, screenshots: Any
) -> None:
    page = pages.logged_in(server, width=390, height=844)
    page.goto(server.url + "/panel/")
    nav = page.locator("#sidebar")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()  # closed: off screen and out of the tab order
    screenshots(page, "mobile-dashboard", full_page=False)
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Projects")).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    menu.click()
    screenshots(page, "mobile-navigation", full_page=False)
    nav.get_by_role("link", name="Projects").click()
    expect(page).to_have_url(server.url + "/panel/projects")


def test_every_page_renders_without_script_errors(
    pages: Any, server: Any, traffic: dict[str, Any], screenshots: Any
) -> None:
    page = pages.logged_in(server)
    for path, shot in (
        ("/panel/", "dashboard"),
        ("/panel/models?category=paid", None),
        ("/panel/projects", None),
        ("/panel/analytics", None),
        ("/panel/settings", None),
        ("/panel/users", None),
    ):
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, path
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        if shot:
            expect(page.locator("#stat-requests-today .stat-value")).not_to_have_text("0")
            screenshots(page, shot)
    assert page.errors == [], page.errors
