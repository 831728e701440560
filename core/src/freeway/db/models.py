"""SQLAlchemy 2.0 models of every table (DESIGN §6).

Types come from advanced-alchemy (``GUID``, ``DateTimeUTC``) so the same model runs on
SQLite and PostgreSQL; JSON columns use ``JSON`` with a JSONB variant on Postgres.
Schema changes go through a new Alembic revision in ``freeway/db/migrations``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only autoincrements INTEGER PRIMARY KEY; Postgres gets a bigint identity.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A panel/API user; ``token_version`` bumps revoke every token issued before."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, default=utcnow, onupdate=utcnow)


class RevokedToken(Base):
    """JWT ids revoked by logout, kept until the token would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, index=True)


class Project(Base):
    """A client project.  Only the SHA-256 of its API key is stored, plus the prefix."""

    __tablename__ = "projects"

    id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    api_key_prefix: Mapped[str] = mapped_column(String(16))
    rate_limit_per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, default=utcnow, onupdate=utcnow)


class UsageLog(Base):
    """One proxied request.  ``project_id`` has no foreign key: logs outlive projects."""

    __tablename__ = "usage_logs"
    __table_args__ = (
        Index("ix_usage_logs_project_created", "project_id", "created_at"),
        Index("ix_usage_logs_created", "created_at"),
        # The analytics logs filters (revision 0002).  Each ends in created_at so a
        # page is an index walk, newest first; the INCLUDE columns let Postgres check
        # the other filters (and count matches) from the index alone.
        Index(
            "ix_usage_logs_model_created",
            "model",
            "created_at",
            postgresql_include=["project_id", "status"],
        ),
        Index(
            "ix_usage_logs_project_model_created",
            "project_id",
            "model",
            "created_at",
            postgresql_include=["status"],
        ),
        # Only failed/cancelled requests: "ok" is most rows and is found by the
        # created_at index anyway.  (SQLite cannot match the partial predicate, so
        # there it is a plain index.)
        Index(
            "ix_usage_logs_status_created",
            "status",
            "created_at",
            postgresql_include=["project_id", "model"],
            postgresql_where=text("status <> 'ok'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64))
    project_id: Mapped[uuid.UUID | None] = mapped_column(GUID, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, default=utcnow)
    requested_model: Mapped[str] = mapped_column(String(255))
    model: Mapped[str | None] = mapped_column(String(255), nullable=True)
    provider: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    total_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    ttft_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="ok")
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    stream: Mapped[bool] = mapped_column(Boolean, default=False)
    fallback_count: Mapped[int] = mapped_column(Integer, default=0)
    endpoint: Mapped[str] = mapped_column(String(32), default="chat")


class _UsageCounters:
    """The additive counters of the two usage rollups (``usage_daily`` and
    ``usage_daily_totals``)."""

    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    cancelled: Mapped[int] = mapped_column(BigInteger, default=0)
    fallbacks: Mapped[int] = mapped_column(BigInteger, default=0)
    prompt_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    completion_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    total_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    latency_ms_sum: Mapped[float] = mapped_column(Float, default=0.0)
    latency_histogram: Mapped[list[int]] = mapped_column(JSONType, default=list)


class UsageDaily(_UsageCounters, Base):
    """Rollup of usage_logs per UTC day, project, model and provider.

    ``latency_histogram`` holds counts per latency bucket (ms upper bounds in
    ``freeway.usage.rollup``) so p95 can be read without the raw logs.
    """

    __tablename__ = "usage_daily"
    __table_args__ = (Index("ix_usage_daily_project_day", "project_id", "day"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    project_id: Mapped[uuid.UUID] = mapped_column(GUID, primary_key=True)
    model: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)


class UsageDailyTotal(_UsageCounters, Base):
    """``usage_daily`` summed over projects: one row per UTC day, model and provider.

    Reports over every project read this table (about 1/projects the rows).  The usage
    sink updates it in the same transaction as ``usage_daily``, with the same rule
    (records without a project are in neither), so it always equals ``usage_daily``
    summed over ``project_id``.
    """

    __tablename__ = "usage_daily_totals"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    model: Mapped[str] = mapped_column(String(255), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)


# The counters of both rollups that add up across records (the usage sink increments
# them, analytics sums them); latency_histogram adds slot by slot.
USAGE_DAILY_SUMS = (
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


class CatalogueModel(Base):
    """A model in the catalogue.  Models gone upstream stay with ``available=False``."""

    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(320), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), index=True)
    upstream_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    context_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    prompt_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    completion_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    image_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    input_modalities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    output_modalities: Mapped[list[str]] = mapped_column(JSONType, default=list)
    is_free: Mapped[bool] = mapped_column(Boolean, default=False)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, default=utcnow, onupdate=utcnow)


class ModelSelection(Base):
    """The admin's chosen model for a category, with who chose it and when."""

    __tablename__ = "model_selections"

    category: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(320))
    selected_by: Mapped[str] = mapped_column(String(255))
    selected_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC, default=utcnow)


class JobRun(Base):
    """The last run of each job, for ``GET /admin/jobs``."""

    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(DateTimeUTC)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTimeUTC, nullable=True)
    duration_ms: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    runs: Mapped[int] = mapped_column(Integer, default=0)
