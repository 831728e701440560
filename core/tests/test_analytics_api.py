"""/admin/analytics on SQLite and Postgres: the endpoints' sums equal generated usage.

Usage is written by the usage pipeline's own database sink (raw ``usage_logs`` plus
the ``usage_daily`` rollup per UTC day, project, model and provider), then read back
through the HTTP API with a fixed clock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, select

from freeway.analytics import AnalyticsService
from freeway.app import create_app
from freeway.db import Database, create_database
from freeway.db.models import Project, UsageDaily, UsageDailyTotal, UsageLog
from freeway.state import gateway_of
from freeway.usage.buckets import HISTOGRAM_SIZE, bucket_index, percentile_ms
from freeway.usage.records import UsageRecord
from freeway.usage.sinks import DatabaseSink

UTC = dt.UTC
P_ACTIVE_1 = uuid.UUID("00000000-0000-4000-8000-000000000001")
P_ACTIVE_2 = uuid.UUID("00000000-0000-4000-8000-000000000002")
P_INACTIVE = uuid.UUID("00000000-0000-4000-8000-000000000003")
PROJECTS = (P_ACTIVE_1, P_ACTIVE_2, P_INACTIVE)
MIDNIGHT = dt.datetime(2026, 2, 1, tzinfo=UTC)  # also a month boundary
EDGES = [
    MIDNIGHT - dt.timedelta(microseconds=1),
    MIDNIGHT,
    MIDNIGHT + dt.timedelta(microseconds=1),
    MIDNIGHT - dt.timedelta(days=1),
    MIDNIGHT + dt.timedelta(days=1) - dt.timedelta(microseconds=1),
    dt.datetime(2026, 1, 1, tzinfo=UTC),
    dt.datetime(2025, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    dt.datetime(2026, 3, 1, tzinfo=UTC) - dt.timedelta(microseconds=1),
]
NOWS = [
    MIDNIGHT,
    MIDNIGHT - dt.timedelta(microseconds=1),
    MIDNIGHT + dt.timedelta(hours=13),
    dt.datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
]
MODELS = [("openai/gpt-4o-mini", "openai"), ("groq/llama-3.1-8b", "groq"), (None, None)]


# -- writing usage the way the usage sink does ---------------------------------------


def record(**fields: Any) -> dict[str, Any]:
    """One usage record with plain defaults."""
    return {
        "request_id": uuid.uuid4().hex,
        "project_id": P_ACTIVE_1,
        "created_at": dt.datetime(2026, 1, 15, tzinfo=UTC),
        "requested_model": "free",
        "model": "openai/gpt-4o-mini",
        "provider": "openai",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "cost_usd": 0.001,
        "latency_ms": 120.0,
        "ttft_ms": None,
        "status": "ok",
        "error_code": None,
        "stream": False,
        "fallback_count": 0,
        "endpoint": "chat",
        **fields,
    }


async def write_usage(db: Database, records: list[dict[str, Any]], batches: int = 1) -> None:
    """Replace all usage with ``records``, written by the usage pipeline's database sink
    in ``batches`` batches (so rollup rows are also merged across batches); each record
    gets its ``id``."""
    async with db.sessionmaker() as session, session.begin():
        await session.execute(delete(UsageLog))
        await session.execute(delete(UsageDaily))
        await session.execute(delete(UsageDailyTotal))
    sink = DatabaseSink()
    sink.bind(db)
    size = max(1, -(-len(records) // batches))
    for i in range(0, len(records), size):
        await sink.write(
            [
                UsageRecord(
                    **{k: v for k, v in r.items() if k not in ("id", "project_id")},
                    project_id=str(r["project_id"]) if r["project_id"] else None,
                )
                for r in records[i : i + size]
            ]
        )
    async with db.sessionmaker() as session:
        ids = dict((await session.execute(select(UsageLog.request_id, UsageLog.id))).all())
    for r in records:
        r["id"] = ids[r["request_id"]]


# -- generated usage --------------------------------------------------------------------

instants = st.one_of(
    st.sampled_from(EDGES),
    st.datetimes(
        min_value=dt.datetime(2025, 12, 30),
        max_value=dt.datetime(2026, 2, 3),
        timezones=st.just(UTC),
    ),
)
latencies = st.one_of(
    st.sampled_from([0.0, 5.0, 5.001, 10.0, 2000.0, 120_000.0, 500_000.0]),
    st.floats(min_value=0, max_value=200_000, allow_nan=False),
)


@st.composite
def usage_records(draw: st.DrawFn) -> dict[str, Any]:
    model, provider = draw(st.sampled_from(MODELS))
    prompt = draw(st.integers(0, 100_000))
    completion = draw(st.integers(0, 100_000))
    return record(
        request_id=uuid.uuid4().hex,
        project_id=draw(st.sampled_from([*PROJECTS, None])),
        created_at=draw(instants),
        requested_model=model or "no-such-model",
        model=model,
        provider=provider,
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=prompt + completion,
        cost_usd=draw(st.floats(min_value=0, max_value=5, allow_nan=False)),
        latency_ms=draw(latencies),
        status=draw(st.sampled_from(["ok", "ok", "error", "cancelled"])),
        stream=draw(st.booleans()),
        fallback_count=draw(st.integers(0, 3)),
    )


def expected_metrics(records: list[dict[str, Any]]) -> dict[str, Any]:
    histogram = [0] * HISTOGRAM_SIZE
    for r in records:
        histogram[bucket_index(r["latency_ms"])] += 1
    n = len(records)
    errors = sum(r["status"] == "error" for r in records)
    return {
        "requests": n,
        "errors": errors,
        "cancelled": sum(r["status"] == "cancelled" for r in records),
        "error_rate": pytest.approx(errors / n if n else 0.0),
        "fallbacks": sum(r["fallback_count"] for r in records),
        "prompt_tokens": sum(r["prompt_tokens"] for r in records),
        "completion_tokens": sum(r["completion_tokens"] for r in records),
        "total_tokens": sum(r["total_tokens"] for r in records),
        "cost_usd": pytest.approx(sum(r["cost_usd"] for r in records), rel=1e-9, abs=1e-9),
        "avg_latency_ms": (
            pytest.approx(sum(r["latency_ms"] for r in records) / n, rel=1e-9) if n else None
        ),
        "p50_latency_ms": percentile_ms(histogram, 0.5),
        "p95_latency_ms": percentile_ms(histogram, 0.95),
    }


# -- the app ------------------------------------------------------------------------------


class FixedClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def api(make_settings: Any, database_url: str) -> AsyncIterator[SimpleNamespace]:
    # Core only: analytics needs no provider or panel plugin.
    settings_ = make_settings(DATABASE_URL=database_url, FREEWAY_PLUGINS="core")
    app = create_app(settings_)
    # The test client runs the app on its own event loop (a portal thread), so the
    # test writes through its own engine rather than the app's connection pool.
    db = create_database(settings_)
    async with AsyncTestClient(app=app) as client:
        gw = gateway_of(app)
        clock = FixedClock(MIDNIGHT)
        gw.extras["analytics"] = AnalyticsService(gw.db, now=clock)
        async with db.sessionmaker() as session, session.begin():
            for i, pid in enumerate(PROJECTS):
                session.add(
                    Project(
                        id=pid,
                        name=f"project-{i}",
                        api_key_hash=f"{i:064d}",
                        api_key_prefix=f"fw_{i:05d}",
                        is_active=pid != P_INACTIVE,
                    )
                )
        client.headers["X-Api-Key"] = settings_.admin_api_key
        try:
            yield SimpleNamespace(client=client, gw=gw, db=db, clock=clock)
        finally:
            await db.dispose()


async def get_json(client: AsyncTestClient[Any], path: str, **params: Any) -> Any:
    response = await client.get(path, params={k: v for k, v in params.items() if v is not None})
    assert response.status_code == 200, response.text
    return response.json()


HYPOTHESIS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# -- summary and usage ----------------------------------------------------------------------


@HYPOTHESIS
@given(
    records=st.lists(usage_records(), max_size=40),
    batches=st.integers(1, 3),
    now=st.sampled_from(NOWS),
)
async def test_summary_counts_today_and_this_month_in_utc(
    api: SimpleNamespace, records: list[dict[str, Any]], batches: int, now: dt.datetime
) -> None:
    await write_usage(api.db, records, batches)
    api.clock.now = now
    rolled = [r for r in records if r["project_id"] is not None]
    today = [r for r in rolled if r["created_at"].date() == now.date()]
    month = [
        r
        for r in rolled
        if (r["created_at"].year, r["created_at"].month) == (now.year, now.month)
        and r["created_at"].date() <= now.date()
    ]

    body = await get_json(api.client, "/admin/analytics/summary")

    assert body["total_projects"] == 3
    assert body["active_projects"] == 2
    assert body["total_requests_today"] == len(today)
    assert body["total_requests_this_month"] == len(month)
    assert body["total_cost_today_usd"] == pytest.approx(sum(r["cost_usd"] for r in today))
    assert body["total_cost_this_month_usd"] == pytest.approx(sum(r["cost_usd"] for r in month))
    assert body["total_tokens_today"] == sum(r["total_tokens"] for r in today)
    assert body["total_tokens_this_month"] == sum(r["total_tokens"] for r in month)
    month_errors = sum(r["status"] == "error" for r in month)
    assert body["errors_this_month"] == month_errors
    assert body["error_rate_this_month"] == pytest.approx(
        month_errors / len(month) if month else 0.0
    )


days = st.dates(min_value=dt.date(2025, 12, 29), max_value=dt.date(2026, 2, 4))


def bound(value: dt.datetime | dt.date | None, next_day: int) -> dt.datetime | None:
    """The instant a ``from`` (``next_day=0``) or exclusive ``to`` (1) bound stands for."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(microseconds=next_day)
    return dt.datetime(value.year, value.month, value.day, tzinfo=UTC) + dt.timedelta(days=next_day)


