"""Apply Alembic migrations programmatically (``freeway db upgrade`` and app start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from freeway.db.engine import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (idempotent)."""

    def run(connection: Connection) -> None:
        command.upgrade(alembic_config(connection), revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or ``None`` if it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    def read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)
