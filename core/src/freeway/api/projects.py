"""``/admin/projects``: project CRUD and key rotation (admin; viewers may read)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, FromQuery, QueryParameter

from freeway.auth.guards import require_reader
from freeway.auth.validation import json_object
from freeway.projects.service import (
    CREATE_FIELDS,
    UPDATE_FIELDS,
    ProjectPage,
    ProjectService,
    ProjectView,
)
from freeway.state import gateway_of


def _service(request: Request[Any, Any, Any]) -> ProjectService:
    gw = gateway_of(request)
    return ProjectService(gw.db, gw.project_cache)


class ProjectController(Controller):
    """Projects: the raw ``api_key`` appears only in the create and rotate responses."""

    path = "/admin/projects"
    tags = ["projects"]
    guards = [require_reader]

    @get("/")
    async def list_projects(
        self,
        request: Request[Any, Any, Any],
        page: FromQuery[int | None] = None,
        page_size: FromQuery[int | None] = None,
        is_active: FromQuery[bool | None] = None,
        name: Annotated[
            str | None, QueryParameter(description="case-insensitive substring of the name")
        ] = None,
    ) -> ProjectPage:
        """List projects, newest first: ``{items, total, page, page_size}``."""
        return await _service(request).list(
            page=page, page_size=page_size, is_active=is_active, name=name
        )

    @post("/", status_code=201)
    async def create_project(self, request: Request[Any, Any, Any]) -> ProjectView:
        """Create a project: ``{name, rate_limit_per_minute?, metadata?, is_active?}``.

        The response's ``api_key`` is shown this once; store it.
        """
        data = json_object(await request.body(), allowed=CREATE_FIELDS, required=("name",))
        return await _service(request).create(data)

    @get("/{project_id:str}")
    async def get_project(
        self, request: Request[Any, Any, Any], project_id: FromPath[str]
    ) -> ProjectView:
        """One project (without its key)."""
        return await _service(request).get(project_id)

    @patch("/{project_id:str}")
    async def update_project(
        self, request: Request[Any, Any, Any], project_id: FromPath[str]
    ) -> ProjectView:
        """Change name, rate_limit_per_minute, metadata and/or is_active."""
        data = json_object(await request.body(), allowed=UPDATE_FIELDS)
        return await _service(request).update(project_id, data)

    @delete("/{project_id:str}", status_code=204)
    async def delete_project(
        self, request: Request[Any, Any, Any], project_id: FromPath[str]
    ) -> None:
        """Delete a project; its key is refused (401) from now on."""
        await _service(request).delete(project_id)

    @post("/{project_id:str}/rotate-key", status_code=200)
    async def rotate_key(
        self, request: Request[Any, Any, Any], project_id: FromPath[str]
    ) -> ProjectView:
        """Issue a new key (returned once); the old key is refused at once."""
        return await _service(request).rotate_key(project_id)