@HYPOTHESIS
@given(
    records=st.lists(usage_records(), max_size=40),
    batches=st.integers(1, 3),
    first=days,
    span=st.integers(0, 6),
    project=st.sampled_from([None, P_ACTIVE_1, P_INACTIVE]),
    group_by=st.sampled_from(["day", "model", "provider", "project"]),
)
async def test_usage_totals_and_groups_equal_the_generated_sums(
    api: SimpleNamespace,
    records: list[dict[str, Any]],
    batches: int,
    first: dt.date,
    span: int,
    project: uuid.UUID | None,
    group_by: str,
) -> None:
    await write_usage(api.db, records, batches)
    last = first + dt.timedelta(days=span)
    chosen = [
        r
        for r in records
        if r["project_id"] is not None
        and first <= r["created_at"].date() <= last
        and (project is None or r["project_id"] == project)
    ]

    body = await get_json(
        api.client,
        "/admin/analytics/usage",
        **{"from": first.isoformat(), "to": last.isoformat()},
        project_id=str(project) if project else None,
        group_by=group_by,
    )

    assert body["from"] == first.isoformat()
    assert body["to"] == last.isoformat()
    assert body["group_by"] == group_by
    assert body["totals"] == expected_metrics(chosen)
    key_of = {
        "day": lambda r: r["created_at"].date().isoformat(),
        "model": lambda r: r["model"] or "",
        "provider": lambda r: r["provider"] or "",
        "project": lambda r: str(r["project_id"]),
    }[group_by]
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in chosen:
        grouped[key_of(r)].append(r)
    rows = {row.pop("key"): row for row in body["rows"]}
    if group_by == "day":
        assert list(rows) == [(first + dt.timedelta(days=i)).isoformat() for i in range(span + 1)]
        assert all(rows[k]["requests"] == 0 for k in rows if k not in grouped)
    else:
        assert set(rows) == set(grouped)
        requests = [row["requests"] for row in rows.values()]
        assert requests == sorted(requests, reverse=True)
    for key, group in grouped.items():
        assert rows[key] == expected_metrics(group)


