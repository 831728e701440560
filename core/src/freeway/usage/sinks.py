"""The built-in usage sinks: the database (default) and a JSON-lines file.

:class:`DatabaseSink` writes one batch in one transaction: a bulk insert into
``usage_logs`` and an upsert into each rollup whose counters are added in SQL
(``ON CONFLICT … DO UPDATE SET requests = usage_daily.requests + excluded.requests``,
the latency histogram merged element-wise), so any number of replicas can write the
same row and every count stays exact.  The rollups are ``usage_daily`` (per UTC day,
project, model, provider) and ``usage_daily_totals`` (the same summed over projects,
for reports over every project); records without a project are in neither, so the
totals always equal ``usage_daily`` summed over ``project_id``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import uuid
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Table, bindparam, insert, literal_column
from sqlalchemy.dialects import postgresql, sqlite

from freeway.db.models import USAGE_DAILY_SUMS, UsageDaily, UsageDailyTotal, UsageLog
from freeway.usage.buckets import HISTOGRAM_SIZE, add_histograms, bucket_index
from freeway.usage.records import UsageRecord

log = logging.getLogger(__name__)

_ADDED = USAGE_DAILY_SUMS

# Element-wise sum of the stored and the incoming histogram (either may be shorter);
# {table} is the rollup's table name.
_PG_HISTOGRAM = """COALESCE((
  SELECT jsonb_agg(COALESCE(a.v::bigint, 0) + COALESCE(b.v::bigint, 0)
                   ORDER BY COALESCE(a.i, b.i))
  FROM jsonb_array_elements_text({table}.latency_histogram) WITH ORDINALITY AS a(v, i)
  FULL JOIN jsonb_array_elements_text(excluded.latency_histogram) WITH ORDINALITY AS b(v, i)
    ON a.i = b.i
), '[]'::jsonb)"""
_SQLITE_HISTOGRAM = """(
  SELECT json_group_array(v) FROM (
    SELECT COALESCE(a.value, 0) + COALESCE(b.value, 0) AS v
    FROM json_each({table}.latency_histogram) AS a
    FULL JOIN json_each(excluded.latency_histogram) AS b ON a.key = b.key
    ORDER BY COALESCE(a.key, b.key)
  )
)"""


@functools.lru_cache(maxsize=1024)
def _uuid(value: str | None) -> uuid.UUID | None:
    # Cached: a batch holds hundreds of records of a handful of projects.
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        log.debug("usage: project id %r is not a UUID, stored as NULL", value)
        return None


# The usage_logs columns a record fills (``id`` is the database's), in insert order.
LOG_COLUMNS = (
    "request_id",
    "project_id",
    "created_at",
    "requested_model",
    "model",
    "provider",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cost_usd",
    "latency_ms",
    "ttft_ms",
    "status",
    "error_code",
    "stream",
    "fallback_count",
    "endpoint",
)


def daily_rows(batch: list[UsageRecord]) -> list[dict[str, Any]]:
    """The batch summed per (UTC day, project, model, provider); projectless records
    are not rolled up."""
    groups: dict[tuple[dt.date, uuid.UUID, str, str], dict[str, Any]] = {}
    for record in batch:
        project = _uuid(record.project_id)
        if project is None:
            continue
        day = record.created_at.astimezone(dt.UTC).date()
        key = (day, project, record.model or "", record.provider or "")
        row = groups.get(key)
        if row is None:
            row = dict.fromkeys(_ADDED, 0)
            row.update(day=day, project_id=project, model=key[2], provider=key[3])
            row["latency_histogram"] = [0] * HISTOGRAM_SIZE
            row["cost_usd"] = 0.0
            row["latency_ms_sum"] = 0.0
            groups[key] = row
        row["requests"] += 1
        row["errors"] += record.status == "error"
        row["cancelled"] += record.status == "cancelled"
        row["fallbacks"] += record.fallback_count
        row["prompt_tokens"] += record.prompt_tokens
        row["completion_tokens"] += record.completion_tokens
        row["total_tokens"] += record.total_tokens
        row["cost_usd"] += record.cost_usd
        row["latency_ms_sum"] += record.latency_ms
        row["latency_histogram"][bucket_index(record.latency_ms)] += 1
    return sorted(
        groups.values(), key=lambda r: (r["day"], r["project_id"], r["model"], r["provider"])
    )


def total_rows(daily: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``daily_rows`` summed over projects: one row per (UTC day, model, provider)."""
    groups: dict[tuple[dt.date, str, str], dict[str, Any]] = {}
    for row in daily:
        key = (row["day"], row["model"], row["provider"])
        total = groups.get(key)
        if total is None:
            total = {name: row[name] for name in _ADDED}
            total.update(day=key[0], model=key[1], provider=key[2])
            total["latency_histogram"] = list(row["latency_histogram"])
            groups[key] = total
            continue
        for name in _ADDED:
            total[name] += row[name]
        total["latency_histogram"] = add_histograms(
            total["latency_histogram"], row["latency_histogram"]
        )
    # One key order for every writer, so concurrent upserts lock rows in the same order.
    return [groups[key] for key in sorted(groups)]


def _upsert(dialect: str, model: Any, keys: tuple[str, ...]) -> Any:
    """The additive upsert of one rollup table (``model``) on its primary ``keys``."""
    table: Table = model.__table__
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table)
        histogram = _PG_HISTOGRAM
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
        histogram = _SQLITE_HISTOGRAM
    else:
        raise NotImplementedError(f"usage rollup does not support the {dialect} dialect")
    updates = {name: table.c[name] + stmt.excluded[name] for name in _ADDED}
    updates["latency_histogram"] = literal_column(histogram.format(table=table.name))
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=updates)


