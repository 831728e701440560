"""Model resolution: the ``model`` a client sent → the ordered list of candidates.

* a category (``free``, ``paid``, ``image``, any ranker's) → the admin's selection or
  the top-ranked model, then the rest of the category in ranked order;
* a gateway id ``<provider>/<upstream id>`` → that model, then the same upstream id
  at other providers (priority order);
* ``<provider>/<id>`` of a running provider that the catalogue does not list (yet) →
  that provider, which will answer for itself;
* a bare upstream id → every provider listing it, in priority order;
* anything else → 404 ``model_not_found`` naming the model.

For chat, candidates that cannot hold the request (estimated prompt tokens plus
``max_tokens`` over their context length) or lack a capability it needs (tools, image
input) are dropped; if none is left the client gets a 400 that says why.
"""

from __future__ import annotations

from typing import Any

from freeway.errors import NoModelAvailable, ValidationFailed
from freeway.providers.types import ChatRequest, Model

# Rough characters-per-token of English text; only used to skip models whose context
# is clearly too small, so erring low is the safe side.
CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4
IMAGE_PART_TOKENS = 85


class Candidate:
    """One way to serve a request: a provider, the upstream id to send, and the
    catalogue entry when there is one (for prices and limits)."""

    __slots__ = ("gateway_id", "model", "provider", "upstream_id")

    def __init__(self, provider: Any, upstream_id: str, model: Model | None = None) -> None:
        self.provider = provider
        self.upstream_id = upstream_id
        self.model = model
        self.gateway_id = model.id if model is not None else f"{provider.name}/{upstream_id}"

    def __repr__(self) -> str:
        return f"Candidate({self.gateway_id})"


def _not_found(requested: str) -> NoModelAvailable:
    return NoModelAvailable(
        f"model {requested!r} does not exist or is not available; "
        "GET /v1/models lists the models this key can use",
        param="model",
        code="model_not_found",
    )


def resolve(requested: str, catalogue: Any, providers: dict[str, Any]) -> list[Candidate]:
    """Every candidate for ``requested``, best first (see the module doc)."""
    models: list[Model] = []
    if catalogue is not None:
        if requested in catalogue.categories():
            models = catalogue.candidates(requested)
            if not models:
                raise NoModelAvailable(
                    f"no model is available in category {requested!r} right now "
                    "(the catalogue may still be loading)",
                    param="model",
                    code="model_not_found",
                )
        else:
            model = catalogue.get(requested)
            if model is not None:
                models = [model]
                models.extend(
                    m for m in catalogue.by_upstream_id(model.upstream_id) if m.id != model.id
                )
            else:
                models = catalogue.by_upstream_id(requested)
    candidates = [
        Candidate(providers[m.provider], m.upstream_id, m)
        for m in models
        if m.provider in providers
    ]
    if candidates:
        return candidates
    prefix, sep, rest = requested.partition("/")
    if sep and rest and prefix in providers:
        return [Candidate(providers[prefix], rest)]
    raise _not_found(requested)


# --- chat requirements --------------------------------------------------------------


def estimate_prompt_tokens(request: ChatRequest) -> int:
    """A cheap, rough count of the prompt's tokens (characters / 4 plus overheads)."""
    chars = 0
    tokens = 0
    for message in request.messages:
        tokens += MESSAGE_OVERHEAD_TOKENS
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            for part in content:
                if isinstance(part, dict):
                    text = part.get("text")
                    if isinstance(text, str):
                        chars += len(text)
                    elif part.get("type") == "image_url":
                        tokens += IMAGE_PART_TOKENS
    return tokens + chars // CHARS_PER_TOKEN


def _wants_image_input(request: ChatRequest) -> bool:
    for message in request.messages:
        content = message.get("content")
        if isinstance(content, list):
            for part in content:
                if isinstance(part, dict) and part.get("type") == "image_url":
                    return True
    return False


def fit_chat(requested: str, candidates: list[Candidate], request: ChatRequest) -> list[Candidate]:
    """Drop candidates that cannot serve this chat request; 400 if none is left."""
    if not any(c.model is not None for c in candidates):
        return candidates
    needs_tools = bool(request.tools)
    needs_vision = _wants_image_input(request)
    needed: int | None = None
    kept: list[Candidate] = []
    reasons: list[str] = []
    for candidate in candidates:
        model = candidate.model
        if model is None:
            kept.append(candidate)
            continue
        if needs_tools and model.supports_tools is False:
            reasons.append(f"{model.id} does not support tools")
            continue
        if needs_vision and "image" not in model.input_modalities:
            reasons.append(f"{model.id} does not take image input")
            continue
        if model.context_length:
            if needed is None:
                output = request.max_completion_tokens or request.max_tokens or 0
                needed = estimate_prompt_tokens(request) + output
            if needed > model.context_length:
                reasons.append(
                    f"{model.id} holds {model.context_length} tokens, the request needs "
                    f"about {needed}"
                )
                continue
        kept.append(candidate)
    if kept:
        return kept
    too_long = all("tokens" in r for r in reasons)
    raise ValidationFailed(
        f"no model for {requested!r} can serve this request: " + "; ".join(reasons[:5]),
        param="messages" if too_long else "model",
        code="context_length_exceeded" if too_long else "unsupported_capability",
    )
