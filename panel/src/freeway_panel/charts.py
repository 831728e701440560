"""Charts as inline SVG, rendered on the server (no chart library, no script).

Each function returns markup ready to embed.  Colours come from CSS classes
(``.chart-line``, ``.chart-bar``, ``.series-0`` …) so the light and dark themes apply;
every chart has ``role="img"``, an ``aria-label`` summary and ``<title>`` tooltips.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

SERIES = 8  # distinct series colours defined in panel.css


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5, 5 × 10ⁿ)."""
    if value <= 0:
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        candidate = step * 10**exponent
        if candidate >= value:
            return float(candidate)
    return float(10 ** (exponent + 1))


def _count(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def sparkline(values: Sequence[float], *, label: str, width: int = 240, height: int = 48) -> Markup:
    """A small line (with a soft area under it) of ``values``, oldest first."""
    points = list(values) or [0.0]
    if len(points) == 1:
        points = points * 2
    top = max(points) or 1.0
    pad = 3
    step = (width - 2 * pad) / (len(points) - 1)
    coords = [
        (pad + i * step, height - pad - (v / top) * (height - 2 * pad))
        for i, v in enumerate(points)
    ]
    line = " ".join(f"{_fmt(x)},{_fmt(y)}" for x, y in coords)
    area = f"{_fmt(coords[0][0])},{height - pad} {line} {_fmt(coords[-1][0])},{height - pad}"
    last_x, last_y = coords[-1]
    return Markup(
        f'<svg class="chart sparkline" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{escape(label)}" '
        f'preserveAspectRatio="none">'
        f"<title>{escape(label)}</title>"
        f'<polygon class="chart-area" points="{area}"/>'
        f'<polyline class="chart-line" points="{line}" fill="none"/>'
        f'<circle class="chart-dot" cx="{_fmt(last_x)}" cy="{_fmt(last_y)}" r="2.5"/>'
        f"</svg>"
    )


def _day_label(key: str) -> str:
    try:
        return dt.date.fromisoformat(key).strftime("%b %d")
    except ValueError:
        return key


def time_bars(
    points: Sequence[tuple[str, float]],
    *,
    label: str,
    unit: str = "requests",
    width: int = 620,
    height: int = 230,
    value_format: Callable[[float], str] = _count,
) -> Markup:
    """One bar per period (ISO day keys), with a y axis and a few x labels."""
    left, right, top_pad, bottom = 48, 8, 10, 26
    inner_w, inner_h = width - left - right, height - top_pad - bottom
    n = max(1, len(points))
    top = _nice_max(max((v for _, v in points), default=0.0))
    slot = inner_w / n
    bar_w = max(1.0, slot * 0.72)
    parts = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" preserveAspectRatio="xMidYMid meet">',
        f"<title>{escape(label)}</title>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = top_pad + inner_h - fraction * inner_h
        parts.append(
            f'<line class="chart-grid" x1="{left}" x2="{width - right}" '
            f'y1="{_fmt(y)}" y2="{_fmt(y)}"/>'
            f'<text class="chart-axis" x="{left - 6}" y="{_fmt(y + 4)}" text-anchor="end">'
            f"{escape(value_format(top * fraction))}</text>"
        )
    label_every = max(1, math.ceil(n / 7))
    for i, (key, value) in enumerate(points):
        h = 0.0 if top == 0 else (value / top) * inner_h
        x = left + i * slot + (slot - bar_w) / 2
        y = top_pad + inner_h - h
        parts.append(
            f'<rect class="chart-bar" x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bar_w)}" '
            f'height="{_fmt(max(h, 0.0))}" rx="2"><title>{escape(_day_label(key))}: '
            f"{escape(value_format(value))} {escape(unit)}</title></rect>"
        )
        last = i == n - 1
        # Every few periods, and the last one (unless it would crowd its neighbour).
        if last or (i % label_every == 0 and (n - 1 - i) * 2 >= label_every):
            cx = left + (i + 1) * slot if last and n > 1 else left + i * slot + slot / 2
            anchor = "end" if last and n > 1 else "middle"
            parts.append(
                f'<text class="chart-axis" x="{_fmt(cx)}" y="{height - 8}" '
                f'text-anchor="{anchor}">{escape(_day_label(key))}</text>'
            )
    if not points:
        parts.append(
            f'<text class="chart-empty" x="{width / 2}" y="{height / 2}" '
            f'text-anchor="middle">No data</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def donut(
    segments: Sequence[tuple[str, float]],
    *,
    label: str,
    size: int = 180,
    thickness: int = 28,
    max_segments: int = 6,
    value_format: Callable[[float], str] = _count,
) -> Markup:
    """A donut of ``segments`` (name, value) with a legend; small ones fold into "other"."""
    ordered = sorted(((n, float(v)) for n, v in segments if v > 0), key=lambda s: -s[1])
    if len(ordered) > max_segments:
        rest = sum(v for _, v in ordered[max_segments - 1 :])
        ordered = [*ordered[: max_segments - 1], ("other", rest)]
    total = sum(v for _, v in ordered)
    radius = (size - thickness) / 2
    circumference = 2 * math.pi * radius
    centre = size / 2
    parts = [
        f'<div class="donut"><svg class="chart donut-chart" viewBox="0 0 {size} {size}" '
        f'width="{size}" height="{size}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
        f'<circle class="chart-track" cx="{centre}" cy="{centre}" r="{_fmt(radius)}" '
        f'fill="none" stroke-width="{thickness}"/>',
    ]
    offset = 0.0
    legend = []
    for i, (name, value) in enumerate(ordered):
        length = circumference * value / total
        share = value / total
        parts.append(
            f'<circle class="series-{i % SERIES}" cx="{centre}" cy="{centre}" r="{_fmt(radius)}" '
            f'fill="none" stroke-width="{thickness}" '
            f'stroke-dasharray="{_fmt(length)} {_fmt(circumference - length)}" '
            f'stroke-dashoffset="{_fmt(-offset)}" '
            f'transform="rotate(-90 {centre} {centre})">'
            f"<title>{escape(name)}: {escape(value_format(value))} ({share:.0%})</title></circle>"
        )
        offset += length
        legend.append(
            f'<li><span class="swatch series-{i % SERIES}" aria-hidden="true"></span>'
            f'<span class="legend-name">{escape(name)}</span>'
            f'<span class="legend-value">{escape(value_format(value))} · {share:.0%}</span></li>'
        )
    parts.append(
        f'<text class="donut-total" x="{centre}" y="{centre + 6}" text-anchor="middle">'
        f"{escape(value_format(total))}</text></svg>"
    )
    if legend:
        parts.append(f'<ul class="legend">{"".join(legend)}</ul>')
    else:
        parts.append('<p class="muted">No usage in this range.</p>')
    parts.append("</div>")
    return Markup("".join(parts))
