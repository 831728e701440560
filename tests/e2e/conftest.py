"""Fixtures of the end-to-end tests; the harness itself is in ``harness.py``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for path in (HERE, HERE.parent):  # harness.py, mock_upstream.py
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from harness import ServerFactory  # noqa: E402
from mock_upstream import MockUpstream  # noqa: E402


@pytest.fixture(scope="module")
def mock() -> Iterator[MockUpstream]:
    with MockUpstream() as upstream:
        yield upstream


@pytest.fixture
def make_server(tmp_path: Path, mock: MockUpstream) -> Iterator[ServerFactory]:
    """Servers for one test (see :class:`ServerFactory`)."""
    factory = ServerFactory(tmp_path, mock)
    yield factory
    factory.close()
