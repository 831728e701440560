"""The ``freeway`` command.

Each area adds its command group in :func:`_register_groups` (users, projects, jobs…).
Errors in configuration or plugins print one line and exit 2, never a traceback.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
import msgspec

from freeway import __version__
from freeway.errors import FreewayError
from freeway.settings import Settings, load_settings, masked

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(fn: F) -> F:
    """Turn Freeway errors into one line on stderr and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except FreewayError as exc:
            click.echo(f"freeway: {exc.message}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def get_settings() -> Settings:
    return load_settings()


@click.group()
@click.version_option(__version__, prog_name="freeway")
def main() -> None:
    """Freeway: a self-hosted, plugin-based, OpenAI-compatible AI gateway."""


@main.command()
def version() -> None:
    """Print the version."""
    click.echo(f"freeway {__version__}")


@main.command()
@click.option("--host", default=None, help="Bind address (default: HOST or 0.0.0.0).")
@click.option("--port", type=int, default=None, help="Port (default: PORT or 8080).")
@click.option("--workers", type=int, default=None, help="Worker processes (FREEWAY_WORKERS).")
@click.option("--reload", is_flag=True, help="Reload on code changes (development).")
@friendly_errors
def serve(host: str | None, port: int | None, workers: int | None, reload: bool) -> None:
    """Start the gateway (uvicorn with uvloop and httptools)."""
    import uvicorn

    from freeway.app import SKIP_MIGRATE_ENV, preflight
    from freeway.db import create_database, upgrade

    settings = get_settings()
    preflight(settings)  # fail fast with one line, before any worker process starts

    async def migrate() -> None:
        db = create_database(settings)
        try:
            await upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(migrate())
    os.environ[SKIP_MIGRATE_ENV] = "1"
    uvicorn.run(
        "freeway.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        reload=reload,
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level.lower(),
        access_log=False,
        proxy_headers=True,
    )


@main.group()
def db() -> None:
    """Database commands."""


@db.command("upgrade")
@friendly_errors
def db_upgrade() -> None:
    """Apply all migrations."""
    from freeway.db import create_database, upgrade
    from freeway.db.migrate import current_revision

    settings = get_settings()

    async def run() -> str | None:
        database = create_database(settings)
        try:
            await upgrade(database)
            return await current_revision(database)
        finally:
            await database.dispose()

    click.echo(f"database at revision {asyncio.run(run())}")


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly_errors
def plugins_cmd(as_json: bool) -> None:
    """List installed plugins: version, hooks, enabled or not and why."""
    from freeway.plugins import describe_plugins

    infos = describe_plugins(get_settings())
    if as_json:
        click.echo(msgspec.json.encode([info.__dict__ for info in infos]).decode())
        return
    rows = [("NAME", "VERSION", "STATE", "HOOKS", "NOTE")]
    for info in infos:
        hooks = ",".join(h.removeprefix("freeway_") for h in info.hooks)
        rows.append(
            (info.name, info.version, "enabled" if info.enabled else "disabled", hooks, info.reason)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        click.echo(
            "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        )


@main.command("config")
@friendly_errors
def config_cmd() -> None:
    """Print the effective settings, secrets masked."""
    click.echo(msgspec.json.format(msgspec.json.encode(masked(get_settings()))).decode())


def _register_groups() -> None:
    """Command groups of the areas (kept here so ``freeway --help`` lists them all)."""
    from freeway.auth.cli import users
    from freeway.projects.cli import projects

    main.add_command(users)
    main.add_command(projects)
    from freeway.jobs.cli import jobs, worker

    main.add_command(jobs)
    main.add_command(worker)
    from freeway.scaffold import plugin

    main.add_command(plugin)


_register_groups()

if __name__ == "__main__":  # pragma: no cover
    main()
