"""``DisconnectWatch``: a client leaving cancels the upstream wait; nothing else does."""

from __future__ import annotations

import asyncio

import pytest

from freeway.api.proxy import ClientGone, DisconnectWatch, watched


async def test_a_quick_call_never_touches_receive() -> None:
    calls = 0

    async def receive() -> dict[str, str]:
        nonlocal calls
        calls += 1
        return {"type": "http.disconnect"}

    watch = DisconnectWatch(receive, delay=0.05)
    await asyncio.sleep(0.01)  # the upstream answered quickly
    watch.stop()
    await asyncio.sleep(0.1)
    assert calls == 0 and not watch.gone


async def test_the_client_leaving_cancels_the_wait_and_is_told_apart() -> None:
    left = asyncio.Event()

    async def receive() -> dict[str, str]:
        await left.wait()
        return {"type": "http.disconnect"}

    async def handler() -> str:
        watch = DisconnectWatch(receive, delay=0.01)
        try:
            await asyncio.sleep(10)  # the upstream call
        except asyncio.CancelledError:
            if watch.settle():
                return "client left"
            raise
        finally:
            watch.stop()
        return "answered"

    task = asyncio.create_task(handler())
    await asyncio.sleep(0.05)
    left.set()
    assert await asyncio.wait_for(task, 2) == "client left"
    assert task.cancelling() == 0  # the cancellation was consumed


async def test_a_real_cancellation_is_not_mistaken_for_the_client_leaving() -> None:
    async def receive() -> dict[str, str]:
        await asyncio.Event().wait()  # the client stays
        return {"type": "http.disconnect"}

    async def handler() -> None:
        watch = DisconnectWatch(receive, delay=0.01)
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            assert not watch.settle()
            raise
        finally:
            watch.stop()

    task = asyncio.create_task(handler())
    await asyncio.sleep(0.05)
    task.cancel()  # e.g. the server shutting down
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_watched_turns_the_client_leaving_into_client_gone() -> None:
    async def receive() -> dict[str, str]:
        await asyncio.sleep(0.02)
        return {"type": "http.disconnect"}

    async def handler() -> str:
        try:
            await watched(receive, asyncio.sleep(10, "answered"))
        except ClientGone:
            return "client left"
        return "answered"

    task = asyncio.create_task(handler())
    assert await asyncio.wait_for(task, 2) == "client left"
    assert task.cancelling() == 0
