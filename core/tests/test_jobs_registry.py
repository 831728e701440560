"""Jobs without Redis: run_job bookkeeping, /admin/jobs, the CLI, job validation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from freeway.app import create_app
from freeway.errors import NotFound, PluginError
from freeway.hookspecs import hookimpl
from freeway.jobs.registry import Job, JobContext, collect_jobs, last_runs, run_job
from freeway.jobs.runtime import standalone_gateway
from freeway.plugins import get_plugin_manager
from freeway.providers.types import make_model
from freeway.state import gateway_of
from freeway.testing import FakeProvider

CALLS: list[str] = []


async def ok_job(ctx: JobContext) -> str:
    CALLS.append(ctx.job.name)
    return "did the thing"


async def failing_job(ctx: JobContext) -> None:
    raise RuntimeError("upstream said no")


async def slow_job(ctx: JobContext) -> None:
    await asyncio.sleep(5)


class JobsPlugin:
    def __init__(self, *jobs: Job, providers: list[Any] | None = None) -> None:
        self.jobs = list(jobs)
        self.providers = providers or []

    @hookimpl
    def freeway_jobs(self) -> list[Job]:
        return self.jobs

    @hookimpl
    def freeway_providers(self, settings: Any) -> list[Any]:
        return self.providers


TEST_JOBS = (
    Job(name="ok", cron="0 3 * * *", function=ok_job, run_at_startup=False),
    Job(name="fails", cron="0 3 * * *", function=failing_job, run_at_startup=False),
    Job(name="slow", cron="0 3 * * *", function=slow_job, timeout=0.2, run_at_startup=False),
)


@asynccontextmanager
async def gateway(make_settings, **env: Any) -> AsyncIterator[Any]:
    settings = make_settings(FREEWAY_PLUGINS="core", **env)
    async with standalone_gateway(
        settings, role="cli", extra_plugins=[("testjobs", JobsPlugin(*TEST_JOBS))]
    ) as gw:
        yield gw


async def test_core_registers_the_two_refresh_jobs(make_settings):
    async with gateway(make_settings) as gw:
        registry = gw.jobs.registry
        assert registry["refresh-models"].cron == "0 0 * * *"
        assert registry["refresh-project-cache"].cron == "0 1 * * *"
        assert registry["refresh-models"].timeout > 10  # SAQ's 10 s default is too short
        assert registry["refresh-models"].run_at_startup


async def test_run_job_records_outcome_duration_and_run_count(make_settings, database_url):
    async with gateway(make_settings, DATABASE_URL=database_url) as gw:
        first = await run_job(gw, "ok")
        second = await run_job(gw, "ok")
        assert (first.outcome, first.message) == ("ok", "did the thing")
        assert second.runs == 2 and second.duration_ms is not None
        failed = await run_job(gw, "fails")
        assert failed.outcome == "error"
        assert failed.message == "RuntimeError: upstream said no"
        timed_out = await run_job(gw, "slow")
        assert timed_out.outcome == "timeout" and "0.2s" in (timed_out.message or "")
        runs = await last_runs(gw)
        assert runs["ok"].outcome == "ok" and runs["ok"].runs == 2
        assert runs["fails"].outcome == "error" and runs["fails"].finished_at is not None
        assert runs["slow"].outcome == "timeout"
        with pytest.raises(NotFound, match="unknown job 'nope'"):
            await run_job(gw, "nope")


async def test_refresh_project_cache_job_reloads_the_cache(make_settings):
    async with gateway(make_settings) as gw:
        refreshed: list[bool] = []

        class Cache:
            async def refresh(self) -> None:
                refreshed.append(True)

        original, gw.project_cache = gw.project_cache, Cache()
        try:
            record = await run_job(gw, "refresh-project-cache")
        finally:
            gw.project_cache = original
        assert record.outcome == "ok" and refreshed == [True]


def test_duplicate_job_names_and_bad_cron_name_the_plugin(make_settings):
    settings = make_settings(FREEWAY_PLUGINS="core")
    twin = Job(name="refresh-models", cron="* * * * *", function=ok_job)
    pm = get_plugin_manager(settings, extra_plugins=[("copycat", JobsPlugin(twin))])
    with pytest.raises(PluginError, match="'core' and 'copycat'"):
        collect_jobs(pm)
    bad = Job(name="x", cron="every day", function=ok_job)
    pm = get_plugin_manager(settings, extra_plugins=[("sloppy", JobsPlugin(bad))])
    with pytest.raises(PluginError, match=r"'sloppy'.*invalid cron 'every day'"):
        collect_jobs(pm)


# --- HTTP ----------------------------------------------------------------------------


@asynccontextmanager
async def client_for(make_settings, **env: Any) -> AsyncIterator[AsyncTestClient]:
    provider = FakeProvider("acme", models=[make_model("acme", "m:free", context_length=10)])
    settings = make_settings(FREEWAY_PLUGINS="core", **env)
    app = create_app(
        settings, extra_plugins=[("testjobs", JobsPlugin(*TEST_JOBS, providers=[provider]))]
    )
    async with AsyncTestClient(app=app) as client:
        gw = gateway_of(app)

        async def settle() -> None:
            assert await gw.jobs.scheduler.wait_leading(5)
            await gw.jobs.scheduler.wait_idle()

        client.blocking_portal.call(settle)
        yield client


def admin(client: AsyncTestClient) -> dict[str, str]:
    return {"X-Api-Key": gateway_of(client.app).settings.admin_api_key or ""}


async def test_admin_jobs_lists_schedule_and_last_run(make_settings):
    async with client_for(make_settings) as client:
        assert (await client.get("/admin/jobs")).status_code == 401
        body = (await client.get("/admin/jobs", headers=admin(client))).json()
        assert body["mode"] == "embedded"
        jobs = {j["name"]: j for j in body["data"]}
        # the startup runs already happened
        refresh = jobs["refresh-models"]
        assert refresh["cron"] == "0 0 * * *"
        assert refresh["next_run_at"].endswith(("T00:00:00Z", "T00:00:00+00:00"))
        assert refresh["last_run"]["outcome"] == "ok"
        assert refresh["last_run"]["duration_ms"] >= 0
        assert "1 models available" in refresh["last_run"]["message"]
        assert jobs["refresh-project-cache"]["last_run"]["outcome"] == "ok"
        assert jobs["ok"]["last_run"] is None  # run_at_startup=False


async def test_post_run_runs_the_job_here_without_redis(make_settings):
    async with client_for(make_settings) as client:
        response = await client.post("/admin/jobs/fails/run", headers=admin(client))
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "finished"
        assert body["run"]["outcome"] == "error"
        assert body["run"]["message"] == "RuntimeError: upstream said no"
        ok = (await client.post("/admin/jobs/refresh-models/run", headers=admin(client))).json()
        assert ok["run"]["outcome"] == "ok"
        listed = (await client.get("/admin/jobs", headers=admin(client))).json()["data"]
        assert next(j for j in listed if j["name"] == "fails")["last_run"]["outcome"] == "error"
        assert next(j for j in listed if j["name"] == "refresh-models")["last_run"]["runs"] == 2


async def test_post_run_unknown_job_is_a_404_naming_it(make_settings):
    async with client_for(make_settings) as client:
        response = await client.post("/admin/jobs/nope/run", headers=admin(client))
        assert response.status_code == 404
        message = response.json()["error"]["message"]
        assert "'nope'" in message and "refresh-models" in message
        anonymous = await client.post("/admin/jobs/refresh-models/run")
        assert anonymous.status_code == 401


async def test_the_jobs_dashboard_is_off_without_credentials(make_settings):
    async with client_for(make_settings) as client:
        response = await client.get("/jobs")
        assert response.status_code == 404
        assert "JOBS_USERNAME" in response.json()["error"]["message"]


async def test_the_jobs_dashboard_needs_redis(make_settings):
    async with client_for(make_settings, JOBS_USERNAME="ops", JOBS_PASSWORD="s3cret") as client:
        assert (await client.get("/jobs")).status_code == 401
        response = await client.get("/jobs", auth=("ops", "s3cret"))
        assert response.status_code == 404
        assert "REDIS_URL" in response.json()["error"]["message"]


# --- CLI -----------------------------------------------------------------------------


def cli_env(tmp_path) -> dict[str, str]:
    return {
        "FREEWAY_DATA_DIR": str(tmp_path / "cli-data"),
        "ADMIN_API_KEY": "fwa_cli_admin_key_0123456789abcdefghijklmnop",
        "JWT_SECRET": "cli-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz",
        "FREEWAY_PLUGINS": "core",
        "FREEWAY_HTTP_TRANSPORT": "httpx",
        "LOG_LEVEL": "warning",
        "REDIS_URL": "",
        "DATABASE_URL": "",
    }


def test_cli_jobs_run_and_list(tmp_path, monkeypatch):
    from freeway.cli import main

    monkeypatch.chdir(tmp_path)  # no stray .env / freeway.toml
    runner = CliRunner()
    env = cli_env(tmp_path)
    result = runner.invoke(main, ["jobs", "run", "refresh-models"], env=env)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("refresh-models: ok in ")
    listed = runner.invoke(main, ["jobs", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[0].split()[:2] == ["NAME", "CRON"]
    refresh = next(line for line in lines if line.startswith("refresh-models"))
    assert " ok " in refresh and "0 0 * * *" in refresh
    cache = next(line for line in lines if line.startswith("refresh-project-cache"))
    assert "never run" in cache
    missing = runner.invoke(main, ["jobs", "run", "nope"], env=env)
    assert missing.exit_code == 2
    assert "unknown job 'nope'" in missing.output


def test_cli_worker_without_redis_says_what_is_missing(tmp_path, monkeypatch):
    from freeway.cli import main

    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["worker"], env=cli_env(tmp_path))
    assert result.exit_code == 2
    assert "REDIS_URL" in result.output
