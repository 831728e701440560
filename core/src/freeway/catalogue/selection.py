"""Admin selection of the model that serves a category (``PUT /admin/model/{category}``).

A selection is validated against the live catalogue (the model must exist, be
available and belong to the category), stored in ``model_selections`` with who made
it and when, and applied to the in-memory catalogue at once.  If the selected model
later disappears or leaves the category, the category falls back to its top-ranked
model and the API says so (``"fallback": true``) until the model returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from freeway.catalogue.catalogue import Catalogue, Selection
from freeway.catalogue.store import delete_selection, find_model_row, save_selection
from freeway.catalogue.sync import announce_change
from freeway.db.models import utcnow
from freeway.errors import NotFound, ValidationFailed

if TYPE_CHECKING:
    from freeway.state import Gateway


def require_category(catalogue: Catalogue, category: str) -> None:
    """Raise a 404 naming the category and the known ones if no ranker serves it."""
    if category not in catalogue.categories():
        known = ", ".join(catalogue.categories()) or "none"
        raise NotFound(
            f"unknown model category {category!r} (known categories: {known})",
            param="category",
            code="unknown_category",
        )


async def select_model(gw: Gateway, category: str, model_id: str, selected_by: str) -> Selection:
    """Validate and store ``model_id`` as the model of ``category``."""
    catalogue: Catalogue = gw.catalogue
    require_category(catalogue, category)
    model_id = model_id.strip()
    if not model_id:
        raise ValidationFailed(
            "model_id: must be a model id such as 'groq/llama-3.1-8b-instant'", param="model_id"
        )
    model = catalogue.get(model_id)
    if model is None:
        row = await find_model_row(gw.db, model_id)
        if row is not None:
            raise ValidationFailed(
                f"model_id: {model_id!r} is no longer available upstream; pick one from "
                f"GET /models/{category}",
                param="model_id",
                code="model_unavailable",
            )
        hint = ""
        same = catalogue.by_upstream_id(model_id)
        if same:
            hint = f"; use the gateway id {same[0].id!r} (provider/model)"
        raise ValidationFailed(
            f"model_id: no model {model_id!r} in the catalogue{hint}",
            param="model_id",
            code="model_not_found",
        )
    if not catalogue.in_category(model.id, category):
        raise ValidationFailed(
            f"model_id: {model_id!r} is not in category {category!r}; pick one from "
            f"GET /models/{category}",
            param="model_id",
            code="model_not_in_category",
        )
    selection = Selection(
        category=category, model_id=model.id, selected_by=selected_by, selected_at=utcnow()
    )
    await save_selection(gw.db, selection)
    catalogue.set_selection(selection)
    await announce_change(gw)
    return selection


async def clear_selection(gw: Gateway, category: str) -> bool:
    """Forget the selection of ``category`` (its top-ranked model serves again)."""
    require_category(gw.catalogue, category)
    removed = await delete_selection(gw.db, category)
    gw.catalogue.drop_selection(category)
    await announce_change(gw)
    return removed
