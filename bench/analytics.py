"""Analytics benchmark: every /admin/analytics endpoint against millions of usage rows.

    python bench/analytics.py                      # 1M rows, then 10M rows
    python bench/analytics.py --rows 1000000       # one size
    python bench/analytics.py --reuse              # keep/reuse the loaded databases

For each size it creates a PostgreSQL database (``fw_bench_analytics_<rows>``), applies
the migrations, generates the usage rows inside PostgreSQL (``INSERT … SELECT`` over
``generate_series``: faster than any client-side COPY) spread over the last 90 days,
builds the matching ``usage_daily`` rollups from those rows with the same rules as the
usage sink (per UTC day, project, model, provider; latency histogram per
``freeway.usage.buckets``) and ``usage_daily_totals`` from those (summed over
projects), runs ``VACUUM ANALYZE``, and then times each endpoint
through the real app (``create_app`` + an in-process ASGI client, admin key auth).
Prints one table per size: min, median and p95 of ``--repeat`` calls, and the load
average around them (other processes on the machine inflate the median; the min is
the uncontended cost).

The admin server is ``--admin-url`` (default ``$FREEWAY_BENCH_POSTGRES_URL`` or
``postgresql://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import logging
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from freeway.analytics.export import csv_stream
from freeway.analytics.queries import LogFilters
from freeway.analytics.ranges import parse_datetime_range
from freeway.analytics.service import AnalyticsService
from freeway.app import create_app
from freeway.db import create_database, upgrade
from freeway.settings import load_settings
from freeway.usage.buckets import LATENCY_BUCKETS_MS

ADMIN_KEY = "fwa_bench_admin_key_0123456789abcdefghijklmnop"
DAYS = 90
PROJECTS = 50
CHUNK = 1_000_000
# (gateway model id, provider, USD per 1M prompt tokens, per 1M completion tokens)
MODELS = [
    ("openai/gpt-4o-mini", "openai", 0.15, 0.60),
    ("openai/gpt-4o", "openai", 2.5, 10.0),
    ("openai/o3-mini", "openai", 1.1, 4.4),
    ("openrouter/meta-llama/llama-3.3-70b-instruct:free", "openrouter", 0, 0),
    ("openrouter/google/gemma-3-27b-it:free", "openrouter", 0, 0),
    ("openrouter/anthropic/claude-3.5-haiku", "openrouter", 0.8, 4.0),
    ("gemini/gemini-2.0-flash", "gemini", 0.1, 0.4),
    ("gemini/gemini-1.5-pro", "gemini", 1.25, 5.0),
    ("groq/llama-3.1-8b-instant", "groq", 0.05, 0.08),
    ("groq/llama-3.3-70b-versatile", "groq", 0.59, 0.79),
    ("mistral/mistral-small-latest", "mistral", 0.1, 0.3),
    ("cohere/command-r", "cohere", 0.15, 0.6),
]


def admin_url_default() -> str:
    return os.environ.get(
        "FREEWAY_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    )


def sql_array(values: list[str]) -> str:
    return "(ARRAY[" + ",".join("'" + v.replace("'", "''") + "'" for v in values) + "])"


def insert_logs_sql(start: dt.datetime, rows: int, projects: list[uuid.UUID]) -> str:
    """Rows ``$1..$2`` of ``rows``, created uniformly from ``start`` over DAYS days.

    Projects are skewed (a few big ones), 3% errors, 1% cancelled, 0.5% without a
    project; latencies log-uniform 20 ms–8 s, kept off bucket bounds (``+ 0.5``).
    """
    models = sql_array([m for m, _, _, _ in MODELS])
    providers = sql_array([p for _, p, _, _ in MODELS])
    prompt_prices = "(ARRAY[" + ",".join(str(m[2]) for m in MODELS) + "]::float8[])"
    completion_prices = "(ARRAY[" + ",".join(str(m[3]) for m in MODELS) + "]::float8[])"
    span_us = DAYS * 86_400_000_000 / rows
    project_ids = sql_array([str(p) for p in projects])
    return f"""
    INSERT INTO usage_logs (request_id, project_id, created_at, requested_model, model,
        provider, prompt_tokens, completion_tokens, total_tokens, cost_usd, latency_ms,
        ttft_ms, status, error_code, stream, fallback_count, endpoint)
    SELECT md5(g::text), pid, created_at, requested_model, model, provider, pt, ct,
        pt + ct, (pt * pp + ct * cp) / 1e6, lat, CASE WHEN stream THEN lat / 4 END,
        status, CASE status WHEN 'error' THEN 'provider_unavailable' END, stream,
        CASE WHEN r4 < 0.05 THEN 1 ELSE 0 END, 'chat'
    FROM (
        SELECT g,
            CASE WHEN r1 < 0.005 THEN NULL
                 ELSE ({project_ids}::uuid[])[1 + floor(power(r2, 2) * {len(projects)})::int]
            END AS pid,
            timestamptz '{start.isoformat()}' + ((g + r3) * {span_us}) * interval '1 microsecond'
                AS created_at,
            {models}[mi] AS requested_model,
            CASE WHEN status = 'error' AND r4 < 0.5 THEN NULL ELSE {models}[mi] END AS model,
            CASE WHEN status = 'error' AND r4 < 0.5 THEN NULL ELSE {providers}[mi] END
                AS provider,
            CASE WHEN status = 'ok' THEN floor(r5 * 2000)::int ELSE 0 END AS pt,
            CASE WHEN status = 'ok' THEN floor(r4 * 800)::int ELSE 0 END AS ct,
            {prompt_prices}[mi] AS pp, {completion_prices}[mi] AS cp,
            floor(exp(3 + r5 * 6)) + 0.5 AS lat, status, r3 < 0.4 AS stream, r4
        FROM (
            SELECT g, r1, r2, r3, r4, r5, 1 + floor(r3 * {len(MODELS)})::int AS mi,
                CASE WHEN r1 < 0.96 THEN 'ok' WHEN r1 < 0.99 THEN 'error'
                     ELSE 'cancelled' END AS status
            FROM (
                SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5
                FROM generate_series($1::bigint, $2::bigint) g
            ) raw
        ) picked
    ) shaped
    """


def rollup_sql() -> str:
    """usage_daily from usage_logs, following the usage sink's rules."""
    bounds = "ARRAY[" + ",".join(str(float(b)) for b in LATENCY_BUCKETS_MS) + "]::float8[]"
    slots = ", ".join(
        f"count(*) FILTER (WHERE b = {i})" for i in range(len(LATENCY_BUCKETS_MS) + 1)
    )
    return f"""
    INSERT INTO usage_daily (day, project_id, model, provider, requests, errors, cancelled,
        fallbacks, prompt_tokens, completion_tokens, total_tokens, cost_usd,
        latency_ms_sum, latency_histogram)
    SELECT day, project_id, model, provider, count(*),
        count(*) FILTER (WHERE status = 'error'), count(*) FILTER (WHERE status = 'cancelled'),
        sum(fallback_count), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens),
        sum(cost_usd), sum(latency_ms), jsonb_build_array({slots})
    FROM (
        SELECT (created_at AT TIME ZONE 'UTC')::date AS day, project_id,
            coalesce(model, '') AS model, coalesce(provider, '') AS provider, status,
            fallback_count, prompt_tokens, completion_tokens, total_tokens, cost_usd,
            latency_ms, width_bucket(latency_ms, {bounds}) AS b
        FROM usage_logs WHERE project_id IS NOT NULL
    ) logs
    GROUP BY day, project_id, model, provider
    """


