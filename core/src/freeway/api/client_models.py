"""``GET /v1/models`` and ``GET /v1/models/{id}``: the models a project key may use, in
OpenAI's list shape (so ``client.models.list()`` works), plus the category aliases.

Each entry carries OpenAI's four fields and, as OpenRouter does, extra keys SDKs
ignore: ``context_length``, ``pricing`` (USD per million tokens / per image),
``input_modalities``/``output_modalities``, ``is_free``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get

from freeway.api.proxy import JSON
from freeway.auth.guards import require_project
from freeway.errors import NoModelAvailable
from freeway.providers.types import Model
from freeway.state import gateway_of

_encode = msgspec.json.Encoder().encode


class Pricing(msgspec.Struct, omit_defaults=True):
    prompt: float | None = None
    completion: float | None = None
    image: float | None = None


class ClientModel(msgspec.Struct, omit_defaults=True):
    """One entry of ``/v1/models``."""

    id: str
    owned_by: str
    # Factories, not plain defaults: omit_defaults must still write these two.
    object: str = msgspec.field(default_factory=lambda: "model")
    created: int = msgspec.field(default_factory=int)
    context_length: int | None = None
    pricing: Pricing | None = None
    input_modalities: list[str] | None = None
    output_modalities: list[str] | None = None
    is_free: bool | None = None
    serves: str | None = None


def _entry(model: Model) -> ClientModel:
    return ClientModel(
        id=model.id,
        owned_by=model.provider,
        context_length=model.context_length,
        pricing=Pricing(model.prompt_price, model.completion_price, model.image_price),
        input_modalities=model.input_modalities,
        output_modalities=model.output_modalities,
        is_free=model.is_free,
    )


def _alias(category: str, model: Model | None) -> ClientModel:
    """A category name usable as ``model``; ``serves`` says which model it picks now."""
    return ClientModel(id=category, owned_by="freeway", serves=model.id if model else None)


def client_models(gw: Any) -> list[ClientModel]:
    """Category aliases first, then every available model of a running provider."""
    catalogue = gw.catalogue
    if catalogue is None:
        return []
    entries = [_alias(c, catalogue.selected(c)) for c in catalogue.categories()]
    entries.extend(_entry(m) for m in catalogue.all() if m.provider in gw.providers)
    return entries


@get("/v1/models", tags=["client"], summary="List models")
async def list_models(request: Request[Any, Any, Any]) -> Response[Any]:
    """OpenAI ``models.list``: what this key may use (categories and models)."""
    await require_project(request)
    body = {"object": "list", "data": client_models(gateway_of(request))}
    return Response(_encode(body), media_type=JSON)


@get(
    "/v1/models/{model_id:path}",
    tags=["client"],
    summary="Retrieve a model",
)
async def retrieve_model(request: Request[Any, Any, Any], model_id: str) -> Response[Any]:
    """OpenAI ``models.retrieve``: one entry of the list, or 404 ``model_not_found``."""
    await require_project(request)
    wanted = model_id.lstrip("/")
    for entry in client_models(gateway_of(request)):
        if entry.id == wanted:
            return Response(_encode(entry), media_type=JSON)
    raise NoModelAvailable(f"model {wanted!r} does not exist or is not available", param="model")
