"""``freeway projects list|create|rotate-key|deactivate``.

The commands work on the database directly.  With ``REDIS_URL`` set, running servers
drop the old state at once (the same invalidation the API publishes); without it they
pick changes up at their next cache refresh (``FREEWAY_PROJECT_CACHE_REFRESH``).
A new key is printed once, like the API shows it once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import click
import msgspec

from freeway.cli import friendly_errors, get_settings
from freeway.projects.service import ProjectService, ProjectView

T = TypeVar("T")


class _Notifier:
    """Stands in for the cache: tells running servers about a change."""

    def __init__(self, redis: Any) -> None:
        self.redis = redis
        self.confirmed: bool | None = None

    async def invalidate(self, project_id: str) -> None:
        from freeway.projects.cache import publish_invalidation

        if self.redis is not None:
            self.confirmed = await publish_invalidation(self.redis, project_id)


@asynccontextmanager
async def _service() -> AsyncIterator[tuple[ProjectService, _Notifier]]:
    from freeway.db import create_database, upgrade

    settings = get_settings()
    db = create_database(settings)
    redis = None
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url)
    notifier = _Notifier(redis)
    try:
        await upgrade(db)
        yield ProjectService(db, notifier), notifier
    finally:
        if redis is not None:
            await redis.aclose()
        await db.dispose()


def _run(action: Callable[[ProjectService], Awaitable[T]]) -> tuple[T, bool | None]:
    async def go() -> tuple[T, bool | None]:
        async with _service() as (service, notifier):
            return await action(service), notifier.confirmed

    return asyncio.run(go())


def _propagation_note(confirmed: bool | None) -> str:
    if confirmed is None:
        return (
            "running servers pick this up within FREEWAY_PROJECT_CACHE_REFRESH seconds "
            "(set REDIS_URL for instant propagation)"
        )
    return "running servers updated" if confirmed else "some servers did not confirm in time"


def _print_key(project: ProjectView) -> None:
    click.echo(f"id:      {project.id}")
    click.echo(f"name:    {project.name}")
    click.echo(f"api_key: {project.api_key}")
    click.echo("This key is shown once; store it now.", err=True)


@click.group("projects")
def projects() -> None:
    """Client projects and their API keys."""


@projects.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--name", default=None, help="Only names containing this (case-insensitive).")
@click.option("--active/--inactive", "active", default=None, help="Only active / inactive.")
@friendly_errors
def list_projects(as_json: bool, name: str | None, active: bool | None) -> None:
    """Every project (never the keys; the 8-character prefix tells them apart)."""

    async def collect(service: ProjectService) -> list[ProjectView]:
        items: list[ProjectView] = []
        page = 1
        while True:
            batch = await service.list(page=page, page_size=200, is_active=active, name=name)
            items.extend(batch.items)
            if len(items) >= batch.total or not batch.items:
                return items
            page += 1

    items, _ = _run(collect)
    if as_json:
        click.echo(msgspec.json.encode(items).decode())
        return
    rows = [("ID", "NAME", "PREFIX", "RATE/MIN", "ACTIVE", "CREATED")]
    for p in items:
        rows.append(
            (
                p.id,
                p.name,
                p.api_key_prefix,
                str(p.rate_limit_per_minute or "unlimited"),
                "yes" if p.is_active else "no",
                p.created_at.strftime("%Y-%m-%d %H:%M"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


@projects.command("create")
@click.argument("name")
@click.option("--rate-limit", type=int, default=None, help="Requests per minute (default: none).")
@click.option("--metadata", default=None, help='A JSON object, e.g. \'{"team": "backend"}\'.')
@friendly_errors
def create_project(name: str, rate_limit: int | None, metadata: str | None) -> None:
    """Create project NAME and print its API key (once)."""
    from freeway.errors import ValidationFailed

    data: dict[str, Any] = {"name": name, "rate_limit_per_minute": rate_limit}
    if metadata is not None:
        try:
            data["metadata"] = msgspec.json.decode(metadata)
        except msgspec.DecodeError:
            raise ValidationFailed("--metadata is not valid JSON") from None
    project, confirmed = _run(lambda service: service.create(data))
    _print_key(project)
    click.echo(_propagation_note(confirmed), err=True)


@projects.command("rotate-key")
@click.argument("project")
@friendly_errors
def rotate_key(project: str) -> None:
    """Give PROJECT (id or name) a new key, print it once; the old key stops working."""

    async def rotate(service: ProjectService) -> ProjectView:
        return await service.rotate_key((await service.resolve(project)).id)

    rotated, confirmed = _run(rotate)
    _print_key(rotated)
    click.echo(_propagation_note(confirmed), err=True)


@projects.command("deactivate")
@click.argument("project")
@friendly_errors
def deactivate(project: str) -> None:
    """Deactivate PROJECT (id or name): its key gets 403 until reactivated."""

    async def off(service: ProjectService) -> ProjectView:
        return await service.update((await service.resolve(project)).id, {"is_active": False})

    updated, confirmed = _run(off)
    click.echo(f"deactivated {updated.name} ({updated.id})")
    click.echo(_propagation_note(confirmed), err=True)
