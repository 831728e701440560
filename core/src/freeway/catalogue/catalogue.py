"""The in-memory model catalogue that serves every request.

A :class:`Catalogue` holds one immutable snapshot (models, ranked categories,
selections, precomputed lookups).  A refresh, a reload from the database or a new
admin selection builds a whole new snapshot and swaps it in with one assignment, so a
request always sees a consistent catalogue and never waits for, or queries, the
database.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import msgspec

from freeway.catalogue.rankers import Ranker
from freeway.providers.types import Model

log = logging.getLogger(__name__)


class Selection(msgspec.Struct, frozen=True):
    """An admin's choice for a category, with who made it and when."""

    category: str
    model_id: str
    selected_by: str
    selected_at: dt.datetime


class ModelOut(msgspec.Struct):
    """A model as the API shows it."""

    id: str
    provider: str
    name: str
    context_length: int | None
    prompt_price_per_million: float | None
    completion_price_per_million: float | None
    image_price: float | None
    input_modalities: list[str]
    output_modalities: list[str]
    is_free: bool
    supports_tools: bool | None = None
    available: bool = True


def model_out(model: Model, *, available: bool = True) -> ModelOut:
    """The API shape of a model."""
    return ModelOut(
        id=model.id,
        provider=model.provider,
        name=model.name,
        context_length=model.context_length,
        prompt_price_per_million=model.prompt_price,
        completion_price_per_million=model.completion_price,
        image_price=model.image_price,
        input_modalities=list(model.input_modalities),
        output_modalities=list(model.output_modalities),
        is_free=model.is_free,
        supports_tools=model.supports_tools,
        available=available,
    )


@dataclass(frozen=True)
class _Snapshot:
    models: dict[str, Model] = field(default_factory=dict)
    ranked: dict[str, list[Model]] = field(default_factory=dict)
    members: dict[str, frozenset[str]] = field(default_factory=dict)
    by_upstream: dict[str, list[Model]] = field(default_factory=dict)
    selections: dict[str, Selection] = field(default_factory=dict)
    chosen: dict[str, Model] = field(default_factory=dict)
    candidates: dict[str, list[Model]] = field(default_factory=dict)
    out: dict[str, ModelOut] = field(default_factory=dict)
    refreshed_at: dt.datetime | None = None


