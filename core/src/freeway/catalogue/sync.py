"""Keep every process's in-memory catalogue in step with the database.

The process that refreshes models or stores a selection swaps its own catalogue at
once.  Others learn about it two ways: with Redis, a message on the
``freeway:catalogue`` channel makes them reload from the database right away; in any
case each serving process compares a cheap fingerprint of the tables every
``poll_interval`` seconds (this is how ``freeway serve --workers 2`` without Redis
stays consistent).  None of this runs on the request path.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import TYPE_CHECKING, Any

from freeway.catalogue.store import fingerprint, load_state
from freeway.tasks import cancel_and_wait

if TYPE_CHECKING:
    from freeway.state import Gateway

log = logging.getLogger(__name__)

CHANNEL = "freeway:catalogue"
POLL_INTERVAL = 15.0
_ORIGIN = "catalogue_origin"


def _origin(gw: Gateway) -> str:
    return gw.extras.setdefault(_ORIGIN, uuid.uuid4().hex)  # type: ignore[no-any-return]


async def reload_catalogue(gw: Gateway) -> None:
    """Replace ``gw.catalogue``'s snapshot with what the database holds."""
    models, selections, refreshed_at = await load_state(gw.db, gw.providers.keys())
    gw.catalogue.replace(models, selections, refreshed_at)


async def announce_change(gw: Gateway) -> None:
    """Tell the other processes (through Redis, when configured) to reload."""
    if gw.redis is None:
        return
    try:
        await gw.redis.publish(CHANNEL, _origin(gw))
    except Exception as exc:  # the poll catches up; a refresh must not fail for this
        log.warning("could not announce the catalogue change on Redis: %s", exc)


class CatalogueSync:
    """Background tasks that reload the catalogue when another process changed it."""

    def __init__(self, gw: Gateway, *, poll_interval: float = POLL_INTERVAL) -> None:
        self.gw = gw
        self.poll_interval = poll_interval
        self.reloads = 0
        self._tasks: list[asyncio.Task[Any]] = []
        self._seen: tuple[Any, ...] | None = None

    async def start(self) -> None:
        try:
            self._seen = await fingerprint(self.gw.db)
        except Exception as exc:
            log.warning("catalogue fingerprint failed: %s", exc)
        self._tasks.append(asyncio.create_task(self._poll(), name="catalogue-poll"))
        if self.gw.redis is not None:
            self._tasks.append(asyncio.create_task(self._listen(), name="catalogue-listen"))

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()

    async def _reload(self) -> None:
        await reload_catalogue(self.gw)
        self.reloads += 1

    async def _poll(self) -> None:
        failing = False
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                current = await fingerprint(self.gw.db)
                if current != self._seen:
                    self._seen = current
                    await self._reload()
                failing = False
            except Exception as exc:
                if not failing:
                    log.warning("catalogue poll failed (will retry): %s", exc)
                failing = True

    async def _listen(self) -> None:
        me = _origin(self.gw)
        delay = 1.0
        while True:
            try:
                async with self.gw.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    delay = 1.0
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        data = message.get("data")
                        origin = data.decode() if isinstance(data, bytes) else str(data)
                        if origin != me:
                            await self._reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "catalogue change listener lost Redis (retrying in %gs): %s", delay, exc
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
