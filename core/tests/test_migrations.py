"""Migrations apply cleanly, and idempotently, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import insert, inspect, select

from freeway.db import create_database, upgrade
from freeway.db.migrate import current_revision
from freeway.db.models import USAGE_DAILY_SUMS, Base, UsageDaily, UsageDailyTotal
from freeway.usage.buckets import HISTOGRAM_SIZE, add_histograms

EXPECTED_TABLES = {
    "users",
    "projects",
    "usage_logs",
    "usage_daily",
    "usage_daily_totals",
    "models",
    "model_selections",
}


async def test_upgrade_creates_every_table_and_is_idempotent(settings, database_url):
    db = create_database(settings, database_url)
    try:
        assert await current_revision(db) is None
        await upgrade(db)
        await upgrade(db)  # a second start must be a no-op
        async with db.engine.connect() as conn:
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        assert EXPECTED_TABLES <= tables
        assert set(Base.metadata.tables) <= tables
        assert await current_revision(db) is not None
    finally:
        await db.dispose()


async def test_models_match_the_latest_migration(settings, database_url):
    """A model change without a migration is caught here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = create_database(settings, database_url)
    try:
        await upgrade(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    # SQLite reflects GUID/JSON loosely; types are compared on Postgres.
                    MigrationContext.configure(c, opts={"compare_type": db.dialect != "sqlite"}),
                    Base.metadata,
                )
            )
        assert diff == []
    finally:
        await db.dispose()


async def test_0003_backfills_usage_daily_totals_from_usage_daily(settings, database_url):
    """Rollups written before 0003 are summed over projects into usage_daily_totals."""
    day = dt.date(2026, 11, 30)
    projects = [uuid.uuid4(), uuid.uuid4()]
    histogram = [i + 1 for i in range(HISTOGRAM_SIZE)]

    def row(project: uuid.UUID, model: str, on: dt.date, n: int, hist: list[int]) -> dict:
        return {
            "day": on,
            "project_id": project,
            "model": model,
            "provider": "fake" if model else "",
            "requests": n,
            "errors": n // 2,
            "cancelled": n // 3,
            "fallbacks": n // 4,
            "prompt_tokens": 10 * n,
            "completion_tokens": 5 * n,
            "total_tokens": 15 * n,
            "cost_usd": 0.125 * n,
            "latency_ms_sum": 40.5 * n,
            "latency_histogram": hist,
        }

    rows = [
        row(projects[0], "fake/m1", day, 3, histogram),
        row(projects[1], "fake/m1", day, 4, [0, 2, 0, 2]),  # an older, shorter histogram
        row(projects[0], "fake/m1", day + dt.timedelta(days=1), 5, histogram),
        row(projects[1], "", day, 7, []),
    ]
    db = create_database(settings, database_url)
    try:
        await upgrade(db, "0002")
        async with db.engine.begin() as conn:
            await conn.execute(insert(UsageDaily), rows)
        await upgrade(db)
        async with db.sessionmaker() as session:
            totals = (
                await session.scalars(
                    select(UsageDailyTotal).order_by(UsageDailyTotal.day, UsageDailyTotal.model)
                )
            ).all()
    finally:
        await db.dispose()
    got = [(t.day, t.model, t.provider, *(getattr(t, n) for n in USAGE_DAILY_SUMS)) for t in totals]
    assert got == [
        (day, "", "", 7, 3, 2, 1, 70, 35, 105, 0.875, 283.5),
        (day, "fake/m1", "fake", 7, 3, 2, 1, 70, 35, 105, 0.875, 283.5),
        (day + dt.timedelta(days=1), "fake/m1", "fake", 5, 2, 1, 1, 50, 25, 75, 0.625, 202.5),
    ]
    assert totals[0].latency_histogram in ([], [0] * HISTOGRAM_SIZE)
    assert totals[1].latency_histogram == add_histograms(histogram, [0, 2, 0, 2])
    assert totals[2].latency_histogram == histogram
