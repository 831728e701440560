"""``freeway projects list|create|rotate-key|deactivate`` against a real database."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from litestar import get
from litestar.testing import TestClient

from freeway.app import create_app
from freeway.auth.guards import require_project
from freeway.cli import main
from freeway.hookspecs import hookimpl


@get("/test/project-only", guards=[require_project], sync_to_thread=False)
def project_only() -> dict[str, str]:
    return {"ok": "yes"}


class ProjectRoutePlugin:
    @hookimpl
    def freeway_routes(self) -> list[Any]:
        return [project_only]


@pytest.fixture
def cli(make_settings, database_url, tmp_path, monkeypatch):
    """Run ``freeway …`` with the test settings in the environment (no .env file)."""
    monkeypatch.chdir(tmp_path)
    env = {
        "FREEWAY_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": database_url,
        "ADMIN_API_KEY": make_settings().admin_api_key,
        "JWT_SECRET": make_settings().jwt_secret,
        "FREEWAY_PLUGINS": "core",
        "FREEWAY_HTTP_TRANSPORT": "httpx",
    }

    def run(*args: str, extra: dict[str, str] | None = None, input: str | None = None) -> Any:
        runner = CliRunner()
        return runner.invoke(main, list(args), env={**env, **(extra or {})}, input=input)

    run.settings = make_settings(DATABASE_URL=database_url, FREEWAY_PLUGINS="core")  # type: ignore[attr-defined]
    return run


def printed_key(output: str) -> str:
    line = next(line for line in output.splitlines() if line.startswith("api_key:"))
    return line.split(":", 1)[1].strip()


def test_create_prints_the_key_once_and_it_works(cli):
    result = cli(
        "projects", "create", "cli-project", "--rate-limit", "30", "--metadata", '{"team": "ops"}'
    )
    assert result.exit_code == 0, result.output
    key = printed_key(result.output)
    assert key.startswith("fw_")
    assert "shown once" in result.output

    listing = cli("projects", "list")
    assert listing.exit_code == 0
    assert "cli-project" in listing.output and key[:8] in listing.output
    assert key not in listing.output
    as_json = msgspec.json.decode(cli("projects", "list", "--json").output)
    assert as_json[0]["name"] == "cli-project" and as_json[0]["rate_limit_per_minute"] == 30
    assert as_json[0]["metadata"] == {"team": "ops"} and "api_key" not in as_json[0]

    app = create_app(cli.settings, extra_plugins=[("t", ProjectRoutePlugin())])
    with TestClient(app=app) as client:
        assert client.get("/test/project-only", headers={"X-Api-Key": key}).status_code == 200


def test_rotate_and_deactivate_by_name_or_id(cli):
    key = printed_key(cli("projects", "create", "p1").output)
    rotated = cli("projects", "rotate-key", "p1")
    assert rotated.exit_code == 0, rotated.output
    new_key = printed_key(rotated.output)
    assert new_key != key
    project_id = msgspec.json.decode(cli("projects", "list", "--json").output)[0]["id"]

    app = create_app(cli.settings, extra_plugins=[("t", ProjectRoutePlugin())])
    with TestClient(app=app) as client:
        assert client.get("/test/project-only", headers={"X-Api-Key": key}).status_code == 401
        assert client.get("/test/project-only", headers={"X-Api-Key": new_key}).status_code == 200

    off = cli("projects", "deactivate", project_id)
    assert off.exit_code == 0 and "deactivated p1" in off.output
    assert cli("projects", "list", "--inactive", "--json").output.count('"p1"') == 1
    assert msgspec.json.decode(cli("projects", "list", "--active", "--json").output) == []
    with TestClient(
        app=create_app(cli.settings, extra_plugins=[("t", ProjectRoutePlugin())])
    ) as client:
        assert client.get("/test/project-only", headers={"X-Api-Key": new_key}).status_code == 403


def test_cli_errors_are_one_line_and_exit_2(cli):
    for args in (
        ("projects", "rotate-key", "nope"),
        ("projects", "deactivate", "nope"),
        ("projects", "create", "x", "--metadata", "{bad"),
        ("projects", "create", "x", "--rate-limit", "0"),
        ("projects", "create", "x" * 201),
    ):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("freeway: ") and "Traceback" not in result.output
    cli("projects", "create", "dup")
    duplicate = cli("projects", "create", "dup")
    assert duplicate.exit_code == 2 and "exists" in duplicate.output
    assert len(msgspec.json.decode(cli("projects", "list", "--json").output)) == 1


def test_rotation_from_the_cli_reaches_a_running_server_through_redis(cli, redis_url):
    # A long periodic refresh: the server can only learn of the rotation through Redis.
    settings = msgspec.structs.replace(
        cli.settings, redis_url=redis_url, project_cache_refresh=3600.0
    )
    key = printed_key(cli("projects", "create", "live").output)
    app = create_app(settings, extra_plugins=[("t", ProjectRoutePlugin())])
    with TestClient(app=app) as client:
        assert client.get("/test/project-only", headers={"X-Api-Key": key}).status_code == 200
        rotated = cli("projects", "rotate-key", "live", extra={"REDIS_URL": redis_url})
        assert rotated.exit_code == 0 and "running servers updated" in rotated.output
        assert client.get("/test/project-only", headers={"X-Api-Key": key}).status_code == 401
        new_key = printed_key(rotated.output)
        assert client.get("/test/project-only", headers={"X-Api-Key": new_key}).status_code == 200
