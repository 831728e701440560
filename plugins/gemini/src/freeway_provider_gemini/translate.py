"""OpenAI chat requests to Gemini ``generateContent`` bodies, and Gemini answers back.

Gemini differs from OpenAI in ways clients never see: the assistant role is ``model``,
system messages become ``systemInstruction``, tool results need the function *name*
(recovered from the earlier assistant turn), ``args`` are objects not JSON strings,
and a blocked prompt is an HTTP 200 without candidates.  Fields with no Gemini
equivalent are refused with a 400 naming them rather than silently ignored.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec

from freeway.errors import (
    ProviderError,
    ProviderTimeout,
    RateLimited,
    UpstreamAuthError,
    ValidationFailed,
)
from freeway.providers.types import ChatMessage, ChatRequest, ChatResponse, Choice, Usage
from freeway.providers.upstream import error_from_status

PROVIDER = "gemini"
log = logging.getLogger("freeway.providers.gemini")

# Gemini 3 rejects a function-call history without the thought signature it sent;
# OpenAI clients echo tool call ids verbatim, so the signature travels inside the id.
SIGNATURE_MARK = "__thought__"

# Harmless metadata with no Gemini meaning: dropped.
_DROPPED = frozenset({"service_tier", "store", "metadata", "safety_identifier", "prompt_cache_key"})
_FILTERED = ("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE")
_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    **dict.fromkeys((*_FILTERED, "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"), "content_filter"),
}
_BAD_CALL = frozenset({"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"})
_TOOL_CHOICE = {"none": "NONE", "auto": "AUTO", "required": "ANY"}
_THINKING_BUDGET = {"none": 0, "minimal": 0, "low": 1024, "medium": 8192, "high": 24576}
# The OpenAPI subset Gemini's Schema accepts; everything else (additionalProperties,
# $schema, strict, examples…) makes it answer 400.
_SCHEMA_KEYS = frozenset(
    {"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems"}
    | {"required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern"}
    | {"example", "propertyOrdering", "default", "minimum", "maximum"}
)
_SCHEMA_FORMATS = frozenset({"enum", "date-time", "int32", "int64", "float", "double"})


def _reject(param: str, why: str) -> ValidationFailed:
    return ValidationFailed(f"{param}: {why}", param=param, code="unsupported_parameter")


# --- request ------------------------------------------------------------------------


def to_gemini(request: ChatRequest) -> dict[str, Any]:
    """The ``generateContent`` body for ``request``; raises ``ValidationFailed`` (400)."""
    system, contents = _contents(request.messages)
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = {"parts": system}
    body.update(_tools(request))
    config = _generation_config(request)
    for key, value in request.extra.items():
        if key == "reasoning_effort":
            config["thinkingConfig"] = _thinking(request.model, value)
        elif key == "top_k":
            config["topK"] = value
        elif key in ("safety_settings", "safetySettings"):
            body["safetySettings"] = value
        elif key == "logit_bias" and not value:
            continue
        elif key not in _DROPPED:
            raise _reject(key, "is not supported by the gemini provider")
    if config:
        body["generationConfig"] = config
    return body


def _contents(messages: list[dict[str, Any]]) -> tuple[list[dict], list[dict]]:
    system: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}
    previous_tool = False
    for i, message in enumerate(messages):
        where, role = f"messages[{i}]", message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            system.extend(p for p in _parts(content, where) if _text_part(p, where))
        elif role == "user":
            contents.append({"role": "user", "parts": _parts(content, where)})
        elif role == "assistant":
            # An empty text part next to tool calls is noise Gemini may refuse.
            parts = [p for p in _parts(content, where) if _text_part(p, where) and p["text"]]
            for j, call in enumerate(message.get("tool_calls") or []):
                parts.append(_function_call(call, f"{where}.tool_calls[{j}]"))
                call_names[str(call.get("id"))] = parts[-1]["functionCall"]["name"]
            if parts:
                contents.append({"role": "model", "parts": parts})
        elif role in ("tool", "function"):
            name = call_names.get(str(message.get("tool_call_id"))) or message.get("name")
            if not name:
                raise _reject(
                    f"{where}.tool_call_id", "matches no tool call of an earlier assistant message"
                )
            part = {"functionResponse": {"name": name, "response": _tool_result(content)}}
            if previous_tool:  # Gemini wants all results of one turn in one user turn
                contents[-1]["parts"].append(part)
            else:
                contents.append({"role": "user", "parts": [part]})
        else:
            raise _reject(f"{where}.role", f"unknown role {role!r}")
        previous_tool = role in ("tool", "function")
    return system, contents


def _text_part(part: dict[str, Any], where: str) -> bool:
    if "text" not in part:
        raise _reject(f"{where}.content", "only text is allowed in system and assistant messages")
    return True


def _parts(content: Any, where: str) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}]
    parts = []
    for j, item in enumerate(content):
        kind, here = item.get("type"), f"{where}.content[{j}]"
        if kind == "text":
            parts.append({"text": item.get("text", "")})
        elif kind == "image_url":
            url = (item.get("image_url") or {}).get("url", "")
            parts.append(_inline(url, f"{here}.image_url.url"))
        elif kind == "input_audio":
            audio = item.get("input_audio") or {}
            mime = f"audio/{audio.get('format', 'wav')}"
            parts.append({"inlineData": {"mimeType": mime, "data": audio.get("data", "")}})
        elif kind == "file":
            url = (item.get("file") or {}).get("file_data", "")
            parts.append(_inline(url, f"{here}.file.file_data"))
        elif kind == "refusal":
            parts.append({"text": item.get("refusal", "")})
        else:
            raise _reject(f"{here}.type", f"content part type {kind!r} is not supported by gemini")
    return parts


def _inline(url: str, param: str) -> dict[str, Any]:
    head, _, data = url.partition(",")
    if not (head.startswith("data:") and head.endswith(";base64") and data):
        # Gemini does not fetch URLs, and fetching them here would let callers probe
        # the gateway's network.
        raise _reject(param, "gemini needs the file inline as a base64 data: URL")
    return {"inlineData": {"mimeType": head[5:-7] or "application/octet-stream", "data": data}}


def _function_call(call: dict[str, Any], where: str) -> dict[str, Any]:
    function = call.get("function") or {}
    try:
        args = msgspec.json.decode(function.get("arguments") or "{}")
    except msgspec.DecodeError:
        args = None
    if not isinstance(args, dict):
        raise _reject(f"{where}.function.arguments", "must be a JSON object encoded as a string")
    part: dict[str, Any] = {"functionCall": {"name": function.get("name", ""), "args": args}}
    _, mark, signature = str(call.get("id", "")).partition(SIGNATURE_MARK)
    if mark:
        part["thoughtSignature"] = signature
    return part


def _tool_result(content: Any) -> dict[str, Any]:
    text = content if isinstance(content, str) else _joined(content)
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError:
        value = None
    return value if isinstance(value, dict) else {"result": text}


def _joined(content: Any) -> str:
    return "".join(p.get("text", "") for p in content or [] if p.get("type") == "text")


def _generation_config(request: ChatRequest) -> dict[str, Any]:
    if request.logprobs or request.top_logprobs is not None:
        param = "logprobs" if request.logprobs else "top_logprobs"
        raise _reject(param, "is not supported by the gemini provider")
    stop = [request.stop] if isinstance(request.stop, str) else request.stop
    if stop and len(stop) > 5:
        raise _reject("stop", "gemini accepts at most 5 stop sequences")
    max_tokens = request.max_completion_tokens
    values = {
        "temperature": request.temperature,
        "topP": request.top_p,
        "maxOutputTokens": request.max_tokens if max_tokens is None else max_tokens,
        "stopSequences": stop or None,
        "candidateCount": request.n,
        "seed": request.seed,
        "presencePenalty": request.presence_penalty,
        "frequencyPenalty": request.frequency_penalty,
    }
    config = {key: value for key, value in values.items() if value is not None}
    config.update(_response_format(request.response_format))
    modalities = [m.upper() for m in request.modalities or []]
    if set(modalities) - {"TEXT", "IMAGE"}:
        raise _reject("modalities", "gemini answers with text and images only")
    if "IMAGE" in modalities:
        config["responseModalities"] = modalities
    return config


def _response_format(fmt: dict[str, Any] | None) -> dict[str, Any]:
    kind = (fmt or {}).get("type", "text")
    if kind == "text":
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        schema = ((fmt or {}).get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise _reject("response_format.json_schema.schema", "must be a JSON Schema object")
        return {"responseMimeType": "application/json", "responseSchema": gemini_schema(schema)}
    raise _reject("response_format.type", f"unknown response format {kind!r}")


def _thinking(model: str, effort: Any) -> dict[str, Any]:
    if effort not in _THINKING_BUDGET:
        raise _reject("reasoning_effort", f"expected one of {', '.join(_THINKING_BUDGET)}")
    if model.startswith("gemini-3"):  # 3.x takes a level, not a budget
        return {"thinkingLevel": "low" if effort in ("none", "minimal", "low") else "high"}
    return {"thinkingBudget": _THINKING_BUDGET[effort]}


def _tools(request: ChatRequest) -> dict[str, Any]:
    choice = request.tool_choice
    if not request.tools:
        if choice not in (None, "none", "auto"):
            raise _reject("tool_choice", "needs tools")
        return {}
    declarations = []
    for i, tool in enumerate(request.tools):
        function = tool.get("function") or {}
        if tool.get("type", "function") != "function" or not function.get("name"):
            raise _reject(f"tools[{i}]", "only function tools with a name are supported")
        declaration = {"name": function["name"]}
        if function.get("description"):
            declaration["description"] = function["description"]
        parameters = gemini_schema(function.get("parameters") or {})
        if parameters.get("properties"):  # Gemini refuses an object without properties
            declaration["parameters"] = parameters
        declarations.append(declaration)
    body: dict[str, Any] = {"tools": [{"functionDeclarations": declarations}]}
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICE:
            raise _reject("tool_choice", "expected none, auto, required or a function")
        body["toolConfig"] = {"functionCallingConfig": {"mode": _TOOL_CHOICE[choice]}}
    elif isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name")
        if not name:
            raise _reject("tool_choice.function.name", "is required")
        mode = {"mode": "ANY", "allowedFunctionNames": [name]}
        body["toolConfig"] = {"functionCallingConfig": mode}
    return body


def gemini_schema(schema: Any, defs: Mapping[str, Any] | None = None, depth: int = 0) -> Any:
    """A JSON Schema reduced to the OpenAPI subset Gemini accepts (local ``$ref`` inlined)."""
    if not isinstance(schema, dict):
        return schema
    if depth > 40:
        raise _reject("tools", "JSON schema is nested too deeply (or its $ref is recursive)")
    if defs is None:
        defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    if "$ref" in schema:
        target = defs.get(str(schema["$ref"]).rsplit("/", 1)[-1])
        if target is None:
            raise _reject("tools", f"JSON schema $ref {schema['$ref']!r} cannot be resolved")
        rest = {k: v for k, v in schema.items() if k != "$ref"}
        return gemini_schema({**target, **rest}, defs, depth + 1)
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
            else:
                out["anyOf"] = [{"type": t} for t in types]
            if "null" in value:
                out["nullable"] = True
        elif key == "const":
            out["enum"] = [value]
        elif key in ("anyOf", "oneOf"):
            out["anyOf"] = [gemini_schema(v, defs, depth + 1) for v in value]
        elif key == "properties":
            out[key] = {name: gemini_schema(v, defs, depth + 1) for name, v in value.items()}
        elif key == "items":
            out[key] = gemini_schema(value, defs, depth + 1)
        elif key in _SCHEMA_KEYS and (key != "format" or value in _SCHEMA_FORMATS):
            out[key] = value
    return out


# --- response -----------------------------------------------------------------------


class Parts(msgspec.Struct):
    """What a candidate's parts say, in OpenAI terms."""

    text: str | None = None
    reasoning: str | None = None
    tool_calls: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []


