"""The Hugging Face router's ``/models`` records as normalized :class:`Model` objects.

One record is one Hub model with a ``providers[]`` list (together, groq, nebius …),
each with its own ``status``, ``context_length``, ``pricing`` (numbers in USD per 1M
tokens, the gateway's own unit) and ``supports_tools``.  The gateway lists the model
once, as ``org/model`` (the router picks the provider), from its **live** providers:

* context length: the *smallest* listed, so a request the router may send to any of
  them fits (the gateway skips candidates whose context cannot hold a request);
* prices: the lowest listed input and output price (as OpenRouter lists them);
* free only when every live provider lists zero for both;
* tools: supported when any live provider supports them.

A model with no live provider is not listed.
"""

from __future__ import annotations

import math
from typing import Any

from freeway.providers import Model, make_model


def price(value: Any) -> float | None:
    """A non-negative, finite price (number or numeric string), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def live_providers(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The provider entries whose ``status`` is ``live`` (``staging`` and others are not)."""
    entries = raw.get("providers")
    if not isinstance(entries, list):
        return []
    return [p for p in entries if isinstance(p, dict) and p.get("status", "live") == "live"]


def _modalities(raw: dict[str, Any], key: str) -> list[str]:
    architecture = raw.get("architecture")
    values = architecture.get(key) if isinstance(architecture, dict) else None
    return [str(v) for v in values] if isinstance(values, list) and values else ["text"]


def parse_model(provider: str, raw: dict[str, Any]) -> Model | None:
    """One router record as a :class:`Model`, or ``None`` when no provider serves it live."""
    live = live_providers(raw)
    if "providers" in raw and not live:
        return None
    contexts = [
        c
        for c in (p.get("context_length") for p in live)
        if isinstance(c, int) and not isinstance(c, bool) and c > 0
    ]
    pricing = [p["pricing"] for p in live if isinstance(p.get("pricing"), dict)]
    inputs = [v for v in (price(p.get("input")) for p in pricing) if v is not None]
    outputs = [v for v in (price(p.get("output")) for p in pricing) if v is not None]
    tools = [p["supports_tools"] for p in live if isinstance(p.get("supports_tools"), bool)]
    every_provider_free = bool(live) and all(
        price(p.get("input")) == 0 and price(p.get("output")) == 0 for p in pricing
    )
    return make_model(
        provider,
        raw["id"],
        context_length=min(contexts) if contexts else None,
        prompt_price=min(inputs) if inputs else None,
        completion_price=min(outputs) if outputs else None,
        input_modalities=_modalities(raw, "input_modalities"),
        output_modalities=_modalities(raw, "output_modalities"),
        is_free=every_provider_free and len(pricing) == len(live),
        supports_tools=any(tools) if tools else None,
        raw=raw,
    )


def image_model(provider: str, upstream_id: str) -> Model:
    """A configured text-to-image model (the router's ``/models`` lists chat models only)."""
    return make_model(
        provider,
        upstream_id,
        input_modalities=["text"],
        output_modalities=["image"],
        raw={"id": upstream_id, "configured": "HUGGINGFACE_IMAGE_MODELS"},
    )
