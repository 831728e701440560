"""Latency histogram buckets shared by the usage rollup and analytics.

``usage_daily.latency_histogram[i]`` counts requests with latency ≤ ``LATENCY_BUCKETS_MS[i]``
(and > the previous bound); the last slot counts everything slower than the last bound.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

LATENCY_BUCKETS_MS: tuple[float, ...] = (
    5, 10, 25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000,
    4000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 45_000, 60_000, 90_000, 120_000,
)  # fmt: skip
HISTOGRAM_SIZE = len(LATENCY_BUCKETS_MS) + 1


def bucket_index(latency_ms: float) -> int:
    """Index of the histogram slot for one latency."""
    return bisect_left(LATENCY_BUCKETS_MS, latency_ms)


def add_histograms(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """Element-wise sum, tolerating empty or short lists."""
    size = max(len(a), len(b), HISTOGRAM_SIZE)
    return [(a[i] if i < len(a) else 0) + (b[i] if i < len(b) else 0) for i in range(size)]


def percentile_ms(histogram: Sequence[int], q: float) -> float | None:
    """Upper bound (ms) of the bucket holding the ``q`` quantile (0 < q ≤ 1)."""
    total = sum(histogram)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            if index < len(LATENCY_BUCKETS_MS):
                return float(LATENCY_BUCKETS_MS[index])
            return float(LATENCY_BUCKETS_MS[-1])
    return float(LATENCY_BUCKETS_MS[-1])
