"""Storage: SQLAlchemy models, the async engine, and Alembic migrations."""

from freeway.db.engine import Database, create_database
from freeway.db.migrate import upgrade

__all__ = ["Database", "create_database", "upgrade"]
