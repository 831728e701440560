"""OpenAI's list prices, which its API does not publish (``/models`` has only ids).

Maintained by hand from https://openai.com/api/pricing (standard tier).  Update
``PRICES_AS_OF`` with every change.  Chat prices are USD per one million tokens;
``image`` is USD per generated image (1024×1024, standard/medium quality).
A dated snapshot id (``gpt-4o-2024-08-06``, ``gpt-4-0613``) takes its family's row.
"""

from __future__ import annotations

import functools
import re

import msgspec

PRICES_AS_OF = "2025-08-07"


class Price(msgspec.Struct, frozen=True):
    """One model family: prices, context window, what it takes and makes."""

    prompt: float | None
    completion: float | None
    context: int | None
    vision: bool = True
    reasoning: bool = False
    tools: bool = True
    image: float | None = None


_REASONING = {"reasoning": True}

PRICES: dict[str, Price] = {
    "gpt-5": Price(1.25, 10.0, 400_000, **_REASONING),
    "gpt-5-mini": Price(0.25, 2.0, 400_000, **_REASONING),
    "gpt-5-nano": Price(0.05, 0.40, 400_000, **_REASONING),
    "gpt-5-chat-latest": Price(1.25, 10.0, 128_000),
    "gpt-4.1": Price(2.0, 8.0, 1_047_576),
    "gpt-4.1-mini": Price(0.40, 1.60, 1_047_576),
    "gpt-4.1-nano": Price(0.10, 0.40, 1_047_576),
    "gpt-4o": Price(2.50, 10.0, 128_000),
    "gpt-4o-mini": Price(0.15, 0.60, 128_000),
    "chatgpt-4o-latest": Price(5.0, 15.0, 128_000),
    "o1": Price(15.0, 60.0, 200_000, **_REASONING),
    "o1-pro": Price(150.0, 600.0, 200_000, **_REASONING),
    "o1-mini": Price(1.10, 4.40, 128_000, vision=False, tools=False, **_REASONING),
    "o3": Price(2.0, 8.0, 200_000, **_REASONING),
    "o3-pro": Price(20.0, 80.0, 200_000, **_REASONING),
    "o3-mini": Price(1.10, 4.40, 200_000, vision=False, **_REASONING),
    "o4-mini": Price(1.10, 4.40, 200_000, **_REASONING),
    "gpt-4-turbo": Price(10.0, 30.0, 128_000),
    "gpt-4": Price(30.0, 60.0, 8_192, vision=False),
    "gpt-4-1106-preview": Price(10.0, 30.0, 128_000, vision=False),
    "gpt-4-0125-preview": Price(10.0, 30.0, 128_000, vision=False),
    "gpt-3.5-turbo": Price(0.50, 1.50, 16_385, vision=False),
    # Image generators: per image.
    "gpt-image-1": Price(None, None, None, vision=False, image=0.042),
    "dall-e-3": Price(None, None, None, vision=False, image=0.040),
    "dall-e-2": Price(None, None, None, vision=False, image=0.020),
}

IMAGE_MODELS = frozenset({"gpt-image-1", "dall-e-3", "dall-e-2"})

# What may follow a family name in a snapshot id: -2024-08-06, -0613, -preview.
_SNAPSHOT = re.compile(r"(-\d{4}(-\d{2}-\d{2})?)?(-preview)?")


@functools.lru_cache(maxsize=4096)
def family_of(model_id: str) -> str | None:
    """The price-table family of ``model_id`` (longest match), or ``None``.

    Cached: it runs on every proxied request (reasoning-model check)."""
    matches = [
        family
        for family in PRICES
        if model_id.startswith(family) and _SNAPSHOT.fullmatch(model_id[len(family) :])
    ]
    return max(matches, key=len) if matches else None
