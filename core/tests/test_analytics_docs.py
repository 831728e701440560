"""The webhook usage sink printed in docs/analytics.md works as documented."""

from __future__ import annotations

import datetime as dt
import json
import re
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

from freeway.plugins import call_list_hook, get_plugin_manager
from freeway.usage.records import UsageRecord

DOC = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"


def load_example() -> types.ModuleType:
    text = DOC.read_text()
    section = text[text.index("## Sending usage elsewhere") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "docs/analytics.md lost its webhook sink example"
    module = types.ModuleType("freeway_usage_webhook")
    exec(compile(code.group(1), str(DOC), "exec"), module.__dict__)
    return module


def record(i: int) -> UsageRecord:
    return UsageRecord(
        request_id=f"req-{i}",
        project_id="00000000-0000-4000-8000-000000000001",
        created_at=dt.datetime(2026, 1, 31, 23, 59, 59, tzinfo=dt.UTC),
        requested_model="free",
        model="groq/llama-3.1-8b-instant",
        provider="groq",
        total_tokens=42,
        cost_usd=0.0001,
        latency_ms=310.5,
    )


async def test_the_webhook_sink_posts_each_batch_as_json_with_the_token() -> None:
    example = load_example()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    sink = example.WebhookSink(
        "https://hooks.example/usage", "s3cret", transport=httpx.MockTransport(handler)
    )
    await sink.write([record(1), record(2)])
    await sink.aclose()

    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://hooks.example/usage"
    assert request.headers["authorization"] == "Bearer s3cret"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert [r["request_id"] for r in body["records"]] == ["req-1", "req-2"]
    assert body["records"][0]["created_at"] == "2026-01-31T23:59:59Z"
    assert body["records"][0]["model"] == "groq/llama-3.1-8b-instant"


async def test_a_failing_webhook_raises_so_the_queue_retries_and_spills() -> None:
    example = load_example()
    sink = example.WebhookSink(
        "https://hooks.example/usage",
        transport=httpx.MockTransport(lambda request: httpx.Response(503)),
    )
    with pytest.raises(httpx.HTTPStatusError):
        await sink.write([record(1)])
    await sink.aclose()


def test_the_hook_returns_the_sink_only_when_configured(make_settings: Any) -> None:
    example = load_example()
    plain = make_settings(FREEWAY_PLUGINS="core")
    off = get_plugin_manager(plain, extra_plugins=[("usage-webhook", example)])
    assert [
        s for s in call_list_hook(off, "freeway_usage_sinks", settings=plain) if s.name == "webhook"
    ] == []
    settings = make_settings(
        FREEWAY_PLUGINS="core", USAGE_WEBHOOK_URL="https://hooks.example/usage"
    )
    on = get_plugin_manager(settings, extra_plugins=[("usage-webhook", example)])
    sinks = [
        s
        for s in call_list_hook(on, "freeway_usage_sinks", settings=settings)
        if s.name == "webhook"
    ]
    assert [s.url for s in sinks] == ["https://hooks.example/usage"]
