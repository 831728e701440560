"""usage_daily_totals: usage_daily summed over projects, for reports over every project

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

Creates the table and fills it from ``usage_daily`` with one INSERT … SELECT … GROUP BY
(the latency histograms are summed slot by slot in SQL, over as many slots as the
longest stored histogram), so the totals equal ``usage_daily`` summed over projects.
Records without a project are in neither table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = (
    "requests",
    "errors",
    "cancelled",
    "fallbacks",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "latency_ms_sum",
)


def upgrade() -> None:
    op.create_table(
        "usage_daily_totals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("model", sa.String(length=255), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("cancelled", sa.BigInteger(), nullable=False),
        sa.Column("fallbacks", sa.BigInteger(), nullable=False),
        sa.Column("prompt_tokens", sa.BigInteger(), nullable=False),
        sa.Column("completion_tokens", sa.BigInteger(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("latency_ms_sum", sa.Float(), nullable=False),
        sa.Column(
            "latency_histogram",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("day", "model", "provider", name=op.f("pk_usage_daily_totals")),
    )
    _backfill()


def _backfill() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "postgresql":
        length, slot, build = (
            "jsonb_array_length",
            "(latency_histogram->>{i})::bigint",
            "jsonb_build_array",
        )
    elif dialect == "sqlite":
        length, slot, build = (
            "json_array_length",
            "json_extract(latency_histogram, '$[{i}]')",
            "json_array",
        )
    else:
        raise NotImplementedError(f"usage rollup does not support the {dialect} dialect")
    slots = bind.execute(
        sa.text(f"SELECT max({length}(latency_histogram)) FROM usage_daily")
    ).scalar()
    if not slots:  # no rows, or only empty histograms
        histogram = f"{build}()"
    else:
        histogram = (
            f"{build}("
            + ", ".join(f"coalesce(sum({slot.format(i=i)}), 0)" for i in range(slots))
            + ")"
        )
    counters = ", ".join(_COUNTERS)
    sums = ", ".join(f"sum({name})" for name in _COUNTERS)
    op.execute(
        f"INSERT INTO usage_daily_totals (day, model, provider, {counters}, latency_histogram) "
        f"SELECT day, model, provider, {sums}, {histogram} FROM usage_daily "
        "GROUP BY day, model, provider"
    )


def downgrade() -> None:
    op.drop_table("usage_daily_totals")
