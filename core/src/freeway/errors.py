"""The one error tree of Freeway, and its one mapping to HTTP.

Every error the gateway raises is a :class:`FreewayError`.  Each class carries the
HTTP status and the OpenAI error ``type`` it maps to, so the API layer renders every
failure the same way: ``{"error": {"message", "type", "param", "code"}}``.
Providers raise these (never ``httpx`` exceptions) so routing can decide what to retry.
"""

from __future__ import annotations

from typing import Any, ClassVar


class FreewayError(Exception):
    """Base of every Freeway error.

    ``message`` is shown to the client; ``param`` names the offending field when
    there is one; ``code`` is a short machine-readable code.
    """

    status_code: ClassVar[int] = 500
    error_type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code or self.default_code
        self.headers = headers or {}

    def to_envelope(self) -> dict[str, Any]:
        """The OpenAI error envelope for this error."""
        return error_envelope(self.message, self.error_type, self.param, self.code)


def error_envelope(
    message: str, error_type: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """Build ``{"error": {...}}`` in the OpenAI shape."""
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


class ConfigError(FreewayError):
    """Invalid configuration; stops startup with one line naming the setting."""

    error_type = "server_error"
    default_code = "config_error"


class PluginError(FreewayError):
    """A plugin failed to load or misbehaved; the message names the plugin."""

    error_type = "server_error"
    default_code = "plugin_error"


class ProviderError(FreewayError):
    """Something went wrong talking to an upstream provider.

    ``retryable`` tells the router whether another candidate may be tried.
    """

    status_code = 502
    error_type = "api_error"
    default_code = "provider_error"
    retryable: ClassVar[bool] = True

    def __init__(self, message: str, *, provider: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.provider = provider


class RateLimited(ProviderError):
    """The upstream answered 429; ``retry_after`` seconds if it said so."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "upstream_rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """Upstream 5xx, connection refused or reset."""

    status_code = 502
    default_code = "provider_unavailable"


class ProviderTimeout(ProviderError):
    """The upstream did not answer in time."""

    status_code = 504
    error_type = "timeout_error"
    default_code = "provider_timeout"


class UpstreamBadRequest(ProviderError):
    """The upstream refused the request as invalid (400/404/422, content policy)."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "upstream_bad_request"
    retryable = False


class UpstreamAuthError(ProviderError):
    """The upstream refused our provider credentials (401/403)."""

    status_code = 502
    error_type = "api_error"
    default_code = "upstream_auth_error"
    retryable = False


class NoModelAvailable(FreewayError):
    """No model (or no healthy candidate) can serve the request."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "model_not_found"


class AuthError(FreewayError):
    """Missing or invalid credentials (401)."""

    status_code = 401
    error_type = "authentication_error"
    default_code = "invalid_api_key"


class ForbiddenError(FreewayError):
    """Valid credentials that may not do this (403)."""

    status_code = 403
    error_type = "permission_error"
    default_code = "forbidden"


class RateLimitExceeded(FreewayError):
    """The caller exceeded its own rate limit (429); ``retry_after`` in seconds."""

    status_code = 429
    error_type = "rate_limit_error"
    default_code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after: float, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class NotFound(FreewayError):
    """The addressed resource does not exist (404)."""

    status_code = 404
    error_type = "invalid_request_error"
    default_code = "not_found"


class Conflict(FreewayError):
    """The request conflicts with existing state, e.g. a duplicate name (409)."""

    status_code = 409
    error_type = "invalid_request_error"
    default_code = "conflict"


class ValidationFailed(FreewayError):
    """Bad input (400/422): the message says what to fix, ``param`` names the field."""

    status_code = 400
    error_type = "invalid_request_error"
    default_code = "invalid_request"
