"""Upstream error mapping: retry-after parsing (property tests) and error messages."""

from __future__ import annotations

import email.utils
import math

import httpx
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from freeway.errors import (
    ProviderTimeout,
    ProviderUnavailable,
    RateLimited,
    UpstreamAuthError,
    UpstreamBadRequest,
)
from freeway.providers.upstream import (
    error_from_status,
    parse_retry_after,
    upstream_errors,
    upstream_message,
)

NOW = 1_750_000_000.0
seconds = st.integers(min_value=0, max_value=10**6)


@given(seconds)
def test_retry_after_in_whole_seconds(value: int) -> None:
    assert parse_retry_after({"retry-after": str(value)}, now=NOW) == value


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_retry_after_in_fractional_seconds(value: float) -> None:
    assert parse_retry_after({"retry-after": repr(value)}, now=NOW) == pytest.approx(value)


@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_retry_after_as_http_date_is_seconds_from_now_never_negative(delta: int) -> None:
    date = email.utils.formatdate(NOW + delta, usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=NOW) == max(0, delta)


@given(
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.integers(0, 999),
    st.sets(st.sampled_from("hmsx"), min_size=1),
)
def test_reset_durations_in_go_format(h: int, m: int, s: int, ms: int, parts: set[str]) -> None:
    text = (
        (f"{h}h" if "h" in parts else "")
        + (f"{m}m" if "m" in parts else "")
        + (f"{s}s" if "s" in parts else "")
        + (f"{ms}ms" if "x" in parts else "")
    )
    expected = (
        ("h" in parts) * h * 3600
        + ("m" in parts) * m * 60
        + ("s" in parts) * s
        + ("x" in parts) * ms / 1000
    )
    got = parse_retry_after({"x-ratelimit-reset-tokens": text}, now=NOW)
    assert got == pytest.approx(expected)


def test_fractional_go_durations() -> None:
    assert parse_retry_after({"x-ratelimit-reset-requests": "2m59.56s"}) == pytest.approx(179.56)
    assert parse_retry_after({"x-ratelimit-reset-tokens": "7.66s"}) == pytest.approx(7.66)
    assert parse_retry_after({"x-ratelimit-reset": "250ms"}) == pytest.approx(0.25)


@given(st.integers(min_value=1, max_value=10**5))
def test_reset_as_epoch_seconds_or_milliseconds(delta: int) -> None:
    assert parse_retry_after({"x-ratelimit-reset": str(int(NOW) + delta)}, now=NOW) == delta
    millis = str(int((NOW + delta) * 1000))
    assert parse_retry_after({"x-ratelimit-reset": millis}, now=NOW) == pytest.approx(delta)


@given(seconds, seconds, seconds)
def test_retry_after_wins_over_resets_and_resets_take_the_longest(a: int, b: int, c: int) -> None:
    resets = {"x-ratelimit-reset-requests": f"{b}s", "x-ratelimit-reset-tokens": f"{c}s"}
    assert parse_retry_after({"retry-after": str(a), **resets}, now=NOW) == a
    assert parse_retry_after(resets, now=NOW) == max(b, c)


@given(
    st.dictionaries(
        st.sampled_from(
            [
                "retry-after",
                "x-ratelimit-reset",
                "x-ratelimit-reset-requests",
                "x-ratelimit-reset-tokens",
            ]
        ),
        st.text(max_size=30),
    )
)
@example({"x-ratelimit-reset": "-5"})
@example({"retry-after": "inf", "x-ratelimit-reset": "nan"})
@example({"x-ratelimit-reset-tokens": "1e400"})
@example({"retry-after": "Mon, 99 Foo 2025 99:99:99 GMT"})
@example({"retry-after": "a, b"})
def test_any_header_value_gives_none_or_a_finite_non_negative_wait(headers: dict) -> None:
    wait = parse_retry_after(headers, now=NOW)
    assert wait is None or (math.isfinite(wait) and wait >= 0)


def test_no_headers_no_wait() -> None:
    assert parse_retry_after({}) is None


def test_unusable_retry_after_falls_back_to_the_reset_headers() -> None:
    headers = {"retry-after": "soon", "x-ratelimit-reset-tokens": "3s"}
    assert parse_retry_after(headers) == 3


# --- messages and statuses -------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"error": {"message": "bad model", "type": "invalid_request_error"}}', "bad model"),
        (b'{"error": "plain string"}', "plain string"),
        (b'{"message": "Unauthorized", "request_id": "1"}', "Unauthorized"),
        (b'{"detail": [{"loc": ["body", "top_p"], "msg": "too big"}]}', "body.top_p: too big"),
        (
            b'{"object": "error", "message": {"detail": [{"loc": ["body"], "msg": "x"}]}}',
            "body: x",
        ),
        (b'{"message": "{\\"detail\\": \\"nested json\\"}"}', "nested json"),
        (b'[{"error": {"message": "first of a list"}}]', "first of a list"),
        (b"<html>Bad Gateway</html>", "<html>Bad Gateway</html>"),
        (b"", "no error message"),
    ],
)
def test_upstream_message_finds_the_human_text(body: bytes, message: str) -> None:
    assert upstream_message(body) == message


@given(st.binary(max_size=200))
def test_upstream_message_never_raises(body: bytes) -> None:
    assert isinstance(upstream_message(body), str)


@pytest.mark.parametrize(
    ("status", "error", "retryable"),
    [
        (400, UpstreamBadRequest, False),
        (401, UpstreamAuthError, False),
        (403, UpstreamAuthError, False),
        (404, UpstreamBadRequest, False),
        (422, UpstreamBadRequest, False),
        (429, RateLimited, True),
        (500, ProviderUnavailable, True),
        (503, ProviderUnavailable, True),
    ],
)
def test_status_maps_to_the_error_tree(status: int, error: type, retryable: bool) -> None:
    exc = error_from_status("acme", status, {"retry-after": "2"}, b'{"error":{"message":"m"}}')
    assert type(exc) is error and exc.retryable is retryable
    assert exc.message == "acme: m" and exc.provider == "acme"


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.DecodingError("bad gzip"),
        httpx.TooManyRedirects("loop"),
        httpx.StreamClosed(),
        httpx.InvalidURL("bad url"),
    ],
)
def test_no_httpx_failure_leaks_out_of_upstream_errors(exc: Exception) -> None:
    with (
        pytest.raises(ProviderUnavailable, match="acme: cannot reach upstream"),
        upstream_errors("acme"),
    ):
        raise exc


def test_upstream_timeouts_become_provider_timeout() -> None:
    with pytest.raises(ProviderTimeout), upstream_errors("acme"):
        raise httpx.PoolTimeout("no connection free")
