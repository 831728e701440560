"""Jobs: named async functions with a cron schedule, from every plugin's ``freeway_jobs``.

The same :class:`Job` runs three ways: on the SAQ worker (``REDIS_URL`` set), in the
embedded scheduler of ``freeway serve`` (no Redis), or on demand
(``freeway jobs run NAME``, ``POST /admin/jobs/{name}/run``).  :func:`run_job` is the
one place that runs a job: it enforces the timeout and records the run in
``job_runs`` (last start, duration, outcome, message, run count).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
import pluggy
from croniter import croniter
from sqlalchemy import select

from freeway.db.models import JobRun, utcnow
from freeway.errors import FreewayError, NotFound, PluginError

if TYPE_CHECKING:
    from freeway.state import Gateway

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MESSAGE_LIMIT = 2000


@dataclass
class JobContext:
    """What a job function receives: the running :class:`~freeway.state.Gateway`."""

    gateway: Gateway
    job: Job
    attempt: int = 1
    # The cron time this run is for (None for startup and on-demand runs).
    scheduled_at: dt.datetime | None = None


class Job(msgspec.Struct, kw_only=True):
    """A named job.  ``function(ctx)`` is async; ``cron`` is a 5-field UTC cron
    expression (a 6th field is seconds).  ``timeout`` in seconds; ``retries`` is how
    many times a failed run is tried again; ``run_at_startup`` also runs it when the
    scheduler or worker starts."""

    name: str
    cron: str
    function: Callable[[JobContext], Awaitable[Any]]
    timeout: float = 300
    retries: int = 1
    run_at_startup: bool = True


class JobFailed(FreewayError):
    """A job run did not succeed (raised to SAQ so it retries)."""


class JobRunRecord(msgspec.Struct):
    """One job's last run, as ``GET /admin/jobs`` shows it."""

    name: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_ms: float | None
    outcome: str
    message: str | None
    runs: int


def collect_jobs(pm: pluggy.PluginManager) -> dict[str, Job]:
    """Every plugin's jobs by name; a duplicate name or bad cron names the plugin."""
    jobs: dict[str, Job] = {}
    owners: dict[str, str] = {}
    for impl in pm.hook.freeway_jobs.get_hookimpls():
        try:
            result: Any = impl.function()
            offered: list[Any] = list(result or [])
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r}: freeway_jobs failed: {type(exc).__name__}: {exc}"
            ) from exc
        for job in offered:
            if not isinstance(job, Job) or not isinstance(job.name, str):
                raise PluginError(f"plugin {impl.plugin_name!r}: {job!r} is not a freeway Job")
            if not NAME_RE.match(job.name):
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: job name {job.name!r} must be lower-case "
                    "letters, digits, '-', '_' or '.'"
                )
            if not croniter.is_valid(job.cron):
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: job {job.name!r} has an invalid cron "
                    f"{job.cron!r}"
                )
            if not callable(job.function) or job.timeout <= 0 or job.retries < 0:
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: job {job.name!r} needs a callable function, "
                    "a positive timeout and retries >= 0"
                )
            if job.name in jobs:
                raise PluginError(
                    f"job {job.name!r} is defined by both {owners[job.name]!r} and "
                    f"{impl.plugin_name!r}; rename one"
                )
            jobs[job.name] = job
            owners[job.name] = impl.plugin_name
    return jobs


def jobs_of(gw: Gateway) -> dict[str, Job]:
    """The gateway's job registry (collected once at startup)."""
    service = gw.jobs
    if service is not None:
        return service.registry  # type: ignore[no-any-return]
    return collect_jobs(gw.pm)


def get_job(gw: Gateway, name: str) -> Job:
    """A job by name, or a 404 naming the known jobs."""
    registry = jobs_of(gw)
    job = registry.get(name)
    if job is None:
        known = ", ".join(sorted(registry)) or "none"
        raise NotFound(f"unknown job {name!r} (known jobs: {known})", param="name")
    return job


def _message(result: Any) -> str | None:
    summary = getattr(result, "summary", None)
    if callable(summary):
        result = summary()
    if result is None:
        return None
    text = result if isinstance(result, str) else repr(result)
    return text[:MESSAGE_LIMIT]


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:MESSAGE_LIMIT]


