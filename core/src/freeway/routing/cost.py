"""Cost of a request from the serving model's catalogue prices."""

from __future__ import annotations

import math

from freeway.providers.types import Model, Usage

PER_MILLION = 1_000_000


def chat_cost(model: Model | None, prompt_tokens: int, completion_tokens: int) -> float:
    """USD for the tokens, from prices in USD per million tokens (unknown price = 0)."""
    if model is None:
        return 0.0
    cost = 0.0
    if model.prompt_price:
        cost += prompt_tokens * model.prompt_price
    if model.completion_price:
        cost += completion_tokens * model.completion_price
    return cost / PER_MILLION


def image_cost(
    model: Model | None, images: int, prompt_tokens: int = 0, completion_tokens: int = 0
) -> float:
    """USD for generated images (per-image price) plus any token charges."""
    if model is None:
        return 0.0
    cost = chat_cost(model, prompt_tokens, completion_tokens)
    if model.image_price:
        cost += images * model.image_price
    return cost


def usage_cost(model: Model | None, usage: Usage) -> float:
    """USD for ``usage``: the provider's own figure when it reports a sane one
    (``usage.cost``), else the catalogue price of the tokens."""
    reported = usage.cost
    if reported is not None and math.isfinite(reported) and reported >= 0:
        return float(reported)
    return chat_cost(model, usage.prompt_tokens, usage.completion_tokens)
