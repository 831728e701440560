"""Alembic environment: runs on the connection handed over by ``freeway.db.migrate``."""

from alembic import context

from freeway.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only via freeway.db.migrate
    raise RuntimeError("run migrations with `freeway db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
