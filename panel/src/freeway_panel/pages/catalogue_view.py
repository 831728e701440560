"""Read-only views of the live catalogue (``gw.catalogue``) shared by several pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from freeway.providers.types import Model

# Built-in categories first, in this order; plugin categories follow alphabetically.
BUILTIN_ORDER = ("free", "paid", "image")


@dataclass(frozen=True)
class CategoryState:
    """What serves one category right now."""

    category: str
    selected: Model | None
    chosen_by_admin: bool
    fallback: bool
    count: int


def ordered_categories(catalogue: Any) -> list[str]:
    """The catalogue's categories, built-ins first."""
    if catalogue is None:
        return list(BUILTIN_ORDER)
    names = catalogue.categories()
    builtin = [c for c in BUILTIN_ORDER if c in names]
    return builtin + sorted(c for c in names if c not in BUILTIN_ORDER)


def category_overview(catalogue: Any) -> list[CategoryState]:
    """The selected (or top-ranked) model of every category."""
    states = []
    for category in ordered_categories(catalogue):
        if catalogue is None:
            states.append(CategoryState(category, None, False, False, 0))
            continue
        selected = catalogue.selected(category)
        selection = catalogue.selection(category)
        states.append(
            CategoryState(
                category=category,
                selected=selected,
                chosen_by_admin=selection is not None and not catalogue.is_fallback(category),
                fallback=catalogue.is_fallback(category),
                count=len(catalogue.ranked(category)),
            )
        )
    return states
