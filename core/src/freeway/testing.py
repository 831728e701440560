"""Test kit for plugin authors (and Freeway's own tests).  Needs pytest and pytest-asyncio.

* :class:`FakeProvider` — an in-memory provider with scripted models, replies,
  stream chunks, usage, latency and failures; nothing touches the network.
* :class:`FixtureUpstream` — an ``httpx.MockTransport`` handler that serves the
  upstream payloads kept in a plugin's ``tests/fixtures/`` directory.
* :class:`ProviderContract` — the behaviour every adapter must show.  Subclass it in
  your plugin's tests, say how to build your provider on a mock client and how your
  fixtures are served, and pytest runs the whole suite against your adapter::

      class TestAcmeContract(ProviderContract):
          model = "acme-small"

          def make_provider(self, client):
              return AcmeProvider(api_key="test", client=client)

          def upstream(self, request):
              return FIXTURES(request)
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from freeway.errors import (
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UpstreamBadRequest,
)
from freeway.providers.base import Provider
from freeway.providers.types import (
    ChatChunk,
    ChatMessage,
    ChatRequest,
    ChatResponse,
    Choice,
    ChunkChoice,
    Delta,
    ImageData,
    ImageRequest,
    ImageResponse,
    Model,
    Usage,
    encode,
    make_model,
)

Handler = Callable[[httpx.Request], httpx.Response]

# --- FakeProvider -------------------------------------------------------------------


class FakeProvider:
    """A scripted :class:`~freeway.providers.base.Provider` for tests.

    ``models`` are upstream ids (listed as free, 8k-context text models) or ready
    :class:`Model` objects.  ``reply`` is the non-streamed answer; ``chunks`` the
    streamed content pieces (default: ``reply`` split after each space).  ``usage``
    defaults to 10 prompt tokens plus one completion token per chunk.  ``latency``
    seconds pass before any answer, ``chunk_delay`` between stream chunks.

    ``fail_next(error, times)`` makes the next ``times`` calls of ``chat``,
    ``stream_chat`` or ``images`` raise ``error`` (a stream raises before its first
    chunk, like an upstream refusing the request); ``fail_stream_after(n, error)``
    raises after ``n`` chunks were yielded.  ``models_error`` makes ``list_models``
    raise.  Every request is recorded in ``calls``; ``cancelled`` counts streams
    the consumer closed before the end.
    """

    supports_images = True

    def __init__(
        self,
        name: str = "fake",
        *,
        models: Iterable[str | Model] = ("fake-model",),
        reply: str = "Hello from the fake provider.",
        chunks: list[str] | None = None,
        usage: Usage | None = None,
        latency: float = 0.0,
        chunk_delay: float = 0.0,
        finish_reason: str = "stop",
    ) -> None:
        self.name = name
        self.model_specs = list(models)
        self.reply = reply
        self.chunks = chunks if chunks is not None else _split_words(reply)
        self.usage = usage
        self.latency = latency
        self.chunk_delay = chunk_delay
        self.finish_reason = finish_reason
        self.models_error: Exception | None = None
        self.calls: list[ChatRequest | ImageRequest] = []
        self.cancelled = 0
        self.closed = False
        self._failures: list[Exception] = []
        self._stream_failure: tuple[int, Exception] | None = None
        self._counter = 0

    def __repr__(self) -> str:
        return f"FakeProvider(name={self.name!r})"

    # --- scripting ---

    def fail_next(self, error: Exception, times: int = 1) -> None:
        """Raise ``error`` from the next ``times`` chat/stream/images calls."""
        self._failures.extend([error] * times)

    def fail_stream_after(self, chunks: int, error: Exception) -> None:
        """Make the next stream raise ``error`` after yielding ``chunks`` chunks."""
        self._stream_failure = (chunks, error)

    def usage_for(self, request: ChatRequest) -> Usage:
        """The usage reported for ``request`` (the configured one, or a count)."""
        if self.usage is not None:
            return self.usage
        completion = max(1, len(self.chunks))
        return Usage(prompt_tokens=10, completion_tokens=completion, total_tokens=10 + completion)

    # --- Provider protocol ---

    async def list_models(self) -> list[Model]:
        """The configured models, normalized."""
        if self.models_error is not None:
            raise self.models_error
        return [self._model(spec) for spec in self.model_specs]

    async def chat(self, request: ChatRequest) -> ChatResponse:
        """Answer ``reply`` after ``latency`` (or raise a scripted failure)."""
        await self._begin(request)
        return ChatResponse(
            id=self._next_id(),
            model=request.model,
            created=int(time.time()),
            choices=[
                Choice(message=ChatMessage(content=self.reply), finish_reason=self.finish_reason)
            ],
            usage=self.usage_for(request),
        )

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Yield ``chunks``, a finish chunk, then a usage chunk with ``choices: []``."""
        await self._begin(request)
        failure, self._stream_failure = self._stream_failure, None
        chunk_id, created, done = self._next_id(), int(time.time()), False
        try:
            for index, piece in enumerate(self.chunks):
                if failure is not None and index == failure[0]:
                    raise failure[1]
                if index and self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
                delta = Delta(role="assistant" if index == 0 else None, content=piece)
                yield ChatChunk(
                    id=chunk_id,
                    model=request.model,
                    created=created,
                    choices=[ChunkChoice(delta=delta)],
                )
            if failure is not None and failure[0] >= len(self.chunks):
                raise failure[1]
            yield ChatChunk(
                id=chunk_id,
                model=request.model,
                created=created,
                choices=[ChunkChoice(delta=Delta(), finish_reason=self.finish_reason)],
            )
            yield ChatChunk(
                id=chunk_id,
                model=request.model,
                created=created,
                choices=[],
                usage=self.usage_for(request),
            )
            done = True
        finally:
            if not done:
                self.cancelled += 1

    async def images(self, request: ImageRequest) -> ImageResponse:
        """``n`` placeholder images (URLs, or base64 when asked)."""
        await self._begin(request)
        count = request.n or 1
        if request.response_format == "b64_json":
            data = [ImageData(b64_json="iVBORw0KGgo=") for _ in range(count)]
        else:
            data = [
                ImageData(url=f"https://fake.invalid/{self._counter}-{i}.png") for i in range(count)
            ]
        return ImageResponse(created=int(time.time()), data=data)

    async def aclose(self) -> None:
        """Mark the provider closed."""
        self.closed = True

    # --- internals ---

    async def _begin(self, request: ChatRequest | ImageRequest) -> None:
        self.calls.append(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self._failures:
            raise self._failures.pop(0)

    def _next_id(self) -> str:
        self._counter += 1
        return f"chatcmpl-{self.name}-{self._counter}"

    def _model(self, spec: str | Model) -> Model:
        if isinstance(spec, Model):
            return spec
        return make_model(
            self.name,
            spec,
            context_length=8192,
            prompt_price=0.0,
            completion_price=0.0,
            is_free=True,
            supports_tools=True,
        )


def _split_words(text: str) -> list[str]:
    """``"a b c"`` → ``["a ", "b ", "c"]`` (joins back to the original)."""
    pieces = text.split(" ")
    return [p + " " for p in pieces[:-1]] + [pieces[-1]] if text else []


# --- fixture serving -------------------------------------------------------------------


class FixtureUpstream:
    """An ``httpx.MockTransport`` handler serving fixture files by route.

    ``routes`` maps ``"METHOD /path/suffix"`` to a file name in ``directory``; the
    longest matching suffix of the request path wins.  Add ``" stream"`` to a key
    to use it only when the JSON body has ``"stream": true`` (for upstreams that
    stream on the same path), and ``?param`` to the path to use it only when the
    request carries that query parameter (a second page of a paged listing).
    ``.sse`` files are sent as ``text/event-stream``, everything else as JSON.  Every
    request is kept in ``requests``::

        FixtureUpstream(Path(__file__).parent / "fixtures", {
            "GET /models": "models.json",
            "GET /models?page_token": "models_page2.json",
            "POST /chat/completions": "chat.json",
            "POST /chat/completions stream": "chat_stream.sse",
        })
    """

    def __init__(self, directory: Path | str, routes: dict[str, str]) -> None:
        self.directory = Path(directory)
        # (method, path suffix, needs stream, needed query parameter, file)
        self.routes: list[tuple[str, str, bool, str, str]] = []
        for key, file in routes.items():
            method, _, rest = key.partition(" ")
            target, _, flag = rest.partition(" ")
            path, _, param = target.partition("?")
            self.routes.append((method.upper(), path, flag == "stream", param, file))
        # Longest suffix first; at equal length, the conditional routes first.
        self.routes.sort(key=lambda r: (len(r[1]), r[2], bool(r[3])), reverse=True)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        streaming = _wants_stream(request)
        path = request.url.path
        for method, suffix, stream_only, param, file in self.routes:
            if method == request.method and path.endswith(suffix):
                if stream_only and not streaming:
                    continue
                if param and not request.url.params.get(param):
                    continue
                return self.file_response(file)
        return httpx.Response(404, json={"error": {"message": f"no fixture for {path}"}})

    def file_response(self, file: str, status: int = 200) -> httpx.Response:
        """A response with the content of ``file`` (SSE for ``.sse`` files)."""
        content = (self.directory / file).read_bytes()
        kind = "text/event-stream" if file.endswith(".sse") else "application/json"
        return httpx.Response(status, content=content, headers={"content-type": kind})

    def body(self, index: int = -1) -> dict[str, Any]:
        """The decoded JSON body of a received request (default: the last one)."""
        return json.loads(self.requests[index].content)


def _wants_stream(request: httpx.Request) -> bool:
    if request.method != "POST" or not request.content:
        return False
    try:
        data = json.loads(request.content)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("stream") is True


# --- the contract ----------------------------------------------------------------------


class ProviderContract:
    """The behaviour every provider adapter must show; subclass it in your tests.

    Provide:

    * ``model`` — an upstream model id your fixtures answer for;
    * ``make_provider(client)`` — your provider built on the given mock client;
    * ``upstream(request)`` — the mock upstream serving your fixture files
      (see :class:`FixtureUpstream`).

    Override when your upstream differs from OpenAI's conventions:

    * ``error_response(status, retry_after=None)`` — how the upstream answers an
      HTTP error (default: an OpenAI error envelope with a ``retry-after`` header);
    * ``timeout(request)`` — raise what a timed-out call raises (``httpx.ReadTimeout``);
    * ``chat_request(stream=...)`` — the request used by the chat tests.
    """

    model: ClassVar[str] = ""
    pytestmark = [pytest.mark.asyncio]

    # --- what subclasses provide ---

    def make_provider(self, client: httpx.AsyncClient) -> Provider:
        """The provider under test, using ``client`` for every upstream call."""
        raise NotImplementedError("ProviderContract subclasses implement make_provider()")

    def upstream(self, request: httpx.Request) -> httpx.Response:
        """The mock upstream answering from fixture files."""
        raise NotImplementedError("ProviderContract subclasses implement upstream()")

    def error_response(self, status: int, *, retry_after: str | None = None) -> httpx.Response:
        """The upstream's answer for an error with HTTP ``status``."""
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        body = {
            "error": {
                "message": f"contract test error {status}",
                "type": "invalid_request_error" if status == 400 else "server_error",
                "param": None,
                "code": None,
            }
        }
        return httpx.Response(status, json=body, headers=headers)

    def timeout(self, request: httpx.Request) -> httpx.Response:
        """What the transport does when the upstream does not answer in time."""
        raise httpx.ReadTimeout("contract test timeout", request=request)

    def chat_request(self, *, stream: bool = False) -> ChatRequest:
        """The request the chat tests send (``model`` is the upstream id)."""
        return ChatRequest(
            model=self.model,
            messages=[{"role": "user", "content": "Say hello."}],
            max_tokens=32,
            stream=stream,
        )

    # --- helpers ---

    @asynccontextmanager
    async def connect(self, handler: Handler | None = None) -> AsyncIterator[Provider]:
        """The provider under test on a mock transport running ``handler``."""
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler or self.upstream))
        try:
            yield self.make_provider(client)
        finally:
            await client.aclose()

    async def collect(self, provider: Provider, request: ChatRequest) -> list[ChatChunk]:
        """Every chunk of a stream."""
        return [chunk async for chunk in provider.stream_chat(request)]

    # --- the contract ---

    async def test_contract_list_models_returns_normalized_models(self) -> None:
        async with self.connect() as provider:
            models = await provider.list_models()
        assert models, "list_models() returned no models"
        assert len({m.id for m in models}) == len(models), "model ids must be unique"
        for model in models:
            assert isinstance(model, Model)
            assert model.provider == provider.name
            assert model.id == f"{provider.name}/{model.upstream_id}"
            assert model.upstream_id and model.name
            for price in (model.prompt_price, model.completion_price, model.image_price):
                assert price is None or price >= 0, f"{model.id}: negative price"
            assert model.context_length is None or model.context_length > 0
            for modalities in (model.input_modalities, model.output_modalities):
                assert isinstance(modalities, list) and modalities
                assert all(isinstance(m, str) for m in modalities)
            assert isinstance(model.is_free, bool)
            if model.is_free:
                assert not model.prompt_price and not model.completion_price

    async def test_contract_chat_returns_a_completion_with_usage(self) -> None:
        async with self.connect() as provider:
            response = await provider.chat(self.chat_request())
        assert isinstance(response, ChatResponse)
        assert response.id and response.object == "chat.completion"
        assert response.choices, "a completion needs at least one choice"
        message = response.choices[0].message
        assert message.role == "assistant"
        assert message.content or message.tool_calls
        assert response.choices[0].finish_reason in {
            "stop",
            "length",
            "tool_calls",
            "content_filter",
            "function_call",
        }
        _assert_usage(response.usage)
        json.loads(encode(response))  # serializable as the OpenAI shape

    async def test_contract_stream_yields_content_and_ends_with_usage(self) -> None:
        async with self.connect() as provider:
            chunks = await self.collect(provider, self.chat_request(stream=True))
        assert chunks and all(isinstance(c, ChatChunk) for c in chunks)
        assert all(c.object == "chat.completion.chunk" for c in chunks)
        text = "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)
        assert text, "streamed content is empty"
        finishes = [ch.finish_reason for c in chunks for ch in c.choices if ch.finish_reason]
        assert finishes, "no chunk carried a finish_reason"
        assert chunks[-1].usage is not None, "the last chunk must carry usage"
        _assert_usage(chunks[-1].usage)
        for chunk in chunks:
            json.loads(encode(chunk))

    async def test_contract_stream_can_be_closed_early(self) -> None:
        async with self.connect() as provider:
            stream = provider.stream_chat(self.chat_request(stream=True))
            first = await stream.__anext__()
            assert isinstance(first, ChatChunk)
            await stream.aclose()  # type: ignore[attr-defined]

    async def test_contract_429_is_rate_limited_with_retry_after(self) -> None:
        async with self.connect(lambda r: self.error_response(429, retry_after="7")) as provider:
            with pytest.raises(RateLimited) as caught:
                await provider.chat(self.chat_request())
            assert caught.value.retryable
            assert caught.value.retry_after == pytest.approx(7)
            with pytest.raises(RateLimited):
                await self.collect(provider, self.chat_request(stream=True))

    async def test_contract_5xx_is_provider_unavailable(self) -> None:
        for status in (500, 503):
            handler = functools.partial(_answer_status, self, status)
            async with self.connect(handler) as provider:
                with pytest.raises(ProviderUnavailable) as caught:
                    await provider.chat(self.chat_request())
                assert caught.value.retryable
                with pytest.raises(ProviderUnavailable):
                    await self.collect(provider, self.chat_request(stream=True))
                with pytest.raises(ProviderUnavailable):
                    await provider.list_models()

    async def test_contract_timeout_is_provider_timeout(self) -> None:
        async with self.connect(self.timeout) as provider:
            with pytest.raises(ProviderTimeout) as caught:
                await provider.chat(self.chat_request())
            assert caught.value.retryable
            with pytest.raises(ProviderTimeout):
                await self.collect(provider, self.chat_request(stream=True))

    async def test_contract_400_is_a_bad_request_that_is_not_retried(self) -> None:
        async with self.connect(lambda r: self.error_response(400)) as provider:
            with pytest.raises(UpstreamBadRequest) as caught:
                await provider.chat(self.chat_request())
            assert caught.value.retryable is False
            assert caught.value.provider == provider.name
            assert provider.name in caught.value.message

    async def test_contract_connection_failure_never_leaks_httpx(self) -> None:
        def refuse(request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

        async with self.connect(refuse) as provider:
            with pytest.raises(ProviderError) as caught:
                await provider.chat(self.chat_request())
            assert caught.value.retryable


def _answer_status(
    contract: ProviderContract, status: int, request: httpx.Request
) -> httpx.Response:
    return contract.error_response(status)


def _assert_usage(usage: Usage | None) -> None:
    assert usage is not None, "usage is missing"
    assert isinstance(usage, Usage)
    assert usage.prompt_tokens >= 0 and usage.completion_tokens >= 0
    assert usage.total_tokens >= usage.prompt_tokens
    assert usage.total_tokens > 0, "usage reports no tokens"


__all__ = ["FakeProvider", "FixtureUpstream", "ProviderContract"]