class _DriverStatement:
    """A statement compiled once for the dialect and run through the driver's
    ``executemany``: each value goes through its column type's own bind processor (what
    SQLAlchemy would apply), without SQLAlchemy's per-execution work — which, for the
    rollups' ``ON CONFLICT`` upserts, included compiling them anew for every batch (they
    have no cache key).  ``docs/performance.md`` has the measurements."""

    def __init__(self, stmt: Any, table: Table, dialect: Any) -> None:
        compiled = stmt.compile(dialect=dialect)
        if not compiled.positiontup:
            raise NotImplementedError(f"{dialect.name}: a positional paramstyle is expected")
        self.sql: str = compiled.string
        self.columns = tuple(compiled.positiontup)
        self.process = tuple(
            table.c[name].type.dialect_impl(dialect).bind_processor(dialect) or _same
            for name in self.columns
        )

    def params(self, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """The driver parameters of ``rows`` (dicts by column name)."""
        pairs = tuple(zip(self.columns, self.process, strict=True))
        return [
            tuple(None if row[name] is None else process(row[name]) for name, process in pairs)
            for row in rows
        ]


class _LogInsert(_DriverStatement):
    """``INSERT INTO usage_logs``, with a row builder that goes straight from records to
    parameters (one per logged request: this is the sink's hot loop)."""

    def __init__(self, dialect: Any) -> None:
        table: Table = UsageLog.__table__  # type: ignore[assignment]
        stmt = insert(table).values({name: bindparam(name) for name in LOG_COLUMNS})
        super().__init__(stmt, table, dialect)
        if self.columns != LOG_COLUMNS:
            raise NotImplementedError(f"{dialect.name}: unexpected parameter order")

    def rows(self, batch: list[UsageRecord]) -> list[tuple[Any, ...]]:
        """The driver parameters of ``batch``, in ``LOG_COLUMNS`` order."""
        process = dict(zip(self.columns, self.process, strict=True))
        project_of, created, boolean = (
            process["project_id"],
            process["created_at"],
            process["stream"],
        )
        cost, latency, ttft = process["cost_usd"], process["latency_ms"], process["ttft_ms"]
        projects: dict[str | None, Any] = {}  # a batch holds a handful of projects
        out = []
        for r in batch:
            project = projects.get(r.project_id, _MISSING)
            if project is _MISSING:
                parsed = _uuid(r.project_id)
                project = projects[r.project_id] = None if parsed is None else project_of(parsed)
            out.append(
                (
                    r.request_id[:64],
                    project,
                    created(r.created_at),
                    r.requested_model[:255],
                    r.model,
                    r.provider,
                    r.prompt_tokens,
                    r.completion_tokens,
                    r.total_tokens,
                    cost(r.cost_usd),
                    latency(r.latency_ms),
                    None if r.ttft_ms is None else ttft(r.ttft_ms),
                    r.status,
                    r.error_code,
                    boolean(r.stream),
                    r.fallback_count,
                    r.endpoint,
                )
            )
        return out


_MISSING = object()


def _same(value: Any) -> Any:
    return value


class DatabaseSink:
    """The default sink: ``usage_logs`` rows and the ``usage_daily`` and
    ``usage_daily_totals`` rollups."""

    name = "database"

    def __init__(self) -> None:
        self._db: Any = None
        # (usage_logs insert, usage_daily upsert, usage_daily_totals upsert)
        self._statements: tuple[_LogInsert, _DriverStatement, _DriverStatement] | None = None

    async def start(self, gateway: Any) -> None:
        """Use the gateway's database."""
        self.bind(gateway.db)

    def bind(self, db: Any) -> None:
        """Write to ``db`` (a :class:`freeway.db.engine.Database`)."""
        self._db = db
        dialect = db.engine.dialect

        def upsert(model: Any, keys: tuple[str, ...]) -> _DriverStatement:
            return _DriverStatement(_upsert(db.dialect, model, keys), model.__table__, dialect)

        self._statements = (
            _LogInsert(dialect),
            upsert(UsageDaily, ("day", "project_id", "model", "provider")),
            upsert(UsageDailyTotal, ("day", "model", "provider")),
        )

    async def write(self, batch: list[UsageRecord]) -> None:
        """Insert the batch and update both rollups, in one transaction."""
        if self._db is None or self._statements is None:
            raise RuntimeError("database sink used before start()")
        logs, by_project, totals = self._statements
        rows = logs.rows(batch)
        daily = daily_rows(batch)
        async with self._db.engine.begin() as conn:
            await conn.exec_driver_sql(logs.sql, rows)
            if daily:
                await conn.exec_driver_sql(by_project.sql, by_project.params(daily))
                await conn.exec_driver_sql(totals.sql, totals.params(total_rows(daily)))


class JsonlSink:
    """Appends each record as one JSON line to a file (``USAGE_JSONL_PATH``), e.g. for
    a log shipper."""

    name = "jsonl"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._encoder = msgspec.json.Encoder()
        self._lock = asyncio.Lock()

    async def write(self, batch: list[UsageRecord]) -> None:
        """Append the batch (in a thread: file I/O stays off the event loop)."""
        data = b"".join(self._encoder.encode(r) + b"\n" for r in batch)
        async with self._lock:
            await asyncio.to_thread(self._append, data)

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            fh.write(data)
