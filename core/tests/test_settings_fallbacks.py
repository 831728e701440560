"""``[fallbacks]`` in freeway.toml: parsed, and refused with a clear message when wrong."""

from __future__ import annotations

import pytest

from freeway.errors import ConfigError
from freeway.settings import load_settings


def settings_from(tmp_path, toml: str):
    path = tmp_path / "freeway.toml"
    path.write_text(toml)
    env = {"FREEWAY_DATA_DIR": str(tmp_path), "ADMIN_API_KEY": "a" * 40, "JWT_SECRET": "j" * 40}
    return load_settings(env, env_file=None, config_file=path, persist_dev_secrets=False)


def test_fallbacks_table_is_read(tmp_path):
    settings = settings_from(
        tmp_path, '[fallbacks]\n"openai/gpt-4o" = ["groq/llama-3.3-70b-versatile", "paid"]\n'
    )
    assert settings.fallbacks == {"openai/gpt-4o": ["groq/llama-3.3-70b-versatile", "paid"]}


@pytest.mark.parametrize("value", ['"paid"', "[1, 2]", '[""]'])
def test_a_fallback_that_is_not_a_list_of_names_stops_startup(tmp_path, value):
    with pytest.raises(ConfigError, match=r"\[fallbacks\] 'm': must be a list of model names"):
        settings_from(tmp_path, f"[fallbacks]\nm = {value}\n")
