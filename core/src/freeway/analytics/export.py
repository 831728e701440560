"""CSV rendering of raw usage logs for ``GET /admin/analytics/logs.csv``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from freeway.analytics.schemas import LOG_FIELDS

# Spreadsheets run cells starting with these as formulas; `requested_model`,
# `request_id` and `error_code` come from clients and upstreams, so text is defused.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_TEXT_FIELDS = frozenset({"request_id", "requested_model", "model", "provider", "error_code"})


def _text(value: str | None) -> str | None:
    if value is not None and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _boolean(value: bool) -> str:
    return "true" if value else "false"


def _converter(name: str) -> Callable[[Any], Any] | None:
    """How one column is written; ``None`` leaves it to ``csv`` (numbers; None → "")."""
    if name == "created_at":
        return _timestamp
    if name == "stream":
        return _boolean
    if name == "project_id":
        return lambda v: None if v is None else str(v)
    return _text if name in _TEXT_FIELDS else None


# One converter per column, in LOG_FIELDS order (resolved once: exports are hot loops).
_CONVERTERS = [(i, f) for i, f in enumerate(map(_converter, LOG_FIELDS)) if f is not None]


def csv_header() -> bytes:
    """The header line: the same field names as the JSON logs."""
    buffer = io.StringIO()
    csv.writer(buffer).writerow(LOG_FIELDS)
    return buffer.getvalue().encode()


def csv_rows(rows: Sequence[Sequence[Any]]) -> bytes:
    """One batch of log rows (columns in ``LOG_FIELDS`` order) as CSV lines."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        cells = list(row)
        for i, convert in _CONVERTERS:
            cells[i] = convert(cells[i])
        writer.writerow(cells)
    return buffer.getvalue().encode()


async def csv_stream(batches: AsyncIterator[Sequence[Sequence[Any]]]) -> AsyncIterator[bytes]:
    """The header, then each batch as it is read from the database."""
    yield csv_header()
    async for batch in batches:
        yield csv_rows(batch)
