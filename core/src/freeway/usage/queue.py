"""The usage pipeline: a bounded in-process queue feeding every sink in batches.

``submit(record)`` is what the request path calls: it appends to a list and returns,
no I/O, no awaiting.  A flusher task cuts the list into batches (``usage_batch_size``
records, or whatever arrived within ``usage_flush_interval`` seconds) and hands each
batch to every sink's *lane*: a small queue with its own worker, so one slow or
failing sink never holds up the others.

Nothing is dropped silently:

- the queue is full (``usage_queue_size``) → the record is spilled to disk;
- a sink's lane is full → that batch is spilled for that sink;
- a sink raises → retried with exponential backoff, then the batch is spilled for it;
- shutdown (SIGTERM) → the queue is drained into the sinks for up to
  ``usage_drain_timeout`` seconds, whatever is left is spilled;
- the next start replays every spill file (see :mod:`freeway.usage.spill`).

Only a hard kill (SIGKILL, power loss) loses the records still in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from freeway.usage.records import UsageRecord, UsageSink
from freeway.usage.spill import EVERY_SINK, SpillDir, file_target

log = logging.getLogger(__name__)


@dataclass
class _Item:
    batch: list[UsageRecord]
    done: Callable[[], None] | None = None


@dataclass
class QueueStats:
    """Counters for health checks and tests."""

    submitted: int = 0
    delivered: dict[str, int] = field(default_factory=dict)
    spilled: int = 0
    failures: dict[str, int] = field(default_factory=dict)


class _Lane:
    """One sink's bounded batch queue and the worker that writes to it."""

    def __init__(self, queue: UsageQueue, sink: UsageSink) -> None:
        self.queue = queue
        self.sink = sink
        self.name = getattr(sink, "name", type(sink).__name__)
        self.items: asyncio.Queue[_Item] = asyncio.Queue(maxsize=queue.lane_batches)
        self.task: asyncio.Task[None] | None = None
        self.current: _Item | None = None

    def offer(self, item: _Item) -> None:
        """Queue a batch, or spill it for this sink when the lane is full."""
        try:
            self.items.put_nowait(item)
        except asyncio.QueueFull:
            self.queue._spill(self.name, item)

    async def run(self) -> None:
        while True:
            item = await self.items.get()
            self.current = item
            # Cancelled mid-write (shutdown timed out): `current` stays set so close()
            # spills it.
            await self._deliver(item)
            self.current = None
            self.items.task_done()

    async def _deliver(self, item: _Item) -> None:
        delay = self.queue.retry_delay
        for attempt in range(self.queue.retries + 1):
            try:
                await self.sink.write(item.batch)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                stats = self.queue.stats.failures
                stats[self.name] = stats.get(self.name, 0) + 1
                last = attempt == self.queue.retries or self.queue.closing
                log.warning(
                    "usage sink %s failed on a batch of %d (attempt %d%s): %s",
                    self.name,
                    len(item.batch),
                    attempt + 1,
                    ", spilling to disk" if last else ", will retry",
                    exc,
                )
                if last:
                    self.queue._spill(self.name, item)
                    return
                await asyncio.sleep(delay)
                delay *= 2
            else:
                delivered = self.queue.stats.delivered
                delivered[self.name] = delivered.get(self.name, 0) + len(item.batch)
                if item.done:
                    item.done()
                return


