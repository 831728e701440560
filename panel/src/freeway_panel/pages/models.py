"""Models: category tabs, search, sorting, details drawer, selection and refresh.

Reads come from the in-memory catalogue; selecting calls
:func:`freeway.catalogue.selection.select_model` (the same validation as
``PUT /admin/model/{category}``) and "refresh now" runs the ``refresh-models`` job.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post

from freeway.errors import FreewayError, NotFound
from freeway.providers.types import Model
from freeway.state import gateway_of
from freeway_panel.pages.catalogue_view import category_overview, ordered_categories
from freeway_panel.rendering import redirect, render
from freeway_panel.session import current_user

REFRESH_JOB = "refresh-models"


def _big(value: float | None) -> float:
    # Unknown values sort last in ascending order.
    return float("inf") if value is None else value


SORT_KEYS: dict[str, tuple[str, Callable[[Model], Any]]] = {
    "name": ("Name", lambda m: (m.name.lower(), m.id)),
    "provider": ("Provider", lambda m: (m.provider, m.name.lower())),
    "context": ("Context", lambda m: -1 if m.context_length is None else m.context_length),
    "prompt": ("Prompt $/1M", lambda m: _big(m.prompt_price)),
    "completion": ("Completion $/1M", lambda m: _big(m.completion_price)),
    "image": ("Image $", lambda m: _big(m.image_price)),
}


def _catalogue(request: Request[Any, Any, Any]) -> Any:
    catalogue = gateway_of(request).catalogue
    if catalogue is None:
        raise NotFound("the model catalogue is not loaded yet; try again in a moment")
    return catalogue


def _model(catalogue: Any, model_id: str) -> Model:
    model = catalogue.get(model_id)
    if model is None:
        raise NotFound(f"no available model {model_id!r} in the catalogue")
    return model  # type: ignore[no-any-return]


def filter_models(models: list[Model], q: str) -> list[Model]:
    """Models whose id or name contains ``q``, ignoring case (as ``GET /models/{category}``)."""
    needle = q.strip().lower()
    if not needle:
        return models
    return [m for m in models if needle in m.id.lower() or needle in m.name.lower()]


def sort_models(models: list[Model], sort: str, direction: str) -> list[Model]:
    """Ranker order for ``rank``; else by the column, ``asc`` or ``desc``."""
    if sort not in SORT_KEYS:
        return list(reversed(models)) if direction == "desc" else models
    return sorted(models, key=SORT_KEYS[sort][1], reverse=direction == "desc")


@get("/models", name="panel-models")
async def models_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """One category's ranked models, searchable and sortable."""
    params = request.query_params
    category = params.get("category")
    q = (params.get("q") or "").strip()
    sort = params.get("sort") or "rank"
    direction = "desc" if params.get("dir") == "desc" else "asc"
    catalogue = gateway_of(request).catalogue
    categories = ordered_categories(catalogue)
    if category not in categories:
        category = categories[0] if categories else "free"
    ranked = catalogue.ranked(category) if catalogue is not None else []
    rank_of = {m.id: i + 1 for i, m in enumerate(ranked)}
    shown = sort_models(filter_models(ranked, q), sort, direction)
    overview = {state.category: state for state in category_overview(catalogue)}
    return await render(
        request,
        "models.html",
        active="models",
        categories=categories,
        counts={c: overview[c].count for c in categories},
        category=category,
        state=overview.get(category),
        models=shown,
        total=len(ranked),
        rank_of=rank_of,
        q=q,
        sort=sort if sort in SORT_KEYS else "rank",
        dir=direction,
        columns=SORT_KEYS,
        refreshed_at=catalogue.refreshed_at if catalogue is not None else None,
        self_url=lambda **change: (
            "/panel/models?"
            + urlencode(
                {
                    k: v
                    for k, v in {
                        "category": category,
                        "q": q,
                        "sort": sort,
                        "dir": direction,
                        **change,
                    }.items()
                    if v
                }
            )
        ),
    )


@get("/models/detail")
async def model_detail(request: Request[Any, Any, Any]) -> Response[Any]:
    """The details drawer of one model (a page of its own without JavaScript)."""
    catalogue = _catalogue(request)
    model = _model(catalogue, request.query_params.get("id") or "")
    member_of = [c for c in ordered_categories(catalogue) if catalogue.in_category(model.id, c)]
    selected_in = [c for c in member_of if (s := catalogue.selected(c)) and s.id == model.id]
    return await render(
        request,
        "model_detail.html",
        active="models",
        model=model,
        member_of=member_of,
        selected_in=selected_in,
    )


@get("/models/select")
async def select_confirm(request: Request[Any, Any, Any]) -> Response[Any]:
    """Confirm making the model ``id`` the model of ``category``."""
    catalogue = _catalogue(request)
    from freeway.catalogue.selection import require_category

    model = _model(catalogue, request.query_params.get("id") or "")
    category = request.query_params.get("category") or ""
    require_category(catalogue, category)
    return await render(
        request,
        "model_select.html",
        active="models",
        model=model,
        category=category,
        current=catalogue.selected(category),
    )


@post("/models/select", status_code=200)
async def select_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Store the selection through the catalogue's selection service."""
    from freeway.catalogue.selection import select_model

    form = await request.form()
    category = str(form.get("category") or "")
    model_id = str(form.get("model_id") or "")
    user = await current_user(request)
    back = "/panel/models?" + urlencode({"category": category})
    try:
        await select_model(gateway_of(request), category, model_id, user.name if user else "panel")
    except FreewayError as exc:
        return redirect(request, back, notice=exc.message, kind="error")
    return redirect(request, back, notice=f"{model_id} now serves “{category}”.")


@post("/models/refresh", status_code=200)
async def refresh_now(request: Request[Any, Any, Any]) -> Response[Any]:
    """Run ``refresh-models`` now (the same job as the schedule and the admin API)."""
    from freeway.jobs.registry import run_job

    form = await request.form()
    category = str(form.get("category") or "")
    back = "/panel/models" + (f"?{urlencode({'category': category})}" if category else "")
    try:
        await run_job(gateway_of(request), REFRESH_JOB)
    except FreewayError as exc:
        return redirect(request, back, notice=f"Refresh failed: {exc.message}", kind="error")
    return redirect(request, back, notice="The model catalogue was refreshed.")


HANDLERS = [models_page, model_detail, select_confirm, select_submit, refresh_now]
