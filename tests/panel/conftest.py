"""Fixtures for the panel's browser tests.

The real app (every installed plugin plus a ``fakes`` plugin contributing
``FakeProvider``s with known models) is served by uvicorn on an ephemeral port in a
background thread, with a temporary SQLite data dir.  Playwright drives Debian's
Chromium (``shutil.which("chromium")``; Playwright's own browser download is not
used).  One browser per test module; one server per session for the tests that can
share it, and a fresh one for the first-run test.

Screenshots go to a temporary directory, or to ``docs/screenshots/`` when
``FREEWAY_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from freeway.hookspecs import hookimpl
from freeway.providers.types import Model, make_model
from freeway.settings import load_settings
from freeway.testing import FakeProvider

ROOT = Path(__file__).resolve().parents[2]
ADMIN_KEY = "fwa_panel_test_admin_key_0123456789abcdefghij"
JWT_SECRET = "panel-test-jwt-secret-0123456789abcdefghijklmnop"
ADMIN = ("admin", "correct-horse-battery-staple")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REQUIRE = os.environ.get("FREEWAY_TEST_REQUIRE_SERVICES") == "1"


def catalogue_models() -> dict[str, list[Model]]:
    """The known models of the two fake providers, by provider."""
    return {
        "fakeai": [
            make_model(
                "fakeai",
                "gemma-big:free",
                name="Gemma Big (free)",
                context_length=131072,
                prompt_price=0.0,
                completion_price=0.0,
                is_free=True,
            ),
            make_model(
                "fakeai",
                "llama-small:free",
                name="Llama Small (free)",
                context_length=32768,
                prompt_price=0.0,
                completion_price=0.0,
                is_free=True,
            ),
            make_model(
                "fakeai",
                "gpt-mini",
                name="GPT Mini",
                context_length=128000,
                prompt_price=0.15,
                completion_price=0.6,
                supports_tools=True,
            ),
            make_model(
                "fakeai",
                "claude-fast",
                name="Claude Fast",
                context_length=200000,
                prompt_price=0.8,
                completion_price=4.0,
                supports_tools=True,
            ),
            make_model(
                "fakeai",
                "pixel-draw",
                name="Pixel Draw",
                image_price=0.04,
                input_modalities=["text"],
                output_modalities=["image"],
            ),
        ],
        "fakecloud": [
            make_model(
                "fakecloud",
                "qwen-tiny:free",
                name="Qwen Tiny (free)",
                context_length=8192,
                prompt_price=0.0,
                completion_price=0.0,
                is_free=True,
            ),
            make_model(
                "fakecloud",
                "mixtral-medium",
                name="Mixtral Medium",
                context_length=32768,
                prompt_price=2.0,
                completion_price=6.0,
            ),
            make_model(
                "fakecloud",
                "canvas-xl",
                name="Canvas XL",
                image_price=0.08,
                output_modalities=["image"],
            ),
        ],
    }


class FastRanker:
    """A plugin category: small-context text models, smallest first."""

    category = "fast"

    def rank(self, models: list[Model]) -> list[Model]:
        small = [
            m
            for m in models
            if "image" not in m.output_modalities and (m.context_length or 0) <= 32768
        ]
        return sorted(small, key=lambda m: (m.context_length or 0, m.id))


class FakesPlugin:
    """Contributes the fake providers (and a ``fast`` ranker), like a plugin would."""

    @hookimpl
    def freeway_rankers(self) -> list[Any]:
        return [FastRanker()]

    @hookimpl
    def freeway_providers(self, settings: Any) -> list[Any]:
        return [
            FakeProvider(name, models=models, reply="Hello from the panel test.")
            for name, models in catalogue_models().items()
        ]


@dataclass
class PanelServer:
    """A running app: its base URL, gateway, and a way to run coroutines on its loop."""

    url: str
    app: Any
    loop: asyncio.AbstractEventLoop
    server: Any
    thread: threading.Thread
    data_dir: Path
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def gw(self) -> Any:
        return self.app.state.gateway

    def run(self, coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
        """Run ``coro`` on the server's event loop (services are bound to it)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def api(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def admin_api(self) -> httpx.Client:
        return self.api(**{"X-Api-Key": ADMIN_KEY})

    def ensure_user(self, username: str, password: str, role: str = "admin") -> None:
        users = self.gw.auth.users

        async def create() -> None:
            if await users.count() == 0:
                await users.register({"username": username, "password": password}, None)
                return
            page = await users.list(1, 200)
            if any(u.username == username for u in page.items):
                return
            await users.register(
                {"username": username, "password": password, "role": role},
                None,
                force_admin=role == "admin",
            )

        self.run(create())

    def session_cookie(self, username: str, password: str) -> str:
        """A fresh JWT for the user (as the login form would set it)."""

        async def login() -> str:
            _, issued = await self.gw.auth.users.login(username, password, "127.0.0.1")
            return issued.token

        return self.run(login())  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


