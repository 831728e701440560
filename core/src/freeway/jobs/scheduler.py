"""The embedded scheduler: runs the jobs inside ``freeway serve`` when there is no Redis.

Exactly one process of a process group runs them: the one holding an exclusive lock
on ``<data dir>/jobs.lock`` (so ``freeway serve --workers 2`` does not run a job
twice).  The others try to take the lock every ``relock_interval`` seconds, so the
schedule survives the death of the process that held it.  The leader runs the
``run_at_startup`` jobs once when it takes the lock, then each job on its cron
(UTC), retrying a failed run up to ``job.retries`` times with a growing delay.

The lock is a file lock, so it only coordinates processes on one machine; replicas on
several machines need ``REDIS_URL`` (the SAQ worker).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from freeway.jobs.registry import Job, next_run, run_job
from freeway.tasks import cancel_and_wait

if TYPE_CHECKING:
    from freeway.state import Gateway

log = logging.getLogger(__name__)

LOCK_FILE = "jobs.lock"


class FileLock:
    """A non-blocking exclusive ``flock`` held for the life of the process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> bool:
        if self._fh is not None:
            return True
        try:
            import fcntl
        except ImportError:  # not POSIX: a single process is assumed
            self._fh = open(os.devnull)  # noqa: SIM115
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - held open while we lead
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            self._fh.close()  # closing the descriptor drops the flock
            self._fh = None


class EmbeddedScheduler:
    """Runs ``jobs`` on their cron schedule in this process while it holds the lock."""

    def __init__(
        self,
        gw: Gateway,
        jobs: dict[str, Job],
        lock_path: Path,
        *,
        run_startup: bool = True,
        relock_interval: float = 30.0,
        retry_delay: float = 30.0,
    ) -> None:
        self.gw = gw
        self.jobs = jobs
        self.lock = FileLock(lock_path)
        self.run_startup = run_startup
        self.relock_interval = relock_interval
        self.retry_delay = retry_delay
        self.next_runs: dict[str, dt.datetime] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._main: asyncio.Task[None] | None = None
        self._job_locks = {name: asyncio.Lock() for name in jobs}
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._leading = asyncio.Event()

    @property
    def is_leader(self) -> bool:
        return self.lock.held

    async def start(self) -> None:
        self._main = asyncio.create_task(self._lead(), name="jobs-scheduler")

    async def stop(self) -> None:
        await cancel_and_wait([self._main, *self._tasks])
        self._tasks.clear()
        self.lock.release()

    async def wait_leading(self, timeout: float) -> bool:
        """Wait until this process leads (tests, diagnostics)."""
        try:
            await asyncio.wait_for(self._leading.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_idle(self) -> None:
        """Wait until no job run is in progress (tests, diagnostics)."""
        await asyncio.sleep(0)
        await self._idle.wait()

    def _spawn(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _lead(self) -> None:
        while not self.lock.acquire():
            await asyncio.sleep(self.relock_interval)
        log.info("embedded job scheduler running in process %d", os.getpid())
        self._leading.set()
        if self.run_startup:
            for job in self.jobs.values():
                if job.run_at_startup:
                    self._running += 1  # counted now so wait_idle() sees it at once
                    self._idle.clear()
                    self._spawn(self._run(job, counted=True), f"job-startup-{job.name}")
        for job in self.jobs.values():
            self._spawn(self._cron(job), f"job-cron-{job.name}")

    async def _cron(self, job: Job) -> None:
        while True:
            due = next_run(job)
            self.next_runs[job.name] = due
            while (wait := (due - dt.datetime.now(dt.UTC)).total_seconds()) > 0:
                # Short naps so a wall-clock jump does not make us miss a run by hours.
                await asyncio.sleep(min(wait, 60.0))
            await self._run(job, scheduled_at=due)

    async def _run(
        self, job: Job, *, counted: bool = False, scheduled_at: dt.datetime | None = None
    ) -> None:
        if not counted:
            self._running += 1
            self._idle.clear()
        try:
            async with self._job_locks[job.name]:
                for attempt in range(1, job.retries + 2):
                    record = await run_job(
                        self.gw, job.name, attempt=attempt, scheduled_at=scheduled_at
                    )
                    if record.outcome in ("ok", "partial") or attempt > job.retries:
                        break
                    await asyncio.sleep(self.retry_delay * 2 ** (attempt - 1))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("job %s could not be run", job.name)
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()
