"""Migrations apply cleanly, and idempotently, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from freeway.db import create_database, upgrade
from freeway.db.migrate import current_revision
from freeway.db.models import Base

EXPECTED_TABLES = {
    "users",
    "projects",
    "usage_logs",
    "usage_daily",
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
