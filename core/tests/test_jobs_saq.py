"""Jobs on SAQ with the real Redis: worker, cron once per schedule, dashboard."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from freeway.app import create_app
from freeway.hookspecs import hookimpl
from freeway.jobs.registry import Job, JobContext, last_runs
from freeway.jobs.runtime import standalone_gateway
from freeway.jobs.saq_worker import (
    build_worker,
    enqueue,
    enqueue_startup_runs,
    make_queue,
    run_worker,
)
from freeway.providers.types import Model, make_model
from freeway.state import gateway_of
from freeway.testing import FakeProvider

pytestmark = pytest.mark.redis


class Plugin:
    def __init__(self, providers: list[Any] | None = None, jobs: list[Job] | None = None) -> None:
        self.providers = providers or []
        self.jobs = jobs or []

    @hookimpl
    def freeway_providers(self, settings: Any) -> list[Any]:
        return self.providers

    @hookimpl
    def freeway_jobs(self) -> list[Job]:
        return self.jobs


def free(uid: str, ctx: int) -> Model:
    return make_model("acme", uid, context_length=ctx, prompt_price=0, completion_price=0)


async def eventually(check: Callable[[], Any], timeout: float = 15.0) -> None:
    """Poll ``check`` (sync or async) until it returns truthy, letting other tasks run."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.1)


async def test_a_worker_runs_the_enqueued_refresh_and_the_serving_catalogue_changes(
    make_settings, redis_url
):
    provider = FakeProvider("acme", models=[free("old:free", 8_000)])
    settings = make_settings(FREEWAY_PLUGINS="core", REDIS_URL=redis_url)
    plugin = ("acme", Plugin([provider]))
    app = create_app(settings, extra_plugins=[plugin])
    async with AsyncTestClient(app=app) as client:
        gw = gateway_of(app)
        admin = {"X-Api-Key": settings.admin_api_key or ""}
        assert gw.jobs.mode == "saq" and gw.jobs.scheduler is None  # the worker owns cron

        async def free_ids() -> list[str]:
            body = (await client.get("/models/free")).json()
            return [m["id"] for m in body["data"]]

        assert await free_ids() == []  # nothing refreshed yet: the serving app does not
        stop = asyncio.Event()
        worker = asyncio.create_task(
            run_worker(settings, handle_signals=False, stop=stop, extra_plugins=[plugin])
        )
        try:
            # the worker's startup run fills the catalogue; the app reloads on the message
            await eventually(lambda: _equals(free_ids(), ["acme/old:free"]))
            provider.model_specs = [free("old:free", 8_000), free("new:free", 500_000)]
            response = await client.post("/admin/jobs/refresh-models/run", headers=admin)
            assert response.status_code == 202
            body = response.json()
            assert body["status"] == "queued" and body["job_key"]
            await eventually(lambda: _equals(free_ids(), ["acme/new:free", "acme/old:free"]))
            assert (await client.get("/model/free")).json()["model"]["id"] == "acme/new:free"
            listed = (await client.get("/admin/jobs", headers=admin)).json()
            assert listed["mode"] == "saq"
            refresh = next(j for j in listed["data"] if j["name"] == "refresh-models")
            assert refresh["last_run"]["outcome"] == "ok" and refresh["last_run"]["runs"] == 2
        finally:
            stop.set()
            await asyncio.wait_for(worker, 30)


async def _equals(value: Any, expected: Any) -> bool:
    return (await value) == expected


async def test_two_workers_run_each_cron_schedule_once(make_settings, redis_url):
    scheduled: list[dt.datetime | None] = []

    async def tick(ctx: JobContext) -> None:
        scheduled.append(ctx.scheduled_at)

    job = Job(name="tick", cron="* * * * * */2", function=tick, run_at_startup=False)
    settings = make_settings(FREEWAY_PLUGINS="core", REDIS_URL=redis_url)
    async with standalone_gateway(
        settings, role="worker", extra_plugins=[("ticker", Plugin(jobs=[job]))]
    ) as gw:
        queues = [make_queue(redis_url), make_queue(redis_url)]
        workers = []
        for queue in queues:
            await queue.connect()
            workers.append(build_worker(gw, queue, {"tick": job}))
        tasks = [asyncio.create_task(w.start()) for w in workers]
        try:
            await asyncio.sleep(7)
            pending = await queues[0].job("cron:tick")
            assert pending is not None
            assert pending.timeout == 300 + 5 and pending.retries == 2  # not SAQ's 10 s
        finally:
            for w in workers:
                await w.stop()
            await asyncio.gather(*tasks)
            for queue in queues:
                await queue.disconnect()
        assert len(scheduled) >= 2, scheduled
        assert None not in scheduled
        assert len(set(scheduled)) == len(scheduled), f"a schedule ran twice: {scheduled}"
        assert all(t.second % 2 == 0 for t in scheduled if t is not None)
        assert (await last_runs(gw))["tick"].runs == len(scheduled)


