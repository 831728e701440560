"""User JWTs: HS256 with ``JWT_SECRET``, valid ``JWT_EXPIRY_HOURS``, revocable.

Claims: ``sub`` (user id), ``jti`` (token id), ``tv`` (the user's ``token_version`` at
issue time), ``iat``, ``exp``, ``iss="freeway"``.  A token is refused when its
signature or expiry is wrong, when its ``jti`` is revoked (logout: a ``revoked_tokens``
row, kept until the token would have expired), when ``tv`` is older than the user's
``token_version`` (password change bumps it: every other token dies), or when the user
is gone or deactivated.  The database is the source of truth and is shared by all
replicas; with ``REDIS_URL`` the revoked ids are mirrored in Redis (with a TTL) so the
``jti`` check is one Redis ``EXISTS`` instead of a query.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import TYPE_CHECKING, Any

import jwt
import msgspec
from sqlalchemy import delete, select

from freeway.auth.principal import ROLES, Principal
from freeway.db.models import RevokedToken, User
from freeway.errors import AuthError

if TYPE_CHECKING:
    from freeway.db.engine import Database
    from freeway.settings import Settings

log = logging.getLogger("freeway.auth")

ALGORITHM = "HS256"
ISSUER = "freeway"
REVOKED_KEY = "freeway:revoked:"


class TokenClaims(msgspec.Struct, frozen=True):
    """The verified claims of a user token."""

    sub: str
    jti: str
    tv: int
    iat: int
    exp: int

    @property
    def expires_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.exp, dt.UTC)


class IssuedToken(msgspec.Struct, frozen=True):
    """A new token and when it expires."""

    token: str
    jti: str
    expires_at: dt.datetime


class TokenService:
    """Issues, verifies and revokes user tokens."""

    def __init__(self, settings: Settings, db: Database, redis: Any = None) -> None:
        if not settings.jwt_secret:
            raise AuthError("JWT_SECRET is not set")
        self._secret = settings.jwt_secret
        self._lifetime = dt.timedelta(hours=settings.jwt_expiry_hours)
        self._db = db
        self._redis = redis

    def issue(self, user_id: str, token_version: int) -> IssuedToken:
        """A signed token for this user, valid ``JWT_EXPIRY_HOURS``."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        expires_at = now + self._lifetime
        jti = uuid.uuid4().hex
        payload = {
            "sub": user_id,
            "jti": jti,
            "tv": token_version,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "iss": ISSUER,
        }
        token = jwt.encode(payload, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token=token, jti=jti, expires_at=expires_at)

    def decode(self, token: str) -> TokenClaims:
        """Verify signature, expiry and issuer; :class:`AuthError` says which failed."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["sub", "jti", "exp", "iat", "iss"]},
            )
            return msgspec.convert(payload, TokenClaims, strict=False)
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired; log in again", code="token_expired") from None
        except (jwt.InvalidTokenError, msgspec.ValidationError):
            raise AuthError("invalid token", code="invalid_token") from None

    async def _is_revoked_in_redis(self, jti: str) -> bool | None:
        if self._redis is None:
            return None
        try:
            return bool(await self._redis.exists(REVOKED_KEY + jti))
        except Exception as exc:  # fall back to the database
            log.warning("revoked-token check in Redis failed (%s); using the database", exc)
            return None

    async def resolve(self, claims: TokenClaims) -> Principal:
        """The user principal of verified claims, or :class:`AuthError` if revoked."""
        try:
            user_id = uuid.UUID(claims.sub)
        except ValueError:
            raise AuthError("invalid token", code="invalid_token") from None
        revoked = await self._is_revoked_in_redis(claims.jti)
        async with self._db.sessionmaker() as session:
            user = await session.get(User, user_id)
            if revoked is None:
                revoked = await session.get(RevokedToken, claims.jti) is not None
        if user is None or not user.is_active:
            raise AuthError("this user no longer exists or is deactivated", code="invalid_token")
        if revoked or claims.tv != user.token_version:
            raise AuthError("token revoked; log in again", code="token_revoked")
        role = user.role if user.role in ROLES else "viewer"
        return Principal(kind="user", id=str(user.id), name=user.username, role=role)  # type: ignore[arg-type]

    async def revoke(self, claims: TokenClaims) -> None:
        """Revoke one token (logout) in the database and, if configured, in Redis."""
        now = dt.datetime.now(dt.UTC)
        async with self._db.sessionmaker() as session, session.begin():
            # Rows of tokens that expired anyway are useless; prune them here.
            await session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
            if await session.get(RevokedToken, claims.jti) is None:
                session.add(RevokedToken(jti=claims.jti, expires_at=claims.expires_at))
        await self._mirror(claims.jti, claims.expires_at, now)

    async def _mirror(self, jti: str, expires_at: dt.datetime, now: dt.datetime) -> None:
        if self._redis is None:
            return
        ttl = max(1, int((expires_at - now).total_seconds()) + 1)
        try:
            await self._redis.set(REVOKED_KEY + jti, b"1", ex=ttl)
        except Exception as exc:  # the database row still revokes it
            log.warning("could not mirror a token revocation to Redis: %s", exc)

    async def restore_mirror(self) -> None:
        """Copy unexpired revocations from the database to Redis (startup; Redis may be new)."""
        if self._redis is None:
            return
        now = dt.datetime.now(dt.UTC)
        async with self._db.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(RevokedToken.jti, RevokedToken.expires_at).where(
                        RevokedToken.expires_at > now
                    )
                )
            ).all()
        for jti, expires_at in rows:
            await self._mirror(jti, expires_at, now)
