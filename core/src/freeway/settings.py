"""Freeway's one typed settings object.

Precedence, lowest to highest: defaults ← ``freeway.toml`` (path in ``FREEWAY_CONFIG``,
default ``./freeway.toml`` if present) ← ``.env`` ← the process environment.

Every setting has one environment name (``PORT``, ``DATABASE_URL``…).  In
``freeway.toml`` the same names are written in lower case at the top level
(``port = 8080``), plus four tables: ``[plugins] enabled/disabled``,
``[providers.<name>] base_url, api_key, models`` for extra OpenAI-compatible
upstreams, ``[rankers] <category> = "<plugin>"`` to choose between rankers, and
``[fallbacks] "<model>" = ["<model or category>", …]`` for the router.
Provider plugins read their own ``<NAME>_API_KEY`` / ``<NAME>_BASE_URL`` through
:meth:`Settings.provider_setting`.

An invalid value raises :class:`~freeway.errors.ConfigError` whose message is one line
naming the variable and what is wrong.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import msgspec
from dotenv import dotenv_values

from freeway.errors import ConfigError

Environment = Literal["development", "production"]

MIN_SECRET_LENGTH = 32
# Environment names of secrets: masked by `freeway config` and never logged.
SECRET_NAMES = frozenset(
    {"ADMIN_API_KEY", "JWT_SECRET", "DB_PASSWORD", "JOBS_PASSWORD", "DATABASE_URL", "REDIS_URL"}
)


class ProviderConfig(msgspec.Struct, forbid_unknown_fields=True):
    """An extra OpenAI-compatible upstream declared in ``[providers.<name>]``."""

    base_url: str
    api_key: str | None = None
    models: list[str] = []
    priority: int = 100


class Settings(msgspec.Struct, kw_only=True):
    """Effective configuration.  Build it with :func:`load_settings`."""

    env: Environment = "development"
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 1
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    data_dir: Path = Path("./data")

    database_url: str | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_user: str = "postgres"
    db_password: str | None = None
    db_name: str = "freeway"
    redis_url: str | None = None

    admin_api_key: str | None = None
    jwt_secret: str | None = None
    jwt_expiry_hours: int = 24
    allowed_origins: list[str] = []
    max_body_bytes: int = 4 * 1024 * 1024

    plugins: list[str] | None = None
    disable_plugins: list[str] = []
    auth_backends: list[str] = msgspec.field(
        default_factory=lambda: ["admin_key", "project_key", "jwt"]
    )
    login_max_failures: int = 5
    login_max_failures_per_address: int = 20
    login_lockout_seconds: int = 900
    project_cache_refresh: float = 60.0
    rankers: dict[str, str] = {}
    fallbacks: dict[str, list[str]] = {}
    providers: dict[str, ProviderConfig] = {}
    provider_priority: list[str] = []

    http_transport: Literal["aiohttp", "httpx"] = "aiohttp"
    http_timeout: float = 120.0
    http_connect_timeout: float = 10.0
    request_deadline: float = 300.0

    jobs_username: str | None = None
    jobs_password: str | None = None
    usage_log_retention_days: int | None = None
    usage_queue_size: int = 10_000
    usage_batch_size: int = 500
    usage_flush_interval: float = 1.0
    usage_drain_timeout: float = 10.0
    usage_sinks: list[str] | None = None
    usage_jsonl_path: Path | None = None
    breaker_threshold: int = 5
    breaker_cooldown: float = 30.0

    # Every raw variable seen (toml top-level, .env, environment), so plugins can
    # read their own `<NAME>_API_KEY` without core knowing provider names.
    raw: dict[str, str] = {}

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def database_dsn(self) -> str:
        """SQLAlchemy URL: ``DATABASE_URL``, else ``DB_*``, else SQLite in the data dir."""
        if self.database_url:
            return _normalize_db_url(self.database_url)
        if self.db_host:
            auth = quote(self.db_user, safe="")
            if self.db_password:
                auth += ":" + quote(self.db_password, safe="")
            return f"postgresql+asyncpg://{auth}@{self.db_host}:{self.db_port}/{self.db_name}"
        return f"sqlite+aiosqlite:///{(self.data_dir / 'freeway.db').resolve()}"

    def provider_setting(self, provider: str, suffix: str) -> str | None:
        """``<PROVIDER>_<SUFFIX>`` from the environment/.env/toml, e.g. ``GEMINI_API_KEY``."""
        value = self.raw.get(f"{provider.upper()}_{suffix.upper()}")
        return value or None


def _normalize_db_url(url: str) -> str:
    # Operators paste libpq-style URLs; the async engine needs the driver named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


# environment name -> (field name, parser)
def _int(name: str, value: str, minimum: int | None = None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}: expected an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ConfigError(f"{name}: must be at least {minimum}, got {number}")
    return number


def _float(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if number <= 0:
        raise ConfigError(f"{name}: must be positive, got {value}")
    return number


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    lowered = value.strip().lower()
    if lowered not in choices:
        raise ConfigError(f"{name}: must be one of {', '.join(choices)}, got {value!r}")
    return lowered


_ENV_FIELDS: dict[str, tuple[str, Any]] = {
    "FREEWAY_ENV": (
        "env",
        lambda n, v: _choice(n, v, ("development", "production")),
    ),
    "HOST": ("host", lambda n, v: v),
    "PORT": ("port", lambda n, v: _port(n, v)),
    "FREEWAY_WORKERS": ("workers", lambda n, v: _int(n, v, 1)),
    "LOG_LEVEL": (
        "log_level",
        lambda n, v: _choice(n, v, ("debug", "info", "warning", "error", "critical")).upper(),
    ),
    "LOG_FORMAT": ("log_format", lambda n, v: _choice(n, v, ("text", "json"))),
    "FREEWAY_DATA_DIR": ("data_dir", lambda n, v: Path(v)),
    "DATABASE_URL": ("database_url", lambda n, v: v or None),
    "DB_HOST": ("db_host", lambda n, v: v or None),
    "DB_PORT": ("db_port", lambda n, v: _port(n, v)),
    "DB_USER": ("db_user", lambda n, v: v),
    "DB_PASSWORD": ("db_password", lambda n, v: v or None),
    "DB_NAME": ("db_name", lambda n, v: v),
    "REDIS_URL": ("redis_url", lambda n, v: _redis_url(n, v)),
    "ADMIN_API_KEY": ("admin_api_key", lambda n, v: v or None),
    "JWT_SECRET": ("jwt_secret", lambda n, v: v or None),
    "JWT_EXPIRY_HOURS": ("jwt_expiry_hours", lambda n, v: _int(n, v, 1)),
    "ALLOWED_ORIGINS": ("allowed_origins", lambda n, v: _csv(v)),
    "FREEWAY_MAX_BODY_BYTES": ("max_body_bytes", lambda n, v: _int(n, v, 1024)),
    "FREEWAY_PLUGINS": ("plugins", lambda n, v: _csv(v)),
    "FREEWAY_DISABLE_PLUGINS": ("disable_plugins", lambda n, v: _csv(v)),
    "FREEWAY_AUTH_BACKENDS": ("auth_backends", lambda n, v: _csv(v)),
    "FREEWAY_LOGIN_MAX_FAILURES": ("login_max_failures", lambda n, v: _int(n, v, 1)),
    "FREEWAY_LOGIN_MAX_FAILURES_PER_ADDRESS": (
        "login_max_failures_per_address",
        lambda n, v: _int(n, v, 1),
    ),
    "FREEWAY_LOGIN_LOCKOUT": ("login_lockout_seconds", lambda n, v: _int(n, v, 1)),
    "FREEWAY_PROJECT_CACHE_REFRESH": ("project_cache_refresh", _float),
    "FREEWAY_PROVIDER_PRIORITY": ("provider_priority", lambda n, v: _csv(v)),
    "FREEWAY_HTTP_TRANSPORT": (
        "http_transport",
        lambda n, v: _choice(n, v, ("aiohttp", "httpx")),
    ),
    "FREEWAY_HTTP_TIMEOUT": ("http_timeout", _float),
    "FREEWAY_HTTP_CONNECT_TIMEOUT": ("http_connect_timeout", _float),
    "FREEWAY_REQUEST_DEADLINE": ("request_deadline", _float),
    "JOBS_USERNAME": ("jobs_username", lambda n, v: v or None),
    "JOBS_PASSWORD": ("jobs_password", lambda n, v: v or None),
    "USAGE_LOG_RETENTION_DAYS": ("usage_log_retention_days", lambda n, v: _int(n, v, 1)),
    "FREEWAY_USAGE_QUEUE_SIZE": ("usage_queue_size", lambda n, v: _int(n, v, 1)),
    "FREEWAY_USAGE_BATCH_SIZE": ("usage_batch_size", lambda n, v: _int(n, v, 1)),
    "FREEWAY_USAGE_FLUSH_INTERVAL": ("usage_flush_interval", _float),
    "FREEWAY_USAGE_DRAIN_TIMEOUT": ("usage_drain_timeout", _float),
    "FREEWAY_USAGE_SINKS": ("usage_sinks", lambda n, v: _csv(v)),
    "USAGE_JSONL_PATH": ("usage_jsonl_path", lambda n, v: Path(v) if v else None),
    "FREEWAY_BREAKER_THRESHOLD": ("breaker_threshold", lambda n, v: _int(n, v, 1)),
    "FREEWAY_BREAKER_COOLDOWN": ("breaker_cooldown", _float),
}
# The seed's names for the jobs dashboard credentials.
_ALIASES = {"HANGFIRE_USERNAME": "JOBS_USERNAME", "HANGFIRE_PASSWORD": "JOBS_PASSWORD"}


def _port(name: str, value: str) -> int:
    port = _int(name, value)
    if not 0 < port < 65536:
        raise ConfigError(f"{name}: must be a TCP port between 1 and 65535, got {port}")
    return port


def _redis_url(name: str, value: str) -> str | None:
    if not value:
        return None
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"{name}: must start with redis://, rediss:// or unix://, got {value!r}")
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"FREEWAY_CONFIG: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"FREEWAY_CONFIG: {path} is not valid TOML: {exc}") from None


def _toml_to_env(doc: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """Split a toml document into env-style scalars and the structured tables."""
    flat: dict[str, str] = {}
    tables: dict[str, Any] = {}
    for key, value in doc.items():
        if key in ("plugins", "providers", "rankers", "fallbacks"):
            tables[key] = value
        elif isinstance(value, dict):
            raise ConfigError(f"freeway.toml: unknown table [{key}]")
        elif isinstance(value, list):
            flat[key.upper()] = ",".join(str(v) for v in value)
        elif isinstance(value, bool):
            flat[key.upper()] = "true" if value else "false"
        else:
            flat[key.upper()] = str(value)
    return flat, tables


def load_settings(
    environ: dict[str, str] | None = None,
    *,
    env_file: str | Path | None = ".env",
    config_file: str | Path | None = None,
    persist_dev_secrets: bool = True,
) -> Settings:
    """Build the settings from defaults, toml, ``.env`` and ``environ`` (in that order).

    In development a missing ``ADMIN_API_KEY``/``JWT_SECRET`` is generated once and
    kept in the data dir (mode 0600); in production it stops startup.
    """
    environ = dict(os.environ if environ is None else environ)
    config_path = config_file or environ.get("FREEWAY_CONFIG")
    toml_flat: dict[str, str] = {}
    tables: dict[str, Any] = {}
    if config_path:
        toml_flat, tables = _toml_to_env(_read_toml(Path(config_path)))
    elif Path("freeway.toml").is_file():
        toml_flat, tables = _toml_to_env(_read_toml(Path("freeway.toml")))

    dotenv: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        dotenv = {k: v for k, v in dotenv_values(env_file).items() if v is not None}

    raw: dict[str, str] = {**toml_flat, **dotenv, **environ}
    for alias, name in _ALIASES.items():
        if alias in raw and name not in raw:
            raw[name] = raw[alias]

    values: dict[str, Any] = {}
    for env_name, (field, parse) in _ENV_FIELDS.items():
        value = raw.get(env_name, "").strip()
        if value:  # an empty variable (as in .env.example) means "not set"
            values[field] = parse(env_name, value)

    values.update(_parse_tables(tables))
    settings = Settings(**values, raw=raw)
    _check_secrets(settings, persist_dev_secrets)
    return settings


def _parse_tables(tables: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    plugins = tables.get("plugins") or {}
    unknown = set(plugins) - {"enabled", "disabled"}
    if unknown:
        raise ConfigError(f"[plugins]: unknown key {sorted(unknown)[0]!r} (use enabled/disabled)")
    if "enabled" in plugins:
        values["plugins"] = [str(p) for p in plugins["enabled"]]
    if "disabled" in plugins:
        values["disable_plugins"] = [str(p) for p in plugins["disabled"]]
    if "rankers" in tables:
        values["rankers"] = {str(k): str(v) for k, v in tables["rankers"].items()}
    if "fallbacks" in tables:
        values["fallbacks"] = _parse_fallbacks(tables["fallbacks"])
    providers: dict[str, ProviderConfig] = {}
    for name, body in (tables.get("providers") or {}).items():
        try:
            providers[name] = msgspec.convert(body, ProviderConfig)
        except msgspec.ValidationError as exc:
            raise ConfigError(f"[providers.{name}]: {exc}") from None
    if providers:
        values["providers"] = providers
    return values


def _parse_fallbacks(table: Any) -> dict[str, list[str]]:
    """``[fallbacks] "<model>" = ["<model or category>", …]``, checked."""
    example = '"openai/gpt-4o" = ["groq/llama-3.3-70b-versatile", "paid"]'
    if not isinstance(table, dict):
        raise ConfigError(f"[fallbacks]: must be a table, e.g. {example}")
    parsed: dict[str, list[str]] = {}
    for model, names in table.items():
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(
                f"[fallbacks] {model!r}: must be a list of model names, e.g. {example}"
            )
        parsed[str(model)] = list(names)
    return parsed


def _check_secrets(settings: Settings, persist: bool) -> None:
    for env_name, field in (("ADMIN_API_KEY", "admin_api_key"), ("JWT_SECRET", "jwt_secret")):
        value = getattr(settings, field)
        if value is not None and len(value) < MIN_SECRET_LENGTH and settings.is_production:
            raise ConfigError(
                f"{env_name}: must be at least {MIN_SECRET_LENGTH} characters in production "
                f"(got {len(value)})"
            )
        if value is None:
            if settings.is_production:
                raise ConfigError(f"{env_name}: required in production (FREEWAY_ENV=production)")
            setattr(settings, field, _dev_secret(settings.data_dir, env_name, persist))


def _dev_secret(data_dir: Path, env_name: str, persist: bool) -> str:
    """Read or create the development value of a secret, kept in the data dir (0600)."""
    path = data_dir / f".{env_name.lower()}"
    if path.is_file():
        return path.read_text().strip()
    value = ("fwa_" if env_name == "ADMIN_API_KEY" else "") + secrets.token_urlsafe(32)
    if not persist:
        return value
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    if env_name == "ADMIN_API_KEY":
        # Printed exactly once, when created; never logged afterwards.
        print(f"freeway: generated development ADMIN_API_KEY (stored in {path}): {value}")
    return value


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings as a dict, secrets replaced by ``***``."""
    data = msgspec.to_builtins(settings, enc_hook=str)
    data.pop("raw", None)
    for env_name in SECRET_NAMES:
        field = _ENV_FIELDS.get(env_name, (env_name.lower(),))[0]
        if data.get(field):
            data[field] = "***"
    for name, provider in data.get("providers", {}).items():
        if provider.get("api_key"):
            data["providers"][name]["api_key"] = "***"
    data["database"] = _mask_url(settings.database_dsn)
    data["provider_keys"] = {
        key: "***" for key, value in settings.raw.items() if key.endswith("_API_KEY") and value
    }
    data["provider_keys"].pop("ADMIN_API_KEY", None)
    return data


def _mask_url(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def new_secret() -> str:
    """A fresh random secret suitable for ``JWT_SECRET``."""
    return secrets.token_urlsafe(48)
