"""The gateway end to end: the real server, the mock upstream, the official openai SDK.

Two providers (the bundled ``openai`` and ``groq`` plugins) point at the mock through
``OPENAI_BASE_URL``/``GROQ_BASE_URL``; both list ``gpt-4o-mini``, so a bare
``gpt-4o-mini`` goes to openai first and falls back to groq.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from harness import Server, ServerFactory
from mock_upstream import PROMPT_TOKENS, REPLY, MockUpstream

WORDS = len(REPLY.split(" "))
# The openai plugin's price table: gpt-4o-mini at $0.15 / $0.60 per million tokens.
PRICE_IN, PRICE_OUT = 0.15, 0.60


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mock: MockUpstream) -> Iterator[Server]:
    factory = ServerFactory(tmp_path_factory.mktemp("e2e"), mock)
    server = factory().start()
    server.wait_for_models("openai/gpt-4o-mini", "groq/gpt-4o-mini")
    yield server
    factory.close()


@pytest.fixture(autouse=True)
def clean_mock(mock: MockUpstream) -> Iterator[None]:
    mock.reset()
    yield
    mock.reset()


def client(server: Server, key: str, **kw: Any) -> openai.OpenAI:
    # No SDK retries: every test sees exactly what the gateway answered.
    return openai.OpenAI(base_url=server.url + "/v1", api_key=key, max_retries=0, **kw)


def new_key(server: Server, **fields: Any) -> tuple[str, str]:
    project = server.create_project(f"e2e-{time.monotonic_ns()}", **fields)
    return project["id"], project["api_key"]


def usage_rows(server: Server, project_id: str, expected: int) -> list[dict[str, Any]]:
    """The project's usage_logs rows, once ``expected`` of them were written."""
    db = Path(server.env["FREEWAY_DATA_DIR"]) / "freeway.db"
    deadline = time.monotonic() + 10
    while True:
        with sqlite3.connect(db) as conn:
            conn.row_factory = sqlite3.Row
            rows = [
                dict(r)
                for r in conn.execute(
                    "SELECT * FROM usage_logs WHERE lower(hex(project_id)) = ? ORDER BY id",
                    (project_id.replace("-", ""),),
                )
            ]
        if len(rows) >= expected or time.monotonic() > deadline:
            assert len(rows) == expected, rows
            return rows
        time.sleep(0.1)


def ask(sdk: openai.OpenAI, model: str = "openai/gpt-4o-mini", **kw: Any) -> Any:
    return sdk.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hello"}], **kw
    )


def test_non_streamed_completion_through_the_sdk(server):
    project_id, key = new_key(server)
    raw = ask(client(server, key))
    completion = raw.parse()
    assert completion.choices[0].message.content == REPLY
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "openai/gpt-4o-mini"
    assert completion.usage.prompt_tokens == PROMPT_TOKENS
    assert completion.usage.completion_tokens == WORDS
    assert raw.headers["x-freeway-provider"] == "openai"
    assert raw.headers["x-freeway-model"] == "openai/gpt-4o-mini"
    assert raw.headers["x-request-id"]
    (row,) = usage_rows(server, project_id, 1)
    assert row["status"] == "ok" and row["request_id"] == raw.headers["x-request-id"]
    assert (row["prompt_tokens"], row["completion_tokens"]) == (PROMPT_TOKENS, WORDS)
    assert row["cost_usd"] == pytest.approx((PROMPT_TOKENS * PRICE_IN + WORDS * PRICE_OUT) / 1e6)