def read_parts(parts: list[dict[str, Any]]) -> Parts:
    """Text, thoughts, function calls and inline images of Gemini ``parts``.

    Parts carrying only a ``thoughtSignature`` (or code execution) are skipped.
    """
    text: list[str] = []
    thoughts: list[str] = []
    out = Parts(tool_calls=[], images=[])
    for part in parts:
        if "functionCall" in part:
            out.tool_calls.append(_tool_call(part))
        elif "inlineData" in part:
            data = part["inlineData"]
            url = f"data:{data.get('mimeType', 'image/png')};base64,{data.get('data', '')}"
            out.images.append({"type": "image_url", "image_url": {"url": url}})
        elif "text" in part:
            (thoughts if part.get("thought") else text).append(part["text"])
    out.text = "".join(text) if text else None
    out.reasoning = "".join(thoughts) if thoughts else None
    return out


def _tool_call(part: dict[str, Any]) -> dict[str, Any]:
    call = part["functionCall"]
    call_id = call.get("id") or f"call_{uuid.uuid4().hex[:24]}"
    if part.get("thoughtSignature"):
        call_id += SIGNATURE_MARK + part["thoughtSignature"]
    arguments = msgspec.json.encode(call.get("args") or {}).decode()
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": call.get("name", ""), "arguments": arguments},
    }


