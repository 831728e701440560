"""Jobs on SAQ (Redis): the ``freeway worker`` process and enqueueing from the API.

Every :class:`~freeway.jobs.registry.Job` becomes a SAQ function named after the job
and a unique cron job (key ``cron:<name>``): however many workers run, SAQ enqueues
one job per scheduled time and moves it to the queue under a Redis lock, so each
schedule runs once.  SAQ's default 10 s timeout is replaced by the job's own timeout
(plus a margin, so :func:`run_job` records the timeout itself), failed runs are
retried ``job.retries`` times with exponential backoff, and ``run_at_startup`` jobs
are enqueued once when a set of workers starts (a Redis ``SET NX`` guard).

On SIGTERM/SIGINT the worker stops taking jobs, lets running ones finish for up to
``grace`` seconds, then cancels what is left (SAQ re-queues it).  Embedded (tests,
another event loop), signal handling is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from saq import CronJob, Queue, Worker

from freeway.jobs.registry import Job, run_job

if TYPE_CHECKING:
    from freeway.settings import Settings
    from freeway.state import Gateway

log = logging.getLogger(__name__)

QUEUE_NAME = "freeway"
TIMEOUT_MARGIN = 5
RETRY_DELAY = 30.0
STARTUP_GUARD_SECONDS = 120
STARTUP_KEY = "freeway:jobs:startup:"


def make_queue(redis_url: str) -> Queue:
    """The Freeway job queue on ``redis_url``."""
    return Queue.from_url(redis_url, name=QUEUE_NAME)


@dataclasses.dataclass
class FreewayCronJob(CronJob):  # type: ignore[type-arg]
    """A SAQ cron job that also carries retry delay and backoff to the enqueued job."""

    retry_delay: float | None = None
    retry_backoff: bool | float | None = None


def job_options(job: Job) -> dict[str, Any]:
    """SAQ job settings for ``job``: timeout, attempts, retry backoff."""
    return {
        "timeout": int(job.timeout) + TIMEOUT_MARGIN,
        "retries": job.retries + 1,  # SAQ counts attempts, we count retries
        "retry_delay": RETRY_DELAY,
        "retry_backoff": True,
    }


def saq_function(gw: Gateway, job: Job) -> Callable[..., Any]:
    """The SAQ function running ``job`` through :func:`run_job` (recorded in job_runs)."""

    async def run(ctx: dict[str, Any], **_: Any) -> dict[str, Any]:
        saq_job = ctx.get("job")
        attempt = getattr(saq_job, "attempts", 1) or 1
        scheduled = getattr(saq_job, "scheduled", 0) or 0
        record = await run_job(
            gw,
            job.name,
            attempt=attempt,
            scheduled_at=dt.datetime.fromtimestamp(scheduled, dt.UTC) if scheduled else None,
            raise_errors=True,
        )
        return {"outcome": record.outcome, "message": record.message}

    # SAQ names functions (and cron keys) by __qualname__.
    run.__name__ = run.__qualname__ = job.name
    return run


class FreewayWorker(Worker):  # type: ignore[type-arg]
    """SAQ's worker with a graceful stop: running jobs get ``grace`` seconds."""

    def __init__(self, *args: Any, grace: float = 60.0, **kwargs: Any) -> None:
        super().__init__(*args, shutdown_grace_period_s=0, **kwargs)
        self.grace = grace

    async def stop(self) -> None:
        self.event.set()  # no new jobs are dequeued from here on
        processing = [t for t in self.tasks if t.get_name() == "process" and not t.done()]
        if processing:
            _, pending = await asyncio.wait(processing, timeout=self.grace)
            if pending:
                log.warning(
                    "%d job(s) still running after %gs; cancelling", len(pending), self.grace
                )
        for task in list(self.tasks):
            if task.get_name() != "process":
                task.cancel()  # upkeep loops sleep for up to a minute; do not wait for them
        for task in list(self.tasks):
            if task.get_name() != "process":
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
                self.tasks.discard(task)
        await super().stop()


def build_worker(
    gw: Gateway,
    queue: Queue,
    jobs: dict[str, Job],
    *,
    concurrency: int = 4,
    grace: float = 60.0,
    handle_signals: bool = False,
) -> FreewayWorker:
    """A worker running ``jobs`` (functions and cron) on ``queue``."""
    functions = {name: saq_function(gw, job) for name, job in jobs.items()}
    cron_jobs = [
        FreewayCronJob(function=functions[name], cron=job.cron, unique=True, **job_options(job))
        for name, job in jobs.items()
    ]
    worker = FreewayWorker(
        queue,
        functions=list(functions.values()),
        cron_jobs=cron_jobs,
        concurrency=concurrency,
        dequeue_timeout=1.0,  # idle dequeues return, so a stop is quick
        grace=grace,
    )
    if not handle_signals:
        worker.SIGNALS = []  # embedded: the host owns the signals
    return worker


async def enqueue(queue: Queue, job: Job, *, key: str | None = None) -> str | None:
    """Put one run of ``job`` on the queue now; returns the SAQ job key (None if a run
    with the same ``key`` is already waiting)."""
    options = job_options(job)
    if key is not None:
        options["key"] = key
    queued = await queue.enqueue(job.name, **options)
    return queued.key if queued is not None else None


async def enqueue_startup_runs(gw: Gateway, queue: Queue, jobs: dict[str, Job]) -> list[str]:
    """Enqueue the ``run_at_startup`` jobs, once per group of workers starting together."""
    started: list[str] = []
    for job in jobs.values():
        if not job.run_at_startup:
            continue
        first = await gw.redis.set(STARTUP_KEY + job.name, "1", nx=True, ex=STARTUP_GUARD_SECONDS)
        if first and await enqueue(queue, job):
            started.append(job.name)
    return started


async def run_worker(
    settings: Settings,
    *,
    handle_signals: bool = True,
    stop: asyncio.Event | None = None,
    concurrency: int = 4,
    grace: float = 60.0,
    extra_plugins: list[tuple[str, Any]] | None = None,
) -> None:
    """Run the worker until a signal (or ``stop``) arrives, then shut down gracefully."""
    from freeway.jobs.runtime import standalone_gateway

    if not settings.redis_url:
        from freeway.errors import ConfigError

        raise ConfigError(
            "REDIS_URL: the worker needs Redis; without it `freeway serve` runs the jobs itself"
        )
    async with standalone_gateway(settings, role="worker", extra_plugins=extra_plugins) as gw:
        queue = make_queue(settings.redis_url)
        await queue.connect()
        worker = build_worker(
            gw,
            queue,
            gw.jobs.registry,
            concurrency=concurrency,
            grace=grace,
            handle_signals=False,
        )
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
        try:
            queued = await enqueue_startup_runs(gw, queue, gw.jobs.registry)
            if queued:
                log.info("worker: startup runs queued: %s", ", ".join(queued))
            runner = asyncio.create_task(worker.start(), name="saq-worker")
            stopper = asyncio.create_task(stop.wait())
            await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
            log.info("worker: stopping (running jobs get %gs to finish)", grace)
            await worker.stop()
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
        finally:
            if handle_signals:
                for signum in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(signum)
            await queue.disconnect()
