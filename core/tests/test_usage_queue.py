"""The usage queue: batches by size or time, never blocks, retries, spills, replays."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest

from freeway.errors import ConfigError
from freeway.usage import build_usage_queue
from freeway.usage.queue import UsageQueue
from freeway.usage.records import UsageRecord
from freeway.usage.spill import SpillDir


def rec(i: int) -> UsageRecord:
    return UsageRecord(
        request_id=f"r{i}",
        project_id=None,
        created_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        requested_model="m",
    )


class ListSink:
    def __init__(self, name: str = "list", fail_times: int = 0, delay: float = 0.0) -> None:
        self.name = name
        self.batches: list[list[str]] = []
        self.fail_times = fail_times
        self.delay = delay
        self.calls = 0

    async def write(self, batch: list[UsageRecord]) -> None:
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail_times:
            self.fail_times -= 1
            raise OSError("sink down")
        self.batches.append([r.request_id for r in batch])

    @property
    def ids(self) -> list[str]:
        return [i for b in self.batches for i in b]


def make_queue(tmp_path, sinks, **kw) -> UsageQueue:
    kw.setdefault("batch_size", 10)
    kw.setdefault("flush_interval", 0.05)
    kw.setdefault("retry_delay", 0.01)
    return UsageQueue(sinks, tmp_path / "spill", **kw)


async def wait_for(predicate, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def test_full_batches_go_out_at_once_and_the_rest_after_the_interval(tmp_path):
    sink = ListSink()
    queue = make_queue(tmp_path, [sink], flush_interval=0.3)
    await queue.start()
    for i in range(25):
        queue.submit(rec(i))
    await wait_for(lambda: len(sink.batches) == 2, timeout=0.2)
    assert [len(b) for b in sink.batches] == [10, 10]
    await wait_for(lambda: len(sink.ids) == 25, timeout=1.0)
    assert sink.ids == [f"r{i}" for i in range(25)]
    await queue.close()


async def test_every_sink_gets_every_record_and_a_slow_sink_does_not_hold_others(tmp_path):
    fast, slow = ListSink("fast"), ListSink("slow", delay=0.5)
    queue = make_queue(tmp_path, [fast, slow])
    await queue.start()
    for i in range(10):
        queue.submit(rec(i))
    await wait_for(lambda: len(fast.ids) == 10, timeout=0.3)
    assert slow.ids == []
    await queue.close()
    assert slow.ids == fast.ids


async def test_submit_is_synchronous_and_cheap(tmp_path):
    queue = make_queue(tmp_path, [ListSink()], batch_size=1000, max_size=100_000)
    await queue.start()
    started = time.perf_counter()
    for i in range(50_000):
        queue.submit(rec(i))
    per_call = (time.perf_counter() - started) / 50_000
    assert per_call < 20e-6
    await queue.close()


async def test_a_failing_sink_is_retried_with_backoff_then_succeeds(tmp_path):
    sink = ListSink(fail_times=2)
    queue = make_queue(tmp_path, [sink], retries=3)
    await queue.start()
    for i in range(5):
        queue.submit(rec(i))
    await wait_for(lambda: len(sink.ids) == 5)
    assert sink.calls == 3
    assert queue.spill.pending() == []
    await queue.close()


async def test_a_sink_failing_past_its_retries_spills_and_the_next_start_replays_it(tmp_path):
    down = ListSink("db", fail_times=100)
    healthy = ListSink("file")
    queue = make_queue(tmp_path, [down, healthy], retries=2)
    await queue.start()
    for i in range(5):
        queue.submit(rec(i))
    await wait_for(lambda: queue.stats.spilled == 5)
    assert healthy.ids == [f"r{i}" for i in range(5)]
    await queue.close()
    (spilled,) = queue.spill.pending()
    assert spilled.name.startswith("db.")

    # Next start: the database is back; only it receives the spilled batch.
    db_again, file_again = ListSink("db"), ListSink("file")
    restarted = make_queue(tmp_path, [db_again, file_again])
    await restarted.start()
    await wait_for(lambda: len(db_again.ids) == 5)
    assert db_again.ids == [f"r{i}" for i in range(5)]
    assert file_again.ids == []
    await wait_for(lambda: restarted.spill.pending() == [])
    await restarted.close()


async def test_a_full_queue_spills_records_instead_of_dropping_them(tmp_path):
    sink = ListSink()
    queue = make_queue(tmp_path, [sink], max_size=5, batch_size=100, flush_interval=10)
    # Not started: nothing drains, so the bound is hit.
    for i in range(8):
        queue.submit(rec(i))
    assert queue.pending == 5
    await queue.close()
    # Nothing was delivered; all eight are on disk (3 overflow for every sink, 5 for
    # the sink that never ran) and the next start delivers them.
    assert sink.ids == []
    spilled = sorted(r.request_id for p in queue.spill.pending() for r in SpillDir.read(p))
    assert spilled == sorted(f"r{i}" for i in range(8))
    restarted = make_queue(tmp_path, [ListSink()])
    await restarted.start()
    await wait_for(lambda: len(restarted.sinks[0].ids) == 8)
    assert sorted(restarted.sinks[0].ids) == spilled
    await restarted.close()


async def test_close_drains_everything_queued(tmp_path):
    sink = ListSink()
    queue = make_queue(tmp_path, [sink], batch_size=1000, flush_interval=60)
    await queue.start()
    for i in range(2500):
        queue.submit(rec(i))
    await queue.close()
    assert len(sink.ids) == 2500
    assert queue.spill.pending() == []


async def test_close_spills_what_a_stuck_sink_could_not_take_in_time(tmp_path):
    sink = ListSink(delay=5)
    queue = make_queue(tmp_path, [sink], drain_timeout=0.2)
    await queue.start()
    for i in range(30):
        queue.submit(rec(i))
    started = time.monotonic()
    await queue.close()
    assert time.monotonic() - started < 2
    spilled = [r.request_id for p in queue.spill.pending() for r in SpillDir.read(p)]
    assert sorted(spilled) == sorted(f"r{i}" for i in range(30))


async def test_records_submitted_after_close_are_spilled_not_lost(tmp_path):
    sink = ListSink()
    queue = make_queue(tmp_path, [sink])
    await queue.start()
    await queue.close()
    queue.submit(rec(1))
    queue._spill_overflow()
    assert [r.request_id for r in SpillDir.read(queue.spill.pending()[0])] == ["r1"]


def test_claims_of_a_dead_process_are_taken_over_and_live_ones_left(tmp_path):
    spill = SpillDir(tmp_path)
    path = spill.write("db", [rec(1)])
    dead = path.with_name(path.name + ".claimed-999999999")
    path.rename(dead)
    live = spill.write("db", [rec(2)])
    live_claim = live.with_name(live.name + ".claimed-1")  # pid 1 always exists
    live.rename(live_claim)
    claimed = SpillDir(tmp_path).claim()
    assert [(t, len(SpillDir.read(p))) for t, p in claimed] == [("db", 1)]
    assert live_claim.exists()


def test_sinks_can_be_chosen_by_name(make_settings):
    from freeway.plugins import get_plugin_manager
    from freeway.state import Gateway

    def queue_for(**env):
        settings = make_settings(**env)
        gw = Gateway(settings=settings, pm=get_plugin_manager(settings), db=None)  # type: ignore[arg-type]
        return build_usage_queue(gw)

    assert [s.name for s in queue_for().sinks] == ["database"]
    jsonl = queue_for(USAGE_JSONL_PATH="/tmp/x.jsonl")
    assert [s.name for s in jsonl.sinks] == ["database", "jsonl"]
    only = queue_for(USAGE_JSONL_PATH="/tmp/x.jsonl", FREEWAY_USAGE_SINKS="jsonl")
    assert [s.name for s in only.sinks] == ["jsonl"]
    assert queue_for(FREEWAY_USAGE_SINKS="none").sinks == []
    with pytest.raises(ConfigError, match="FREEWAY_USAGE_SINKS: unknown sink 'nope'"):
        queue_for(FREEWAY_USAGE_SINKS="nope")
