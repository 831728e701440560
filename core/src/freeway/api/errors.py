"""Every error rendered as the OpenAI envelope, in one place."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from freeway.errors import FreewayError, RateLimited, RateLimitExceeded, error_envelope

log = logging.getLogger("freeway.api")

_HTTP_TYPES = {
    400: ("invalid_request_error", "invalid_request"),
    401: ("authentication_error", "invalid_api_key"),
    403: ("permission_error", "forbidden"),
    404: ("invalid_request_error", "not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    413: ("invalid_request_error", "request_too_large"),
    415: ("invalid_request_error", "unsupported_media_type"),
    429: ("rate_limit_error", "rate_limit_exceeded"),
}


def envelope_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> Response[Any]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON, headers=headers)


def freeway_error_handler(_: Request[Any, Any, Any], exc: FreewayError) -> Response[Any]:
    headers = dict(exc.headers)
    if isinstance(exc, (RateLimited, RateLimitExceeded)) and exc.retry_after is not None:
        headers.setdefault("retry-after", str(max(1, round(exc.retry_after))))
    return envelope_response(exc.status_code, exc.to_envelope(), headers)


def _validation_message(exc: ValidationException) -> tuple[str, str | None]:
    extra = exc.extra if isinstance(exc.extra, list) else []
    if extra and isinstance(extra[0], dict):
        first = extra[0]
        key = first.get("key")
        message = first.get("message") or exc.detail
        source = first.get("source")
        source = getattr(source, "value", source)  # ParamType.QUERY -> "query"
        if key:
            where = f" in {source}" if source and source != "body" else ""
            return f"{key}{where}: {message}", str(key)
        return str(message), None
    detail = exc.detail or "invalid request"
    if "JSON" in detail or "decode" in detail.lower():
        return "request body is not valid JSON", None
    return detail, None


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    error_type, code = _HTTP_TYPES.get(status, ("server_error", "server_error"))
    param = None
    if isinstance(exc, ValidationException):
        message, param = _validation_message(exc)
    elif status == 404:
        message = f"no route for {request.method} {request.url.path}"
    elif status == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = exc.detail
    if status >= 500:
        error_type, code = "server_error", "server_error"
    return envelope_response(status, error_envelope(message, error_type, param, code), exc.headers)


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return envelope_response(
        500, error_envelope("internal server error", "server_error", None, "server_error")
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    FreewayError: freeway_error_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
