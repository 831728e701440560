"""Model catalogue endpoints: ``/model/{category}``, ``/models/{category}`` (public,
served from memory) and the admin's ``PUT|DELETE /admin/model/{category}`` and
``GET /admin/models/status``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, delete, get, put
from litestar.params import FromPath, JSONBody, QueryParameter

from freeway.auth.guards import principal_of, require_admin, require_reader
from freeway.catalogue.catalogue import Catalogue, ModelOut, Selection
from freeway.catalogue.selection import clear_selection, require_category, select_model
from freeway.errors import NoModelAvailable
from freeway.state import gateway_of

MAX_PAGE_SIZE = 500


class SelectionOut(msgspec.Struct):
    model_id: str
    selected_by: str
    selected_at: dt.datetime


class CategoryModel(msgspec.Struct):
    """The model serving a category and why."""

    category: FromPath[str]
    model: ModelOut
    source: str  # "selection" (admin's choice) or "ranking" (the ranker's first)
    fallback: bool  # an admin selection exists but its model is gone or left the category
    selection: SelectionOut | None


class ModelPage(msgspec.Struct):
    """One page of a category's ranked models."""

    category: FromPath[str]
    data: list[ModelOut]
    total: int
    page: int
    page_size: int
    selected: str | None
    fallback: bool
    refreshed_at: dt.datetime | None
    object: str = "list"


class SelectionIn(msgspec.Struct, forbid_unknown_fields=True):
    model_id: str


def _selection_out(selection: Selection | None) -> SelectionOut | None:
    if selection is None:
        return None
    return SelectionOut(selection.model_id, selection.selected_by, selection.selected_at)


def _category_model(catalogue: Catalogue, category: FromPath[str]) -> CategoryModel:
    require_category(catalogue, category)
    model = catalogue.selected(category)
    if model is None:
        raise NoModelAvailable(
            f"no model is available in category {category!r} yet; the catalogue refreshes "
            "at startup and daily (run `freeway jobs run refresh-models` to refresh now)",
            param="category",
        )
    selection = catalogue.selection(category)
    fallback = catalogue.is_fallback(category)
    return CategoryModel(
        category=category,
        model=catalogue.out(model),
        source="selection" if selection is not None and not fallback else "ranking",
        fallback=fallback,
        selection=_selection_out(selection),
    )


@get("/model/{category:str}", tags=["models"], sync_to_thread=False)
def model_for_category(request: Request[Any, Any, Any], category: FromPath[str]) -> CategoryModel:
    """The model that serves ``category`` now: the admin's selection, else the best ranked."""
    return _category_model(gateway_of(request).catalogue, category)


@get("/models/{category:str}", tags=["models"], sync_to_thread=False)
def models_in_category(
    request: Request[Any, Any, Any],
    category: FromPath[str],
    q: Annotated[
        str | None, QueryParameter(description="search in id and name", max_length=200)
    ] = None,
    page: Annotated[int, QueryParameter(ge=1)] = 1,
    page_size: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)] = 50,
) -> ModelPage:
    """The category's available models, best first, with search and pagination."""
    catalogue: Catalogue = gateway_of(request).catalogue
    require_category(catalogue, category)
    ranked = catalogue.ranked(category)
    if q:
        needle = q.strip().lower()
        ranked = [m for m in ranked if needle in m.id.lower() or needle in m.name.lower()]
    start = (page - 1) * page_size
    selected = catalogue.selected(category)
    return ModelPage(
        category=category,
        data=[catalogue.out(m) for m in ranked[start : start + page_size]],
        total=len(ranked),
        page=page,
        page_size=page_size,
        selected=selected.id if selected is not None else None,
        fallback=catalogue.is_fallback(category),
        refreshed_at=catalogue.refreshed_at,
    )


@put("/admin/model/{category:str}", tags=["admin"], guards=[require_admin])
async def put_model_selection(
    request: Request[Any, Any, Any], category: FromPath[str], data: JSONBody[SelectionIn]
) -> CategoryModel:
    """Choose the model that serves ``category`` (must be available and in the category)."""
    gw = gateway_of(request)
    principal = principal_of(request)
    await select_model(gw, category, data.model_id, principal.name)
    return _category_model(gw.catalogue, category)


@delete("/admin/model/{category:str}", tags=["admin"], guards=[require_admin], status_code=200)
async def delete_model_selection(
    request: Request[Any, Any, Any], category: FromPath[str]
) -> dict[str, Any]:
    """Forget the selection: the ranker's first model serves ``category`` again."""
    gw = gateway_of(request)
    removed = await clear_selection(gw, category)
    selected = gw.catalogue.selected(category)
    return {
        "category": category,
        "removed": removed,
        "model": gw.catalogue.out(selected) if selected is not None else None,
    }


@get("/admin/models/status", tags=["admin"], guards=[require_reader])
async def models_status(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Catalogue health: last refresh per provider, counts per category, fallbacks."""
    gw = gateway_of(request)
    catalogue: Catalogue = gw.catalogue
    per_provider: dict[str, int] = {name: 0 for name in gw.providers}
    for model in catalogue.all():
        per_provider[model.provider] = per_provider.get(model.provider, 0) + 1
    report = gw.extras.get("catalogue_last_refresh")
    categories = {}
    for category in catalogue.categories():
        selected = catalogue.selected(category)
        categories[category] = {
            "models": len(catalogue.ranked(category)),
            "selected": selected.id if selected is not None else None,
            "selection": _selection_out(catalogue.selection(category)),
            "fallback": catalogue.is_fallback(category),
        }
    return {
        "refreshed_at": catalogue.refreshed_at,
        "available": len(catalogue.all()),
        "providers": per_provider,
        "categories": categories,
        "last_refresh": msgspec.to_builtins(report) if report is not None else None,
    }
