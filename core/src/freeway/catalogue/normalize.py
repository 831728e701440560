"""Clean what providers report about a model before it is ranked or stored.

Upstream catalogues are messy: prices arrive as strings (``"0.000002"``), as ``-1``
for "varies" (OpenRouter's router models), or not at all.  Everything downstream
relies on one rule: a price is a finite, non-negative float or ``None`` (unknown).
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from freeway.providers.types import Model

FREE_SUFFIX = ":free"


def clean_price(value: Any) -> float | None:
    """A usable price, or ``None`` when it is missing, unparsable, negative or not finite."""
    if value is None or isinstance(value, bool):
        return None
    try:
        price = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(price) or price < 0:
        return None
    return price


def clean_context(value: Any) -> int | None:
    """A positive context length in tokens, or ``None``."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(float(value))
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number > 0 else None


def _modalities(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ["text"]
    cleaned = sorted({str(v).strip().lower() for v in value if str(v).strip()})
    return cleaned or ["text"]


def is_free_pricing(upstream_id: str, prompt: float | None, completion: float | None) -> bool:
    """Free = the ``:free`` suffix, or both token prices known and zero."""
    return upstream_id.endswith(FREE_SUFFIX) or (prompt == 0 and completion == 0)


def normalize_model(provider: str, model: Model) -> Model | None:
    """The model with clean prices, context and modalities, and the gateway id
    ``<provider>/<upstream_id>``; ``None`` when it has no usable id."""
    upstream_id = model.upstream_id
    if not isinstance(upstream_id, str) or not upstream_id.strip():
        return None
    upstream_id = upstream_id.strip()
    prompt = clean_price(model.prompt_price)
    completion = clean_price(model.completion_price)
    image = clean_price(model.image_price)
    free = is_free_pricing(upstream_id, prompt, completion) or model.is_free is True
    if image and not upstream_id.endswith(FREE_SUFFIX) and model.is_free is not True:
        # Zero token prices on an image model that charges per image is not "free".
        free = False
    name = model.name if isinstance(model.name, str) and model.name.strip() else upstream_id
    return msgspec.structs.replace(
        model,
        id=f"{provider}/{upstream_id}",
        provider=provider,
        upstream_id=upstream_id,
        name=name.strip(),
        context_length=clean_context(model.context_length),
        prompt_price=prompt,
        completion_price=completion,
        image_price=image,
        input_modalities=_modalities(model.input_modalities),
        output_modalities=_modalities(model.output_modalities),
        is_free=free,
        supports_tools=model.supports_tools if isinstance(model.supports_tools, bool) else None,
        raw=model.raw if isinstance(model.raw, dict) else {},
    )


def has_valid_pricing(model: Model) -> bool:
    """Both token prices are known (after :func:`normalize_model`)."""
    return model.prompt_price is not None and model.completion_price is not None


def makes_text(model: Model) -> bool:
    return "text" in model.output_modalities


def makes_images(model: Model) -> bool:
    return "image" in model.output_modalities
