"""Job endpoints: ``GET /admin/jobs`` (schedule and last run) and
``POST /admin/jobs/{name}/run`` (run now: queued on SAQ, or run here without Redis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath

from freeway.auth.guards import require_admin, require_reader
from freeway.jobs.registry import JobRunRecord, get_job, last_runs, next_run
from freeway.state import gateway_of


class JobOut(msgspec.Struct):
    name: str
    cron: str
    timeout: float
    retries: int
    run_at_startup: bool
    next_run_at: dt.datetime
    last_run: JobRunRecord | None


class JobList(msgspec.Struct):
    data: list[JobOut]
    mode: str  # "saq" (Redis; `freeway worker` runs them) or "embedded"
    object: str = "list"


@get("/admin/jobs", tags=["admin"], guards=[require_reader])
async def list_jobs(request: Request[Any, Any, Any]) -> JobList:
    """Every job with its schedule and last run (start, duration, outcome, message)."""
    gw = gateway_of(request)
    runs = await last_runs(gw)
    data = [
        JobOut(
            name=job.name,
            cron=job.cron,
            timeout=job.timeout,
            retries=job.retries,
            run_at_startup=job.run_at_startup,
            next_run_at=next_run(job),
            last_run=runs.get(job.name),
        )
        for job in gw.jobs.registry.values()
    ]
    return JobList(data=data, mode=gw.jobs.mode)


@post("/admin/jobs/{name:str}/run", tags=["admin"], guards=[require_admin])
async def run_job_now(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[Any]:
    """Run a job now.  With Redis it is queued for the worker (202); without, it runs
    in this process and the answer carries its outcome (200)."""
    gw = gateway_of(request)
    get_job(gw, name)  # 404 naming the known jobs before anything runs
    result = await gw.jobs.trigger(name)
    return Response(result, status_code=202 if result["status"] == "queued" else 200)
