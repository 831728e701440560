"""OpenRouter's ``/models`` records as normalized :class:`Model` objects.

OpenRouter lists prices as **strings in USD per token** (``"0.0000025"`` = $2.50 per
million).  ``"0"`` is free; ``"-1"`` marks a meta-router (``openrouter/auto``) whose
price depends on the model it picks, so it is *unknown*, not negative.  Anything
missing or non-numeric is unknown too (``None``), never zero: an unknown price must not
make a paid model look free to the rankers.
"""

from __future__ import annotations

import itertools
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from freeway.providers import Model, make_model

_MILLION = Decimal(1_000_000)


def parse_usd(value: Any) -> Decimal | None:
    """A non-negative, finite USD amount from an OpenRouter price field, else ``None``.

    Parsed with :class:`~decimal.Decimal` so ``"0.0000001"`` does not pick up binary
    float noise before it is scaled.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    try:
        amount = Decimal(value.strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount >= 0 else None


def per_million(value: Any) -> float | None:
    """USD per token (string) → USD per one million tokens (float), ``None`` if unknown."""
    return _finite(parse_usd(value), _MILLION)


def per_unit(value: Any) -> float | None:
    """A per-request / per-image USD string as a float, ``None`` if unknown."""
    return _finite(parse_usd(value), Decimal(1))


def _finite(amount: Decimal | None, scale: Decimal) -> float | None:
    number = None if amount is None else float(amount * scale)
    return number if number is not None and math.isfinite(number) else None


def _modalities(architecture: Any, key: str) -> list[str]:
    values = architecture.get(key) if isinstance(architecture, dict) else None
    return [str(v) for v in values] if isinstance(values, list) and values else ["text"]


def _context_length(raw: dict[str, Any]) -> int | None:
    top = v if isinstance(v := raw.get("top_provider"), dict) else {}
    for value in (raw.get("context_length"), top.get("context_length")):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def parse_model(provider: str, raw: dict[str, Any]) -> Model:
    """One ``/models`` record (``raw`` must have a string ``id``) as a :class:`Model`.

    ``image_price`` is ``pricing.image`` (USD per image) and is only set for models
    that output images; for text models that field prices *input* images.
    A model is free when every price is zero, or its id ends in ``:free`` and no
    listed price says otherwise.
    """
    upstream_id: str = raw["id"]
    pricing = v if isinstance(v := raw.get("pricing"), dict) else {}
    architecture = raw.get("architecture")
    output_modalities = _modalities(architecture, "output_modalities")
    prompt = per_million(pricing.get("prompt"))
    completion = per_million(pricing.get("completion"))
    request = per_unit(pricing.get("request"))
    image = per_unit(pricing.get("image")) if "image" in output_modalities else None
    others_free = request in (None, 0) and image in (None, 0)
    zero_priced = prompt == 0 and completion == 0 and others_free
    # A ``:free`` variant is free by definition, unless its record contradicts that.
    free_variant = upstream_id.endswith(":free") and not prompt and not completion and others_free
    parameters = raw.get("supported_parameters")
    supports_tools = "tools" in parameters if isinstance(parameters, list) and parameters else None
    name = raw.get("name")
    return make_model(
        provider,
        upstream_id,
        name=name if isinstance(name, str) and name else upstream_id,
        context_length=_context_length(raw),
        prompt_price=prompt,
        completion_price=completion,
        image_price=image,
        input_modalities=_modalities(architecture, "input_modalities"),
        output_modalities=output_modalities,
        is_free=free_variant or zero_priced,
        supports_tools=supports_tools,
        raw=raw,
    )


def merge_listings(*listings: list[Any]) -> list[dict[str, Any]]:
    """Concatenate ``/models`` lists; the first record of each id wins.

    The default listing hides image-only models, so the gateway also asks for
    ``?output_modalities=image``; models in both lists appear once.
    """
    merged: dict[str, dict[str, Any]] = {}
    for raw in itertools.chain(*listings):
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            merged.setdefault(raw["id"], raw)
    return list(merged.values())
