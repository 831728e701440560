"""Usage records, the batching queue, sinks and the daily rollup.

``build_usage_queue(gw)`` collects every plugin's ``freeway_usage_sinks`` (filtered by
``FREEWAY_USAGE_SINKS``) into a :class:`UsageQueue`, attached as ``gw.usage``;
the request path calls ``gw.usage.submit(record)``.
"""

from __future__ import annotations

from typing import Any

from freeway.usage.queue import UsageQueue
from freeway.usage.records import UsageRecord, UsageSink, utcnow

__all__ = [
    "UsageQueue",
    "UsageRecord",
    "UsageSink",
    "build_usage_queue",
    "start_usage",
    "stop_usage",
    "utcnow",
]

SPILL_DIR = "usage-spill"


def build_usage_queue(gw: Any) -> UsageQueue:
    """The queue feeding every enabled sink, configured from the gateway's settings."""
    from freeway.errors import ConfigError
    from freeway.plugins import call_list_hook

    settings = gw.settings
    sinks = call_list_hook(gw.pm, "freeway_usage_sinks", settings=settings)
    names = [getattr(s, "name", type(s).__name__) for s in sinks]
    if len(set(names)) != len(names):
        raise ConfigError(f"two usage sinks share a name: {names}; rename one")
    wanted = settings.usage_sinks
    if wanted is not None:
        wanted = [n for n in wanted if n != "none"]
        unknown = set(wanted) - set(names)
        if unknown:
            known = ", ".join(names) or "none"
            raise ConfigError(
                f"FREEWAY_USAGE_SINKS: unknown sink {sorted(unknown)[0]!r} (available: {known})"
            )
        sinks = [s for s, n in zip(sinks, names, strict=True) if n in wanted]
    return UsageQueue(
        sinks,
        settings.data_dir / SPILL_DIR,
        max_size=settings.usage_queue_size,
        batch_size=settings.usage_batch_size,
        flush_interval=settings.usage_flush_interval,
        drain_timeout=settings.usage_drain_timeout,
    )


async def start_usage(gw: Any) -> None:
    """Build the queue, start its sinks and workers, replay spill files (app startup)."""
    gw.usage = build_usage_queue(gw)
    await gw.usage.start(gw)


async def stop_usage(gw: Any) -> None:
    """Drain the queue into the sinks, spilling what cannot be delivered (app shutdown)."""
    if gw.usage is not None:
        await gw.usage.close()
