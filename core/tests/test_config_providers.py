"""Upstreams declared in freeway.toml become generic OpenAI-compatible providers."""

from __future__ import annotations

from pathlib import Path

import httpx

from freeway import defaults
from freeway.plugins import call_list_hook, describe_plugins, get_plugin_manager
from freeway.providers import ChatRequest, OpenAICompatibleProvider

TOML = """
[providers.local]
base_url = "http://ollama.test:11434/v1"
models = ["llama3.2:3b", "qwen2.5:7b"]

[providers.vllm]
base_url = "http://vllm.test/v1/"
api_key = "sk-from-file"
"""


def settings_with_toml(make_settings, tmp_path: Path, **env):
    config = tmp_path / "freeway.toml"
    config.write_text(TOML)
    return make_settings(FREEWAY_CONFIG=str(config), **env)


def test_each_providers_table_becomes_an_adapter(make_settings, tmp_path: Path) -> None:
    settings = settings_with_toml(make_settings, tmp_path, LOCAL_API_KEY="sk-from-env")
    providers = defaults.freeway_providers(settings=settings)
    assert [p.name for p in providers] == ["local", "vllm"]
    local, vllm = providers
    assert isinstance(local, OpenAICompatibleProvider)
    assert local.base_url == "http://ollama.test:11434/v1"
    assert local.api_key == "sk-from-env"  # <NAME>_API_KEY fills a key missing in the file
    assert local.models == ["llama3.2:3b", "qwen2.5:7b"]
    assert vllm.base_url == "http://vllm.test/v1"
    assert vllm.api_key == "sk-from-file"
    assert vllm.models is None


def test_no_providers_tables_means_no_core_providers(make_settings) -> None:
    assert defaults.freeway_providers(settings=make_settings()) == []


async def test_config_provider_serves_its_declared_models_and_chat(
    make_settings, tmp_path: Path
) -> None:
    settings = settings_with_toml(make_settings, tmp_path)
    local = defaults.freeway_providers(settings=settings)[0]
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "id": "x",
                "object": "chat.completion",
                "model": "llama3.2:3b",
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}}],
            },
        )

    local.client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    models = await local.list_models()
    assert [m.id for m in models] == ["local/llama3.2:3b", "local/qwen2.5:7b"]
    reply = await local.chat(
        ChatRequest(model="llama3.2:3b", messages=[{"role": "user", "content": "hi"}])
    )
    assert reply.choices[0].message.content == "ok"
    assert str(seen[0].url) == "http://ollama.test:11434/v1/chat/completions"
    assert "authorization" not in seen[0].headers
    await local.client.aclose()


def test_core_hook_is_registered_and_listed_without_config(make_settings, tmp_path) -> None:
    settings = settings_with_toml(make_settings, tmp_path, FREEWAY_PLUGINS="core")
    pm = get_plugin_manager(settings)
    names = [p.name for p in call_list_hook(pm, "freeway_providers", settings=settings)]
    assert names == ["local", "vllm"]
    core = next(i for i in describe_plugins(make_settings()) if i.name == "core")
    assert core.enabled, core.reason
