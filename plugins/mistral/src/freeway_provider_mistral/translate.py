"""OpenAI request → what Mistral's strict validator accepts (``providers.md`` §5.2).

Mistral answers 422 (``extra_forbidden``) to unknown keys and ``null`` values, and
has historically required tool-call ids of exactly nine ``[a-zA-Z0-9]`` characters.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

# OpenAI fields Mistral has no equivalent for.
DROPPED = (
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "service_tier",
    "store",
    "prompt_cache_key",
    "stream_options",
    "user",
    "metadata",
    "modalities",
    "max_completion_tokens",
)
_ID = re.compile(r"[a-zA-Z0-9]{9}")
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def mistral_body(body: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an OpenAI chat body (as the generic adapter built it) for Mistral."""
    max_completion = body.get("max_completion_tokens")
    if max_completion is not None:  # the newer name wins, as in OpenAI
        body["max_tokens"] = max_completion
    if "seed" in body:
        body["random_seed"] = body.pop("seed")
    for key in DROPPED:
        body.pop(key, None)
    if body.get("tool_choice") is not None:
        body["tool_choice"], body["tools"] = _tool_choice(body["tool_choice"], body.get("tools"))
    body["messages"] = [m for m in (_message(m) for m in body["messages"]) if m is not None]
    return {k: v for k, v in body.items() if v is not None}


def _tool_choice(choice: Any, tools: list[dict[str, Any]] | None) -> tuple[Any, Any]:
    """``required`` → ``any``; a named function → ``any`` over that one tool."""
    if choice == "required":
        return "any", tools
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        named = [t for t in tools or [] if (t.get("function") or {}).get("name") == name]
        return "any", named or tools
    return choice, tools


def _message(message: dict[str, Any]) -> dict[str, Any] | None:
    """One message without ``name`` or ``null`` keys; empty assistant turns vanish."""
    out = {k: v for k, v in message.items() if v is not None and k != "name"}
    if out.get("role") == "developer":
        out["role"] = "system"
    if out.get("role") == "assistant" and not out.get("content") and not out.get("tool_calls"):
        return None
    if out.get("tool_calls"):
        out["tool_calls"] = [
            {**call, "id": mistral_tool_id(call["id"])} if call.get("id") else call
            for call in out["tool_calls"]
        ]
    if out.get("tool_call_id"):
        out["tool_call_id"] = mistral_tool_id(out["tool_call_id"])
    return out


def mistral_tool_id(call_id: str) -> str:
    """``call_id`` itself if Mistral accepts it, else a stable 9-character alias."""
    if _ID.fullmatch(call_id):
        return call_id
    number = int.from_bytes(hashlib.sha256(call_id.encode()).digest()[:8], "big")
    chars = []
    for _ in range(9):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return "".join(chars)


def flatten_content(content: Any) -> tuple[str | None, str | None]:
    """List-typed content (Magistral) → (text, reasoning); strings pass through."""
    if not isinstance(content, list):
        return content, None
    text: list[str] = []
    thinking: list[str] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            text.append(str(part.get("text", "")))
        elif part.get("type") == "thinking":
            inner = part.get("thinking")
            pieces = inner if isinstance(inner, list) else [inner]
            for piece in pieces:
                if isinstance(piece, dict):
                    thinking.append(str(piece.get("text", "")))
                elif isinstance(piece, str):
                    thinking.append(piece)
    return "".join(text), ("".join(thinking) or None)
