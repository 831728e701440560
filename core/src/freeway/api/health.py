"""``/health`` (liveness) and ``/health/ready`` (database, redis, providers)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get

from freeway import __version__
from freeway.state import Gateway, gateway_of

READY_TIMEOUT = 3.0


@get("/health", sync_to_thread=False, tags=["health"])
def health() -> dict[str, str]:
    """Liveness: the process is up."""
    return {"status": "ok", "version": __version__}


async def _check(coro: Any) -> str | None:
    try:
        await asyncio.wait_for(coro, READY_TIMEOUT)
    except Exception as exc:  # any failure means "not ready"; say which
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


async def readiness(gw: Gateway) -> dict[str, Any]:
    """The readiness report: database, Redis (when configured), each provider with its
    circuit state.  ``failing`` names the parts that do not answer."""
    checks: dict[str, Any] = {}
    failing: list[str] = []
    error = await _check(gw.db.ping())
    checks["database"] = {"status": "ok" if error is None else "error", "dialect": gw.db.dialect}
    if error:
        checks["database"]["error"] = error
        failing.append("database")
    if gw.redis is not None:
        error = await _check(gw.redis.ping())
        checks["redis"] = {"status": "ok" if error is None else "error"}
        if error:
            checks["redis"]["error"] = error
            failing.append("redis")
    else:
        checks["redis"] = {"status": "not configured"}
    breaker_state = getattr(gw.router, "provider_states", None)
    states: dict[str, str] = breaker_state() if callable(breaker_state) else {}
    checks["providers"] = {
        name: {"status": "ok", "circuit": states.get(name, "closed")} for name in gw.providers
    }
    body: dict[str, Any] = {"status": "ok" if not failing else "error", "checks": checks}
    if failing:
        body["failing"] = failing
    return body


@get("/health/ready", tags=["health"])
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    """Readiness: the database answers, Redis answers when configured; providers listed
    with their circuit state.  503 names the failing part."""
    body = await readiness(gateway_of(request))
    return Response(body, status_code=503 if body.get("failing") else 200)
