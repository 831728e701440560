"""Logging setup from ``LOG_LEVEL`` and ``LOG_FORMAT`` (text | json)."""

from __future__ import annotations

import logging
import sys
import time

import msgspec

from freeway.settings import Settings


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and exception)."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return msgspec.json.encode(data).decode()


def configure_logging(settings: Settings) -> None:
    """Configure the ``freeway`` loggers once per process."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("freeway")
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    root.propagate = False
