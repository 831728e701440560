"""Who is calling: the :class:`Principal` every auth backend returns."""

from __future__ import annotations

from typing import Literal

import msgspec

from freeway.projects.cache import CachedProject

PrincipalKind = Literal["admin", "user", "project"]
Role = Literal["admin", "viewer"]
ROLES: tuple[Role, ...] = ("admin", "viewer")


class Principal(msgspec.Struct, frozen=True):
    """An authenticated caller.

    - admin key → ``kind="admin"``, ``role="admin"``;
    - a user's JWT → ``kind="user"``, ``role`` read from the database on each request;
    - a project key → ``kind="project"``, ``project`` is the cached project.
    """

    kind: PrincipalKind
    id: str
    name: str
    role: Role | None = None
    project: CachedProject | None = None

    @property
    def is_admin(self) -> bool:
        """Admin key, or a user whose role is ``admin``."""
        return self.role == "admin" and self.kind in ("admin", "user")


ADMIN_KEY_PRINCIPAL = Principal(kind="admin", id="admin", name="admin key", role="admin")
