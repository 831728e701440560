"""The in-memory project cache: the hot path's project-key lookup.

``lookup(raw_key)`` hashes the key (SHA-256) and does one dict hit, no database query.
The cache is loaded from the database at startup, refreshed periodically
(``FREEWAY_PROJECT_CACHE_REFRESH`` seconds) and by the ``refresh-project-cache`` job,
and updated at once when a project changes: the replica that made the change reloads
that project, and with ``REDIS_URL`` set it publishes the project id on the Redis
channel ``freeway:projects`` so every other replica reloads it too.  The change waits
(up to a second) until every subscribed replica confirms, so when a rotation returns
the old key is refused everywhere, not only at the next refresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import uuid
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import select

from freeway.db.models import Project
from freeway.projects.keys import hash_key, looks_like_project_key
from freeway.tasks import cancel_and_wait

if TYPE_CHECKING:
    from freeway.db.engine import Database
    from freeway.state import Gateway

log = logging.getLogger("freeway.projects")

CHANNEL = "freeway:projects"
ACK_KEY = "freeway:projects:ack:"
ALL_PROJECTS = "*"
# How long a change waits for every replica to confirm it dropped the old state.
ACK_TIMEOUT = 1.0


class CachedProject(msgspec.Struct, frozen=True):
    """What the hot path needs to know about a project (never the key or its hash)."""

    id: str
    name: str
    rate_limit_per_minute: int | None
    is_active: bool
    metadata: dict[str, Any]


class _Invalidation(msgspec.Struct, frozen=True):
    """A message on ``freeway:projects``: reload ``id`` (``"*"`` = everything), then
    count yourself in ``freeway:projects:ack:<ack>``."""

    id: str
    origin: str = ""
    ack: str = ""


def _cached(row: Project) -> CachedProject:
    return CachedProject(
        id=str(row.id),
        name=row.name,
        rate_limit_per_minute=row.rate_limit_per_minute,
        is_active=row.is_active,
        metadata=dict(row.metadata_ or {}),
    )


async def publish_invalidation(
    redis: Any, project_id: str, origin: str = "", *, timeout: float = ACK_TIMEOUT
) -> bool:
    """Tell every replica to reload ``project_id`` (``"*"`` for all) and wait until each
    subscriber has done so (at most ``timeout`` seconds).  Used by the CLI too.

    Returns whether every replica confirmed in time.  Waiting is what makes a rotation
    "at once": when the admin gets the response, no replica accepts the old key.
    """
    ack = uuid.uuid4().hex
    message = msgspec.json.encode(_Invalidation(id=project_id, origin=origin, ack=ack))
    receivers = int(await redis.publish(CHANNEL, message))
    deadline = asyncio.get_running_loop().time() + timeout
    acked = 0
    while receivers:
        acked = int(await redis.get(ACK_KEY + ack) or 0)
        if acked >= receivers or asyncio.get_running_loop().time() >= deadline:
            break
        await asyncio.sleep(0.002)
    if acked < receivers:
        log.warning(
            "project change: %d of %d replicas confirmed in %.1fs; the rest catch up at "
            "their next refresh",
            acked,
            receivers,
            timeout,
        )
        return False
    return True


class ProjectCache:
    """Project-key → :class:`CachedProject`, held in memory.

    Inactive projects stay in the cache (so their key gets a 403, not a 401); deleted
    projects are dropped (401).
    """

    def __init__(self, db: Database, redis: Any = None, *, refresh_interval: float = 60.0) -> None:
        self._db = db
        self._redis = redis
        self._refresh_interval = refresh_interval
        self._by_hash: dict[str, tuple[str, CachedProject]] = {}
        self._hash_of: dict[str, str] = {}
        # Serialises DB reads + applies, so an older read never overwrites a newer one.
        self._lock = asyncio.Lock()
        self._origin = uuid.uuid4().hex
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub: Any = None

    # -- the hot path -------------------------------------------------------------

    def lookup(self, raw_key: str) -> CachedProject | None:
        """The project of a raw key, or ``None`` for an unknown/deleted key.  No I/O."""
        if not looks_like_project_key(raw_key):
            return None
        digest = hash_key(raw_key)
        entry = self._by_hash.get(digest)
        if entry is None or not hmac.compare_digest(entry[0], digest):
            return None
        return entry[1]

    def get(self, project_id: str) -> CachedProject | None:
        """The cached project with this id, or ``None``."""
        digest = self._hash_of.get(project_id)
        return self._by_hash[digest][1] if digest is not None else None

    def __len__(self) -> int:
        return len(self._hash_of)

    # -- loading ------------------------------------------------------------------

    async def refresh(self) -> int:
        """Reload every project from the database; returns how many are cached."""
        async with self._lock:
            async with self._db.sessionmaker() as session:
                rows = (await session.execute(select(Project))).scalars().all()
            self.replace({row.api_key_hash: _cached(row) for row in rows})
        return len(rows)

    def replace(self, entries: dict[str, CachedProject]) -> None:
        """Swap in a whole snapshot, keyed by SHA-256 hex of the key (one atomic step)."""
        self._by_hash = {digest: (digest, project) for digest, project in entries.items()}
        self._hash_of = {project.id: digest for digest, project in entries.items()}

    async def reload(self, project_id: str) -> None:
        """Reload one project from the database (drops it if it no longer exists)."""
        if project_id == ALL_PROJECTS:
            await self.refresh()
            return
        try:
            key = uuid.UUID(project_id)
        except ValueError:
            return
        async with self._lock:
            async with self._db.sessionmaker() as session:
                row = await session.get(Project, key)
            self._drop(project_id)
            if row is not None:
                self._by_hash[row.api_key_hash] = (row.api_key_hash, _cached(row))
                self._hash_of[project_id] = row.api_key_hash

    def _drop(self, project_id: str) -> None:
        digest = self._hash_of.pop(project_id, None)
        if digest is not None:
            self._by_hash.pop(digest, None)

    async def invalidate(self, project_id: str = ALL_PROJECTS) -> None:
        """A project changed (or was deleted): reload it here and on every replica."""
        await self.reload(project_id)
        if self._redis is not None:
            try:
                await publish_invalidation(self._redis, project_id, self._origin)
            except Exception as exc:  # other replicas catch up at the periodic refresh
                log.warning("could not publish project invalidation to Redis: %s", exc)

    # -- background work ----------------------------------------------------------

    async def start(self) -> None:
        """Load from the database, subscribe to invalidations, start the periodic refresh."""
        await self.refresh()
        if self._redis is not None:
            self._pubsub = await self._subscribe()
            self._tasks.append(asyncio.create_task(self._listen(), name="project-cache-listen"))
        if self._refresh_interval > 0:
            self._tasks.append(asyncio.create_task(self._periodic(), name="project-cache-refresh"))

    async def stop(self) -> None:
        """Stop the listener and the periodic refresh."""
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        await self._close_pubsub()

    async def _subscribe(self) -> Any:
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(CHANNEL)
        return pubsub

    async def _close_pubsub(self) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None

    async def _listen(self) -> None:
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._subscribe()
                    await self.refresh()  # messages may have been missed while away
                message = await self._pubsub.get_message(timeout=None)
                if message is None or message.get("type") != "message":
                    continue
                await self._handle(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("project cache: Redis subscription failed (%s); retrying", exc)
                await self._close_pubsub()
                await asyncio.sleep(1.0)

    async def _handle(self, data: bytes) -> None:
        try:
            event = msgspec.json.decode(data, type=_Invalidation)
        except msgspec.DecodeError:
            log.warning("project cache: ignoring malformed invalidation message")
            return
        if event.origin != self._origin:
            await self.reload(event.id)
        if event.ack:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incr(ACK_KEY + event.ack)
                pipe.expire(ACK_KEY + event.ack, 60)
                await pipe.execute()

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_interval)
            try:
                await self.refresh()
            except Exception as exc:
                log.warning("project cache refresh failed: %s", exc)


async def start_project_cache(gw: Gateway) -> None:
    """Build ``gw.project_cache``, load it and start its background work (app startup)."""
    cache = ProjectCache(gw.db, gw.redis, refresh_interval=gw.settings.project_cache_refresh)
    await cache.start()
    gw.project_cache = cache


async def stop_project_cache(gw: Gateway) -> None:
    """Stop the cache's listener and refresh task (app shutdown)."""
    if gw.project_cache is not None:
        await gw.project_cache.stop()
