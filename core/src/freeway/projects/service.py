"""Project CRUD and key rotation, with validation before any write.

Every change reloads the project in the key cache (here and, with Redis, on every
replica) right after the transaction commits, so a rotated or deleted key stops
working at once.  The raw key exists only in the return value of :meth:`create` and
:meth:`rotate_key`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, Protocol

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from freeway.auth.validation import check_bool, check_page
from freeway.db.models import Project
from freeway.errors import Conflict, NotFound, ValidationFailed
from freeway.projects.keys import generate_key

if TYPE_CHECKING:
    from freeway.db.engine import Database

NAME_MAX = 200
METADATA_MAX_BYTES = 16 * 1024
RATE_LIMIT_MAX = 2**31 - 1  # the column is a 32-bit integer
CREATE_FIELDS = ("name", "rate_limit_per_minute", "metadata", "is_active")
UPDATE_FIELDS = CREATE_FIELDS


class ProjectView(msgspec.Struct, frozen=True):
    """A project as the API shows it; ``api_key`` only right after create/rotate."""

    id: str
    name: str
    api_key_prefix: str
    rate_limit_per_minute: int | None
    metadata: dict[str, Any]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    api_key: str | msgspec.UnsetType = msgspec.UNSET

    @classmethod
    def of(cls, row: Project, api_key: str | None = None) -> ProjectView:
        return cls(
            id=str(row.id),
            name=row.name,
            api_key_prefix=row.api_key_prefix,
            rate_limit_per_minute=row.rate_limit_per_minute,
            metadata=dict(row.metadata_ or {}),
            is_active=row.is_active,
            created_at=row.created_at,
            updated_at=row.updated_at,
            api_key=api_key if api_key is not None else msgspec.UNSET,
        )


class ProjectPage(msgspec.Struct, frozen=True):
    items: list[ProjectView]
    total: int
    page: int
    page_size: int


def check_name(value: Any) -> str:
    """1–200 characters after trimming surrounding whitespace."""
    if not isinstance(value, str):
        raise ValidationFailed("name must be a string", param="name")
    name = value.strip()
    if not 1 <= len(name) <= NAME_MAX:
        raise ValidationFailed(f"name must be 1-{NAME_MAX} characters", param="name")
    return name


def check_rate_limit(value: Any) -> int | None:
    """A positive integer (requests per minute) or ``null`` for unlimited."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= RATE_LIMIT_MAX:
        raise ValidationFailed(
            "rate_limit_per_minute must be a positive integer, or null for unlimited",
            param="rate_limit_per_minute",
        )
    return value


def check_metadata(value: Any) -> dict[str, Any]:
    """A JSON object of at most 16 KiB when encoded."""
    if not isinstance(value, dict):
        raise ValidationFailed("metadata must be a JSON object", param="metadata")
    if len(msgspec.json.encode(value)) > METADATA_MAX_BYTES:
        raise ValidationFailed(
            f"metadata is too large: at most {METADATA_MAX_BYTES} bytes as JSON",
            param="metadata",
        )
    return value


def _checked(data: dict[str, Any]) -> dict[str, Any]:
    """Validated column values for the fields present in ``data``."""
    values: dict[str, Any] = {}
    if "name" in data:
        values["name"] = check_name(data["name"])
    if "rate_limit_per_minute" in data:
        values["rate_limit_per_minute"] = check_rate_limit(data["rate_limit_per_minute"])
    if "metadata" in data:
        values["metadata_"] = check_metadata(data["metadata"])
    if "is_active" in data:
        values["is_active"] = check_bool(data["is_active"], "is_active")
    return values


def _project_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"no project with id {value!r}") from None


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ChangeListener(Protocol):
    """Told after each committed change: the :class:`~freeway.projects.cache.ProjectCache`
    (or the CLI's Redis notifier)."""

    async def invalidate(self, project_id: str) -> None: ...