def start_server(tmp: Path) -> PanelServer:
    import uvicorn

    from freeway.app import create_app

    settings = load_settings(
        {
            "FREEWAY_DATA_DIR": str(tmp / "data"),
            "ADMIN_API_KEY": ADMIN_KEY,
            "JWT_SECRET": JWT_SECRET,
            "FREEWAY_HTTP_TRANSPORT": "httpx",
            "FREEWAY_USAGE_FLUSH_INTERVAL": "0.1",
            "LOG_LEVEL": "warning",
        },
        env_file=None,
        persist_dev_secrets=False,
    )
    app = create_app(settings, extra_plugins=[("fakes", FakesPlugin())])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.serve(sockets=[sock]))

    thread = threading.Thread(target=serve, name="panel-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    running = PanelServer(
        url=f"http://127.0.0.1:{port}",
        app=app,
        loop=loop,
        server=server,
        thread=thread,
        data_dir=tmp / "data",
    )
    wait_for_catalogue(running)
    return running


def wait_for_catalogue(server: PanelServer) -> None:
    """The refresh-models job runs at startup; wait until the fake models are in."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        catalogue = server.gw.catalogue
        if catalogue is not None and len(catalogue.all()) >= 8:
            return
        time.sleep(0.05)
    raise RuntimeError("the catalogue never listed the fake models")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelServer]:
    """The shared app, with the admin user created."""
    running = start_server(tmp_path_factory.mktemp("panel"))
    running.ensure_user(*ADMIN)
    yield running
    running.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[PanelServer]:
    """An app with an empty database (no users yet)."""
    running = start_server(tmp_path)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "Debian's chromium is not installed (apt-get install chromium)"
        if REQUIRE:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """One Chromium per test module.  Not per session: while Playwright's sync API is
    active the main thread has a running event loop, which async tests elsewhere in the
    same session cannot share."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class PageErrors(list[str]):
    """Console errors and uncaught exceptions of a page (CSP violations included)."""


def new_page(browser: Any, *, width: int = 1280, height: int = 860, **options: Any) -> Any:
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme="light",
        reduced_motion="reduce",
        accept_downloads=True,
        **options,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors = PageErrors()

    def on_console(message: Any) -> None:
        # A form answered with 4xx (a validation message) is expected, not a defect.
        if message.type == "error" and not message.text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        ):
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def login_page(browser: Any, server: PanelServer, user: tuple[str, str] = ADMIN, **kw: Any) -> Any:
    """A page whose browser holds a session for ``user`` (cookie set directly)."""
    page = new_page(browser, **kw)
    token = server.session_cookie(*user)
    page.context.add_cookies(
        [
            {
                "name": "freeway_token",
                "value": token,
                "url": server.url + "/",
                "httpOnly": True,
                "sameSite": "Strict",
            }
        ]
    )
    return page


@pytest.fixture
def admin_page(browser: Any, server: PanelServer) -> Iterator[Any]:
    page = login_page(browser, server)
    yield page
    page.context.close()


