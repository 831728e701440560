"""``refresh-models``: fetch every provider's models, categorize, store, swap.

Providers are asked concurrently, each with its own timeout.  A provider that fails
(error, timeout, or an empty list where it used to list models) keeps its previous
models and is named in the report; the catalogue is never emptied by a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import TYPE_CHECKING, Any

import msgspec

from freeway.catalogue.normalize import normalize_model
from freeway.catalogue.store import load_selections, save_refresh
from freeway.db.models import utcnow
from freeway.providers.types import Model

if TYPE_CHECKING:
    from freeway.state import Gateway

log = logging.getLogger(__name__)

PROVIDER_TIMEOUT = 30.0


class ProviderOutcome(msgspec.Struct):
    """What one provider contributed to a refresh."""

    provider: str
    ok: bool
    models: int = 0
    skipped: int = 0
    error: str | None = None
    duration_ms: float = 0.0


class RefreshReport(msgspec.Struct):
    """The result of one ``refresh-models`` run."""

    started_at: dt.datetime
    finished_at: dt.datetime
    providers: list[ProviderOutcome]
    available: int
    categories: dict[str, int]

    @property
    def outcome(self) -> str:
        """``ok``, or ``partial`` when some provider failed and kept its old models."""
        return "partial" if self.failed else "ok"

    @property
    def failed(self) -> list[ProviderOutcome]:
        return [p for p in self.providers if not p.ok]

    def summary(self) -> str:
        """One line for logs and ``job_runs.message``."""
        parts = [f"{self.available} models available"]
        parts += [f"{name}: {count}" for name, count in self.categories.items()]
        for outcome in self.failed:
            parts.append(f"{outcome.provider} failed ({outcome.error}); kept its previous models")
        return "; ".join(parts)


async def _fetch(provider: Any, timeout: float) -> tuple[list[Model], int]:
    listed = await asyncio.wait_for(provider.list_models(), timeout)
    if not isinstance(listed, list):
        raise TypeError(f"list_models() returned {type(listed).__name__}, not a list")
    models: dict[str, Model] = {}
    skipped = 0
    for model in listed or []:
        normalized = normalize_model(provider.name, model) if isinstance(model, Model) else None
        if normalized is None:
            skipped += 1
            continue
        models[normalized.id] = normalized
    return list(models.values()), skipped


async def _timed(
    provider: Any, timeout: float
) -> tuple[tuple[list[Model], int] | BaseException, float]:
    clock = time.perf_counter()
    try:
        result: tuple[list[Model], int] | BaseException = await _fetch(provider, timeout)
    except Exception as exc:  # reported per provider; one failure must not stop the others
        result = exc
    return result, round((time.perf_counter() - clock) * 1000, 1)


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return f"no answer within {timeout:g}s"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


async def refresh_models(gw: Gateway, *, timeout: float = PROVIDER_TIMEOUT) -> RefreshReport:
    """Refresh ``gw.catalogue`` from every provider in ``gw.providers``."""
    catalogue = gw.catalogue
    lock: asyncio.Lock = gw.extras.setdefault("catalogue_refresh_lock", asyncio.Lock())
    async with lock:
        started = utcnow()
        providers = list(gw.providers.values())
        results = await asyncio.gather(*(_timed(p, timeout) for p in providers))
        previous: dict[str, int] = {}
        for model in catalogue.all():
            previous[model.provider] = previous.get(model.provider, 0) + 1
        fetched: dict[str, list[Model]] = {}
        outcomes: list[ProviderOutcome] = []
        for provider, (result, elapsed) in zip(providers, results, strict=True):
            name = provider.name
            if isinstance(result, BaseException):
                outcomes.append(
                    ProviderOutcome(
                        name, ok=False, error=_describe(result, timeout), duration_ms=elapsed
                    )
                )
                log.warning("refresh-models: %s failed: %s", name, _describe(result, timeout))
                continue
            models, skipped = result
            if not models and previous.get(name):
                outcomes.append(
                    ProviderOutcome(
                        name,
                        ok=False,
                        skipped=skipped,
                        error="listed no models",
                        duration_ms=elapsed,
                    )
                )
                log.warning("refresh-models: %s listed no models; keeping the previous ones", name)
                continue
            fetched[name] = models
            outcomes.append(
                ProviderOutcome(
                    name, ok=True, models=len(models), skipped=skipped, duration_ms=elapsed
                )
            )

        def categorize(models: list[Model]) -> dict[str, list[str]]:
            by_id: dict[str, list[str]] = {}
            for category, ranked in catalogue.rank(models).items():
                for model in ranked:
                    by_id.setdefault(model.id, []).append(category)
            return by_id

        available = await save_refresh(gw.db, fetched, gw.providers.keys(), categorize)
        finished = utcnow()
        selections = await load_selections(gw.db)
        catalogue.replace(available, selections, finished)
        report = RefreshReport(
            started_at=started,
            finished_at=finished,
            providers=outcomes,
            available=len(available),
            categories={c: len(catalogue.ranked(c)) for c in catalogue.categories()},
        )
        gw.extras["catalogue_last_refresh"] = report
        log.info("refresh-models: %s", report.summary())
    from freeway.catalogue.sync import announce_change

    await announce_change(gw)
    return report
