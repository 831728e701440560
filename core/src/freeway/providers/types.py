"""The OpenAI wire shapes, as msgspec Structs: the one place that knows them.

Requests keep fields the gateway does not model (``reasoning_effort``, OpenRouter's
``provider``…) in ``extra`` so OpenAI-compatible upstreams receive them unchanged.
Use :func:`decode_chat_request` / :func:`encode` rather than msgspec directly.
"""

from __future__ import annotations

from typing import Any

import msgspec


class Struct(msgspec.Struct, omit_defaults=True):
    """Base for wire structs: defaults are not written, so upstreams see only what was set."""


def _always(value: Any) -> Any:
    """A default that is still written: OpenAI clients need ``object``, ``created``,
    ``index``, ``finish_reason: null``, ``choices: []`` present even when default
    (msgspec omits plain defaults, but never values from a non-collection factory)."""
    if isinstance(value, list):
        return msgspec.field(default_factory=lambda: [])
    return msgspec.field(default_factory=lambda: value)


# --- chat request -----------------------------------------------------------------


class StreamOptions(Struct):
    include_usage: bool = False


class ChatRequest(Struct, kw_only=True):
    """``POST /chat/completions`` body.  ``messages`` stay plain dicts: every content
    part shape (text, image_url, tool calls) passes through untouched."""

    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = None
    max_completion_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    n: int | None = None
    stop: str | list[str] | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    seed: int | None = None
    logprobs: bool | None = None
    top_logprobs: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    response_format: dict[str, Any] | None = None
    user: str | None = None
    modalities: list[str] | None = None
    # Fields we do not model, forwarded as-is to OpenAI-compatible upstreams.
    extra: dict[str, Any] = {}


_CHAT_FIELDS = frozenset(ChatRequest.__struct_fields__) - {"extra"}


# --- chat response / chunk ----------------------------------------------------------


class Usage(Struct):
    """Token counts; ``cost`` is what the provider says it charged, in USD, when it
    says so (OpenRouter's ``usage.cost``): usage records prefer it to catalogue prices."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    prompt_tokens_details: dict[str, Any] | None = None
    completion_tokens_details: dict[str, Any] | None = None
    cost: float | None = None


class ChatMessage(Struct, kw_only=True):
    role: str = _always("assistant")
    content: str | list[dict[str, Any]] | None = _always(None)
    tool_calls: list[dict[str, Any]] | None = None
    refusal: str | None = None
    images: list[dict[str, Any]] | None = None
    reasoning: str | None = None


class Choice(Struct, kw_only=True):
    index: int = _always(0)
    message: ChatMessage
    finish_reason: str | None = _always(None)
    logprobs: dict[str, Any] | None = None


class ChatResponse(Struct, kw_only=True):
    id: str
    model: str
    choices: list[Choice]
    created: int = _always(0)
    object: str = _always("chat.completion")
    usage: Usage | None = None
    system_fingerprint: str | None = None


class Delta(Struct, kw_only=True):
    role: str | None = None
    content: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    refusal: str | None = None
    images: list[dict[str, Any]] | None = None
    reasoning: str | None = None


class ChunkChoice(Struct, kw_only=True):
    index: int = _always(0)
    delta: Delta
    finish_reason: str | None = _always(None)
    logprobs: dict[str, Any] | None = None


class ChatChunk(Struct, kw_only=True):
    id: str
    model: str
    choices: list[ChunkChoice] = _always([])
    created: int = _always(0)
    object: str = _always("chat.completion.chunk")
    usage: Usage | None = None
    system_fingerprint: str | None = None


# --- images -------------------------------------------------------------------------


class ImageRequest(Struct, kw_only=True):
    """``POST /images/generations`` body."""

    prompt: str
    model: str = "image"
    n: int | None = None
    size: str | None = None
    quality: str | None = None
    style: str | None = None
    response_format: str | None = None
    background: str | None = None
    output_format: str | None = None
    user: str | None = None
    extra: dict[str, Any] = {}


_IMAGE_FIELDS = frozenset(ImageRequest.__struct_fields__) - {"extra"}


class ImageData(Struct, kw_only=True):
    url: str | None = None
    b64_json: str | None = None
    revised_prompt: str | None = None


class ImageResponse(Struct, kw_only=True):
    created: int
    data: list[ImageData]
    usage: dict[str, Any] | None = None


# --- catalogue ----------------------------------------------------------------------


class Model(msgspec.Struct, kw_only=True):
    """One upstream model, normalized.

    ``id`` is the gateway id ``<provider>/<upstream_id>``.  Prices are USD per one
    million tokens (``None`` = unknown); ``image_price`` is USD per generated image.
    """

    id: str
    provider: str
    upstream_id: str
    name: str
    context_length: int | None = None
    prompt_price: float | None = None
    completion_price: float | None = None
    image_price: float | None = None
    input_modalities: list[str] = msgspec.field(default_factory=lambda: ["text"])
    output_modalities: list[str] = msgspec.field(default_factory=lambda: ["text"])
    is_free: bool = False
    supports_tools: bool | None = None
    raw: dict[str, Any] = {}

    @property
    def makes_images(self) -> bool:
        return "image" in self.output_modalities


def make_model(provider: str, upstream_id: str, **fields: Any) -> Model:
    """Build a :class:`Model` with the gateway id derived from provider and upstream id."""
    fields.setdefault("name", upstream_id)
    return Model(
        id=f"{provider}/{upstream_id}", provider=provider, upstream_id=upstream_id, **fields
    )


# --- encode / decode ----------------------------------------------------------------

_encoder = msgspec.json.Encoder()
_raw_decoder = msgspec.json.Decoder(dict[str, Any])


def encode(obj: Any) -> bytes:
    """JSON-encode a struct or builtin; ``extra`` dicts are merged into the object."""
    if isinstance(obj, (ChatRequest, ImageRequest)):
        return _encoder.encode(to_dict(obj))
    return _encoder.encode(obj)


def to_dict(obj: ChatRequest | ImageRequest) -> dict[str, Any]:
    """The request as the dict an OpenAI-compatible upstream should receive."""
    data = msgspec.to_builtins(obj)
    data.pop("extra", None)
    data.update(obj.extra)
    return data


def _split_extra(body: dict[str, Any], known: frozenset[str]) -> dict[str, Any]:
    return {k: body.pop(k) for k in list(body) if k not in known}


def decode_chat_request(data: bytes) -> ChatRequest:
    """Decode a chat request body; raises ``msgspec.ValidationError``/``DecodeError``."""
    body = _raw_decoder.decode(data)
    extra = _split_extra(body, _CHAT_FIELDS)
    request = msgspec.convert(body, ChatRequest)
    request.extra = extra
    return request


def decode_image_request(data: bytes) -> ImageRequest:
    """Decode an image generation body; raises ``msgspec.ValidationError``/``DecodeError``."""
    body = _raw_decoder.decode(data)
    extra = _split_extra(body, _IMAGE_FIELDS)
    request = msgspec.convert(body, ImageRequest)
    request.extra = extra
    return request
