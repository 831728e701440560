"""``freeway worker`` and ``freeway jobs list|run``."""

from __future__ import annotations

import asyncio
import sys

import click
import msgspec

from freeway.cli import friendly_errors, get_settings


@click.command("worker")
@click.option("--concurrency", default=4, show_default=True, help="Jobs run at the same time.")
@click.option(
    "--grace",
    default=60.0,
    show_default=True,
    help="Seconds running jobs get to finish on SIGTERM/SIGINT before they are re-queued.",
)
@friendly_errors
def worker(concurrency: int, grace: float) -> None:
    """Run the jobs on the SAQ queue in Redis (needs REDIS_URL)."""
    from freeway.jobs.saq_worker import run_worker
    from freeway.logs import configure_logging

    settings = get_settings()
    configure_logging(settings)
    asyncio.run(run_worker(settings, concurrency=concurrency, grace=grace))


@click.group("jobs")
def jobs() -> None:
    """Background jobs: list them, run one now."""


@jobs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly_errors
def jobs_list(as_json: bool) -> None:
    """Every job with its schedule, next run and last outcome."""
    from freeway.jobs.registry import last_runs, next_run
    from freeway.jobs.runtime import standalone_gateway

    async def collect() -> list[dict[str, object]]:
        async with standalone_gateway(get_settings(), role="cli") as gw:
            runs = await last_runs(gw)
            return [
                {
                    "name": job.name,
                    "cron": job.cron,
                    "next_run_at": next_run(job).isoformat(timespec="seconds"),
                    "last_run": msgspec.to_builtins(runs.get(job.name)),
                }
                for job in gw.jobs.registry.values()
            ]

    rows = asyncio.run(collect())
    if as_json:
        click.echo(msgspec.json.encode(rows).decode())
        return
    table = [("NAME", "CRON", "NEXT RUN (UTC)", "LAST OUTCOME", "LAST STARTED", "MS")]
    for row in rows:
        last = row["last_run"] or {}
        assert isinstance(last, dict)
        table.append(
            (
                str(row["name"]),
                str(row["cron"]),
                str(row["next_run_at"]),
                str(last.get("outcome", "never run")),
                str(last.get("started_at") or "")[:19],
                str(last.get("duration_ms") or ""),
            )
        )
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        click.echo("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip())


@jobs.command("run")
@click.argument("name")
@friendly_errors
def jobs_run(name: str) -> None:
    """Run job NAME now in this process and print its outcome (exit 1 if it failed)."""
    from freeway.jobs.registry import get_job, run_job
    from freeway.jobs.runtime import standalone_gateway
    from freeway.logs import configure_logging

    settings = get_settings()
    configure_logging(settings)

    async def run() -> tuple[str, str | None, float | None]:
        async with standalone_gateway(settings, role="cli") as gw:
            get_job(gw, name)
            record = await run_job(gw, name)
            return record.outcome, record.message, record.duration_ms

    outcome, message, duration = asyncio.run(run())
    click.echo(
        f"{name}: {outcome} in {duration or 0:.0f} ms" + (f" — {message}" if message else "")
    )
    if outcome not in ("ok", "partial"):
        sys.exit(1)