async def test_usage_datetimes_count_their_whole_utc_day_and_default_to_30_days(
    api: SimpleNamespace,
) -> None:
    records = [
        record(created_at=dt.datetime(2026, 1, 2, 0, 0, tzinfo=UTC)),
        record(created_at=dt.datetime(2026, 1, 3, 23, 59, tzinfo=UTC)),
        record(created_at=dt.datetime(2026, 1, 4, 0, 0, tzinfo=UTC)),
    ]
    await write_usage(api.db, records)
    body = await get_json(
        api.client,
        "/admin/analytics/usage",
        **{"from": "2026-01-02T12:00:00Z", "to": "2026-01-03T01:00:00+02:00"},
    )
    # +02:00 on the 3rd is 23:00 UTC on the 2nd: only the 2nd counts.
    assert (body["from"], body["to"]) == ("2026-01-02", "2026-01-02")
    assert body["totals"]["requests"] == 1

    api.clock.now = dt.datetime(2026, 1, 31, 8, tzinfo=UTC)
    body = await get_json(api.client, "/admin/analytics/usage")
    assert (body["from"], body["to"]) == ("2026-01-02", "2026-01-31")
    assert len(body["rows"]) == 30
    assert body["totals"]["requests"] == 3


# -- logs -------------------------------------------------------------------------------------


