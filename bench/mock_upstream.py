"""The benchmark's mock upstream: ``python bench/mock_upstream.py --port 9000``.

The implementation is the end-to-end tests' mock (``tests/mock_upstream.py``): one
fast OpenAI-compatible server for both, run here as its own process.
"""

from __future__ import annotations

import runpy
from pathlib import Path

if __name__ == "__main__":
    runpy.run_path(
        str(Path(__file__).resolve().parents[1] / "tests" / "mock_upstream.py"),
        run_name="__main__",
    )
