"""Raw-log retention: the daily ``prune-usage-logs`` job.

With ``USAGE_LOG_RETENTION_DAYS`` set, raw ``usage_logs`` older than that many days
are deleted in small batches (short transactions, so the usage sink keeps writing);
the ``usage_daily`` rollups are kept, so summary and usage reports are unaffected.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from sqlalchemy import delete, select

from freeway.db.engine import Database
from freeway.db.models import UsageLog

log = logging.getLogger("freeway.analytics")

JOB_NAME = "prune-usage-logs"
PRUNE_BATCH = 10_000


def retention_cutoff(retention_days: int | None, now: dt.datetime) -> dt.datetime | None:
    """Logs created before this instant are pruned; ``None`` keeps everything."""
    if retention_days is None:
        return None
    return now.astimezone(dt.UTC) - dt.timedelta(days=retention_days)


async def prune_usage_logs(
    db: Database, older_than: dt.datetime, batch_size: int = PRUNE_BATCH
) -> int:
    """Delete raw logs created before ``older_than``; returns how many were deleted."""
    deleted = 0
    while True:
        batch = select(UsageLog.id).where(UsageLog.created_at < older_than).limit(batch_size)
        async with db.sessionmaker() as session, session.begin():
            result = await session.execute(delete(UsageLog).where(UsageLog.id.in_(batch)))
        count = int(result.rowcount or 0)  # type: ignore[attr-defined]
        deleted += count
        if count < batch_size:
            return deleted
        await asyncio.sleep(0)  # let request handlers and the sink in between batches


async def prune_usage_logs_job(ctx: Any) -> str:
    """The ``prune-usage-logs`` job: apply ``USAGE_LOG_RETENTION_DAYS``."""
    gw = ctx.gateway
    days = gw.settings.usage_log_retention_days
    cutoff = retention_cutoff(days, dt.datetime.now(dt.UTC))
    if cutoff is None:
        return "USAGE_LOG_RETENTION_DAYS is not set: raw usage logs are kept forever"
    deleted = await prune_usage_logs(gw.db, cutoff)
    if deleted:
        log.info("pruned %d usage logs older than %d days", deleted, days)
    return f"deleted {deleted} usage logs created before {cutoff.isoformat()}"


def retention_job() -> Any:
    """The ``prune-usage-logs`` job: daily at 02:30 UTC (off the catalogue's hours) and
    on demand.  Not at startup: a deploy or a new replica should not start a delete
    burst.  A large first prune may take a while: an hour is allowed, and every
    finished batch stays deleted if it is cut short."""
    from freeway.jobs.registry import Job

    return Job(
        name=JOB_NAME,
        cron="30 2 * * *",
        function=prune_usage_logs_job,
        timeout=3600,
        retries=1,
        run_at_startup=False,
    )