@HYPOTHESIS
@given(
    records=st.lists(usage_records(), max_size=40),
    start=st.one_of(st.none(), instants, days),
    end=st.one_of(st.none(), instants, days),
    status=st.sampled_from([None, "ok", "error"]),
    model=st.sampled_from([None, "openai/gpt-4o-mini"]),
    project=st.sampled_from([None, P_ACTIVE_2]),
    page_size=st.integers(1, 7),
)
async def test_logs_pages_hold_exactly_the_matching_logs_newest_first(
    api: SimpleNamespace,
    records: list[dict[str, Any]],
    start: dt.datetime | dt.date | None,
    end: dt.datetime | dt.date | None,
    status: str | None,
    model: str | None,
    project: uuid.UUID | None,
    page_size: int,
) -> None:
    # A date bound covers its whole UTC day: from its midnight to before the next.
    low = bound(start, 0)
    high = bound(end, 1)
    if low is not None and high is not None and low >= high:
        start, end, low, high = end, start, bound(end, 0), bound(start, 1)
    await write_usage(api.db, records)
    expected = sorted(
        (
            r
            for r in records
            if (low is None or r["created_at"] >= low)
            and (high is None or r["created_at"] < high)
            and (status is None or r["status"] == status)
            and (model is None or r["model"] == model)
            and (project is None or r["project_id"] == project)
        ),
        key=lambda r: (r["created_at"], r["id"]),
        reverse=True,
    )
    params = {
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "status": status,
        "model": model,
        "project_id": str(project) if project else None,
        "page_size": page_size,
    }

    seen: list[dict[str, Any]] = []
    page = 1
    while True:
        body = await get_json(api.client, "/admin/analytics/logs", **params, page=page)
        assert body["total"] == len(expected)
        assert body["total_is_exact"] is True
        assert (body["page"], body["page_size"]) == (page, page_size)
        seen.extend(body["items"])
        if not body["has_more"]:
            break
        assert body["next_before_id"] == body["items"][-1]["id"]
        page += 1
    assert [item["id"] for item in seen] == [r["id"] for r in expected]

    # The keyset cursor walks the same sequence.
    cursor_seen: list[int] = []
    before_id = None
    while True:
        body = await get_json(api.client, "/admin/analytics/logs", **params, before_id=before_id)
        cursor_seen.extend(item["id"] for item in body["items"])
        if not body["has_more"]:
            break
        before_id = body["next_before_id"]
    assert cursor_seen == [item["id"] for item in seen]


