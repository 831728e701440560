"""The catalogue's rows in the ``models`` and ``model_selections`` tables.

Models are upserted by gateway id and never deleted: one gone upstream keeps its row
with ``available=False`` so old usage logs still resolve its name and prices.  What
the ``models`` table has no column for (``supports_tools``) travels in ``raw`` under
the ``_freeway`` key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import delete, func, select

from freeway.catalogue.catalogue import Selection
from freeway.db.engine import Database
from freeway.db.models import CatalogueModel, JobRun, ModelSelection, utcnow
from freeway.providers.types import Model

EXTRA_KEY = "_freeway"
REFRESH_JOB = "refresh-models"


def row_to_model(row: CatalogueModel) -> Model:
    """A stored row as a :class:`Model`."""
    raw = dict(row.raw or {})
    extra = raw.pop(EXTRA_KEY, None) or {}
    return Model(
        id=row.id,
        provider=row.provider,
        upstream_id=row.upstream_id,
        name=row.name,
        context_length=row.context_length,
        prompt_price=row.prompt_price,
        completion_price=row.completion_price,
        image_price=row.image_price,
        input_modalities=list(row.input_modalities or ["text"]),
        output_modalities=list(row.output_modalities or ["text"]),
        is_free=bool(row.is_free),
        supports_tools=extra.get("supports_tools"),
        raw=raw,
    )


def _set(row: CatalogueModel, name: str, value: Any) -> None:
    # Assign only real changes so `updated_at` moves only when something did.
    if getattr(row, name) != value:
        setattr(row, name, value)


def _write(row: CatalogueModel, model: Model, categories: list[str]) -> None:
    raw = dict(model.raw)
    if model.supports_tools is not None:
        raw[EXTRA_KEY] = {"supports_tools": model.supports_tools}
    _set(row, "provider", model.provider)
    _set(row, "upstream_id", model.upstream_id)
    _set(row, "name", model.name[:255])
    _set(row, "context_length", model.context_length)
    _set(row, "prompt_price", model.prompt_price)
    _set(row, "completion_price", model.completion_price)
    _set(row, "image_price", model.image_price)
    _set(row, "input_modalities", list(model.input_modalities))
    _set(row, "output_modalities", list(model.output_modalities))
    _set(row, "is_free", model.is_free)
    _set(row, "categories", categories)
    _set(row, "raw", raw)
    _set(row, "available", True)


async def save_refresh(
    db: Database,
    fetched: dict[str, list[Model]],
    active_providers: Iterable[str],
    categorize: Callable[[list[Model]], dict[str, list[str]]],
) -> list[Model]:
    """Upsert the models of providers that answered, in one transaction.

    Rows of a provider in ``fetched`` that it no longer lists, and rows of providers
    no longer configured, become unavailable; rows of configured providers absent
    from ``fetched`` (they failed) stay as they were.  ``categorize`` maps the final
    available models to each id's categories.  Returns the available models.
    """
    active = set(active_providers)
    async with db.sessionmaker() as session, session.begin():
        rows = {row.id: row for row in (await session.scalars(select(CatalogueModel))).all()}
        listed: dict[str, Model] = {}
        for provider, models in fetched.items():
            for model in models:
                listed[model.id] = model
            for row in rows.values():
                if row.provider == provider and row.id not in listed:
                    _set(row, "available", False)
        for row in rows.values():
            if row.provider not in active:
                _set(row, "available", False)
        available = [m for m in listed.values()] + [
            row_to_model(row)
            for row in rows.values()
            if row.available and row.id not in listed and row.provider not in fetched
        ]
        categories = categorize(available)
        now = utcnow()
        for model in listed.values():
            if model.id not in rows:
                rows[model.id] = CatalogueModel(id=model.id, first_seen_at=now, updated_at=now)
                session.add(rows[model.id])
            _write(rows[model.id], model, categories.get(model.id, []))
        for model in available:
            if model.id not in listed:
                _set(rows[model.id], "categories", categories.get(model.id, []))
    return available


async def load_state(
    db: Database, providers: Iterable[str]
) -> tuple[list[Model], list[Selection], dt.datetime | None]:
    """Available models of the given providers, every selection, and when the
    models were last refreshed."""
    wanted = set(providers)
    async with db.sessionmaker() as session:
        rows = (
            await session.scalars(select(CatalogueModel).where(CatalogueModel.available.is_(True)))
        ).all()
        selections = (await session.scalars(select(ModelSelection))).all()
        last_run = await session.scalar(
            select(JobRun.finished_at).where(JobRun.name == REFRESH_JOB, JobRun.outcome == "ok")
        )
        last_change = await session.scalar(select(func.max(CatalogueModel.updated_at)))
    models = [row_to_model(row) for row in rows if row.provider in wanted]
    refreshed_at = max((t for t in (last_run, last_change) if t is not None), default=None)
    return models, [selection_of(s) for s in selections], refreshed_at


def selection_of(row: ModelSelection) -> Selection:
    return Selection(
        category=row.category,
        model_id=row.model_id,
        selected_by=row.selected_by,
        selected_at=row.selected_at,
    )


async def fingerprint(db: Database) -> tuple[Any, ...]:
    """A cheap value that changes whenever models or selections change."""
    async with db.sessionmaker() as session:
        models = (
            await session.execute(
                select(func.count(), func.max(CatalogueModel.updated_at)).select_from(
                    CatalogueModel
                )
            )
        ).one()
        selections = (
            await session.execute(
                select(
                    func.count(),
                    func.max(ModelSelection.selected_at),
                    func.max(ModelSelection.model_id),
                ).select_from(ModelSelection)
            )
        ).one()
    return (*models, *selections)


async def find_model_row(db: Database, model_id: str) -> CatalogueModel | None:
    async with db.sessionmaker() as session:
        return await session.get(CatalogueModel, model_id)


async def save_selection(db: Database, selection: Selection) -> None:
    """Insert or replace the selection of one category."""
    async with db.sessionmaker() as session, session.begin():
        row = await session.get(ModelSelection, selection.category)
        if row is None:
            row = ModelSelection(category=selection.category)
            session.add(row)
        row.model_id = selection.model_id
        row.selected_by = selection.selected_by
        row.selected_at = selection.selected_at


async def delete_selection(db: Database, category: str) -> bool:
    """Remove a category's selection; True if there was one."""
    async with db.sessionmaker() as session, session.begin():
        result = await session.execute(
            delete(ModelSelection).where(ModelSelection.category == category)
        )
    return bool(getattr(result, "rowcount", 0))


async def load_selections(db: Database) -> list[Selection]:
    """Every stored selection."""
    async with db.sessionmaker() as session:
        return [selection_of(row) for row in (await session.scalars(select(ModelSelection))).all()]
