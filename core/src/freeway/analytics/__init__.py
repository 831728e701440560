"""Analytics: the summary, usage and logs queries behind ``/admin/analytics``.

Summary and usage read the ``usage_daily_totals`` / ``usage_daily`` rollups (kept exact
by the usage sink); only the logs endpoints and the CSV export read raw ``usage_logs``.
Days are UTC.
"""

from freeway.analytics.service import AnalyticsService, analytics_of

__all__ = ["AnalyticsService", "analytics_of"]