async def test_a_log_item_has_every_field(api: SimpleNamespace) -> None:
    one = record(
        created_at=dt.datetime(2026, 1, 5, 10, 30, 15, 123456, tzinfo=UTC),
        requested_model="paid",
        status="error",
        error_code="provider_timeout",
        ttft_ms=12.5,
        stream=True,
        fallback_count=2,
        cost_usd=0.123456789,
    )
    await write_usage(api.db, [one])
    (item,) = (await get_json(api.client, "/admin/analytics/logs"))["items"]
    assert item["created_at"] == "2026-01-05T10:30:15.123456Z"
    assert item["project_id"] == str(P_ACTIVE_1)
    for name in (
        "request_id",
        "requested_model",
        "model",
        "provider",
        "status",
        "error_code",
        "ttft_ms",
        "prompt_tokens",
        "total_tokens",
        "fallback_count",
        "stream",
        "endpoint",
        "latency_ms",
    ):
        assert item[name] == one[name], name
    assert item["cost_usd"] == pytest.approx(one["cost_usd"])


async def test_a_date_to_includes_its_whole_day_and_a_datetime_to_is_inclusive(
    api: SimpleNamespace,
) -> None:
    stamps = [
        dt.datetime(2026, 1, 31, 0, 0, tzinfo=UTC),
        dt.datetime(2026, 1, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        dt.datetime(2026, 2, 1, 0, 0, tzinfo=UTC),
    ]
    await write_usage(
        api.db,
        [record(request_id=f"r{i}", created_at=at) for i, at in enumerate(stamps)],
    )
    day = await get_json(
        api.client, "/admin/analytics/logs", **{"from": "2026-01-31"}, to="2026-01-31"
    )
    assert {i["request_id"] for i in day["items"]} == {"r0", "r1"}
    upto = await get_json(api.client, "/admin/analytics/logs", to="2026-02-01T00:00:00Z")
    assert upto["total"] == 3
    naive = await get_json(
        api.client, "/admin/analytics/logs", **{"from": "2026-01-31T23:59:59.999999"}
    )
    assert {i["request_id"] for i in naive["items"]} == {"r1", "r2"}


# -- CSV ----------------------------------------------------------------------------------


async def test_csv_export_streams_every_matching_log_with_the_same_filters(
    api: SimpleNamespace,
) -> None:
    records = [
        record(
            request_id=f"r{i:05d}",
            project_id=P_ACTIVE_1 if i % 3 else P_ACTIVE_2,
            created_at=dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=i // 2),
            requested_model='=HYPERLINK("http://evil")' if i == 0 else "free",
            status="error" if i % 5 == 0 else "ok",
        )
        for i in range(12_001)  # more than two export batches, ties on created_at
    ]
    await write_usage(api.db, records)

    url = "/admin/analytics/logs.csv"
    response = await api.client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(records)
    assert len({row["id"] for row in rows}) == len(records)
    assert rows[0]["created_at"] == "2026-01-01T01:40:00Z"
    by_request = {row["request_id"]: row for row in rows}
    assert by_request["r00000"]["requested_model"] == '\'=HYPERLINK("http://evil")'
    assert by_request["r00001"]["project_id"] == str(P_ACTIVE_1)
    assert by_request["r00001"]["stream"] in ("true", "false")

    response = await api.client.get(
        "/admin/analytics/logs.csv",
        params={"project_id": str(P_ACTIVE_2), "status": "error", "to": "2026-01-01T00:10:00Z"},
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    expected = {
        r["request_id"]
        for r in records
        if r["project_id"] == P_ACTIVE_2
        and r["status"] == "error"
        and r["created_at"] <= dt.datetime(2026, 1, 1, 0, 10, tzinfo=UTC)
    }
    assert {row["request_id"] for row in rows} == expected

    # Newest first, highest id first on equal timestamps: the same order as the pages.
    everything = list(csv.DictReader(io.StringIO((await api.client.get(url)).text)))
    newest_first = sorted(records, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    assert [int(row["id"]) for row in everything] == [r["id"] for r in newest_first]
    body = await get_json(api.client, "/admin/analytics/logs", page=3, page_size=500)
    assert [str(i["id"]) for i in body["items"]] == [row["id"] for row in everything[1000:1500]]


async def test_csv_export_of_nothing_is_just_the_header(api: SimpleNamespace) -> None:
    response = await api.client.get("/admin/analytics/logs.csv", params={"status": "error"})
    assert response.status_code == 200
    assert response.text.splitlines() == [
        "id,created_at,request_id,project_id,endpoint,requested_model,model,provider,status,"
        "error_code,stream,prompt_tokens,completion_tokens,total_tokens,cost_usd,latency_ms,"
        "ttft_ms,fallback_count"
    ]


# -- bad input and access ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "param", "fragment"),
    [
        ("usage", {"from": "2026-02-02", "to": "2026-02-01"}, "from", "after"),
        ("usage", {"from": "yesterday"}, "from", "ISO date"),
        ("usage", {"to": "2026-13-01"}, "to", "ISO date"),
        ("usage", {"from": "2000-01-01", "to": "2026-01-01"}, "from", "at most"),
        ("usage", {"group_by": "week"}, "group_by", "day, model, provider, project"),
        ("usage", {"project_id": "abc"}, "project_id", "UUID"),
        ("logs", {"from": "2026-02-01T10:00:00Z", "to": "2026-02-01T09:00:00Z"}, "from", "after"),
        ("logs", {"to": "31/01/2026"}, "to", "ISO date"),
        ("logs", {"status": "failed"}, "status", "ok, error, cancelled"),
        ("logs", {"page_size": "501"}, "page_size", "at most 500"),
        ("logs", {"page_size": "0"}, "page_size", "at least 1"),
        ("logs", {"page": "x"}, "page", "whole number"),
        ("logs", {"page": "100000"}, "page", "before_id"),
        ("logs", {"before_id": "999999"}, "before_id", "no usage log"),
        ("logs.csv", {"from": "2026-02-02", "to": "2026-02-01"}, "from", "after"),
        ("logs.csv", {"project_id": "nope"}, "project_id", "UUID"),
    ],
)
async def test_bad_parameters_get_a_400_naming_the_parameter(
    api: SimpleNamespace, path: str, params: dict[str, str], param: str, fragment: str
) -> None:
    response = await api.client.get(f"/admin/analytics/{path}", params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert fragment in error["message"]


async def test_analytics_is_for_the_admin_key_and_panel_users_not_projects(
    api: SimpleNamespace,
) -> None:
    client = api.client
    for username, role in (("root", "admin"), ("vera", "viewer")):
        response = await client.post(
            "/auth/register",
            json={"username": username, "password": "correct-horse-battery-42", "role": role},
        )
        assert response.status_code == 201, response.text
    tokens = {}
    for username in ("root", "vera"):
        response = await client.post(
            "/auth/login", json={"username": username, "password": "correct-horse-battery-42"}
        )
        assert response.status_code == 200, response.text
        tokens[username] = response.json()["token"]
    # Login also set the panel's session cookie (vera's, the last one): it is enough.
    with_cookie = await client.get("/admin/analytics/summary", headers={"X-Api-Key": ""})
    assert with_cookie.status_code == 200
    client.cookies.clear()
    response = await client.post("/admin/projects", json={"name": "analytics-access"})
    assert response.status_code == 201, response.text
    project_key = response.json()["api_key"]
    no_key = {"X-Api-Key": ""}

    for path in ("summary", "usage", "logs", "logs.csv"):
        url = f"/admin/analytics/{path}"
        assert (await client.get(url)).status_code == 200
        anonymous = await client.get(url, headers=no_key)
        assert anonymous.status_code == 401
        assert anonymous.json()["error"]["type"] == "authentication_error"
        assert (await client.get(url, headers={"X-Api-Key": "fwa_wrong"})).status_code == 401
        project = await client.get(url, headers={"X-Api-Key": project_key})
        assert project.status_code == 403, path
        for username in ("root", "vera"):
            bearer = {**no_key, "Authorization": f"Bearer {tokens[username]}"}
            assert (await client.get(url, headers=bearer)).status_code == 200, (path, username)