async def _record_start(gw: Gateway, name: str, started: dt.datetime) -> None:
    try:
        async with gw.db.sessionmaker() as session, session.begin():
            row = await session.get(JobRun, name)
            if row is None:
                row = JobRun(name=name, runs=0)
                session.add(row)
            row.started_at = started
            row.finished_at = None
            row.duration_ms = None
            row.outcome = "running"
            row.message = None
            row.runs = (row.runs or 0) + 1
    except Exception as exc:  # bookkeeping must not stop the job itself
        log.warning("could not record the start of job %s: %s", name, exc)


async def _record_end(gw: Gateway, record: JobRunRecord) -> None:
    try:
        async with gw.db.sessionmaker() as session, session.begin():
            row = await session.get(JobRun, record.name)
            if row is None:
                row = JobRun(name=record.name, started_at=record.started_at, runs=1)
                session.add(row)
            row.finished_at = record.finished_at
            row.duration_ms = record.duration_ms
            row.outcome = record.outcome
            row.message = record.message
            record.runs = row.runs
    except Exception as exc:
        log.warning("could not record the outcome of job %s: %s", record.name, exc)


async def run_job(
    gw: Gateway,
    name: str,
    *,
    attempt: int = 1,
    scheduled_at: dt.datetime | None = None,
    raise_errors: bool = False,
) -> JobRunRecord:
    """Run job ``name`` now in this process, with its timeout, and record the run.

    Outcomes: ``ok``, ``partial`` (the function returned something whose ``outcome``
    is ``partial``, e.g. one provider failed), ``error``, ``timeout``, ``cancelled``.
    With ``raise_errors`` a failed run raises :class:`JobFailed` after it is recorded.
    """
    job = get_job(gw, name)
    started = utcnow()
    clock = time.perf_counter()
    await _record_start(gw, name, started)
    outcome, message = "ok", None
    try:
        result = await asyncio.wait_for(
            job.function(
                JobContext(gateway=gw, job=job, attempt=attempt, scheduled_at=scheduled_at)
            ),
            job.timeout,
        )
        outcome = str(getattr(result, "outcome", "ok"))
        message = _message(result)
    except TimeoutError:
        outcome, message = "timeout", f"did not finish within {job.timeout:g}s"
        log.error("job %s timed out after %gs", name, job.timeout)
    except asyncio.CancelledError:
        outcome, message = "cancelled", "cancelled (shutdown)"
        await asyncio.shield(_finish(gw, name, started, clock, outcome, message))
        raise
    except Exception as exc:
        outcome, message = "error", _describe(exc)
        log.exception("job %s failed", name)
    record = await _finish(gw, name, started, clock, outcome, message)
    if raise_errors and outcome not in ("ok", "partial"):
        raise JobFailed(f"job {name!r} {outcome}: {message}")
    return record


async def _finish(
    gw: Gateway, name: str, started: dt.datetime, clock: float, outcome: str, message: str | None
) -> JobRunRecord:
    record = JobRunRecord(
        name=name,
        started_at=started,
        finished_at=utcnow(),
        duration_ms=round((time.perf_counter() - clock) * 1000, 1),
        outcome=outcome,
        message=message,
        runs=0,
    )
    await _record_end(gw, record)
    if outcome in ("ok", "partial"):
        log.info(
            "job %s %s in %.0f ms%s",
            name,
            outcome,
            record.duration_ms,
            f": {message}" if message else "",
        )
    return record


async def last_runs(gw: Gateway) -> dict[str, JobRunRecord]:
    """The recorded last run of every job, by name."""
    async with gw.db.sessionmaker() as session:
        rows = (await session.scalars(select(JobRun))).all()
    return {
        row.name: JobRunRecord(
            name=row.name,
            started_at=row.started_at,
            finished_at=row.finished_at,
            duration_ms=row.duration_ms,
            outcome=row.outcome,
            message=row.message,
            runs=row.runs,
        )
        for row in rows
    }


def next_run(job: Job, after: dt.datetime | None = None) -> dt.datetime:
    """The next time ``job`` is due by its cron (UTC)."""
    base = after or dt.datetime.now(dt.UTC)
    return croniter(job.cron, base).get_next(dt.datetime)  # type: ignore[no-any-return]