class UsageQueue:
    """Bounded queue of usage records → batches → every sink (see the module doc)."""

    def __init__(
        self,
        sinks: list[UsageSink],
        spill_dir: Path,
        *,
        max_size: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        drain_timeout: float = 10.0,
        retries: int = 3,
        retry_delay: float = 0.5,
        lane_batches: int = 8,
    ) -> None:
        self.sinks = sinks
        self.spill = SpillDir(spill_dir)
        self.max_size = max_size
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.drain_timeout = drain_timeout
        self.retries = retries
        self.retry_delay = retry_delay
        self.lane_batches = lane_batches
        self.stats = QueueStats()
        self.closing = False
        self._buffer: list[UsageRecord] = []
        self._overflow: list[UsageRecord] = []
        self._wake = asyncio.Event()
        self._lanes = [_Lane(self, sink) for sink in sinks]
        self._flusher: asyncio.Task[None] | None = None
        self._replay: asyncio.Task[None] | None = None

    # --- the request path ----------------------------------------------------------

    def submit(self, record: UsageRecord) -> None:
        """Queue one record.  Never blocks, never raises, never does I/O."""
        self.stats.submitted += 1
        if not self._lanes:
            return
        buffer = self._buffer
        if self.closing or len(buffer) >= self.max_size:
            self._overflow.append(record)
            self._wake.set()
            return
        buffer.append(record)
        if len(buffer) >= self.batch_size:
            self._wake.set()

    # --- lifecycle ----------------------------------------------------------------

    async def start(self, gateway: Any = None) -> None:
        """Start the sinks (``start(gateway)`` if they have one), the lanes, the flusher,
        and the replay of spill files left by an earlier run."""
        for sink in self.sinks:
            start = getattr(sink, "start", None)
            if start is not None:
                await start(gateway)
        for lane in self._lanes:
            lane.task = asyncio.create_task(lane.run(), name=f"usage-sink-{lane.name}")
        self._flusher = asyncio.create_task(self._flush_loop(), name="usage-flusher")
        if self._lanes:
            self._replay = asyncio.create_task(self.replay(), name="usage-replay")

    async def close(self) -> None:
        """Drain into the sinks for up to ``drain_timeout`` s, spill the rest, stop."""
        self.closing = True
        if self._replay is not None:
            self._replay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._replay
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        self._cut_batches(final=True)
        self._spill_overflow()
        running = [lane for lane in self._lanes if lane.task is not None]
        try:
            async with asyncio.timeout(self.drain_timeout):
                await asyncio.gather(*(lane.items.join() for lane in running))
        except TimeoutError:
            log.warning("usage: drain timed out after %.1fs, spilling the rest", self.drain_timeout)
        for lane in self._lanes:
            if lane.task is not None:
                lane.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.task
            if lane.current is not None:
                self._spill(lane.name, lane.current)
            while not lane.items.empty():
                self._spill(lane.name, lane.items.get_nowait())
        for sink in self.sinks:
            aclose = getattr(sink, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception as exc:
                    log.warning("usage sink %s failed to close: %s", sink.name, exc)

    async def flush(self) -> None:
        """Deliver everything queued so far and wait for the sinks (tests, jobs)."""
        self._cut_batches(final=True)
        self._spill_overflow()
        await asyncio.gather(*(lane.items.join() for lane in self._lanes))

    @property
    def pending(self) -> int:
        """Records waiting in the queue (not yet handed to the sinks)."""
        return len(self._buffer)

    # --- internals -----------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            # Woken early = a full batch is ready (ship full batches only); timed out =
            # ship whatever is queued, however little.
            woken = True
            try:
                async with asyncio.timeout(self.flush_interval):
                    await self._wake.wait()
            except TimeoutError:
                woken = False
            self._wake.clear()
            try:
                self._cut_batches(final=not woken)
                if self._overflow:
                    await asyncio.to_thread(self._spill_overflow)
            except Exception:  # the flusher must survive anything (disk full…)
                log.exception("usage flusher error")

    def _cut_batches(self, final: bool) -> None:
        buffer = self._buffer
        while buffer and (final or len(buffer) >= self.batch_size):
            batch = buffer[: self.batch_size]
            del buffer[: self.batch_size]
            item = _Item(batch)
            for lane in self._lanes:
                lane.offer(item)

    def _spill_overflow(self) -> None:
        if self._overflow:
            records, self._overflow = self._overflow, []
            self._spill(EVERY_SINK, _Item(records))

    def _spill(self, target: str, item: _Item) -> None:
        try:
            path = self.spill.write(target, item.batch)
        except OSError as exc:
            log.error("usage: cannot spill %d records for %s: %s", len(item.batch), target, exc)
            return
        self.stats.spilled += len(item.batch)
        log.warning("usage: spilled %d records for %s to %s", len(item.batch), target, path)
        if item.done:
            item.done()  # safe on disk again; the file being replayed may go

    async def replay(self) -> None:
        """Hand every spill file's records to its sink(s); delete a file once each of its
        batches was written or spilled again."""
        for target, path in self.spill.claim():
            try:
                records = await asyncio.to_thread(self.spill.read, path)
            except OSError as exc:
                log.error("usage: cannot read spill file %s: %s", path, exc)
                continue
            lanes = [
                lane
                for lane in self._lanes
                if target == EVERY_SINK or file_target(lane.name) == target
            ]
            if not lanes or not records:
                if not lanes:
                    log.warning("usage: spill file %s is for unknown sink %r, kept", path, target)
                    continue
                self.spill.remove(path)
                continue
            batches = [
                records[i : i + self.batch_size] for i in range(0, len(records), self.batch_size)
            ]
            remaining = [len(batches) * len(lanes)]

            def done(path: Path = path, remaining: list[int] = remaining) -> None:
                remaining[0] -= 1
                if remaining[0] == 0:
                    self.spill.remove(path)

            log.info("usage: replaying %d records from %s", len(records), path.name)
            for batch in batches:
                item = _Item(batch, done)
                for lane in lanes:
                    # Leave room in the lane for live traffic, so replaying an old
                    # backlog never pushes new records to disk.
                    while lane.items.qsize() >= max(1, self.lane_batches // 2):
                        await asyncio.sleep(0.05)
                    lane.items.put_nowait(item)
