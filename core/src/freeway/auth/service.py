"""Users: registration, login, password change, roles; and ``gw.auth`` itself.

``gw.auth`` is an :class:`AuthService`: the ordered auth backends plus the token
service, the login throttle and the user service.  Everything that changes the
database validates its input first, so a rejected request writes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from freeway.auth.backends import AuthBackend, load_backends
from freeway.auth.passwords import hash_password, verify_password
from freeway.auth.principal import ROLES, Principal
from freeway.auth.throttle import LoginThrottle
from freeway.auth.tokens import IssuedToken, TokenService
from freeway.auth.validation import check_bool, check_password, check_username
from freeway.db.models import User
from freeway.errors import AuthError, Conflict, ForbiddenError, NotFound, ValidationFailed

if TYPE_CHECKING:
    from freeway.db.engine import Database
    from freeway.state import Gateway


class UserView(msgspec.Struct, frozen=True):
    """A user as the API shows it (never the password hash)."""

    id: str
    username: str
    role: str
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(
            id=str(user.id),
            username=user.username,
            role=user.role,
            is_active=user.is_active,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserPage(msgspec.Struct, frozen=True):
    items: list[UserView]
    total: int
    page: int
    page_size: int


def _user_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"no user with id {value!r}") from None


def _role(value: Any, key: str = "role") -> str:
    if value not in ROLES:
        raise ValidationFailed(f"{key} must be one of: {', '.join(ROLES)}", param=key)
    return str(value)


class UserService:
    """User accounts in the ``users`` table."""

    def __init__(self, db: Database, tokens: TokenService, throttle: LoginThrottle) -> None:
        self._db = db
        self._tokens = tokens
        self._throttle = throttle

    async def count(self) -> int:
        async with self._db.sessionmaker() as session:
            return int(await session.scalar(select(func.count()).select_from(User)) or 0)

    async def register(
        self, data: dict[str, Any], actor: Principal | None, *, force_admin: bool = False
    ) -> User:
        """Create a user.  The first user becomes admin; later ones need an admin actor."""
        first = await self.count() == 0
        if not first and not force_admin:
            if actor is None:
                raise AuthError("registration is closed: only an admin may register users")
            if not actor.is_admin:
                raise ForbiddenError("only an admin may register users")
        username = check_username(data.get("username"))
        password = check_password(data.get("password"))
        role = "admin" if first or force_admin else _role(data.get("role", "viewer"))
        password_hash = await hash_password(password)
        try:
            async with self._db.sessionmaker() as session, session.begin():
                if await self._find(session, username) is not None:
                    raise Conflict(f"username {username!r} is taken", param="username")
                user = User(username=username, password_hash=password_hash, role=role)
                session.add(user)
        except IntegrityError:
            raise Conflict(f"username {username!r} is taken", param="username") from None
        return user

    @staticmethod
    async def _find(session: Any, username: str) -> User | None:
        # Usernames are unique regardless of case: "Admin" and "admin" are one person.
        stmt = select(User).where(func.lower(User.username) == username.lower())
        return (await session.execute(stmt)).scalars().first()

    async def login(
        self, username: str, password: str, address: str | None
    ) -> tuple[User, IssuedToken]:
        """Check the password (throttled) and issue a token."""
        await self._throttle.check(username, address)
        async with self._db.sessionmaker() as session:
            user = await self._find(session, username)
        ok = await verify_password(user.password_hash if user else None, password)
        if not ok or user is None:
            await self._throttle.failed(username, address)
            raise AuthError("invalid username or password", code="invalid_credentials")
        if not user.is_active:
            raise AuthError("this user is deactivated", code="user_inactive")
        await self._throttle.succeeded(username)
        return user, self._tokens.issue(str(user.id), user.token_version)

    async def reset_admin(self, username: str, password: str) -> User:
        """Recovery: make ``username`` an active admin with a new password, revoking its
        tokens (``freeway users create-admin --reset``)."""
        check_password(password)
        password_hash = await hash_password(password)
        async with self._db.sessionmaker() as session, session.begin():
            user = await self._find(session, username)
            if user is None:
                raise NotFound(f"no user named {username!r}")
            user.password_hash = password_hash
            user.role = "admin"
            user.is_active = True
            user.token_version = user.token_version + 1
        return user

    async def get(self, user_id: str) -> User:
        async with self._db.sessionmaker() as session:
            user = await session.get(User, _user_id(user_id))
        if user is None:
            raise NotFound(f"no user with id {user_id!r}")
        return user

    async def change_password(
        self, principal: Principal, data: dict[str, Any], address: str | None
    ) -> tuple[User, IssuedToken]:
        """Needs the current password; bumps ``token_version`` (every other token dies)
        and returns a fresh token."""
        current = data.get("current_password")
        if not isinstance(current, str):
            raise ValidationFailed("current_password must be a string", param="current_password")
        new = check_password(data.get("new_password"), "new_password")
        if new == current:
            raise ValidationFailed(
                "new_password must differ from the current password", param="new_password"
            )
        await self._throttle.check(principal.name, address)
        user = await self.get(principal.id)
        if not await verify_password(user.password_hash, current):
            await self._throttle.failed(principal.name, address)
            raise ValidationFailed(
                "current_password is wrong", param="current_password", code="invalid_credentials"
            )
        password_hash = await hash_password(new)
        async with self._db.sessionmaker() as session, session.begin():
            row = await session.get(User, user.id, with_for_update=True)
            if row is None:
                raise NotFound("this user no longer exists")
            row.password_hash = password_hash
            row.token_version = row.token_version + 1
            user = row
        return user, self._tokens.issue(str(user.id), user.token_version)

    async def list(self, page: int, page_size: int) -> UserPage:
        async with self._db.sessionmaker() as session:
            total = int(await session.scalar(select(func.count()).select_from(User)) or 0)
            rows = (
                await session.execute(
                    select(User)
                    .order_by(User.created_at, User.username)
                    .offset((page - 1) * page_size)
                    .limit(page_size)
                )
            ).scalars()
            return UserPage(
                items=[UserView.of(u) for u in rows], total=total, page=page, page_size=page_size
            )

    async def update(self, user_id: str, data: dict[str, Any]) -> User:
        """Change ``role`` and/or ``is_active``; the last active admin cannot be removed."""
        role = _role(data["role"]) if "role" in data else None
        active = check_bool(data["is_active"], "is_active") if "is_active" in data else None
        key = _user_id(user_id)
        async with self._db.sessionmaker() as session, session.begin():
            user = await session.get(User, key, with_for_update=True)
            if user is None:
                raise NotFound(f"no user with id {user_id!r}")
            loses_admin = (
                user.role == "admin"
                and user.is_active
                and ((role is not None and role != "admin") or active is False)
            )
            if loses_admin:
                admins = await session.scalar(
                    select(func.count())
                    .select_from(User)
                    .where(User.role == "admin", User.is_active.is_(True))
                )
                if (admins or 0) <= 1:
                    raise Conflict(
                        "this is the last active admin; promote another user first",
                        param="role" if role is not None else "is_active",
                    )
            if role is not None:
                user.role = role
            if active is not None:
                if user.is_active and not active:
                    # Reactivation must not bring old tokens back to life.
                    user.token_version = user.token_version + 1
                user.is_active = active
        return user


@dataclass
class AuthService:
    """``gw.auth``: the ordered backends and the services behind the auth API."""

    backends: list[AuthBackend]
    tokens: TokenService
    throttle: LoginThrottle
    users: UserService


def build_auth(gw: Gateway) -> AuthService:
    """Wire the auth services from the gateway's settings, database and Redis."""
    settings = gw.settings
    tokens = TokenService(settings, gw.db, gw.redis)
    throttle = LoginThrottle(
        max_failures=settings.login_max_failures,
        max_failures_per_address=settings.login_max_failures_per_address,
        window_seconds=settings.login_lockout_seconds,
        redis=gw.redis,
    )
    return AuthService(
        backends=load_backends(gw.pm, settings),
        tokens=tokens,
        throttle=throttle,
        users=UserService(gw.db, tokens, throttle),
    )


async def start_auth(gw: Gateway) -> None:
    """Attach ``gw.auth`` (app startup)."""
    gw.auth = build_auth(gw)
    await gw.auth.tokens.restore_mirror()
