"""Projects: list, create (key shown once), edit, rotate, delete.

Form fields are turned into the JSON API's field types here (a blank rate limit is
``null``, the metadata text is parsed as JSON); every rule on the values themselves
lives in :class:`freeway.projects.service.ProjectService`, which the API uses too.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from freeway.errors import FreewayError, NotFound, ValidationFailed
from freeway.projects.service import ProjectService, ProjectView
from freeway.state import gateway_of
from freeway_panel.rendering import redirect, render
from freeway_panel.session import Notice

PAGE_SIZE = 50


def _service(request: Request[Any, Any, Any]) -> ProjectService:
    gw = gateway_of(request)
    return ProjectService(gw.db, gw.project_cache)


def parse_rate_limit(text: str) -> int | None:
    """A blank field means unlimited; otherwise a whole number."""
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationFailed(
            "rate_limit_per_minute must be a whole number of requests per minute, "
            "or empty for unlimited",
            param="rate_limit_per_minute",
        ) from None


def parse_metadata(text: str) -> Any:
    """The metadata editor's text as JSON (empty means ``{}``), with a located message."""
    if not text.strip():
        return {}
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(
            f"metadata is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
            param="metadata",
        ) from None


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_values(form: Any) -> dict[str, str]:
    """The raw text of the project form, to show it again after an error."""
    return {
        "name": _text(form, "name"),
        "rate_limit_per_minute": _text(form, "rate_limit_per_minute"),
        "metadata": _text(form, "metadata"),
        "is_active": "true" if "true" in form.getall("is_active", []) else "false",
    }


def form_data(values: dict[str, str]) -> dict[str, Any]:
    """The project form as the service's (JSON API's) fields."""
    return {
        "name": values["name"],
        "rate_limit_per_minute": parse_rate_limit(values["rate_limit_per_minute"]),
        "metadata": parse_metadata(values["metadata"]),
        "is_active": values["is_active"] == "true",
    }


def view_values(project: ProjectView) -> dict[str, str]:
    """A stored project as form text."""
    return {
        "name": project.name,
        "rate_limit_per_minute": ""
        if project.rate_limit_per_minute is None
        else str(project.rate_limit_per_minute),
        "metadata": json.dumps(project.metadata, indent=2, ensure_ascii=False),
        "is_active": "true" if project.is_active else "false",
    }


async def _list_page(
    request: Request[Any, Any, Any], *, status: int = 200, **extra: Any
) -> Response[Any]:
    page_number = max(1, int(request.query_params.get("page", "1") or 1))
    q = request.query_params.get("q", "")
    page = await _service(request).list(page=page_number, page_size=PAGE_SIZE, name=q or None)
    return await render(
        request,
        "projects.html",
        status=status,
        active="projects",
        page=page,
        q=q,
        pages=max(1, -(-page.total // PAGE_SIZE)),
        **extra,
    )


@get("/projects", name="panel-projects")
async def projects_page(request: Request[Any, Any, Any]) -> Response[Any]:
    """Every project with its status and key prefix."""
    return await _list_page(request)


@get("/projects/new")
async def new_project(request: Request[Any, Any, Any]) -> Response[Any]:
    """The create form (a dialog, or a page of its own without JavaScript)."""
    values = {"name": "", "rate_limit_per_minute": "", "metadata": "{}", "is_active": "true"}
    return await render(request, "project_new.html", active="projects", values=values)


@post("/projects", status_code=200)
async def create_project(request: Request[Any, Any, Any]) -> Response[Any]:
    """Create a project and show its key this one time."""
    values = form_values(await request.form())
    try:
        created = await _service(request).create(form_data(values))
    except FreewayError as exc:
        return await render(
            request,
            "project_new.html",
            status=exc.status_code,
            active="projects",
            values=values,
            notice_inline=True,
            notice=Notice(kind="error", message=exc.message),
            field=exc.param,
        )
    return await _list_page(
        request,
        status=201,
        issued=created,
        issued_reason="created",
        notice=Notice(kind="ok", message=f"Project “{created.name}” created."),
    )


@get("/projects/{project_id:str}")
async def edit_project(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[Any]:
    """One project's settings."""
    project = await _service(request).get(project_id)
    return await render(
        request,
        "project_edit.html",
        active="projects",
        project=project,
        values=view_values(project),
    )


@post("/projects/{project_id:str}", status_code=200)
async def update_project(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    """Save name, rate limit, metadata and the active switch."""
    service = _service(request)
    values = form_values(await request.form())
    try:
        project = await service.update(project_id, form_data(values))
    except FreewayError as exc:
        if isinstance(exc, NotFound):
            raise
        return await render(
            request,
            "project_edit.html",
            status=exc.status_code,
            active="projects",
            project=await service.get(project_id),
            values=values,
            notice=Notice(kind="error", message=exc.message),
            field=exc.param,
        )
    return redirect(request, f"/panel/projects/{project.id}", notice="Changes saved.")


@get("/projects/{project_id:str}/rotate")
async def rotate_confirm(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    """Confirm replacing the key."""
    project = await _service(request).get(project_id)
    return await render(request, "project_rotate.html", active="projects", project=project)


@post("/projects/{project_id:str}/rotate", status_code=200)
async def rotate_submit(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    """Issue a new key (shown once); the old one stops working at once."""
    rotated = await _service(request).rotate_key(project_id)
    return await _list_page(
        request,
        issued=rotated,
        issued_reason="rotated",
        notice=Notice(kind="ok", message=f"The key of “{rotated.name}” was rotated."),
    )


@get("/projects/{project_id:str}/delete")
async def delete_confirm(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    """Confirm deleting a project."""
    project = await _service(request).get(project_id)
    return await render(request, "project_delete.html", active="projects", project=project)


@post("/projects/{project_id:str}/delete", status_code=200)
async def delete_submit(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    """Delete the project; its key is refused from now on (usage logs stay)."""
    service = _service(request)
    project = await service.get(project_id)
    await service.delete(project_id)
    return redirect(request, "/panel/projects", notice=f"Project “{project.name}” deleted.")


HANDLERS = [
    projects_page,
    new_project,
    create_project,
    edit_project,
    update_project,
    rotate_confirm,
    rotate_submit,
    delete_confirm,
    delete_submit,
]
