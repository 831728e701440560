"""Server-side rendering: one Jinja2 environment, the page context, and the responses.

Templates live in ``freeway_panel/templates``.  Every panel response is built by
:func:`render` or :func:`redirect`, which also set the cookies the request made
necessary (:func:`freeway_panel.session.finish`).  The app's own ``TemplateConfig`` is
not used: the panel is a plugin and brings its own environment.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import Request, Response
from markupsafe import Markup

from freeway import __version__
from freeway_panel import charts
from freeway_panel.session import (
    csrf_token,
    current_user,
    finish,
    flash,
    take_flash,
    theme_of,
)

TEMPLATES = Path(__file__).parent / "templates"
STATIC_PREFIX = "/panel/static/"

NAV = (
    ("dashboard", "Dashboard", "/panel/"),
    ("models", "Models", "/panel/models"),
    ("projects", "Projects", "/panel/projects"),
    ("analytics", "Analytics", "/panel/analytics"),
    ("users", "Users", "/panel/users"),
    ("settings", "Settings", "/panel/settings"),
)


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _usd(value: Any) -> str:
    """Dollars with enough decimals that small costs do not read as zero."""
    if value is None:
        return "—"
    amount = float(value)
    if amount == 0:
        return "$0.00"
    if abs(amount) >= 1:
        return f"${amount:,.2f}"
    # Two significant digits, never fewer than cents.
    decimals = min(8, max(2, 1 - math.floor(math.log10(abs(amount)))))
    text = f"{amount:.{decimals}f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0").ljust(2, "0")
    return f"${whole}.{fraction}"


def _price(value: Any) -> str:
    """A price per million tokens (``free`` for zero, ``—`` when unknown)."""
    if value is None:
        return "—"
    if float(value) == 0:
        return "free"
    return _usd(value)


def _ms(value: Any) -> str:
    if value is None:
        return "—"
    ms = float(value)
    if ms >= 10_000:
        return f"{ms / 1000:,.1f} s"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    return f"{ms:,.0f} ms"


def _pct(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value) * 100:.1f}%"


def _when(value: Any, utc: bool = True) -> str:
    """A UTC timestamp as ``2026-01-31 12:00 UTC`` (without the zone where a column
    header already says UTC)."""
    if value is None:
        return "never"
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
        return value.strftime("%Y-%m-%d %H:%M" + (" UTC" if utc else ""))
    return str(value)


def _ago(value: Any) -> str:
    """How long ago a UTC timestamp was (``3 minutes ago``)."""
    if not isinstance(value, dt.datetime):
        return "never"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    seconds = (dt.datetime.now(dt.UTC) - value).total_seconds()
    if seconds < 60:
        return "just now"
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def _make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_num,
        usd=_usd,
        price=_price,
        ms=_ms,
        pct=_pct,
        when=_when,
        ago=_ago,
    )
    env.globals.update(
        version=__version__,
        static=lambda name: Markup(f"{STATIC_PREFIX}{name}?v={__version__}"),
        charts=charts,
        query=lambda **kw: urlencode({k: v for k, v in kw.items() if v not in (None, "")}),
    )
    return env


ENV = _make_environment()


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    """An htmx request (not a boosted navigation)."""
    return request.headers.get("hx-request") == "true" and not request.headers.get("hx-boosted")


async def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What every template may use: user, CSRF token, theme, notice, navigation."""
    user = await current_user(request)
    is_admin = bool(user and user.is_admin)
    return {
        "request": request,
        "path": request.url.path,
        "user": user,
        "is_admin": is_admin,
        "can_write": is_admin,
        "csrf": csrf_token(request),
        "theme": theme_of(request),
        "notice": take_flash(request),
        "nav": NAV,
        "layout": "fragment.html" if is_htmx(request) else "layout.html",
        "error": None,
    }


async def render(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> Response[str]:
    """Render ``template`` with the page context plus ``values`` as an HTML response."""
    context = await page_context(request)
    context.update(values)
    html = ENV.get_template(template).render(context)
    response: Response[str] = Response(
        html, status_code=status, media_type="text/html; charset=utf-8", headers=headers
    )
    return finish(response, request)  # type: ignore[return-value]


def redirect(
    request: Request[Any, Any, Any],
    url: str,
    *,
    notice: str | None = None,
    kind: str = "ok",
) -> Response[Any]:
    """See-other redirect (``HX-Redirect`` for htmx), optionally with a one-time notice."""
    if is_htmx(request):
        response: Response[Any] = Response(
            "", status_code=200, headers={"hx-redirect": url}, media_type="text/html"
        )
    else:
        response = Response("", status_code=303, headers={"location": url}, media_type="text/html")
    if notice:
        flash(response, request, notice, kind)
    return finish(response, request)


def sentence(text: str) -> str:
    """A service message as the start of a sentence, leaving field names
    (``current_password is wrong``) and the rest of the text as they are."""
    first = text.split(" ", 1)[0]
    if not text or "_" in first:
        return text
    return text[:1].upper() + text[1:]


def safe_next(value: Any, default: str = "/panel/") -> str:
    """A post-login destination inside the panel (no open redirect)."""
    if (
        isinstance(value, str)
        and value.startswith("/panel")
        and not value.startswith("//")
        and "\\" not in value
        and "\n" not in value
        and "\r" not in value
    ):
        return value
    return default