class ProjectService:
    """Projects in the database, kept in step with the project cache."""

    def __init__(self, db: Database, cache: ChangeListener | None) -> None:
        self._db = db
        self._cache = cache

    async def _changed(self, project_id: str) -> None:
        if self._cache is not None:
            await self._cache.invalidate(project_id)

    async def _name_taken(self, session: Any, name: str, exclude: uuid.UUID | None) -> bool:
        stmt = select(Project.id).where(Project.name == name)
        if exclude is not None:
            stmt = stmt.where(Project.id != exclude)
        return (await session.execute(stmt)).first() is not None

    async def create(self, data: dict[str, Any]) -> ProjectView:
        """Create a project; the returned view carries the raw key (shown once)."""
        if "name" not in data:
            raise ValidationFailed("name is required", param="name", code="missing_field")
        values = _checked(data)
        key = generate_key()
        try:
            async with self._db.sessionmaker() as session, session.begin():
                if await self._name_taken(session, values["name"], None):
                    raise Conflict(f"a project named {values['name']!r} exists", param="name")
                row = Project(
                    api_key_hash=key.hash,
                    api_key_prefix=key.prefix,
                    metadata_=values.pop("metadata_", {}),
                    **values,
                )
                session.add(row)
        except IntegrityError:
            raise Conflict(f"a project named {values['name']!r} exists", param="name") from None
        await self._changed(str(row.id))
        return ProjectView.of(row, api_key=key.raw)

    async def get(self, project_id: str) -> ProjectView:
        async with self._db.sessionmaker() as session:
            row = await session.get(Project, _project_id(project_id))
        if row is None:
            raise NotFound(f"no project with id {project_id!r}")
        return ProjectView.of(row)

    async def list(
        self,
        *,
        page: int | None = None,
        page_size: int | None = None,
        is_active: bool | None = None,
        name: str | None = None,
    ) -> ProjectPage:
        """Newest first; ``name`` filters by case-insensitive substring."""
        page, page_size = check_page(page, page_size)
        conditions = []
        if is_active is not None:
            conditions.append(Project.is_active.is_(is_active))
        if name:
            conditions.append(func.lower(Project.name).like(_like_pattern(name), escape="\\"))
        async with self._db.sessionmaker() as session:
            total = await session.scalar(
                select(func.count()).select_from(Project).where(*conditions)
            )
            rows = (
                await session.execute(
                    select(Project)
                    .where(*conditions)
                    .order_by(Project.created_at.desc(), Project.name)
                    .offset((page - 1) * page_size)
                    .limit(page_size)
                )
            ).scalars()
            items = [ProjectView.of(row) for row in rows]
        return ProjectPage(items=items, total=int(total or 0), page=page, page_size=page_size)

    async def update(self, project_id: str, data: dict[str, Any]) -> ProjectView:
        """Change any of name, rate_limit_per_minute, metadata, is_active."""
        values = _checked(data)
        key = _project_id(project_id)
        try:
            async with self._db.sessionmaker() as session, session.begin():
                row = await session.get(Project, key, with_for_update=True)
                if row is None:
                    raise NotFound(f"no project with id {project_id!r}")
                if "name" in values and await self._name_taken(session, values["name"], key):
                    raise Conflict(f"a project named {values['name']!r} exists", param="name")
                for column, value in values.items():
                    setattr(row, column, value)
        except IntegrityError:
            raise Conflict("a project with this name exists", param="name") from None
        await self._changed(str(row.id))
        return ProjectView.of(row)

    async def delete(self, project_id: str) -> None:
        """Delete a project; its key stops working at once (401).  Usage logs stay."""
        key = _project_id(project_id)
        async with self._db.sessionmaker() as session, session.begin():
            row = await session.get(Project, key)
            if row is None:
                raise NotFound(f"no project with id {project_id!r}")
            await session.delete(row)
        await self._changed(str(key))

    async def rotate_key(self, project_id: str) -> ProjectView:
        """Replace the key; the old one stops working at once.  Returns the new raw key."""
        key = _project_id(project_id)
        issued = generate_key()
        async with self._db.sessionmaker() as session, session.begin():
            row = await session.get(Project, key, with_for_update=True)
            if row is None:
                raise NotFound(f"no project with id {project_id!r}")
            row.api_key_hash = issued.hash
            row.api_key_prefix = issued.prefix
            row.updated_at = dt.datetime.now(dt.UTC)
        await self._changed(str(row.id))
        return ProjectView.of(row, api_key=issued.raw)

    async def resolve(self, id_or_name: str) -> ProjectView:
        """A project by id or exact name (the CLI accepts either)."""
        try:
            return await self.get(str(uuid.UUID(id_or_name)))
        except (ValueError, NotFound):
            pass
        async with self._db.sessionmaker() as session:
            row = (
                (await session.execute(select(Project).where(Project.name == id_or_name)))
                .scalars()
                .first()
            )
        if row is None:
            raise NotFound(f"no project with id or name {id_or_name!r}")
        return ProjectView.of(row)
