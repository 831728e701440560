"""``freeway plugin new NAME``: the quickest start for a third-party provider plugin.

Writes ``freeway-provider-NAME/`` — a pyproject with the ``freeway`` entry point, an
adapter subclassing :class:`~freeway.providers.OpenAICompatibleProvider`, the hook
module, and tests that run :class:`~freeway.testing.ProviderContract` against fixture
files on a mock transport.  The generated tests pass as generated; the author then
replaces the fixtures with payloads from the upstream's documentation.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

import click

_NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")

PYPROJECT = """\
[project]
name = "freeway-provider-$name"
version = "0.1.0"
description = "Freeway provider plugin for $name"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["freeway"]

[project.optional-dependencies]
test = ["pytest>=8.3", "pytest-asyncio>=0.25"]

# The entry point is what makes Freeway find the plugin; its name is the plugin name
# shown by `freeway plugins` and used in FREEWAY_PLUGINS / FREEWAY_DISABLE_PLUGINS.
[project.entry-points.freeway]
$name = "freeway_provider_$module"

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/freeway_provider_$module"]

[tool.ruff]
line-length = 100

[tool.pytest.ini_options]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
testpaths = ["tests"]
pythonpath = ["src"]
"""

README = """\
# freeway-provider-$name

A [Freeway](https://github.com/) provider plugin for $name.

    pip install -e '.[test]'
    pytest

Settings (environment, `.env` or `freeway.toml`):

| Setting | Meaning |
|---|---|
| `${env}_API_KEY` | required; without it the plugin stays inactive |
| `${env}_BASE_URL` | default `$base_url` |

Next steps: replace `tests/fixtures/*` with payloads copied from the upstream's API
documentation, then override the adapter methods in `provider.py` where the upstream
differs from OpenAI (see "Write your own provider plugin" in Freeway's docs/plugins.md).
"""

INIT = '''\
"""Freeway provider plugin: $name.

Settings: ``${env}_API_KEY`` (required), ``${env}_BASE_URL`` (default
``$base_url``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from freeway.hookspecs import hookimpl

if TYPE_CHECKING:
    from freeway.providers import Provider
    from freeway.settings import Settings

log = logging.getLogger(__name__)


@hookimpl
def freeway_providers(settings: Settings) -> list[Provider]:
    """The $name provider when ``${env}_API_KEY`` is set, else none."""
    api_key = settings.provider_setting("$module", "api_key")
    if not api_key:
        log.info("$name: no ${env}_API_KEY set; provider disabled")
        return []
    from freeway.http import shared_client

    from freeway_provider_$module.provider import DEFAULT_BASE_URL, $cls

    base_url = settings.provider_setting("$module", "base_url") or DEFAULT_BASE_URL
    return [$cls(api_key=api_key, client=shared_client(settings), base_url=base_url)]
'''

PROVIDER = '''\
"""The $name adapter.

The upstream speaks the OpenAI chat API, so the generic adapter does the work.
Override only what differs; each method below is a hook of
``OpenAICompatibleProvider`` (``build_body``, ``parse_model``, ``parse_response``,
``parse_chunk``, ``check_response``, ``stream_error``, ``headers``…).
"""

from __future__ import annotations

from typing import Any

import httpx
from freeway.providers import Model, make_model
from freeway.providers.openai_compatible import OpenAICompatibleProvider

DEFAULT_BASE_URL = "$base_url"


class $cls(OpenAICompatibleProvider):
    """$name (``$name/<model>``) on Freeway's shared HTTP client."""

    supports_images = False  # set True if the upstream has /images/generations

    def __init__(
        self,
        *,
        api_key: str,
        client: httpx.AsyncClient,
        base_url: str = DEFAULT_BASE_URL,
        name: str = "$name",
    ) -> None:
        super().__init__(name, base_url=base_url, api_key=api_key, client=client)

    def parse_model(self, raw: dict[str, Any]) -> Model | None:
        """One ``/models`` record; return ``None`` to hide a model.

        Prices are USD per one million tokens (``None`` when unknown).
        """
        context = raw.get("context_length")
        return make_model(
            self.name,
            raw["id"],
            context_length=context if isinstance(context, int) and context > 0 else None,
            raw=raw,
        )
'''

TEST = '''\
"""The $name adapter against fixtures written from the upstream's documentation."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
from freeway.providers import ChatRequest
from freeway.settings import load_settings
from freeway.testing import FixtureUpstream, ProviderContract

import freeway_provider_$module as plugin
from freeway_provider_$module.provider import $cls

FIXTURES = Path(__file__).parent / "fixtures"
UPSTREAM = FixtureUpstream(
    FIXTURES,
    {
        "GET /models": "models.json",
        "POST /chat/completions": "chat.json",
        "POST /chat/completions stream": "chat_stream.sse",
    },
)


class Test${cls}Contract(ProviderContract):
    """The behaviour every Freeway provider must show."""

    model = "$name-small"

    def make_provider(self, client: httpx.AsyncClient) -> $cls:
        return $cls(api_key="test-key", client=client)

    def upstream(self, request: httpx.Request) -> httpx.Response:
        return UPSTREAM(request)


async def test_chat_sends_the_upstream_model_id_with_bearer_auth() -> None:
    upstream = FixtureUpstream(FIXTURES, {"POST /chat/completions": "chat.json"})
    client = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
    provider = $cls(api_key="test-key", client=client)
    request = ChatRequest(model="$name-small", messages=[{"role": "user", "content": "hi"}])
    await provider.chat(request)
    assert upstream.body()["model"] == "$name-small"
    assert upstream.requests[-1].headers["authorization"] == "Bearer test-key"
    await client.aclose()


def settings(**env: str):
    return load_settings(env, env_file=None, persist_dev_secrets=False)


def test_plugin_is_inactive_without_an_api_key(caplog) -> None:
    with caplog.at_level(logging.INFO):
        assert plugin.freeway_providers(settings=settings()) == []
    assert "${env}_API_KEY" in caplog.text


def test_plugin_builds_the_provider_from_settings() -> None:
    [provider] = plugin.freeway_providers(
        settings=settings(${env}_API_KEY="k", ${env}_BASE_URL="http://upstream.test/v1")
    )
    assert provider.name == "$name" and provider.base_url == "http://upstream.test/v1"
'''

MODELS = """\
{
  "object": "list",
  "data": [
    {"id": "$name-small", "object": "model", "owned_by": "$name", "context_length": 32768},
    {"id": "$name-large", "object": "model", "owned_by": "$name", "context_length": 131072}
  ]
}
"""

CHAT = """\
{
  "id": "chatcmpl-1",
  "object": "chat.completion",
  "created": 1735689600,
  "model": "$name-small",
  "choices": [
    {"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop"}
  ],
  "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}
}
"""

_CHUNK = '{"id":"chatcmpl-2","object":"chat.completion.chunk","model":"$name-small",'
STREAM = "".join(
    f"data: {line}\n\n"
    for line in (
        _CHUNK + '"choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}',
        _CHUNK + '"choices":[{"index":0,"delta":{"content":"lo!"}}]}',
        _CHUNK + '"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}',
        _CHUNK
        + '"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}',
        "[DONE]",
    )
)

FILES = {
    "pyproject.toml": PYPROJECT,
    "README.md": README,
    "src/freeway_provider_$module/__init__.py": INIT,
    "src/freeway_provider_$module/provider.py": PROVIDER,
    "tests/test_$module.py": TEST,
    "tests/fixtures/models.json": MODELS,
    "tests/fixtures/chat.json": CHAT,
    "tests/fixtures/chat_stream.sse": STREAM,
}


def render_plugin(name: str, *, base_url: str | None = None) -> dict[str, str]:
    """The files of a new ``freeway-provider-<name>`` package, path → text."""
    if not _NAME.fullmatch(name):
        raise click.BadParameter(
            "use lower-case letters and digits, optionally joined by - or _ (e.g. acme-ai)",
            param_hint="NAME",
        )
    module = name.replace("-", "_")
    values = {
        "name": name,
        "module": module,
        "env": module.upper(),
        "cls": "".join(part.capitalize() for part in module.split("_")) + "Provider",
        "base_url": base_url or f"https://api.{name}.example/v1",
    }
    return {
        Template(path).substitute(values): Template(text).substitute(values)
        for path, text in FILES.items()
    }


def write_plugin(name: str, directory: Path, *, base_url: str | None = None) -> Path:
    """Write the package into ``directory/freeway-provider-<name>``; returns its path."""
    files = render_plugin(name, base_url=base_url)
    root = directory / f"freeway-provider-{name}"
    if root.exists():
        raise click.ClickException(f"{root} already exists; choose another name or directory")
    for path, text in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return root


@click.group("plugin")
def plugin() -> None:
    """Create Freeway plugins."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--base-url", default=None, help="The upstream's OpenAI-compatible base URL (with /v1)."
)
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to create the package.",
)
def new(name: str, base_url: str | None, directory: Path) -> None:
    """Write a new provider plugin package freeway-provider-NAME, tests included."""
    root = write_plugin(name, directory, base_url=base_url)
    click.echo(f"created {root}")
    click.echo(f"next: cd {root} && pip install -e '.[test]' && pytest")
