"""Request-body checks shared by the auth, users and projects APIs.

Bodies are decoded by hand (not by a schema) so every error says which field is wrong
and how to fix it, in the OpenAI envelope, before anything touches the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import msgspec

from freeway.errors import ValidationFailed

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{3,64}")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024


def json_object(
    body: bytes, *, allowed: Iterable[str], required: Iterable[str] = ()
) -> dict[str, Any]:
    """Decode ``body`` as a JSON object with only ``allowed`` keys and all ``required`` ones."""
    try:
        data = msgspec.json.decode(body) if body.strip() else None
    except msgspec.DecodeError:
        raise ValidationFailed("request body is not valid JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ValidationFailed("request body must be a JSON object", code="invalid_json")
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            raise ValidationFailed(
                f"unknown field {key!r}; allowed fields: {', '.join(allowed)}",
                param=key,
                code="unknown_field",
            )
    for key in required:
        if key not in data:
            raise ValidationFailed(f"{key} is required", param=key, code="missing_field")
    return data


def string_field(data: dict[str, Any], key: str) -> str:
    """``data[key]`` as a string, or a 400 naming the field."""
    value = data.get(key)
    if not isinstance(value, str):
        raise ValidationFailed(f"{key} must be a string", param=key)
    return value


def check_username(value: Any, key: str = "username") -> str:
    """3–64 characters of letters, digits, ``_``, ``.``, ``-``."""
    if not isinstance(value, str) or not USERNAME_PATTERN.fullmatch(value):
        raise ValidationFailed(
            f"{key} must be 3-64 characters of letters, digits, '_', '.' or '-'", param=key
        )
    return value


def check_password(value: Any, key: str = "password") -> str:
    """At least 12 characters (and a sane maximum)."""
    if not isinstance(value, str) or len(value) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"{key} must be a string of at least {MIN_PASSWORD_LENGTH} characters", param=key
        )
    if len(value) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(f"{key} must be at most {MAX_PASSWORD_LENGTH} characters", param=key)
    return value


def check_bool(value: Any, key: str) -> bool:
    """A JSON boolean (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise ValidationFailed(f"{key} must be true or false", param=key)
    return value


def check_page(page: int | None, page_size: int | None, max_size: int = 200) -> tuple[int, int]:
    """``page`` ≥ 1 (default 1) and 1 ≤ ``page_size`` ≤ ``max_size`` (default 50)."""
    page = 1 if page is None else page
    page_size = 50 if page_size is None else page_size
    if page < 1:
        raise ValidationFailed("page must be at least 1", param="page")
    if not 1 <= page_size <= max_size:
        raise ValidationFailed(f"page_size must be between 1 and {max_size}", param="page_size")
    return page, page_size
