"""Rankers: which models belong to a category, best first.

A ranker has a ``category`` (``free``, ``paid``, ``image`` or a new one such as
``fast``) and ``rank(models) -> list[Model]``: it receives every available model of
the catalogue (normalized, see :mod:`freeway.catalogue.normalize`) and returns the
members of its category in order, best first.  Rankers run when the catalogue
changes (refresh, load, selection), never per request.

Plugins contribute rankers through the ``freeway_rankers`` hook; the built-ins below
come from the ``core`` plugin.  Two rankers for one category stop startup unless
``[rankers] <category> = "<plugin>"`` in ``freeway.toml`` picks one.
"""

from __future__ import annotations

import logging
import math
import re
from typing import Any, Protocol, runtime_checkable

import pluggy

from freeway.catalogue.normalize import has_valid_pricing, makes_images, makes_text
from freeway.errors import ConfigError, PluginError
from freeway.providers.types import Model
from freeway.settings import Settings

log = logging.getLogger(__name__)

CATEGORY_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


@runtime_checkable
class Ranker(Protocol):
    """Orders the models of one category, best first."""

    category: str

    def rank(self, models: list[Model]) -> list[Model]:
        """The members of ``category`` among ``models`` (all available), best first."""
        ...


def combined_price(model: Model) -> float:
    """Prompt plus completion price per 1M tokens; unknown prices count as infinite."""
    if model.prompt_price is None or model.completion_price is None:
        return math.inf
    return model.prompt_price + model.completion_price


def _image_price(model: Model) -> float:
    return math.inf if model.image_price is None else model.image_price


class FreeRanker:
    """``free``: free text models, largest context first; ties: lower price, then id."""

    category = "free"

    def rank(self, models: list[Model]) -> list[Model]:
        members = [m for m in models if m.is_free and makes_text(m)]
        return sorted(members, key=lambda m: (-(m.context_length or 0), combined_price(m), m.id))


class PaidRanker:
    """``paid``: priced text models, cheapest prompt+completion per 1M first;
    ties: larger context, then id."""

    category = "paid"

    def rank(self, models: list[Model]) -> list[Model]:
        members = [m for m in models if not m.is_free and makes_text(m) and has_valid_pricing(m)]
        return sorted(members, key=lambda m: (combined_price(m), -(m.context_length or 0), m.id))


class ImageRanker:
    """``image``: models with image output, cheapest per image first (unknown price
    last); ties: id."""

    category = "image"

    def rank(self, models: list[Model]) -> list[Model]:
        members = [m for m in models if makes_images(m)]
        return sorted(members, key=lambda m: (_image_price(m), m.id))


def builtin_rankers() -> list[Ranker]:
    """The core plugin's rankers."""
    return [FreeRanker(), PaidRanker(), ImageRanker()]


def collect_rankers(pm: pluggy.PluginManager, settings: Settings) -> dict[str, Ranker]:
    """One ranker per category from every plugin's ``freeway_rankers``.

    Raises :class:`ConfigError` when two plugins rank one category and
    ``settings.rankers`` does not choose, or chooses a plugin that has none for it;
    :class:`PluginError` for a ranker without a usable ``category``/``rank``.
    """
    offered: dict[str, list[tuple[str, Ranker]]] = {}
    for impl in pm.hook.freeway_rankers.get_hookimpls():
        try:
            result: Any = impl.function()
            rankers: list[Any] = list(result or [])
        except Exception as exc:
            raise PluginError(
                f"plugin {impl.plugin_name!r}: freeway_rankers failed: {type(exc).__name__}: {exc}"
            ) from exc
        for ranker in rankers:
            category = getattr(ranker, "category", None)
            if not isinstance(category, str) or not CATEGORY_RE.match(category):
                raise PluginError(
                    f"plugin {impl.plugin_name!r}: ranker {ranker!r} has an invalid category "
                    f"{category!r} (lower-case letters, digits, '-', '_' or '.')"
                )
            if not callable(getattr(ranker, "rank", None)):
                raise PluginError(f"plugin {impl.plugin_name!r}: ranker {ranker!r} has no rank()")
            offered.setdefault(category, []).append((impl.plugin_name, ranker))

    chosen: dict[str, Ranker] = {}
    for category, candidates in offered.items():
        wanted = settings.rankers.get(category)
        plugins = ", ".join(repr(name) for name, _ in candidates)
        if wanted is not None:
            matches = [r for name, r in candidates if name == wanted]
            if not matches:
                raise ConfigError(
                    f"[rankers] {category} = {wanted!r}: that plugin has no ranker for "
                    f"{category!r} (offered by {plugins})"
                )
            chosen[category] = matches[0]
        elif len(candidates) > 1:
            raise ConfigError(
                f"two rankers for category {category!r} (plugins {plugins}); choose one with "
                f'[rankers] {category} = "<plugin>" in freeway.toml'
            )
        else:
            chosen[category] = candidates[0][1]
    for category in set(settings.rankers) - set(offered):
        log.warning("[rankers] %s: no installed plugin ranks this category", category)
    return chosen