def totals_sql() -> str:
    """usage_daily_totals from usage_daily: the same rows summed over projects."""
    slots = ", ".join(
        f"sum((latency_histogram->>{i})::bigint)" for i in range(len(LATENCY_BUCKETS_MS) + 1)
    )
    return f"""
    INSERT INTO usage_daily_totals (day, model, provider, requests, errors, cancelled,
        fallbacks, prompt_tokens, completion_tokens, total_tokens, cost_usd,
        latency_ms_sum, latency_histogram)
    SELECT day, model, provider, sum(requests), sum(errors), sum(cancelled), sum(fallbacks),
        sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), sum(cost_usd),
        sum(latency_ms_sum), jsonb_build_array({slots})
    FROM usage_daily
    GROUP BY day, model, provider
    """


async def load(admin_url: str, rows: int, reuse: bool) -> tuple[str, dict[str, Any]]:
    """Create and fill the database for ``rows`` rows; returns its SQLAlchemy URL."""
    name = f"fw_bench_analytics_{rows}"
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and not reuse:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = admin_url.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    sa_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    settings = load_settings(
        {"DATABASE_URL": sa_url, "ADMIN_API_KEY": ADMIN_KEY, "JWT_SECRET": ADMIN_KEY},
        env_file=None,
        persist_dev_secrets=False,
    )
    db = create_database(settings)
    info: dict[str, Any] = {}
    began = time.perf_counter()
    await upgrade(db)
    info["migrate_s"] = time.perf_counter() - began
    await db.dispose()
    conn = await asyncpg.connect(url)
    try:
        have = await conn.fetchval("SELECT count(*) FROM usage_logs")
        if have == rows:
            print(f"  reusing {name}: {rows:,} usage rows", flush=True)
        else:
            await conn.execute(
                "TRUNCATE usage_logs, usage_daily, usage_daily_totals, projects RESTART IDENTITY"
            )
            now = dt.datetime.now(dt.UTC)
            # Project n is the n-th biggest (the generator skews towards low n).
            projects = [uuid.UUID(int=n + 1) for n in range(PROJECTS)]
            for n, pid in enumerate(projects):
                await conn.execute(
                    "INSERT INTO projects (id, name, api_key_hash, api_key_prefix, "
                    "rate_limit_per_minute, metadata, is_active, created_at, updated_at) "
                    "VALUES ($1, $2, $3, $4, NULL, '{}', $5, $6, $6)",
                    pid,
                    f"bench-project-{n}",
                    uuid.uuid4().hex * 2,
                    f"fw_{n:05d}",
                    n % 10 != 9,
                    now,
                )
            start = (now - dt.timedelta(days=DAYS - 1)).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            sql = insert_logs_sql(start, rows, projects)
            began = time.perf_counter()
            for lo in range(1, rows + 1, CHUNK):
                hi = min(rows, lo + CHUNK - 1)
                await conn.execute(sql, lo, hi)
                print(
                    f"  {hi:>12,} rows  {time.perf_counter() - began:7.1f} s", end="\r", flush=True
                )
            info["load_s"] = time.perf_counter() - began
            began = time.perf_counter()
            await conn.execute(rollup_sql())
            await conn.execute(totals_sql())
            info["rollup_s"] = time.perf_counter() - began
            print(
                f"  loaded {rows:,} rows in {info['load_s']:.0f} s, "
                f"rollups in {info['rollup_s']:.0f} s",
                flush=True,
            )
        began = time.perf_counter()
        await conn.execute("VACUUM ANALYZE")
        info["vacuum_s"] = time.perf_counter() - began
        info["daily_rows"] = await conn.fetchval("SELECT count(*) FROM usage_daily")
        info["totals_rows"] = await conn.fetchval("SELECT count(*) FROM usage_daily_totals")
        info["logs_size"] = await conn.fetchval(
            "SELECT pg_size_pretty(pg_total_relation_size('usage_logs'))"
        )
        info["sample"] = {
            "big_project": uuid.UUID(int=1),
            "small_project": uuid.UUID(int=41),
            "middle_id": await conn.fetchval(
                "SELECT id FROM usage_logs WHERE id >= (SELECT min(id) FROM usage_logs) + $1 "
                "ORDER BY id LIMIT 1",
                rows // 2,
            ),
        }
    finally:
        await conn.close()
    return sa_url, info