def test_streamed_completion_with_usage_through_the_sdk(server):
    project_id, key = new_key(server)
    stream = client(server, key).chat.completions.create(
        model="openai/gpt-4o-mini",
        messages=[{"role": "user", "content": "hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == REPLY
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.total_tokens == PROMPT_TOKENS + WORDS
    (row,) = usage_rows(server, project_id, 1)
    assert (row["stream"], row["status"], row["total_tokens"]) == (1, "ok", PROMPT_TOKENS + WORDS)
    assert row["ttft_ms"] is not None


def test_a_stream_without_include_usage_carries_no_usage(server):
    _, key = new_key(server)
    chunks = list(
        client(server, key).chat.completions.create(
            model="groq/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY


def test_fallback_to_the_next_provider_after_an_upstream_429(server, mock):
    project_id, key = new_key(server)
    mock.fail("openai", 429, retry_after=5, message="openai is busy")
    raw = ask(client(server, key), model="gpt-4o-mini")
    assert raw.parse().choices[0].message.content == REPLY
    assert raw.headers["x-freeway-provider"] == "groq"
    assert mock.requests == {"openai": 1, "groq": 1}
    (row,) = usage_rows(server, project_id, 1)
    assert (row["provider"], row["fallback_count"], row["status"]) == ("groq", 1, "ok")


def test_fallback_to_the_next_provider_after_an_upstream_timeout(server, mock):
    _, key = new_key(server)
    mock.fail("openai", 200, delay=3)  # FREEWAY_HTTP_TIMEOUT is 1.5 s
    started = time.monotonic()
    raw = ask(client(server, key), model="gpt-4o-mini")
    assert raw.headers["x-freeway-provider"] == "groq"
    assert time.monotonic() - started < 3


def test_a_non_retryable_upstream_400_reaches_the_sdk_with_its_message(server, mock):
    _, key = new_key(server)
    mock.fail("openai", 400, message="'temperature' must be at most 2")
    with pytest.raises(openai.BadRequestError) as info:
        ask(client(server, key), model="gpt-4o-mini", temperature=1)
    assert "'temperature' must be at most 2" in info.value.message
    assert info.value.body["type"] == "invalid_request_error"
    assert mock.requests == {"openai": 1}  # no fallback on a 400


def test_the_project_rate_limit_is_a_429_the_sdk_understands(server):
    project_id, key = new_key(server, rate_limit_per_minute=2)
    sdk = client(server, key)
    ok = ask(sdk)
    assert ok.headers["x-ratelimit-limit-requests"] == "2"
    assert ok.headers["x-ratelimit-remaining-requests"] == "1"
    ask(sdk)
    with pytest.raises(openai.RateLimitError) as info:
        ask(sdk)
    headers = info.value.response.headers
    assert int(headers["retry-after"]) == 30
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert info.value.code == "rate_limit_exceeded"
    rows = usage_rows(server, project_id, 3)
    assert [r["status"] for r in rows] == ["ok", "ok", "error"]


def test_an_inactive_project_key_is_refused(server):
    _, key = new_key(server, is_active=False)
    with pytest.raises(openai.PermissionDeniedError) as info:
        ask(client(server, key))
    assert "inactive" in info.value.message
    with pytest.raises(openai.AuthenticationError):
        ask(client(server, "fw_not_a_real_key"))


def test_unknown_model_is_a_404_naming_it(server):
    _, key = new_key(server)
    with pytest.raises(openai.NotFoundError) as info:
        ask(client(server, key), model="nobody/serves-this")
    assert "'nobody/serves-this'" in info.value.message
    assert info.value.code == "model_not_found"


def test_models_and_images_through_the_sdk(server):
    _, key = new_key(server)
    sdk = client(server, key)
    ids = {m.id for m in sdk.models.list()}
    assert {"openai/gpt-4o-mini", "groq/gpt-4o-mini"} <= ids
    images = sdk.images.generate(model="openai/gpt-4o-mini", prompt="a lighthouse", n=2)
    assert [d.url for d in images.data] == [
        "https://mock.invalid/image-0.png",
        "https://mock.invalid/image-1.png",
    ]


def test_a_client_leaving_mid_stream_cancels_upstream_and_is_recorded(server, mock):
    project_id, key = new_key(server)
    mock.slow_stream(chunk_delay=0.1, words=100)
    with (
        httpx.Client(timeout=10) as http,
        http.stream(
            "POST",
            server.url + "/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={
                "model": "openai/gpt-4o-mini",
                "stream": True,
                "messages": [{"role": "user", "content": "talk"}],
            },
        ) as response,
    ):
        assert response.status_code == 200
        received = 0
        for line in response.iter_lines():
            if line.startswith("data: "):
                received += 1
            if received == 3:
                break
    # The gateway noticed, closed its upstream request, and logged what was sent.
    deadline = time.monotonic() + 5
    while mock.state.cancelled_streams < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mock.state.cancelled_streams == 1
    (row,) = usage_rows(server, project_id, 1)
    assert row["status"] == "cancelled"
    assert 3 <= row["completion_tokens"] < 100
    assert row["latency_ms"] < 5000


@pytest.mark.parametrize("stream", [False, True], ids=["completion", "stream-before-first-chunk"])
def test_a_client_leaving_while_the_upstream_works_hangs_up_on_it(server, mock, stream):
    """A client that gives up before any byte came back (a slow completion, or a slow
    first token) makes the gateway close its upstream call and log it as cancelled."""
    project_id, key = new_key(server)
    mock.fail("openai", 0, delay=1.2)  # answers after 1.2 s (the gateway waits up to 1.5 s)
    with pytest.raises(openai.APITimeoutError):
        ask(client(server, key, timeout=0.5), stream=stream)
    deadline = time.monotonic() + 5
    while mock.state.cancelled_requests < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mock.state.cancelled_requests == 1  # the upstream saw the hang-up
    (row,) = usage_rows(server, project_id, 1)
    assert (row["status"], row["provider"], row["stream"]) == ("cancelled", "openai", stream)
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] == 0
    assert row["latency_ms"] < 1200  # recorded when the client left, not when upstream ended


def test_health_ready_lists_both_providers(server):
    body = httpx.get(server.url + "/health/ready").json()
    assert set(body["checks"]["providers"]) == {"openai", "groq"}
    assert body["status"] == "ok"
