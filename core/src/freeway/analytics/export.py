"""CSV rendering of raw usage logs for ``GET /admin/analytics/logs.csv``."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

from freeway.analytics.schemas import LOG_FIELDS

# Spreadsheets run cells starting with these as formulas; `requested_model` and
# `error_code` come from clients and upstreams, so text cells are defused.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


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
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue().encode()


async def csv_stream(batches: AsyncIterator[Sequence[Sequence[Any]]]) -> AsyncIterator[bytes]:
    """The header, then each batch as it is read from the database."""
    yield csv_header()
    async for batch in batches:
        yield csv_rows(batch)
