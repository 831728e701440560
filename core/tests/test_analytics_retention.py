"""USAGE_LOG_RETENTION_DAYS: the prune-usage-logs job deletes old raw logs, keeps rollups."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select

from freeway.analytics.retention import prune_usage_logs, prune_usage_logs_job
from freeway.analytics.service import AnalyticsService
from freeway.db import Database, create_database, upgrade
from freeway.db.models import UsageDaily, UsageLog
from freeway.usage.records import UsageRecord
from freeway.usage.sinks import DatabaseSink

PROJECT = str(uuid.UUID("00000000-0000-4000-8000-0000000000aa"))


@pytest.fixture
async def db(settings: Any, database_url: str) -> AsyncIterator[Database]:
    database = create_database(settings, database_url)
    await upgrade(database)
    try:
        yield database
    finally:
        await database.dispose()


async def write(db: Database, stamps: list[dt.datetime]) -> None:
    sink = DatabaseSink()
    sink.bind(db)
    await sink.write(
        [
            UsageRecord(
                request_id=f"r{i}",
                project_id=PROJECT,
                created_at=at,
                requested_model="free",
                model="openai/gpt-4o-mini",
                provider="openai",
                total_tokens=10,
                latency_ms=100.0,
            )
            for i, at in enumerate(stamps)
        ]
    )


async def remaining(db: Database) -> list[str]:
    async with db.sessionmaker() as session:
        rows = await session.execute(select(UsageLog.request_id).order_by(UsageLog.id))
        return list(rows.scalars())


async def rollup_requests(db: Database) -> int:
    async with db.sessionmaker() as session:
        return int((await session.execute(select(func.sum(UsageDaily.requests)))).scalar_one())


async def test_pruning_deletes_only_logs_older_than_the_cutoff_in_batches(db: Database) -> None:
    cutoff = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    tick = dt.timedelta(microseconds=1)
    stamps = [cutoff - dt.timedelta(days=d) for d in range(1, 24)]  # 23 old logs
    stamps += [cutoff - tick, cutoff, cutoff + tick, cutoff + dt.timedelta(days=3)]
    await write(db, stamps)
    service = AnalyticsService(db, now=lambda: cutoff)
    before = await service.usage(first=dt.date(2026, 1, 1), last=dt.date(2026, 3, 31))

    deleted = await prune_usage_logs(db, cutoff, batch_size=5)

    assert deleted == 24
    assert await remaining(db) == ["r24", "r25", "r26"]
    # The rollups are kept: reports over the pruned period are unchanged.
    assert await rollup_requests(db) == len(stamps)
    after = await service.usage(first=dt.date(2026, 1, 1), last=dt.date(2026, 3, 31))
    assert after == before
    assert await prune_usage_logs(db, cutoff, batch_size=5) == 0


async def test_the_job_keeps_everything_without_a_retention_setting(
    db: Database, make_settings: Any
) -> None:
    now = dt.datetime.now(dt.UTC)
    await write(db, [now - dt.timedelta(days=400), now])
    ctx = SimpleNamespace(gateway=SimpleNamespace(settings=make_settings(), db=db))

    message = await prune_usage_logs_job(ctx)

    assert "USAGE_LOG_RETENTION_DAYS" in message
    assert await remaining(db) == ["r0", "r1"]


async def test_the_job_applies_usage_log_retention_days(db: Database, make_settings: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    await write(
        db,
        [
            now - dt.timedelta(days=45),
            now - dt.timedelta(days=30, minutes=1),
            now - dt.timedelta(days=29, hours=23),
            now,
        ],
    )
    settings = make_settings(USAGE_LOG_RETENTION_DAYS="30")
    ctx = SimpleNamespace(gateway=SimpleNamespace(settings=settings, db=db))

    message = await prune_usage_logs_job(ctx)

    assert message.startswith("deleted 2 usage logs")
    assert await remaining(db) == ["r2", "r3"]
    assert await rollup_requests(db) == 4


async def test_prune_usage_logs_is_a_daily_core_job_that_runs_on_demand(
    db: Database, make_settings: Any
) -> None:
    from freeway.jobs.registry import collect_jobs, run_job
    from freeway.plugins import get_plugin_manager
    from freeway.state import Gateway

    settings = make_settings(FREEWAY_PLUGINS="core", USAGE_LOG_RETENTION_DAYS="7")
    pm = get_plugin_manager(settings)
    job = collect_jobs(pm)["prune-usage-logs"]
    assert (job.cron, job.run_at_startup) == ("30 2 * * *", False)
    now = dt.datetime.now(dt.UTC)
    await write(db, [now - dt.timedelta(days=8), now])

    record = await run_job(Gateway(settings=settings, pm=pm, db=db), "prune-usage-logs")

    assert record.outcome == "ok"
    assert record.message is not None and record.message.startswith("deleted 1 usage logs")
    assert await remaining(db) == ["r1"]
