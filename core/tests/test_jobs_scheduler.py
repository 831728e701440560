"""The embedded scheduler (no Redis): one leader per data dir, cron, retries, startup runs."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from freeway.hookspecs import hookimpl
from freeway.jobs.registry import Job, JobContext, last_runs
from freeway.jobs.runtime import standalone_gateway
from freeway.jobs.scheduler import EmbeddedScheduler, FileLock


class Recorder:
    def __init__(self) -> None:
        self.runs: list[tuple[str, dt.datetime | None]] = []
        self.fail_times = 0

    async def tick(self, ctx: JobContext) -> None:
        self.runs.append((ctx.job.name, ctx.scheduled_at))

    async def flaky(self, ctx: JobContext) -> None:
        self.runs.append((ctx.job.name, ctx.scheduled_at))
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("not yet")


class JobsPlugin:
    def __init__(self, *jobs: Job) -> None:
        self.jobs = list(jobs)

    @hookimpl
    def freeway_jobs(self) -> list[Job]:
        return self.jobs


@asynccontextmanager
async def gateway(make_settings, *jobs: Job) -> AsyncIterator[Any]:
    settings = make_settings(FREEWAY_PLUGINS="core")
    async with standalone_gateway(
        settings, role="cli", extra_plugins=[("testjobs", JobsPlugin(*jobs))]
    ) as gw:
        yield gw


def test_only_one_holder_of_the_jobs_lock(tmp_path: Path):
    first, second = FileLock(tmp_path / "jobs.lock"), FileLock(tmp_path / "jobs.lock")
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


async def test_two_schedulers_on_one_data_dir_run_startup_jobs_once(make_settings, tmp_path):
    rec = Recorder()
    job = Job(name="tick", cron="0 0 1 1 *", function=rec.tick, run_at_startup=True)
    async with gateway(make_settings, job) as gw:
        lock = tmp_path / "group" / "jobs.lock"
        jobs = {"tick": job}
        a = EmbeddedScheduler(gw, jobs, lock, relock_interval=0.1)
        b = EmbeddedScheduler(gw, jobs, lock, relock_interval=0.1)
        await a.start()
        await b.start()
        assert await a.wait_leading(2)
        await a.wait_idle()
        await asyncio.sleep(0.3)
        assert not b.is_leader
        assert rec.runs == [("tick", None)]
        # the leader goes away: the other one takes over and runs the startup jobs
        await a.stop()
        assert await b.wait_leading(2)
        await b.wait_idle()
        assert len(rec.runs) == 2
        await b.stop()


async def test_cron_runs_each_scheduled_time_once(make_settings, tmp_path):
    rec = Recorder()
    job = Job(name="tick", cron="* * * * * *", function=rec.tick, run_at_startup=False)
    async with gateway(make_settings, job) as gw:
        scheduler = EmbeddedScheduler(gw, {"tick": job}, tmp_path / "jobs.lock")
        await scheduler.start()
        await asyncio.sleep(2.6)
        await scheduler.stop()
        times = [when for _, when in rec.runs]
        assert 2 <= len(times) <= 3
        assert len(set(times)) == len(times)
        assert all(t is not None and t.microsecond == 0 for t in times)
        assert (await last_runs(gw))["tick"].runs == len(times)


async def test_a_failed_run_is_retried_up_to_the_job_retries(make_settings, tmp_path):
    rec = Recorder()
    rec.fail_times = 5
    job = Job(name="flaky", cron="0 0 1 1 *", function=rec.flaky, retries=2)
    async with gateway(make_settings, job) as gw:
        scheduler = EmbeddedScheduler(gw, {"flaky": job}, tmp_path / "jobs.lock", retry_delay=0.01)
        await scheduler.start()
        assert await scheduler.wait_leading(2)
        await scheduler.wait_idle()
        await scheduler.stop()
        assert len(rec.runs) == 3  # the first try and two retries
        last = (await last_runs(gw))["flaky"]
        assert last.outcome == "error" and last.runs == 3


async def test_a_retry_that_succeeds_stops_retrying(make_settings, tmp_path):
    rec = Recorder()
    rec.fail_times = 1
    job = Job(name="flaky", cron="0 0 1 1 *", function=rec.flaky, retries=3)
    async with gateway(make_settings, job) as gw:
        scheduler = EmbeddedScheduler(gw, {"flaky": job}, tmp_path / "jobs.lock", retry_delay=0.01)
        await scheduler.start()
        assert await scheduler.wait_leading(2)
        await scheduler.wait_idle()
        await scheduler.stop()
        assert len(rec.runs) == 2
        assert (await last_runs(gw))["flaky"].outcome == "ok"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_with_two_workers_runs_the_startup_jobs_once(tmp_path: Path):
    """`freeway serve --workers 2` without Redis: two processes, one scheduler."""
    port = _free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "FREEWAY_DATA_DIR": str(data),
        "ADMIN_API_KEY": "fwa_serve_admin_key_0123456789abcdefghijklmnop",
        "JWT_SECRET": "serve-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        "FREEWAY_PLUGINS": "core",
        "REDIS_URL": "",
        "DATABASE_URL": "",
        "LOG_LEVEL": "warning",
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from freeway.cli import main; main()",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        runs: dict[str, tuple[int, str]] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(0.5)
            if not (data / "freeway.db").exists():
                continue
            try:
                with sqlite3.connect(data / "freeway.db", timeout=5) as conn:
                    rows = conn.execute("SELECT name, runs, outcome FROM job_runs").fetchall()
            except sqlite3.OperationalError:
                continue  # not migrated yet
            runs = {name: (count, outcome) for name, count, outcome in rows}
            if all(o != "running" for _, o in runs.values()) and len(runs) == 2:
                break
        time.sleep(2)  # time for a second process to (wrongly) run them too
        with sqlite3.connect(data / "freeway.db", timeout=5) as conn:
            rows = conn.execute("SELECT name, runs, outcome FROM job_runs").fetchall()
        assert sorted(rows) == [("refresh-models", 1, "ok"), ("refresh-project-cache", 1, "ok")]
        holder = (data / "jobs.lock").read_text().strip()
        assert holder.isdigit() and int(holder) != server.pid  # a worker process leads
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
