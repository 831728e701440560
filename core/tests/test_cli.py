"""The CLI: `serve` refuses bad configuration with one line, before starting a server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from freeway.app import collect_providers, preflight
from freeway.errors import ConfigError
from freeway.hookspecs import hookimpl
from freeway.plugins import get_plugin_manager
from freeway.testing import FakeProvider


def run_freeway(tmp_path, *args, **env):
    environ = {
        **os.environ,
        "FREEWAY_DATA_DIR": str(tmp_path / "data"),
        "ADMIN_API_KEY": "k" * 40,
        "JWT_SECRET": "j" * 40,
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "freeway", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FREEWAY_AUTH_BACKENDS": "admin_key,nope"}, "nope"),
        ({"PORT": "abc"}, "PORT: expected an integer, got 'abc'"),
        ({"FREEWAY_PLUGINS": "nope"}, "FREEWAY_PLUGINS: unknown plugin 'nope'"),
        ({"FREEWAY_ENV": "production", "JWT_SECRET": "short"}, "JWT_SECRET"),
    ],
)
def test_serve_refuses_bad_configuration_with_one_line(tmp_path, env, message):
    result = run_freeway(tmp_path, "serve", "--port", "1", **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("freeway: ") and message in lines[0]


def test_version_and_config_mask_secrets(tmp_path):
    assert run_freeway(tmp_path, "version").stdout.startswith("freeway ")
    config = run_freeway(tmp_path, "config", OPENAI_API_KEY="sk-secret-value")
    assert config.returncode == 0
    assert "k" * 40 not in config.stdout and "sk-secret-value" not in config.stdout
    assert '"admin_api_key": "***"' in config.stdout


def test_two_providers_with_one_name_stop_startup(make_settings):
    class Twins:
        @hookimpl
        def freeway_providers(self, settings):
            return [FakeProvider("twin"), FakeProvider("twin")]

    settings = make_settings()
    pm = get_plugin_manager(settings, extra_plugins=[("twins", Twins())])
    with pytest.raises(ConfigError, match="two providers are named 'twin'"):
        collect_providers(pm, settings)
    preflight(settings)  # the installed plugins alone are fine
