"""Parsing and validating the ``from``/``to``/paging query parameters.

``from``/``to`` accept an ISO date (``2026-01-31``) or an ISO datetime
(``2026-01-31T12:00:00Z``; no offset means UTC).  A date ``to`` is inclusive: the
whole UTC day is counted.  Every bad value raises :class:`ValidationFailed` naming the
parameter.
"""

from __future__ import annotations

import datetime as dt
import uuid

from freeway.errors import ValidationFailed

ONE_DAY = dt.timedelta(days=1)
# A usage report has one row per day in its range; a bound keeps responses sane.
MAX_USAGE_DAYS = 3660
DEFAULT_USAGE_DAYS = 30
STATUSES = ("ok", "error", "cancelled")
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def parse_instant(value: str, param: str) -> dt.date | dt.datetime:
    """A date, or an aware UTC datetime, from an ISO string."""
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
        parsed = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValidationFailed(
            f"{param}: {value!r} is not an ISO date (2026-01-31) or datetime "
            "(2026-01-31T12:00:00Z)",
            param=param,
        ) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def day_start(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of ``day``."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def as_utc_day(value: dt.date | dt.datetime) -> dt.date:
    """The UTC day a date or datetime falls on."""
    return value.date() if isinstance(value, dt.datetime) else value


def parse_datetime_range(
    from_: str | None, to: str | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Half-open ``[start, end)`` bounds for raw-log filters (either may be open).

    A date ``from`` starts at its midnight; a date ``to`` ends at the next midnight;
    a datetime ``to`` is inclusive (``end`` is one microsecond later).
    """
    start = end = None
    if from_:
        parsed = parse_instant(from_, "from")
        start = day_start(parsed) if not isinstance(parsed, dt.datetime) else parsed
    if to:
        parsed = parse_instant(to, "to")
        if isinstance(parsed, dt.datetime):
            end = parsed + dt.timedelta(microseconds=1)
        else:
            end = day_start(parsed) + ONE_DAY
    if start is not None and end is not None and start >= end:
        raise ValidationFailed(f"from ({from_}) is after to ({to})", param="from")
    return start, end


def parse_day_range(from_: str | None, to: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """Inclusive UTC days for rollup queries; datetimes count their whole day.

    Defaults: ``to`` = today, ``from`` = 29 days before ``to`` (30 days in all).
    """
    last = as_utc_day(parse_instant(to, "to")) if to else today
    if from_:
        first = as_utc_day(parse_instant(from_, "from"))
    else:
        first = last - dt.timedelta(days=DEFAULT_USAGE_DAYS - 1)
    if first > last:
        raise ValidationFailed(f"from ({from_}) is after to ({to or last})", param="from")
    if (last - first).days >= MAX_USAGE_DAYS:
        raise ValidationFailed(
            f"from: the range may span at most {MAX_USAGE_DAYS} days "
            f"(got {(last - first).days + 1})",
            param="from",
        )
    return first, last


def parse_project_id(value: str | None) -> uuid.UUID | None:
    """A project id filter, or ``None``."""
    if not value:
        return None
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        raise ValidationFailed(
            f"project_id: {value!r} is not a project id (a UUID)", param="project_id"
        ) from None


def parse_status(value: str | None) -> str | None:
    """A status filter: ``ok``, ``error`` or ``cancelled``."""
    if not value:
        return None
    status = value.strip().lower()
    if status not in STATUSES:
        raise ValidationFailed(
            f"status: must be one of {', '.join(STATUSES)}, got {value!r}", param="status"
        )
    return status


def parse_positive_int(
    value: str | None, param: str, default: int, maximum: int | None = None
) -> int:
    """A positive integer parameter with an optional upper bound."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ValidationFailed(
            f"{param}: expected a whole number, got {value!r}", param=param
        ) from None
    if number < 1:
        raise ValidationFailed(f"{param}: must be at least 1, got {number}", param=param)
    if maximum is not None and number > maximum:
        raise ValidationFailed(f"{param}: must be at most {maximum}, got {number}", param=param)
    return number
