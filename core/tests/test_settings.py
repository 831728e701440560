"""Settings: precedence, validation with one-line messages, development secrets."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from freeway.errors import ConfigError
from freeway.settings import load_settings, masked

STRONG = "s" * 40


def load(tmp_path: Path, environ: dict[str, str], **kw):
    environ = {"FREEWAY_DATA_DIR": str(tmp_path / "data"), **environ}
    kw.setdefault("env_file", None)
    return load_settings(environ, **kw)


def test_defaults_use_embedded_sqlite_in_the_data_dir(tmp_path):
    settings = load(tmp_path, {}, persist_dev_secrets=False)
    assert settings.port == 8080
    assert settings.env == "development"
    assert settings.database_dsn == f"sqlite+aiosqlite:///{(tmp_path / 'data/freeway.db')}"
    assert settings.redis_url is None


def test_environment_beats_dotenv_beats_toml(tmp_path):
    toml = tmp_path / "freeway.toml"
    toml.write_text('port = 7000\nlog_level = "warning"\njwt_expiry_hours = 5\n')
    dotenv = tmp_path / ".env"
    dotenv.write_text("PORT=7100\nLOG_LEVEL=error\n")
    settings = load(
        tmp_path,
        {"PORT": "7200", "FREEWAY_CONFIG": str(toml)},
        env_file=dotenv,
        persist_dev_secrets=False,
    )
    assert settings.port == 7200  # environment
    assert settings.log_level == "ERROR"  # .env over toml
    assert settings.jwt_expiry_hours == 5  # toml over default


def test_toml_tables_configure_plugins_providers_and_rankers(tmp_path):
    toml = tmp_path / "freeway.toml"
    toml.write_text(
        '[plugins]\ndisabled = ["cohere"]\n'
        '[providers.local]\nbase_url = "http://127.0.0.1:9/v1"\nmodels = ["m1"]\n'
        '[rankers]\nfree = "mine"\n'
    )
    settings = load(tmp_path, {"FREEWAY_CONFIG": str(toml)}, persist_dev_secrets=False)
    assert settings.disable_plugins == ["cohere"]
    assert settings.providers["local"].base_url == "http://127.0.0.1:9/v1"
    assert settings.providers["local"].models == ["m1"]
    assert settings.rankers == {"free": "mine"}


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"PORT": "abc"}, "PORT: expected an integer, got 'abc'"),
        ({"PORT": "70000"}, "PORT: must be a TCP port between 1 and 65535, got 70000"),
        ({"JWT_EXPIRY_HOURS": "0"}, "JWT_EXPIRY_HOURS: must be at least 1, got 0"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT: must be one of text, json, got 'xml'"),
        ({"FREEWAY_ENV": "staging"}, "FREEWAY_ENV: must be one of development, production"),
        ({"REDIS_URL": "localhost:6379"}, "REDIS_URL: must start with redis://"),
        ({"FREEWAY_HTTP_TIMEOUT": "-1"}, "FREEWAY_HTTP_TIMEOUT: must be positive"),
        (
            {"FREEWAY_ENV": "production", "ADMIN_API_KEY": STRONG, "JWT_SECRET": "short"},
            "JWT_SECRET: must be at least 32 characters in production",
        ),
        (
            {"FREEWAY_ENV": "production", "JWT_SECRET": STRONG},
            "ADMIN_API_KEY: required in production",
        ),
    ],
)
def test_invalid_values_stop_with_one_line_naming_the_variable(tmp_path, environ, message):
    with pytest.raises(ConfigError) as info:
        load(tmp_path, environ, persist_dev_secrets=False)
    assert message in info.value.message
    assert "\n" not in info.value.message


def test_bad_toml_is_reported_with_its_path(tmp_path):
    toml = tmp_path / "freeway.toml"
    toml.write_text("port = = 1")
    with pytest.raises(ConfigError, match=r"FREEWAY_CONFIG: .*freeway\.toml is not valid TOML"):
        load(tmp_path, {"FREEWAY_CONFIG": str(toml)})


def test_empty_variables_mean_unset(tmp_path):
    """A copied .env.example has many empty values; they must not break startup."""
    settings = load(
        tmp_path,
        {"USAGE_LOG_RETENTION_DAYS": "", "DATABASE_URL": "", "FREEWAY_PLUGINS": ""},
        persist_dev_secrets=False,
    )
    assert settings.usage_log_retention_days is None
    assert settings.plugins is None


def test_production_accepts_strong_secrets(tmp_path):
    settings = load(
        tmp_path, {"FREEWAY_ENV": "production", "ADMIN_API_KEY": STRONG, "JWT_SECRET": STRONG}
    )
    assert settings.is_production
    assert not (tmp_path / "data").exists()  # nothing generated


def test_development_generates_secrets_once_mode_0600_and_prints_key_once(tmp_path, capsys):
    first = load(tmp_path, {})
    printed = capsys.readouterr().out
    assert first.admin_api_key in printed
    assert len(first.jwt_secret or "") >= 32
    for name in (".admin_api_key", ".jwt_secret"):
        mode = stat.S_IMODE((tmp_path / "data" / name).stat().st_mode)
        assert mode == 0o600
    second = load(tmp_path, {})
    assert (second.admin_api_key, second.jwt_secret) == (first.admin_api_key, first.jwt_secret)
    assert capsys.readouterr().out == ""  # not printed again


def test_seed_db_variables_select_postgres(tmp_path):
    settings = load(
        tmp_path,
        {"DB_HOST": "db", "DB_USER": "fw", "DB_PASSWORD": "p@ss", "DB_NAME": "gw"},
        persist_dev_secrets=False,
    )
    assert settings.database_dsn == "postgresql+asyncpg://fw:p%40ss@db:5432/gw"
    libpq = load(tmp_path, {"DATABASE_URL": "postgres://u@h/d"}, persist_dev_secrets=False)
    assert libpq.database_dsn == "postgresql+asyncpg://u@h/d"


def test_hangfire_aliases_set_the_jobs_credentials(tmp_path):
    settings = load(
        tmp_path,
        {"HANGFIRE_USERNAME": "ops", "HANGFIRE_PASSWORD": "pw"},
        persist_dev_secrets=False,
    )
    assert (settings.jobs_username, settings.jobs_password) == ("ops", "pw")


def test_provider_settings_are_read_by_name(tmp_path):
    settings = load(
        tmp_path,
        {"GEMINI_API_KEY": "g-key", "GEMINI_BASE_URL": "http://x/v1beta"},
        persist_dev_secrets=False,
    )
    assert settings.provider_setting("gemini", "api_key") == "g-key"
    assert settings.provider_setting("gemini", "base_url") == "http://x/v1beta"
    assert settings.provider_setting("cohere", "api_key") is None


def test_masked_config_hides_every_secret(tmp_path):
    settings = load(
        tmp_path,
        {
            "ADMIN_API_KEY": "admin-secret-value",
            "JWT_SECRET": "jwt-secret-value",
            "DATABASE_URL": "postgresql://u:dbpass@h/d",
            "OPENAI_API_KEY": "sk-provider-secret",
        },
    )
    text = repr(masked(settings))
    for secret in ("admin-secret-value", "jwt-secret-value", "dbpass", "sk-provider-secret"):
        assert secret not in text