async def timed(call: Callable[[], Awaitable[httpx.Response]], repeat: int) -> list[float]:
    for _ in range(2):  # warm caches and the connection pool
        response = await call()
        if response.status_code != 200:
            raise SystemExit(f"bench call failed: {response.status_code} {response.text[:300]}")
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = await call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def scenarios(info: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    today = dt.datetime.now(dt.UTC).date()
    big, small = str(info["sample"]["big_project"]), str(info["sample"]["small_project"])
    week_ago = (today - dt.timedelta(days=7)).isoformat()
    ninety = (today - dt.timedelta(days=DAYS - 1)).isoformat()
    day = (today - dt.timedelta(days=10)).isoformat()
    q = "/admin/analytics"
    return [
        ("summary", f"{q}/summary", {}),
        ("usage 30d by day", f"{q}/usage", {}),
        ("usage 90d by day", f"{q}/usage", {"from": ninety}),
        ("usage 30d by model", f"{q}/usage", {"group_by": "model"}),
        ("usage 30d by project", f"{q}/usage", {"group_by": "project"}),
        ("usage 90d one project", f"{q}/usage", {"project_id": big, "from": ninety}),
        ("logs page 1", f"{q}/logs", {}),
        ("logs page 1, 500 rows", f"{q}/logs", {"page_size": 500}),
        ("logs page 200", f"{q}/logs", {"page": 200}),
        ("logs before_id (middle)", f"{q}/logs", {"before_id": info["sample"]["middle_id"]}),
        ("logs one project", f"{q}/logs", {"project_id": big}),
        ("logs small project", f"{q}/logs", {"project_id": small}),
        ("logs status=error", f"{q}/logs", {"status": "error"}),
        ("logs status=cancelled, 7d", f"{q}/logs", {"status": "cancelled", "from": week_ago}),
        ("logs model", f"{q}/logs", {"model": "gemini/gemini-1.5-pro"}),
        ("logs one day", f"{q}/logs", {"from": day, "to": day}),
        (
            "logs project+model+error",
            f"{q}/logs",
            {"project_id": small, "model": "groq/llama-3.1-8b-instant", "status": "error"},
        ),
        (
            "logs.csv small project, 1 day",
            f"{q}/logs.csv",
            {"project_id": small, "from": day, "to": day},
        ),
    ]


async def bench_size(admin_url: str, rows: int, repeat: int, reuse: bool) -> None:
    print(f"\n== {rows:,} usage rows ==", flush=True)
    url, info = await load(admin_url, rows, reuse)
    print(
        f"  usage_logs {info['logs_size']} (with indexes), usage_daily "
        f"{info['daily_rows']:,} rows, usage_daily_totals {info['totals_rows']:,} rows; "
        f"migrations {info['migrate_s']:.1f} s, "
        f"VACUUM ANALYZE {info['vacuum_s']:.0f} s",
        flush=True,
    )
    settings = load_settings(
        {
            "DATABASE_URL": url,
            "ADMIN_API_KEY": ADMIN_KEY,
            "JWT_SECRET": ADMIN_KEY,
            "FREEWAY_PLUGINS": "core",
            "LOG_LEVEL": "warning",
        },
        env_file=None,
        persist_dev_secrets=False,
    )
    app = create_app(settings)
    from litestar.testing import AsyncTestClient

    print(f"  load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    print("\n| request | min | median | p95 | answer |\n|---|---:|---:|---:|---|")
    async with AsyncTestClient(app=app, timeout=300) as client:
        client.headers["X-Api-Key"] = ADMIN_KEY
        for label, path, params in scenarios(info):
            response = await client.get(path, params=params)
            samples = await timed(lambda p=path, q=params: client.get(p, params=q), repeat)
            samples.sort()
            p95 = samples[min(len(samples) - 1, round(0.95 * (len(samples) - 1)))]
            print(
                f"| {label} | {samples[0]:.1f} ms | {statistics.median(samples):.1f} ms "
                f"| {p95:.1f} ms | {describe(response)} |",
                flush=True,
            )
    await bench_export(settings)
    print(f"  load average after: {os.getloadavg()[0]:.1f}")


async def bench_export(settings: Any) -> None:
    """A whole day of every project as CSV: time to the first chunk and rows per second.

    Timed on the service (the test client buffers whole responses, so it cannot see
    the first byte); the HTTP layer only forwards the chunks.
    """
    day = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=10)
    start, end = parse_datetime_range(day.isoformat(), day.isoformat())
    db = create_database(settings)
    service = AnalyticsService(db)
    first_chunk: list[float] = []
    try:
        for _ in range(3):
            rows = chunks = 0
            began = time.perf_counter()
            async for chunk in csv_stream(service.iter_logs(LogFilters(start=start, end=end))):
                chunks += 1
                if chunks == 2:  # the first batch of rows, after the header
                    first_chunk.append((time.perf_counter() - began) * 1000)
                rows += chunk.count(b"\n")
            total = time.perf_counter() - began
    finally:
        await db.dispose()
    print(
        f"\nCSV export of one whole day ({rows - 1:,} rows): first 5,000 rows after "
        f"{statistics.median(first_chunk):.1f} ms, all rows in {total:.1f} s "
        f"({(rows - 1) / total:,.0f} rows/s)",
        flush=True,
    )


def describe(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith("text/csv"):
        return f"{response.text.count(chr(10)) - 1} csv rows"
    body = response.json()
    if "items" in body:
        exact = "" if body["total_is_exact"] else "+"
        return f"{len(body['items'])} items, total {body['total']:,}{exact}"
    if "totals" in body:
        return f"{len(body['rows'])} rows, {body['totals']['requests']:,} requests"
    return f"{body['total_requests_this_month']:,} requests this month"


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="rows (repeatable)")
    parser.add_argument("--repeat", type=int, default=20, help="timed calls per endpoint")
    parser.add_argument("--admin-url", default=admin_url_default())
    parser.add_argument("--reuse", action="store_true", help="reuse an already loaded database")
    args = parser.parse_args()
    for rows in args.rows or [1_000_000, 10_000_000]:
        asyncio.run(bench_size(args.admin_url, rows, args.repeat, args.reuse))
    return None


if __name__ == "__main__":
    sys.exit(main())
