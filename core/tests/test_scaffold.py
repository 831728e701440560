"""``freeway plugin new``: the generated package's own tests pass as generated."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from freeway.scaffold import plugin, render_plugin, write_plugin


def test_generated_plugin_tests_pass(tmp_path: Path) -> None:
    root = write_plugin("acme-ai", tmp_path, base_url="https://api.acme.test/v1")
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    for name in ("FREEWAY_CONFIG", "ACME_AI_API_KEY", "ACME_AI_BASE_URL"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    # The contract suite ran, not just the plugin's own tests.
    assert "passed" in result.stdout
    assert int(result.stdout.strip().splitlines()[-1].split()[0]) >= 10


def test_generated_package_declares_the_freeway_entry_point(tmp_path: Path) -> None:
    root = write_plugin("acme-ai", tmp_path)
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["name"] == "freeway-provider-acme-ai"
    assert project["project"]["entry-points"]["freeway"] == {"acme-ai": "freeway_provider_acme_ai"}
    provider = (root / "src/freeway_provider_acme_ai/provider.py").read_text()
    assert "class AcmeAiProvider(OpenAICompatibleProvider)" in provider
    assert 'DEFAULT_BASE_URL = "https://api.acme-ai.example/v1"' in provider
    hooks = (root / "src/freeway_provider_acme_ai/__init__.py").read_text()
    assert "ACME_AI_API_KEY" in hooks and "@hookimpl" in hooks


def test_cli_writes_the_package_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(plugin, ["new", "widget", "--directory", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert (tmp_path / "freeway-provider-widget/tests/fixtures/chat_stream.sse").is_file()
    again = runner.invoke(plugin, ["new", "widget", "--directory", str(tmp_path)])
    assert again.exit_code != 0 and "already exists" in again.output


@pytest.mark.parametrize("name", ["Acme", "1acme", "acme ai", "acme--ai", "-acme", ""])
def test_invalid_names_are_refused_with_a_hint(name: str) -> None:
    with pytest.raises(click.BadParameter, match="lower-case"):
        render_plugin(name)


def test_plugin_command_is_registered_on_the_freeway_cli() -> None:
    from freeway.cli import main

    result = CliRunner().invoke(main, ["plugin", "new", "--help"])
    assert result.exit_code == 0 and "freeway-provider-NAME" in result.output
