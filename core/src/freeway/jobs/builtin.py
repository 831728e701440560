"""The core's jobs: ``refresh-models`` (00:00 UTC) and ``refresh-project-cache`` (01:00 UTC)."""

from __future__ import annotations

from freeway.jobs.registry import Job, JobContext


async def refresh_models_job(ctx: JobContext) -> object:
    """Fetch every provider's models and swap the catalogue; fails only if every
    provider failed (then SAQ or the scheduler retries)."""
    from freeway.catalogue.refresh import refresh_models

    gw = ctx.gateway
    report = await refresh_models(gw)
    if report.providers and not any(p.ok for p in report.providers):
        raise RuntimeError("every provider failed: " + report.summary())
    return report


async def refresh_project_cache_job(ctx: JobContext) -> str:
    """Reload the in-memory project cache (project keys) from the database."""
    cache = ctx.gateway.project_cache
    if cache is None:
        return "no project cache in this process"
    await cache.refresh()
    return "project cache reloaded"


def builtin_jobs() -> list[Job]:
    """The jobs the ``core`` plugin contributes."""
    return [
        Job(
            name="refresh-models",
            cron="0 0 * * *",
            function=refresh_models_job,
            timeout=300,
            retries=2,
        ),
        Job(
            name="refresh-project-cache",
            cron="0 1 * * *",
            function=refresh_project_cache_job,
            timeout=120,
            retries=2,
        ),
    ]