async def test_startup_runs_are_enqueued_once_for_workers_starting_together(
    make_settings, redis_url
):
    settings = make_settings(FREEWAY_PLUGINS="core", REDIS_URL=redis_url)
    async with standalone_gateway(settings, role="worker") as gw:
        queue = make_queue(redis_url)
        await queue.connect()
        try:
            first = await enqueue_startup_runs(gw, queue, gw.jobs.registry)
            second = await enqueue_startup_runs(gw, queue, gw.jobs.registry)
            assert sorted(first) == ["refresh-models", "refresh-project-cache"]
            assert second == []
            assert await queue.count("queued") == 2
        finally:
            await queue.disconnect()


async def test_stopping_the_worker_lets_a_running_job_finish(make_settings, redis_url):
    finished: list[str] = []

    async def slow(ctx: JobContext) -> str:
        await asyncio.sleep(1.0)
        finished.append("slow")
        return "done"

    job = Job(name="slow", cron="0 0 1 1 *", function=slow, run_at_startup=False)
    settings = make_settings(FREEWAY_PLUGINS="core", REDIS_URL=redis_url)
    async with standalone_gateway(
        settings, role="worker", extra_plugins=[("slowjobs", Plugin(jobs=[job]))]
    ) as gw:
        queue = make_queue(redis_url)
        await queue.connect()
        worker = build_worker(gw, queue, {"slow": job}, grace=10)
        task = asyncio.create_task(worker.start())
        try:
            key = await enqueue(queue, job)
            assert key is not None
            await eventually(lambda: _status(queue, key, "active"), timeout=5)
            loop = asyncio.get_running_loop()
            started = loop.time()
            await worker.stop()  # what SIGTERM does
            assert finished == ["slow"]
            assert loop.time() - started < 5
            saq_job = await queue.job(key)
            assert saq_job is not None and saq_job.status == "complete"
            assert (await last_runs(gw))["slow"].outcome == "ok"
            await asyncio.wait_for(task, 5)
        finally:
            await queue.disconnect()


async def test_an_idle_worker_stops_quickly(make_settings, redis_url):
    settings = make_settings(FREEWAY_PLUGINS="core", REDIS_URL=redis_url)
    async with standalone_gateway(settings, role="worker") as gw:
        queue = make_queue(redis_url)
        await queue.connect()
        worker = build_worker(gw, queue, {})
        task = asyncio.create_task(worker.start())
        await asyncio.sleep(0.5)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await worker.stop()
        await asyncio.wait_for(task, 5)
        assert loop.time() - started < 3
        await queue.disconnect()


async def _status(queue: Any, key: str, status: str) -> bool:
    job = await queue.job(key)
    return job is not None and job.status == status


async def test_the_jobs_dashboard_behind_basic_auth(make_settings, redis_url):
    settings = make_settings(
        FREEWAY_PLUGINS="core",
        REDIS_URL=redis_url,
        HANGFIRE_USERNAME="ops",
        HANGFIRE_PASSWORD="s3cret",
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        denied = await client.get("/jobs")
        assert denied.status_code == 401
        assert denied.headers["www-authenticate"].startswith("Basic ")
        wrong = await client.get("/jobs", auth=("ops", "nope"))
        assert wrong.status_code == 401
        page = await client.get("/jobs", auth=("ops", "s3cret"))
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert 'const root_path = "/jobs"' in page.text
        assert (await client.get("/jobs/queues/freeway", auth=("ops", "s3cret"))).status_code == 200
        queues = (await client.get("/jobs/api/queues", auth=("ops", "s3cret"))).json()
        assert [q["name"] for q in queues["queues"]] == ["freeway"]
        script = await client.get("/jobs/static/app.js", auth=("ops", "s3cret"))
        assert script.status_code == 200 and "root_path" in script.text
        css = await client.get("/jobs/static/pico.min.css", auth=("ops", "s3cret"))
        assert css.status_code == 200 and ":root" in css.text  # gzip-only asset, served
        assert (await client.get("/jobs/static/../web.py", auth=("ops", "s3cret"))).status_code in (
            400,
            404,
        )
        missing = await client.get("/jobs/api/queues/freeway/jobs/nope", auth=("ops", "s3cret"))
        assert missing.status_code == 404


def test_freeway_worker_stops_cleanly_on_sigterm(tmp_path, redis_url):
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    env = {
        **os.environ,
        "FREEWAY_DATA_DIR": str(tmp_path / "data"),
        "ADMIN_API_KEY": "fwa_worker_admin_key_0123456789abcdefghijklmnop",
        "JWT_SECRET": "worker-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        "FREEWAY_PLUGINS": "core",
        "REDIS_URL": redis_url,
        "DATABASE_URL": "",
        "LOG_LEVEL": "info",
    }
    worker = subprocess.Popen(
        [sys.executable, "-c", "from freeway.cli import main; main()", "worker"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        # the startup runs execute and finish
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                with sqlite3.connect(tmp_path / "data" / "freeway.db", timeout=5) as conn:
                    rows = conn.execute("SELECT outcome FROM job_runs").fetchall()
            except sqlite3.OperationalError:
                continue  # not migrated yet
            if len(rows) == 2 and all(outcome == "ok" for (outcome,) in rows):
                break
        else:
            raise AssertionError("the worker's startup runs did not complete")
        worker.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _, stderr = worker.communicate(timeout=20)
        assert worker.returncode == 0, stderr
        assert time.monotonic() - started < 10
        assert "worker: stopping" in stderr
        assert "Traceback" not in stderr
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
