"""OpenAI chat requests to Cohere v2 ``/v2/chat`` bodies, and Cohere answers back.

v2 keeps OpenAI's lowercase roles and tool-call shape (never v1's ``CHATBOT`` /
``chat_history``), but renames sampling fields (``p``, ``k``, ``stop_sequences``),
spells ``tool_choice`` in capitals with no value for "auto", answers with a list of
typed content blocks, and reports usage twice (``tokens`` and ``billed_units``).
Fields Cohere cannot honour are refused with a 400 naming them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec

from freeway.errors import (
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    UpstreamBadRequest,
    ValidationFailed,
)
from freeway.providers.types import ChatMessage, ChatRequest, ChatResponse, Choice, Usage
from freeway.providers.upstream import error_from_status

PROVIDER = "cohere"

# Harmless metadata with no Cohere meaning: dropped.
_DROPPED = frozenset({"service_tier", "store", "metadata", "safety_identifier", "prompt_cache_key"})
# Cohere-only request fields a client may send (gateway extensions): passed through.
_NATIVE = frozenset({"documents", "safety_mode", "citation_options", "strict_tools"})
_FINISH = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "MAX_TOKENS": "length",
    "TOOL_CALL": "tool_calls",
}
_THINKING_BUDGET = {"low": 1024, "medium": 8192, "high": 24576}


def _reject(param: str, why: str) -> ValidationFailed:
    return ValidationFailed(f"{param}: {why}", param=param, code="unsupported_parameter")


# --- request ------------------------------------------------------------------------


def to_cohere(request: ChatRequest, *, stream: bool = False) -> dict[str, Any]:
    """The ``/v2/chat`` body for ``request``; raises ``ValidationFailed`` (400)."""
    if request.n is not None and request.n > 1:
        raise _reject("n", "cohere returns one choice; send n=1 or leave it out")
    if request.logprobs or request.top_logprobs is not None:
        raise _reject("logprobs" if request.logprobs else "top_logprobs", "is not supported")
    if set(request.modalities or ["text"]) != {"text"}:
        raise _reject("modalities", "cohere answers with text only")
    stop = [request.stop] if isinstance(request.stop, str) else request.stop
    if stop and len(stop) > 5:
        raise _reject("stop", "cohere accepts at most 5 stop sequences")
    max_tokens = request.max_completion_tokens
    values = {
        "temperature": request.temperature,
        "p": request.top_p,
        "max_tokens": request.max_tokens if max_tokens is None else max_tokens,
        "stop_sequences": stop or None,
        "seed": request.seed,
        "frequency_penalty": request.frequency_penalty,
        "presence_penalty": request.presence_penalty,
    }
    body: dict[str, Any] = {"model": request.model, "messages": _messages(request.messages)}
    body.update((key, value) for key, value in values.items() if value is not None)
    body.update(_tools(request))
    if request.response_format:
        body.update(_response_format(request.response_format))
    for key, value in request.extra.items():
        if key == "reasoning_effort":
            body["thinking"] = _thinking(value)
        elif key == "top_k":
            body["k"] = value
        elif key in _NATIVE:
            body[key] = value
        elif key == "logit_bias" and not value:
            continue
        elif key not in _DROPPED:
            raise _reject(key, "is not supported by the cohere provider")
    if stream:
        body["stream"] = True
    return body


def _messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for i, message in enumerate(messages):
        where, role = f"messages[{i}]", message.get("role")
        content = message.get("content")
        if role in ("system", "developer", "user"):
            allowed = ("text", "image_url") if role == "user" else ("text",)
            out.append(
                {
                    "role": "user" if role == "user" else "system",
                    "content": _content(content, where, allowed),
                }
            )
        elif role == "assistant":
            turn: dict[str, Any] = {"role": "assistant"}
            if content:
                turn["content"] = _content(content, where, ("text",))
            calls = message.get("tool_calls")
            if calls:
                turn["tool_calls"] = [
                    _tool_call(c, f"{where}.tool_calls[{j}]") for j, c in enumerate(calls)
                ]
                if message.get("reasoning"):
                    turn["tool_plan"] = message["reasoning"]
            if len(turn) > 1:
                out.append(turn)
        elif role == "tool":
            if not message.get("tool_call_id"):
                raise _reject(f"{where}.tool_call_id", "is required on tool messages")
            text = content if isinstance(content, str) else _text(content, where)
            out.append({"role": "tool", "tool_call_id": message["tool_call_id"], "content": text})
        else:
            raise _reject(f"{where}.role", f"unknown role {role!r}")
    return out


def _content(content: Any, where: str, allowed: tuple[str, ...]) -> Any:
    if content is None or isinstance(content, str):
        return content or ""
    blocks = []
    for j, part in enumerate(content):
        kind = part.get("type")
        if kind not in allowed:
            raise _reject(f"{where}.content[{j}].type", f"{kind!r} parts are not supported here")
        if kind == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        else:
            url = (part.get("image_url") or {}).get("url", "")
            blocks.append({"type": "image_url", "image_url": {"url": url}})
    return blocks


def _text(content: Any, where: str) -> str:
    return "".join(block["text"] for block in _content(content, where, ("text",)))


def _tool_call(call: dict[str, Any], where: str) -> dict[str, Any]:
    function = call.get("function") or {}
    if not function.get("name"):
        raise _reject(f"{where}.function.name", "is required")
    arguments = function.get("arguments") or "{}"
    if not isinstance(arguments, str):
        arguments = msgspec.json.encode(arguments).decode()
    return {
        "id": call.get("id", ""),
        "type": "function",
        "function": {"name": function["name"], "arguments": arguments},
    }


def _tools(request: ChatRequest) -> dict[str, Any]:
    choice = request.tool_choice
    if not request.tools:
        if choice not in (None, "none", "auto"):
            raise _reject("tool_choice", "needs tools")
        return {}
    tools: list[dict[str, Any]] = []
    strict = False
    for i, tool in enumerate(request.tools):
        function = dict(tool.get("function") or {})
        if tool.get("type", "function") != "function" or not function.get("name"):
            raise _reject(f"tools[{i}]", "only function tools with a name are supported")
        strict = bool(function.pop("strict", False)) or strict
        tools.append({"type": "function", "function": function})
    body: dict[str, Any] = {}
    if choice in ("none", "required"):
        body["tool_choice"] = choice.upper()
    elif isinstance(choice, dict):
        # Cohere cannot force one named tool: offer only that tool and require a call.
        name = (choice.get("function") or {}).get("name")
        tools = [t for t in tools if t["function"]["name"] == name]
        if not tools:
            raise _reject("tool_choice.function.name", f"no tool named {name!r} in tools")
        body["tool_choice"] = "REQUIRED"
    elif choice not in (None, "auto"):  # auto is Cohere's default and has no value
        raise _reject("tool_choice", "expected none, auto, required or a function")
    body["tools"] = tools
    if strict:
        body["strict_tools"] = True
    return body


def _response_format(fmt: dict[str, Any]) -> dict[str, Any]:
    kind = fmt.get("type")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"response_format": {"type": "json_object"}}
    if kind == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise _reject("response_format.json_schema.schema", "must be a JSON Schema object")
        return {"response_format": {"type": "json_object", "json_schema": schema}}
    raise _reject("response_format.type", f"unknown response format {kind!r}")


def _thinking(effort: Any) -> dict[str, Any]:
    if effort in ("none", "minimal"):
        return {"type": "disabled"}
    if effort not in _THINKING_BUDGET:
        raise _reject("reasoning_effort", "expected none, minimal, low, medium or high")
    return {"type": "enabled", "token_budget": _THINKING_BUDGET[effort]}


# --- response -----------------------------------------------------------------------


def finish_reason(native: str | None, data: Mapping[str, Any]) -> str:
    """OpenAI finish reason for Cohere's; ``ERROR`` / ``TIMEOUT`` raise instead."""
    if native == "ERROR":
        detail = data.get("error") or data.get("message") or "generation failed"
        raise ProviderUnavailable(f"{PROVIDER}: {detail}", provider=PROVIDER)
    if native == "TIMEOUT":
        raise ProviderTimeout(f"{PROVIDER}: generation timed out", provider=PROVIDER)
    return _FINISH.get(native or "", "stop")


