"""The database sink: usage_logs rows and an exact, additive usage_daily rollup."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import msgspec
import pytest
from sqlalchemy import func, select

from freeway.db import create_database, upgrade
from freeway.db.models import USAGE_DAILY_SUMS, UsageDaily, UsageDailyTotal, UsageLog
from freeway.usage.buckets import HISTOGRAM_SIZE, add_histograms, bucket_index
from freeway.usage.records import UsageRecord
from freeway.usage.sinks import DatabaseSink, JsonlSink

PROJECT = str(uuid.uuid4())
DAY = dt.datetime(2025, 3, 4, 23, 59, tzinfo=dt.UTC)


def record(**fields) -> UsageRecord:
    base = dict(
        request_id=uuid.uuid4().hex,
        project_id=PROJECT,
        created_at=DAY,
        requested_model="free",
        model="fake/m1",
        provider="fake",
        prompt_tokens=10,
        completion_tokens=5,
        total_tokens=15,
        cost_usd=0.001,
        latency_ms=42.0,
    )
    base.update(fields)
    return UsageRecord(**base)


@pytest.fixture
async def db(settings, database_url):
    database = create_database(settings, database_url)
    await upgrade(database)
    yield database
    await database.dispose()


async def test_logged_rows_read_back_as_the_orm_would_store_them(db):
    """The sink inserts through the driver; what it stores must read back exactly like
    an ORM insert of the same values (UUIDs, UTC datetimes, booleans, floats, NULLs)."""
    records = [
        record(created_at=dt.datetime(2025, 3, 4, 23, 59, 58, 123456, tzinfo=dt.UTC)),
        record(
            project_id=None,
            model=None,
            provider=None,
            status="error",
            error_code="model_not_found",
            ttft_ms=None,
            created_at=dt.datetime(2025, 3, 5, 1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        record(stream=True, ttft_ms=7.25, fallback_count=3, endpoint="images", cost_usd=1e-9),
        record(request_id="x" * 80, requested_model="m" * 300),  # cut to the column sizes
    ]
    sink = DatabaseSink()
    sink.bind(db)
    await sink.write(records)
    fields = [c.name for c in UsageLog.__table__.columns if c.name != "id"]
    async with db.sessionmaker() as session:
        stored = (await session.scalars(select(UsageLog).order_by(UsageLog.id))).all()
        expected = [
            UsageLog(
                **{
                    **{name: getattr(r, name) for name in fields if name != "project_id"},
                    "project_id": uuid.UUID(r.project_id) if r.project_id else None,
                    "request_id": r.request_id[:64],
                    "requested_model": r.requested_model[:255],
                }
            )
            for r in records
        ]
        session.add_all(expected)
        await session.commit()
        again = (
            await session.scalars(
                select(UsageLog).where(UsageLog.id > stored[-1].id).order_by(UsageLog.id)
            )
        ).all()
    as_rows = lambda logs: [{name: getattr(log, name) for name in fields} for log in logs]  # noqa: E731
    assert as_rows(stored) == as_rows(again)
    assert stored[1].created_at == dt.datetime(2025, 3, 4, 23, 2, 3, tzinfo=dt.UTC)
    assert stored[3].request_id == "x" * 64


async def daily(db) -> list[UsageDaily]:
    async with db.sessionmaker() as session:
        return list((await session.scalars(select(UsageDaily).order_by(UsageDaily.model))).all())


async def test_a_batch_becomes_log_rows_and_one_rollup_row_per_key(db):
    sink = DatabaseSink()
    sink.bind(db)
    await sink.write(
        [
            record(),
            record(status="error", error_code="provider_timeout", latency_ms=3000.0),
            record(status="cancelled", fallback_count=2, stream=True, ttft_ms=12.5),
            record(
                model=None,
                provider=None,
                status="error",
                prompt_tokens=0,
                completion_tokens=0,
                total_tokens=0,
                cost_usd=0.0,
            ),
            record(project_id=None),  # unauthenticated: logged, not rolled up
        ]
    )
    async with db.sessionmaker() as session:
        logs = (await session.scalars(select(UsageLog).order_by(UsageLog.id))).all()
    assert len(logs) == 5
    assert logs[0].project_id == uuid.UUID(PROJECT)
    assert logs[2].stream is True and logs[2].ttft_ms == 12.5 and logs[2].status == "cancelled"
    assert logs[3].model is None
    assert logs[4].project_id is None

    rows = await daily(db)
    assert [(r.model, r.provider) for r in rows] == [("", ""), ("fake/m1", "fake")]
    unserved, served = rows
    assert unserved.requests == 1 and unserved.errors == 1
    assert served.day == dt.date(2025, 3, 4)
    assert served.requests == 3
    assert served.errors == 1
    assert served.cancelled == 1
    assert served.fallbacks == 2
    assert (served.prompt_tokens, served.completion_tokens, served.total_tokens) == (30, 15, 45)
    assert served.cost_usd == pytest.approx(0.003)
    assert served.latency_ms_sum == pytest.approx(42 + 3000 + 42)
    expected = [0] * HISTOGRAM_SIZE
    expected[bucket_index(42)] = 2
    expected[bucket_index(3000)] = 1
    assert served.latency_histogram == expected


async def test_later_batches_add_to_the_rollup_and_merge_histograms(db):
    sink = DatabaseSink()
    sink.bind(db)
    await sink.write([record(latency_ms=1.0)])
    await sink.write([record(latency_ms=1.0), record(latency_ms=200_000.0, cost_usd=0.5)])
    (row,) = await daily(db)
    assert row.requests == 3
    assert row.cost_usd == pytest.approx(0.502)
    assert row.latency_histogram[bucket_index(1.0)] == 2
    assert row.latency_histogram[-1] == 1
    assert sum(row.latency_histogram) == 3


async def test_records_on_two_utc_days_roll_up_separately(db):
    sink = DatabaseSink()
    sink.bind(db)
    next_day = DAY + dt.timedelta(minutes=2)
    local = DAY.astimezone(dt.timezone(dt.timedelta(hours=5)))  # same instant, other zone
    await sink.write([record(), record(created_at=next_day), record(created_at=local)])
    rows = sorted(await daily(db), key=lambda r: r.day)
    assert [(r.day, r.requests) for r in rows] == [
        (dt.date(2025, 3, 4), 2),
        (dt.date(2025, 3, 5), 1),
    ]


async def test_concurrent_writers_on_one_key_keep_exact_counts(db, settings, database_url):
    """Two replicas (two engines) writing the same rollup row at once lose nothing."""
    other = create_database(settings, database_url)
    try:
        sinks = [DatabaseSink(), DatabaseSink()]
        sinks[0].bind(db)
        sinks[1].bind(other)
        await asyncio.gather(
            *[sinks[i % 2].write([record() for _ in range(20)]) for i in range(10)]
        )
        (row,) = await daily(db)
        assert row.requests == 200
        assert row.total_tokens == 200 * 15
        assert sum(row.latency_histogram) == 200
        async with db.sessionmaker() as session:
            assert await session.scalar(select(func.count()).select_from(UsageLog)) == 200
    finally:
        await other.dispose()


def summed_over_projects(rows: list[UsageDaily]) -> dict[tuple, dict]:
    """``usage_daily`` rows summed per (day, model, provider), histograms slot by slot."""
    totals: dict[tuple, dict] = {}
    for row in rows:
        key = (row.day, row.model, row.provider)
        total = totals.setdefault(
            key, dict.fromkeys(USAGE_DAILY_SUMS, 0) | {"latency_histogram": []}
        )
        for name in USAGE_DAILY_SUMS:
            total[name] += getattr(row, name)
        total["latency_histogram"] = add_histograms(
            total["latency_histogram"], row.latency_histogram
        )
    return totals


async def totals(db) -> dict[tuple, dict]:
    async with db.sessionmaker() as session:
        rows = (await session.scalars(select(UsageDailyTotal))).all()
    return {
        (r.day, r.model, r.provider): {name: getattr(r, name) for name in USAGE_DAILY_SUMS}
        | {"latency_histogram": r.latency_histogram}
        for r in rows
    }


async def test_the_totals_rollup_is_usage_daily_summed_over_projects(db, settings, database_url):
    """Batches from two writers over three projects, two models, two days and every
    latency bucket: usage_daily_totals equals usage_daily summed over projects, and
    projectless records are in neither."""
    other = create_database(settings, database_url)
    try:
        sinks = [DatabaseSink(), DatabaseSink()]
        sinks[0].bind(db)
        sinks[1].bind(other)
        projects = [str(uuid.uuid4()) for _ in range(3)] + [None]
        batches = [
            [
                record(
                    project_id=projects[(b + i) % 4],
                    created_at=DAY + dt.timedelta(minutes=i % 2),  # crosses midnight UTC
                    model=("fake/m1", "fake/m2", None)[i % 3],
                    provider=("fake", "fake", None)[i % 3],
                    status=("ok", "error", "cancelled", "ok")[(b * i) % 4],
                    fallback_count=i % 2,
                    prompt_tokens=b + i,
                    total_tokens=b + i + 5,
                    cost_usd=0.25 * i,
                    latency_ms=float(3 ** (i % 12)),
                )
                for i in range(17)
            ]
            for b in range(8)
        ]
        await asyncio.gather(*[sinks[b % 2].write(batch) for b, batch in enumerate(batches)])
        daily_rows = await daily(db)
        expected = summed_over_projects(daily_rows)
        got = await totals(db)
        assert got.keys() == expected.keys()
        assert len(got) == 6  # two days × (m1, m2, unserved)
        for key, total in expected.items():
            row = got[key]
            for name in USAGE_DAILY_SUMS:
                assert row[name] == pytest.approx(total[name]), (key, name)
            assert row["latency_histogram"] == total["latency_histogram"], key
        projectless = sum(1 for batch in batches for r in batch if r.project_id is None)
        assert projectless > 0
        assert sum(t["requests"] for t in got.values()) == 8 * 17 - projectless
    finally:
        await other.dispose()


async def test_a_failed_batch_writes_nothing(db):
    sink = DatabaseSink()
    sink.bind(db)
    with pytest.raises(Exception):  # noqa: B017 - any database error
        await sink.write([record(), record(request_id="x" * 64, requested_model=None)])  # type: ignore[arg-type]
    async with db.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(UsageLog)) == 0
    assert await daily(db) == []
    assert await totals(db) == {}


async def test_jsonl_sink_appends_one_json_object_per_record(tmp_path):
    path = tmp_path / "logs" / "usage.jsonl"
    sink = JsonlSink(path)
    await sink.write([record(request_id="a"), record(request_id="b")])
    await sink.write([record(request_id="c")])
    lines = path.read_bytes().splitlines()
    decoded = [msgspec.json.decode(line, type=UsageRecord) for line in lines]
    assert [r.request_id for r in decoded] == ["a", "b", "c"]
    assert decoded[0].created_at == DAY