def finish_reason(native: str | None, has_tool_calls: bool) -> str | None:
    """OpenAI finish reason for Gemini's; ``STOP`` with function calls is ``tool_calls``."""
    if native is None:
        return None
    if native in _BAD_CALL:
        log.warning("gemini finished with %s: no usable tool call returned", native)
    reason = _FINISH.get(native, "stop")
    return "tool_calls" if reason == "stop" and has_tool_calls else reason


def block_reason(data: dict[str, Any]) -> str | None:
    """``promptFeedback.blockReason`` when Gemini refused the prompt itself."""
    if data.get("candidates"):
        return None
    return (data.get("promptFeedback") or {}).get("blockReason")


def usage_from(meta: dict[str, Any] | None) -> Usage | None:
    """OpenAI usage from ``usageMetadata``: thoughts count as completion (reasoning) tokens."""
    if not meta:
        return None
    prompt = meta.get("promptTokenCount", 0) + meta.get("toolUsePromptTokenCount", 0)
    thoughts = meta.get("thoughtsTokenCount", 0)
    completion = meta.get("candidatesTokenCount", 0) + thoughts
    usage = Usage(prompt, completion, meta.get("totalTokenCount") or prompt + completion)
    if meta.get("cachedContentTokenCount"):
        usage.prompt_tokens_details = {"cached_tokens": meta["cachedContentTokenCount"]}
    if thoughts:
        usage.completion_tokens_details = {"reasoning_tokens": thoughts}
    return usage