class Catalogue:
    """Every available model, ranked per category; all lookups are in memory.

    ``rankers`` maps category → ranker (see :func:`~freeway.catalogue.rankers.collect_rankers`);
    ``provider_order`` is the priority used when one upstream id is listed by several
    providers.  Returned lists are fresh copies: callers may filter them freely.
    """

    def __init__(self, rankers: dict[str, Ranker], provider_order: Sequence[str] = ()) -> None:
        self.rankers = dict(rankers)
        self.provider_order = list(provider_order)
        self._snap = _Snapshot()

    # --- reads (hot path) ---

    def categories(self) -> list[str]:
        """Every category a ranker serves (``free``, ``paid``, ``image``, plugin ones)."""
        return list(self.rankers)

    def ranked(self, category: str) -> list[Model]:
        """Available members of ``category``, ranker order; ``[]`` for an unknown one."""
        return list(self._snap.ranked.get(category, ()))

    def selected(self, category: str) -> Model | None:
        """The admin's selection while it is available and in the category, else the
        top-ranked model; ``None`` when the category is empty."""
        return self._snap.chosen.get(category)

    def candidates(self, category: str) -> list[Model]:
        """The selected model first, then the rest in ranked order."""
        return list(self._snap.candidates.get(category, ()))

    def get(self, model_id: str) -> Model | None:
        """An available model by gateway id (``<provider>/<upstream id>``)."""
        return self._snap.models.get(model_id)

    def by_upstream_id(self, upstream_id: str) -> list[Model]:
        """Every provider's model with this upstream id, in provider priority order."""
        return list(self._snap.by_upstream.get(upstream_id, ()))

    def all(self) -> list[Model]:
        """Every available model."""
        return list(self._snap.models.values())

    def in_category(self, model_id: str, category: str) -> bool:
        return model_id in self._snap.members.get(category, frozenset())

    def selection(self, category: str) -> Selection | None:
        """The stored admin selection for ``category`` (even if its model is gone)."""
        return self._snap.selections.get(category)

    def is_fallback(self, category: str) -> bool:
        """True when an admin selection exists but its model is unavailable or left the
        category, so the top-ranked model serves instead."""
        selection = self._snap.selections.get(category)
        if selection is None:
            return False
        chosen = self._snap.chosen.get(category)
        return chosen is None or chosen.id != selection.model_id

    def out(self, model: Model) -> ModelOut:
        """The API shape of an available model (precomputed per snapshot)."""
        return self._snap.out.get(model.id) or model_out(model)

    @property
    def refreshed_at(self) -> dt.datetime | None:
        """When the models were last fetched from the providers."""
        return self._snap.refreshed_at

    # --- writes (refresh, reload, selection) ---

    def rank(self, models: Iterable[Model]) -> dict[str, list[Model]]:
        """Run every ranker over ``models``; a ranker that raises leaves its category empty."""
        pool = list(models)
        known = {m.id for m in pool}
        ranked: dict[str, list[Model]] = {}
        for category, ranker in self.rankers.items():
            try:
                result = ranker.rank(list(pool))
            except Exception:
                log.exception(
                    "ranker for %r failed; the category is empty until it works", category
                )
                result = []
            seen: set[str] = set()
            ordered: list[Model] = []
            for model in result or []:
                # A ranker may only reorder and filter; it cannot invent models.
                if isinstance(model, Model) and model.id in known and model.id not in seen:
                    seen.add(model.id)
                    ordered.append(model)
            ranked[category] = ordered
        return ranked

    def replace(
        self,
        models: Iterable[Model],
        selections: Iterable[Selection],
        refreshed_at: dt.datetime | None,
    ) -> None:
        """Swap in a new snapshot built from available ``models`` and ``selections``."""
        self._snap = self._build(list(models), list(selections), refreshed_at)

    def set_selection(self, selection: Selection) -> None:
        """Swap in the same models with a new selection for one category."""
        snap = self._snap
        selections = {**snap.selections, selection.category: selection}
        self._snap = self._build(
            list(snap.models.values()), list(selections.values()), snap.refreshed_at, snap.ranked
        )

    def drop_selection(self, category: str) -> None:
        """Swap in the same models without a selection for ``category``."""
        snap = self._snap
        selections = [s for c, s in snap.selections.items() if c != category]
        self._snap = self._build(
            list(snap.models.values()), selections, snap.refreshed_at, snap.ranked
        )

    def _priority(self, provider: str) -> tuple[int, str]:
        try:
            return (self.provider_order.index(provider), "")
        except ValueError:
            return (len(self.provider_order), provider)

    def _build(
        self,
        models: list[Model],
        selections: list[Selection],
        refreshed_at: dt.datetime | None,
        ranked: dict[str, list[Model]] | None = None,
    ) -> _Snapshot:
        by_id = {m.id: m for m in models}
        ranked = ranked if ranked is not None else self.rank(by_id.values())
        members = {c: frozenset(m.id for m in ms) for c, ms in ranked.items()}
        by_upstream: dict[str, list[Model]] = {}
        for model in by_id.values():
            by_upstream.setdefault(model.upstream_id, []).append(model)
        for listed in by_upstream.values():
            listed.sort(key=lambda m: self._priority(m.provider))
        chosen: dict[str, Model] = {}
        candidates: dict[str, list[Model]] = {}
        selection_map = {s.category: s for s in selections}
        for category, ordered in ranked.items():
            selection = selection_map.get(category)
            pick = None
            if selection is not None and selection.model_id in members[category]:
                pick = by_id[selection.model_id]
            if pick is None and ordered:
                pick = ordered[0]
            if pick is not None:
                chosen[category] = pick
                candidates[category] = [pick, *(m for m in ordered if m.id != pick.id)]
            else:
                candidates[category] = []
        return _Snapshot(
            models=by_id,
            ranked=ranked,
            members=members,
            by_upstream=by_upstream,
            selections=selection_map,
            chosen=chosen,
            candidates=candidates,
            out={m.id: model_out(m) for m in by_id.values()},
            refreshed_at=refreshed_at,
        )
