"""Model resolution, fallback across candidates, per-provider circuit breakers, cost.

``gw.router`` is a :class:`Router`; ``gw.router.provider_states()`` feeds
``/health/ready``.  See ``docs/routing.md``.
"""

from __future__ import annotations

from freeway.routing.breaker import CircuitBreaker
from freeway.routing.cost import chat_cost, image_cost, usage_cost
from freeway.routing.resolve import Candidate, estimate_prompt_tokens, fit_chat, resolve
from freeway.routing.router import Attempt, Router

__all__ = [
    "Attempt",
    "Candidate",
    "CircuitBreaker",
    "Router",
    "chat_cost",
    "estimate_prompt_tokens",
    "fit_chat",
    "image_cost",
    "resolve",
    "usage_cost",
]
