"""Plugin discovery, enable/disable, broken plugins, and the `freeway plugins` listing.

Throwaway plugins are installed for real: a package plus its ``.dist-info`` (with an
``entry_points.txt`` in group ``freeway``) written to a temp site directory that is put
on ``sys.path`` — exactly what an installer leaves behind.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from freeway.errors import ConfigError, PluginError
from freeway.plugins import call_list_hook, describe_plugins, get_plugin_manager

BUNDLED = {"openrouter", "openai", "gemini", "groq", "mistral", "cohere", "huggingface", "panel"}


def install_plugin(site: Path, dist: str, name: str, module: str, source: str) -> None:
    """Write an installed distribution ``dist`` whose entry point ``name`` is ``module``."""
    pkg = site / module
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[freeway]\n{name} = {module}\n")
    (info / "RECORD").write_text("")


GOOD_PLUGIN = """
    from freeway.hookspecs import hookimpl

    CALLS = []

    @hookimpl
    def freeway_routes():
        CALLS.append("routes")
        from litestar import get

        @get("/throwaway", sync_to_thread=False)
        def hello() -> dict:
            return {"from": "throwaway"}

        return [hello]
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    return site


def test_installed_throwaway_plugin_is_discovered_and_its_hook_called(site, make_settings):
    install_plugin(site, "freeway-throwaway", "throwaway", "freeway_throwaway", GOOD_PLUGIN)
    pm = get_plugin_manager(make_settings())
    assert pm.get_plugin("throwaway") is not None
    routes = call_list_hook(pm, "freeway_routes")
    assert any(getattr(r, "paths", None) == {"/throwaway"} for r in routes)
    assert sys.modules["freeway_throwaway"].CALLS == ["routes"]


async def test_throwaway_plugin_route_is_served(site, make_settings):
    from litestar.testing import AsyncTestClient

    from freeway.app import create_app

    install_plugin(site, "freeway-throwaway", "throwaway", "freeway_throwaway", GOOD_PLUGIN)
    async with AsyncTestClient(app=create_app(make_settings())) as client:
        response = await client.get("/throwaway")
    assert response.json() == {"from": "throwaway"}


def test_plugin_with_import_error_fails_startup_naming_it(site, make_settings):
    install_plugin(site, "freeway-broken", "broken", "freeway_broken", "import does_not_exist\n")
    with pytest.raises(PluginError) as info:
        get_plugin_manager(make_settings())
    assert "plugin 'broken'" in info.value.message
    assert "does_not_exist" in info.value.message


def test_misspelt_hook_fails_startup_naming_the_plugin(site, make_settings):
    install_plugin(
        site,
        "freeway-typo",
        "typo",
        "freeway_typo",
        """
        from freeway.hookspecs import hookimpl

        @hookimpl
        def freeway_provders(settings):
            return []
        """,
    )
    with pytest.raises(PluginError, match="typo"):
        get_plugin_manager(make_settings())


def test_wrong_hook_signature_fails_startup_naming_the_plugin(site, make_settings):
    install_plugin(
        site,
        "freeway-badsig",
        "badsig",
        "freeway_badsig",
        """
        from freeway.hookspecs import hookimpl

        @hookimpl
        def freeway_routes(unexpected_argument):
            return []
        """,
    )
    with pytest.raises(PluginError, match="badsig"):
        get_plugin_manager(make_settings())


def test_broken_plugin_can_be_disabled(site, make_settings):
    install_plugin(site, "freeway-broken", "broken", "freeway_broken", "import does_not_exist\n")
    pm = get_plugin_manager(make_settings(FREEWAY_DISABLE_PLUGINS="broken"))
    assert pm.get_plugin("broken") is None


def test_allow_list_loads_only_named_plugins_and_core(make_settings):
    pm = get_plugin_manager(make_settings(FREEWAY_PLUGINS="groq"))
    names = {name for name, _ in pm.list_name_plugin()}
    assert names == {"core", "groq"}


def test_disable_list_drops_a_plugin(make_settings):
    pm = get_plugin_manager(make_settings(FREEWAY_DISABLE_PLUGINS="cohere,panel"))
    names = {name for name, _ in pm.list_name_plugin()}
    assert "cohere" not in names and "panel" not in names
    assert "groq" in names


def test_unknown_plugin_name_stops_startup(make_settings):
    with pytest.raises(ConfigError, match="FREEWAY_PLUGINS: unknown plugin 'nope'"):
        get_plugin_manager(make_settings(FREEWAY_PLUGINS="nope"))


def test_describe_lists_every_bundled_plugin_with_state(make_settings):
    infos = {info.name: info for info in describe_plugins(make_settings(FREEWAY_PLUGINS="groq"))}
    assert BUNDLED | {"core"} <= set(infos)
    assert infos["core"].enabled
    assert not infos["cohere"].enabled
    assert infos["cohere"].reason == "not in FREEWAY_PLUGINS"
    assert all(info.version == "0.1.0" for name, info in infos.items() if name in BUNDLED)


def test_cli_plugins_shows_broken_plugin_and_serve_fails_with_one_line(site, tmp_path):
    install_plugin(site, "freeway-broken", "broken", "freeway_broken", "import does_not_exist\n")
    env = {
        **os.environ,
        "PYTHONPATH": str(site),
        "FREEWAY_DATA_DIR": str(tmp_path / "data"),
        "ADMIN_API_KEY": "k" * 40,
        "JWT_SECRET": "j" * 40,
    }
    freeway = [sys.executable, "-m", "freeway"]
    listing = subprocess.run(
        [*freeway, "plugins", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert rows["broken"]["enabled"] is False
    assert "does_not_exist" in rows["broken"]["reason"]

    serve = subprocess.run(
        [*freeway, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60
    )
    assert serve.returncode == 2
    assert serve.stderr.strip().splitlines() == [
        line for line in serve.stderr.strip().splitlines() if line.startswith("freeway:")
    ]
    assert "plugin 'broken'" in serve.stderr
    assert "Traceback" not in serve.stderr


def test_cli_plugins_lists_providers_enabled_by_their_keys(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith(("_API_KEY", "_BASE_URL")) and key != "HF_TOKEN"
    }
    env.update(
        FREEWAY_DATA_DIR=str(tmp_path / "data"),
        ADMIN_API_KEY="k" * 40,
        JWT_SECRET="j" * 40,
        GROQ_API_KEY="gsk-test",
    )
    listing = subprocess.run(
        [sys.executable, "-m", "freeway", "plugins", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    assert BUNDLED <= set(rows)
    for name in BUNDLED - {"panel"}:
        assert "freeway_providers" in rows[name]["hooks"], name
    assert rows["groq"]["enabled"] is True
    for name in BUNDLED - {"panel", "groq"}:
        assert rows[name]["enabled"] is False, name
        assert rows[name]["reason"] == f"no {name.upper()}_API_KEY", name
    assert "freeway_routes" in rows["panel"]["hooks"] and rows["panel"]["enabled"]
    assert "gsk-test" not in listing.stdout