@pytest.fixture
def anon_page(browser: Any) -> Iterator[Any]:
    page = new_page(browser)
    yield page
    page.context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``shoot(page, name)`` saves ``<name>-light.png`` and ``<name>-dark.png``."""
    if os.environ.get("FREEWAY_UPDATE_SCREENSHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
    else:
        target = tmp_path_factory.mktemp("screenshots")
    target.mkdir(parents=True, exist_ok=True)

    def shoot(
        page: Any, name: str, *, full_page: bool = True, themes: tuple[str, ...] = ("light", "dark")
    ) -> list[Path]:
        saved = []
        original = page.evaluate("document.documentElement.getAttribute('data-theme')")
        for theme in themes:
            page.evaluate("t => document.documentElement.setAttribute('data-theme', t)", theme)
            path = target / f"{name}-{theme}.png"
            page.screenshot(path=str(path), full_page=full_page, animations="disabled")
            assert path.stat().st_size > 5_000, f"{path.name} looks empty"
            saved.append(path)
        page.evaluate("t => document.documentElement.setAttribute('data-theme', t)", original)
        return saved

    shoot.directory = target
    return shoot


@pytest.fixture(scope="session")
def traffic(server: PanelServer) -> dict[str, Any]:
    """Usage for the analytics tests: live requests through the gateway today, and
    older records written by the database usage sink ten days ago."""
    from freeway.projects.service import ProjectService
    from freeway.usage.records import UsageRecord
    from freeway.usage.sinks import DatabaseSink

    gw = server.gw

    async def create_project() -> Any:
        return await ProjectService(gw.db, gw.project_cache).create(
            {"name": f"traffic-{uuid.uuid4().hex[:6]}", "metadata": {"team": "analytics"}}
        )

    project = server.run(create_project())
    with server.api(Authorization=f"Bearer {project.api_key}") as client:
        for model in ("fakeai/gpt-mini",) * 4 + ("free",) * 2:
            response = client.post(
                "/v1/chat/completions",
                json={"model": model, "messages": [{"role": "user", "content": "hi"}]},
            )
            assert response.status_code == 200, response.text
    old_day = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    old = [
        UsageRecord(
            request_id=f"old-{i}",
            project_id=project.id,
            created_at=old_day.replace(hour=9, minute=i),
            requested_model="paid",
            model="fakecloud/mixtral-medium",
            provider="fakecloud",
            prompt_tokens=100,
            completion_tokens=50,
            total_tokens=150,
            cost_usd=0.0005,
            latency_ms=420.0 + i,
            status="error" if i == 2 else "ok",
            error_code="upstream_error" if i == 2 else None,
        )
        for i in range(3)
    ]

    async def write_old() -> None:
        sink = DatabaseSink()
        sink.bind(gw.db)
        await sink.write(old)

    server.run(write_old())
    # Live records reach the database through the usage queue; wait for them.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with server.admin_api() as admin:
            logs = admin.get(
                "/admin/analytics/logs", params={"project_id": project.id, "page_size": 50}
            ).json()
        if logs["total"] >= 9:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"usage never reached the database: {logs}")
    return {"project": project, "old_day": old_day.date(), "today": dt.datetime.now(dt.UTC).date()}


class Pages:
    """Opens browser pages for a test and closes them afterwards."""

    def __init__(self, browser: Any) -> None:
        self.browser = browser
        self.opened: list[Any] = []

    def new(self, **options: Any) -> Any:
        page = new_page(self.browser, **options)
        self.opened.append(page)
        return page

    def logged_in(self, server: PanelServer, user: tuple[str, str] = ADMIN, **options: Any) -> Any:
        page = login_page(self.browser, server, user, **options)
        self.opened.append(page)
        return page

    def close(self) -> None:
        for page in self.opened:
            page.context.close()


@pytest.fixture
def pages(browser: Any) -> Iterator[Pages]:
    opened = Pages(browser)
    yield opened
    opened.close()
