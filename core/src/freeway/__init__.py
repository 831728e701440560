"""Freeway: a self-hosted, plugin-based, OpenAI-compatible AI gateway."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("freeway")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
