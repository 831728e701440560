"""SAQ's job dashboard at ``/jobs``, behind HTTP basic auth.

The credentials are ``JOBS_USERNAME`` / ``JOBS_PASSWORD`` (the seed's
``HANGFIRE_USERNAME`` / ``HANGFIRE_PASSWORD`` work too).  Without them the dashboard
does not exist (404); without Redis there is no SAQ queue to show (404 saying so).
SAQ ships the dashboard for Starlette and aiohttp; these Litestar routes serve the
same page, static assets and JSON API, so no extra web framework is needed.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import secrets
from typing import Any

from litestar import MediaType, Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from saq.web.common import STATIC_PATH, job_dict, render

from freeway.errors import AuthError, NotFound
from freeway.state import gateway_of

ROOT = "/jobs"
REALM = 'Basic realm="Freeway jobs", charset="UTF-8"'
_TYPES = {".js": "text/javascript", ".css": "text/css"}


def _credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


async def require_jobs_login(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Basic auth with JOBS_USERNAME/JOBS_PASSWORD; 404 when they are not configured."""
    settings = gateway_of(connection).settings  # type: ignore[arg-type]
    if not (settings.jobs_username and settings.jobs_password):
        raise NotFound(
            "the jobs dashboard is disabled; set JOBS_USERNAME and JOBS_PASSWORD to enable it"
        )
    given = _credentials(connection.headers.get("authorization"))
    ok = given is not None and (
        secrets.compare_digest(given[0].encode(), settings.jobs_username.encode())
        & secrets.compare_digest(given[1].encode(), settings.jobs_password.encode())
    )
    if not ok:
        raise AuthError(
            "the jobs dashboard needs the JOBS_USERNAME/JOBS_PASSWORD login",
            headers={"WWW-Authenticate": REALM},
        )


def _queues(request: Request[Any, Any, Any]) -> dict[str, Any]:
    jobs = gateway_of(request).jobs
    queue = getattr(jobs, "queue", None)
    if queue is None:
        raise NotFound(
            "the jobs dashboard shows the SAQ queue, which needs REDIS_URL; "
            "without Redis see GET /admin/jobs"
        )
    return {queue.name: queue}


def _queue(request: Request[Any, Any, Any], name: str) -> Any:
    queue = _queues(request).get(name)
    if queue is None:
        raise NotFound(f"no queue named {name!r}")
    return queue


async def _job(request: Request[Any, Any, Any], queue_name: str, key: str) -> Any:
    job = await _queue(request, queue_name).job(key)
    if job is None:
        raise NotFound(f"no job {key!r} in queue {queue_name!r}")
    return job


def _page(request: Request[Any, Any, Any]) -> Response[str]:
    _queues(request)
    return Response(render(root_path=ROOT), media_type=MediaType.HTML)


@get(["/", "/queues/{queue:str}", "/queues/{queue:str}/jobs/{job:str}"], sync_to_thread=False)
def dashboard(request: Request[Any, Any, Any]) -> Response[str]:
    """The dashboard page (a small single-page app)."""
    return _page(request)


@get(["/api/queues", "/api/queues/{queue:str}"])
async def api_queues(
    request: Request[Any, Any, Any], queue: FromPath[str | None] = None
) -> dict[str, Any]:
    if queue:
        return {"queue": await _queue(request, queue).info(jobs=True)}
    return {"queues": [await q.info() for q in _queues(request).values()]}


@get("/api/queues/{queue:str}/jobs/{job:str}")
async def api_job(
    request: Request[Any, Any, Any], queue: FromPath[str], job: FromPath[str]
) -> dict[str, Any]:
    return {"job": job_dict(await _job(request, queue, job))}


@post("/api/queues/{queue:str}/jobs/{job:str}/retry", status_code=200)
async def api_retry(
    request: Request[Any, Any, Any], queue: FromPath[str], job: FromPath[str]
) -> dict[str, Any]:
    await (await _job(request, queue, job)).retry("retried from ui")
    return {}


@post("/api/queues/{queue:str}/jobs/{job:str}/abort", status_code=200)
async def api_abort(
    request: Request[Any, Any, Any], queue: FromPath[str], job: FromPath[str]
) -> dict[str, Any]:
    await (await _job(request, queue, job)).abort("aborted from ui")
    return {}


@get("/static/{name:str}", sync_to_thread=False)
def static(request: Request[Any, Any, Any], name: FromPath[str]) -> Response[bytes]:
    """SAQ's assets; some ship only gzipped."""
    path = STATIC_PATH / name
    if path.parent != STATIC_PATH or name.startswith("."):
        raise NotFound(f"no asset {name!r}")
    media = _TYPES.get(path.suffix, "application/octet-stream")
    headers = {"cache-control": "public, max-age=86400"}
    if path.is_file():
        return Response(path.read_bytes(), media_type=media, headers=headers)
    packed = path.with_name(name + ".gz")
    if not packed.is_file():
        raise NotFound(f"no asset {name!r}")
    body = packed.read_bytes()
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["content-encoding"] = "gzip"
        return Response(body, media_type=media, headers=headers)
    return Response(gzip.decompress(body), media_type=media, headers=headers)


jobs_dashboard = Router(
    path=ROOT,
    route_handlers=[dashboard, api_queues, api_job, api_retry, api_abort, static],
    guards=[require_jobs_login],
    include_in_schema=False,
)