def usage_from(usage: dict[str, Any] | None) -> Usage | None:
    """OpenAI usage from Cohere's: the model's ``tokens``, else ``billed_units``."""
    if not usage:
        return None
    counts = usage.get("tokens") or usage.get("billed_units") or {}
    prompt = int(counts.get("input_tokens") or 0)
    completion = int(counts.get("output_tokens") or 0)
    result = Usage(prompt, completion, prompt + completion)
    if usage.get("cached_tokens"):
        result.prompt_tokens_details = {"cached_tokens": int(usage["cached_tokens"])}
    return result


def response_id(cohere_id: str | None) -> str:
    """``chatcmpl-<id>``, or a fresh id when Cohere sent none."""
    return f"chatcmpl-{cohere_id or uuid.uuid4().hex}"


def from_cohere(data: dict[str, Any], model: str) -> ChatResponse:
    """The ``chat.completion`` for a ``/v2/chat`` answer."""
    message = data.get("message") or {}
    blocks = message.get("content") or []
    text = [b.get("text", "") for b in blocks if b.get("type") == "text"]
    thinking = [b.get("thinking", "") for b in blocks if b.get("type") == "thinking"]
    calls = [_tool_call(c, "message.tool_calls") for c in message.get("tool_calls") or []]
    reasoning = "".join(thinking) or message.get("tool_plan") or None
    content = "".join(text) if text or not calls else None
    reply = ChatMessage(content=content, tool_calls=calls or None, reasoning=reasoning)
    reason = finish_reason(data.get("finish_reason"), data)
    return ChatResponse(
        id=response_id(data.get("id")),
        model=model,
        created=int(time.time()),
        choices=[Choice(index=0, message=reply, finish_reason=reason)],
        usage=usage_from(data.get("usage")),
    )


def cohere_error(status: int, headers: Mapping[str, str], body: Any) -> ProviderError:
    """The Freeway error for a Cohere error answer (``{"message": ...}`` body)."""
    error = error_from_status(PROVIDER, status, headers, body)
    if status == 402:  # billing: no retry helps until someone pays
        return UpstreamBadRequest(error.message, provider=PROVIDER, code="insufficient_quota")
    return error
