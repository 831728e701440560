"""Starting and stopping the catalogue and the jobs with the app (or a CLI/worker process).

``start_catalogue_and_jobs(gw)`` is called from ``app._startup``: it builds
``gw.catalogue`` from the database (so the gateway serves at once, before any
provider answered), collects the jobs into ``gw.jobs`` and, in a serving process,
starts keeping the catalogue in step with other processes and — without Redis — the
embedded scheduler, whose startup runs happen in the background.  With Redis the
``freeway worker`` process owns the schedule.

``gw.extras["role"]`` says what kind of process this is: ``serve`` (default),
``worker`` or ``cli``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from freeway.catalogue.catalogue import Catalogue
from freeway.catalogue.rankers import collect_rankers
from freeway.catalogue.sync import CatalogueSync, reload_catalogue
from freeway.jobs.registry import Job, collect_jobs, get_job, run_job
from freeway.jobs.scheduler import LOCK_FILE, EmbeddedScheduler

if TYPE_CHECKING:
    from saq import Queue

    from freeway.settings import Settings
    from freeway.state import Gateway

ROLE_KEY = "role"


class JobService:
    """``gw.jobs``: the job registry and how jobs run in this deployment."""

    def __init__(self, gw: Gateway, registry: dict[str, Job]) -> None:
        self.gw = gw
        self.registry = registry
        self.queue: Queue | None = None
        self.scheduler: EmbeddedScheduler | None = None

    @property
    def mode(self) -> str:
        """``saq`` (Redis queue, ``freeway worker`` runs jobs) or ``embedded``."""
        return "saq" if self.gw.settings.redis_url else "embedded"

    async def trigger(self, name: str) -> dict[str, Any]:
        """Run a job on demand: enqueue it on SAQ, or run it here without Redis."""
        job = get_job(self.gw, name)
        if self.queue is not None:
            from freeway.jobs.saq_worker import enqueue

            key = await enqueue(self.queue, job)
            return {"name": name, "status": "queued", "job_key": key}
        record = await run_job(self.gw, name)
        return {"name": name, "status": "finished", "run": record}


def _provider_order(gw: Gateway) -> list[str]:
    priority = list(gw.settings.provider_priority)
    return priority + [name for name in gw.providers if name not in priority]


async def start_catalogue_and_jobs(gw: Gateway) -> None:
    """Build ``gw.catalogue`` and ``gw.jobs``; start sync and scheduler when serving."""
    gw.catalogue = Catalogue(collect_rankers(gw.pm, gw.settings), _provider_order(gw))
    await reload_catalogue(gw)
    service = JobService(gw, collect_jobs(gw.pm))
    gw.jobs = service
    role = gw.extras.get(ROLE_KEY, "serve")
    if gw.settings.redis_url and role != "worker":
        from freeway.jobs.saq_worker import make_queue

        service.queue = make_queue(gw.settings.redis_url)
        await service.queue.connect()
    if role != "serve":
        return
    sync = CatalogueSync(gw)
    gw.extras["catalogue_sync"] = sync
    await sync.start()
    if not gw.settings.redis_url:
        service.scheduler = EmbeddedScheduler(
            gw, service.registry, gw.settings.data_dir / LOCK_FILE
        )
        await service.scheduler.start()


async def stop_catalogue_and_jobs(gw: Gateway) -> None:
    """Stop the scheduler and the sync tasks; close the queue connection."""
    service: JobService | None = gw.jobs
    if service is not None and service.scheduler is not None:
        await service.scheduler.stop()
    sync = gw.extras.pop("catalogue_sync", None)
    if sync is not None:
        await sync.stop()
    if service is not None and service.queue is not None:
        await service.queue.disconnect()
        service.queue = None


@asynccontextmanager
async def standalone_gateway(
    settings: Settings, *, role: str, extra_plugins: list[tuple[str, Any]] | None = None
) -> AsyncIterator[Gateway]:
    """A started :class:`Gateway` outside the web app (the worker, the CLI)."""
    from freeway.app import _shutdown, _startup
    from freeway.db import create_database
    from freeway.plugins import get_plugin_manager
    from freeway.state import Gateway

    pm = get_plugin_manager(settings, extra_plugins=extra_plugins)
    gw = Gateway(settings=settings, pm=pm, db=create_database(settings))
    gw.extras[ROLE_KEY] = role
    await _startup(gw)
    try:
        yield gw
    finally:
        await _shutdown(gw)
