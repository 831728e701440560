"""The generic adapter for any upstream that speaks the OpenAI chat API.

Used directly for upstreams declared in ``freeway.toml``::

    [providers.local]
    base_url = "http://localhost:11434/v1"
    api_key = "…"                # optional
    models = ["llama3.2:3b"]     # optional; otherwise GET {base_url}/models

and subclassed by provider plugins whose upstream is OpenAI-compatible with quirks.
Every step is an overridable method, so a subclass changes only what differs:

* ``headers()`` — auth and extra headers of every call;
* ``build_body(request, stream=...)`` — the JSON body sent to ``/chat/completions``;
* ``parse_model(raw)`` — one ``/models`` entry to a :class:`Model` (``None`` = skip);
* ``parse_response(data)`` / ``parse_chunk(data)`` — upstream JSON to our structs;
* ``stream_error(data)`` — an ``{"error": …}`` event inside a stream to an error;
* ``check_response(response)`` — a non-2xx answer to an error;
* ``build_image_body`` / ``parse_image_response`` — ``/images/generations``.

Transport failures and non-2xx answers become :mod:`freeway.errors` errors through
:mod:`freeway.providers.upstream`; no ``httpx`` exception leaves this module.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import httpx
import msgspec

from freeway.errors import ProviderError, ProviderUnavailable, UpstreamBadRequest
from freeway.http import build_request, fetch, iter_body, stream
from freeway.providers.sse import aiter_sse
from freeway.providers.types import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    ImageRequest,
    ImageResponse,
    Model,
    Usage,
    make_model,
    to_dict,
)
from freeway.providers.upstream import (
    error_from_status,
    raise_for_upstream,
    upstream_errors,
)

log = logging.getLogger(__name__)

_json_decoder = msgspec.json.Decoder()
_json_encoder = msgspec.json.Encoder()

# Strings an upstream puts in an in-stream error's ``type``/``code`` when it gives no
# HTTP status, and the status they stand for.
_ERROR_HINTS: tuple[tuple[str, int], ...] = (
    ("rate_limit", 429),
    ("too_many_requests", 429),
    ("insufficient_quota", 402),
    ("invalid_api_key", 401),
    ("authentication", 401),
    ("permission", 403),
    ("invalid_request", 400),
    ("context_length", 400),
    ("not_found", 404),
    ("timeout", 408),
)


class OpenAICompatibleProvider:
    """A :class:`~freeway.providers.base.Provider` for an OpenAI-compatible upstream.

    ``name`` is the gateway prefix of the model ids; ``base_url`` includes the
    version path (``https://api.example.com/v1``); ``client`` is the shared pooled
    client (never closed here); ``models`` replaces the upstream model list when
    given; ``headers`` are added to every call.
    """

    #: Whether ``images()`` calls ``/images/generations``; subclasses without an
    #: image API set it to ``False`` so ``images()`` answers a clear 400.
    supports_images: ClassVar[bool] = True

    def __init__(
        self,
        name: str,
        *,
        base_url: str,
        api_key: str | None,
        client: httpx.AsyncClient,
        models: list[str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.client = client
        self.models = list(models) if models else None
        self.extra_headers = dict(headers or {})
        self._endpoints: dict[str, httpx.URL] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r})"

    # --- request building -----------------------------------------------------------

    def url(self, path: str) -> str:
        """Absolute URL of an endpoint below ``base_url`` (``path`` starts with ``/``)."""
        return self.base_url + path

    def endpoint(self, path: str) -> httpx.URL:
        """``url(path)`` parsed once: URL parsing is a measurable part of a call."""
        url = self._endpoints.get(path)
        if url is None:
            url = self._endpoints[path] = httpx.URL(self.url(path))
        return url

    def build_request(
        self, method: str, path: str, body: bytes | None = None, *, accept: str | None = None
    ) -> httpx.Request:
        """The upstream request for ``path`` with ``headers()`` (``accept`` overrides)."""
        headers = self.headers()
        if accept is not None:
            headers["accept"] = accept
        return build_request(method, self.endpoint(path), headers, body)

    def headers(self) -> dict[str, str]:
        """Headers of every upstream call: bearer auth, JSON, configured extras."""
        headers = {"content-type": "application/json", "accept": "application/json"}
        if self.api_key:
            headers["authorization"] = f"Bearer {self.api_key}"
        headers.update(self.extra_headers)
        return headers

    def build_body(self, request: ChatRequest, *, stream: bool) -> dict[str, Any]:
        """The ``/chat/completions`` body: the request as sent, ``model`` = upstream id.

        When streaming, ``stream_options.include_usage`` is always on so the gateway
        can count tokens (it drops the usage chunk for clients that did not ask).
        """
        body = to_dict(request)
        if stream:
            body["stream"] = True
            options = dict(body.get("stream_options") or {})
            options["include_usage"] = True
            body["stream_options"] = options
        else:
            # OpenAI answers 400 to stream_options without stream.
            body.pop("stream", None)
            body.pop("stream_options", None)
        return body

    def encode_body(self, body: dict[str, Any]) -> bytes:
        """JSON bytes of a request body."""
        return _json_encoder.encode(body)

    # --- models ---------------------------------------------------------------------

    async def list_models(self) -> list[Model]:
        """The configured ``models``, else every entry of ``GET {base_url}/models``."""
        if self.models is not None:
            return [m for m in (self.parse_model({"id": i}) for i in self.models) if m]
        data = await self.get_json("/models")
        entries = self.model_entries(data)
        models = []
        for raw in entries:
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                continue
            model = self.parse_model(raw)
            if model is not None:
                models.append(model)
        return models

    def model_entries(self, data: Any) -> list[Any]:
        """The list of model records in a ``/models`` answer (``data`` or a bare list)."""
        if isinstance(data, dict):
            data = data.get("data", data.get("models"))
        if not isinstance(data, list):
            raise ProviderUnavailable(
                f"{self.name}: unexpected /models answer (no model list)", provider=self.name
            )
        return data

    def parse_model(self, raw: dict[str, Any]) -> Model | None:
        """One ``/models`` record as a :class:`Model`; ``None`` skips it.

        The generic API carries no prices; a ``context_length``/``context_window``
        field is used when the upstream adds one.
        """
        upstream_id = raw["id"]
        context = raw.get("context_length") or raw.get("context_window")
        return make_model(
            self.name,
            upstream_id,
            name=raw.get("name") or upstream_id,
            context_length=context if isinstance(context, int) and context > 0 else None,
            raw=raw,
        )

    # --- chat -----------------------------------------------------------------------

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """One non-streaming completion."""
        body = self.encode_body(self.build_body(request, stream=False))
        data = await self.post_json("/chat/completions", body)
        return self.parse_response(data)

    def parse_response(self, data: Any) -> ChatResponse:
        """An upstream ``chat.completion`` object as a :class:`ChatResponse`."""
        if isinstance(data, dict) and data.get("error") is not None:
            raise self.stream_error(data)
        return self.convert(data, ChatResponse)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Stream chunks until ``[DONE]`` (or the upstream closes).

        Usage that arrives on a chunk with choices is moved to a chunk of its own
        (``choices: []``), as OpenAI sends it.  Closing this generator (``aclose()``,
        the consumer going away) closes the upstream response, which cancels the
        upstream request.
        """
        body = self.encode_body(self.build_body(request, stream=True))
        upstream = self.build_request("POST", "/chat/completions", body, accept="text/event-stream")
        with upstream_errors(self.name):
            async with stream(self.client, upstream) as response:
                await self.check_response(response)
                async for event in aiter_sse(iter_body(response)):
                    data = event.data
                    if data == "[DONE]":
                        return
                    if not data:
                        continue
                    payload = self.decode(data)
                    if isinstance(payload, dict) and payload.get("error") is not None:
                        raise self.stream_error(payload)
                    chunk = self.parse_chunk(payload)
                    if chunk is None:
                        continue
                    if chunk.usage is not None and chunk.choices:
                        # OpenAI's shape: usage travels alone on a final `choices: []`
                        # chunk, so the gateway can drop it for clients that did not ask.
                        usage, chunk.usage = chunk.usage, None
                        yield chunk
                        yield usage_chunk(chunk, usage)
                    else:
                        yield chunk

    def parse_chunk(self, data: Any) -> ChatChunk | None:
        """One stream ``data:`` object as a :class:`ChatChunk`; ``None`` skips it."""
        return self.convert(data, ChatChunk)

    def stream_error(self, data: dict[str, Any]) -> ProviderError:
        """The error for an ``{"error": {...}}`` body inside a 200 answer or a stream.

        The status comes from a numeric ``code``/``status`` when the upstream sends
        one (OpenRouter), else from hints in ``type``/``code`` (``rate_limit_exceeded``).
        """
        error = data.get("error")
        status = 502
        if isinstance(error, dict):
            status = _status_of(error)
        return error_from_status(self.name, status, {}, data)

    # --- images ---------------------------------------------------------------------

    async def images(self, request: ImageRequest) -> ImageResponse:
        """``POST /images/generations`` (``UpstreamBadRequest`` when unsupported)."""
        if not self.supports_images:
            raise UpstreamBadRequest(
                f"{self.name} does not generate images; choose an image model",
                provider=self.name,
                param="model",
            )
        body = self.encode_body(self.build_image_body(request))
        data = await self.post_json("/images/generations", body)
        return self.parse_image_response(data)

    def build_image_body(self, request: ImageRequest) -> dict[str, Any]:
        """The ``/images/generations`` body (``model`` = upstream id)."""
        return to_dict(request)

    def parse_image_response(self, data: Any) -> ImageResponse:
        """An upstream images answer as an :class:`ImageResponse`."""
        return self.convert(data, ImageResponse)

    # --- plumbing -------------------------------------------------------------------

    async def check_response(self, response: httpx.Response) -> None:
        """Raise the mapped error when ``response`` is not 2xx.

        Override to read an upstream's own error body (extra retry hints, moderation
        flags) or to look at response headers; call ``super()`` for the default.
        """
        await raise_for_upstream(self.name, response)

    async def get_json(self, path: str) -> Any:
        """``GET`` an endpoint and decode its JSON, mapping every failure."""
        return await self._call(self.build_request("GET", path))

    async def post_json(self, path: str, body: bytes) -> Any:
        """``POST`` JSON bytes and decode the JSON answer, mapping every failure."""
        return await self._call(self.build_request("POST", path, body))

    async def _call(self, upstream: httpx.Request) -> Any:
        with upstream_errors(self.name):
            response = await fetch(self.client, upstream)
            await self.check_response(response)
            return self.decode(response.content)

    def decode(self, raw: bytes | str) -> Any:
        """Decode upstream JSON; garbage is the upstream's fault (retryable)."""
        try:
            return _json_decoder.decode(raw)
        except msgspec.DecodeError as exc:
            raise ProviderUnavailable(
                f"{self.name}: upstream sent invalid JSON ({exc})", provider=self.name
            ) from None

    def convert(self, data: Any, type_: type[Any]) -> Any:
        """``msgspec.convert`` with a mismatching shape reported as an upstream fault."""
        try:
            return msgspec.convert(data, type_)
        except msgspec.ValidationError as exc:
            raise ProviderUnavailable(
                f"{self.name}: unexpected upstream answer ({exc})", provider=self.name
            ) from None

    async def aclose(self) -> None:
        """Nothing to release: the HTTP client is shared and owned by the app."""


def usage_chunk(chunk: ChatChunk, usage: Usage) -> ChatChunk:
    """The final ``choices: []`` chunk carrying ``usage`` for the stream of ``chunk``."""
    return ChatChunk(
        id=chunk.id,
        model=chunk.model,
        created=chunk.created,
        choices=[],
        usage=usage,
        system_fingerprint=chunk.system_fingerprint,
    )


def _status_of(error: dict[str, Any]) -> int:
    """HTTP status implied by an upstream error object without an HTTP status."""
    for key in ("status", "code", "status_code"):
        value = error.get(key)
        if isinstance(value, int) and 400 <= value <= 599:
            return value
        if isinstance(value, str) and value.isdigit() and 400 <= int(value) <= 599:
            return int(value)
    hint = " ".join(str(error.get(k) or "") for k in ("type", "code", "status")).lower()
    for needle, status in _ERROR_HINTS:
        if needle in hint:
            return status
    return 502