def response_id(data: dict[str, Any]) -> str:
    """``chatcmpl-<responseId>``, or a fresh id when Gemini sent none."""
    return f"chatcmpl-{data.get('responseId') or uuid.uuid4().hex}"


def from_gemini(data: dict[str, Any], model: str) -> ChatResponse:
    """The ``chat.completion`` for a ``generateContent`` answer."""
    choices = []
    for position, candidate in enumerate(data.get("candidates") or []):
        parts = read_parts((candidate.get("content") or {}).get("parts") or [])
        content = parts.text if parts.text is not None or parts.tool_calls else ""
        message = ChatMessage(
            content=content,
            tool_calls=parts.tool_calls or None,
            reasoning=parts.reasoning,
            images=parts.images or None,
        )
        reason = finish_reason(candidate.get("finishReason") or "STOP", bool(parts.tool_calls))
        index = candidate.get("index", position)
        choices.append(Choice(index=index, message=message, finish_reason=reason))
    if not choices:
        blocked = block_reason(data)
        refusal = f"gemini blocked the prompt ({blocked})" if blocked else None
        message = ChatMessage(content="", refusal=refusal)
        reason = "content_filter" if blocked else "stop"
        choices = [Choice(index=0, message=message, finish_reason=reason)]
    return ChatResponse(
        id=response_id(data),
        model=data.get("modelVersion") or model,
        created=int(time.time()),
        choices=sorted(choices, key=lambda c: c.index),
        usage=usage_from(data.get("usageMetadata")),
    )


# --- errors -------------------------------------------------------------------------


def gemini_error(status: int, headers: Mapping[str, str], body: Any) -> ProviderError:
    """The Freeway error for a Gemini error answer (Google RPC ``{"error": {...}}`` body)."""
    error = error_from_status(PROVIDER, status, headers, body)
    if isinstance(body, (bytes, str)):
        try:
            body = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return error
    if isinstance(body, list) and body:
        body = body[0]
    info = body.get("error") if isinstance(body, dict) else None
    details = info.get("details") or [] if isinstance(info, dict) else []
    details = [d for d in details if isinstance(d, dict)]
    if any(d.get("reason") == "API_KEY_INVALID" for d in details):
        # Gemini says 400 INVALID_ARGUMENT for a bad key; it is our credential problem.
        return UpstreamAuthError(error.message, provider=PROVIDER)
    if isinstance(error, RateLimited) and error.retry_after is None:
        for detail in details:
            delay = str(detail.get("retryDelay", ""))
            if delay.endswith("s") and delay[:-1].replace(".", "", 1).isdigit():
                error.retry_after = float(delay[:-1])
    if status == 504:
        return ProviderTimeout(error.message, provider=PROVIDER)
    return error
