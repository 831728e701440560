"""Password hashing with argon2id (argon2-cffi), run off the event loop.

argon2 is deliberately slow (tens of milliseconds): it is used for logins and password
changes only, never on the proxied hot path.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(type=Type.ID)
# Verified against when the username is unknown, so both cases cost the same time.
_DUMMY_HASH = _hasher.hash("freeway-dummy-password-for-timing")


async def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of ``password``."""
    return await asyncio.to_thread(_hasher.hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; with ``None`` (unknown user) burns the same time."""
    if password_hash is None:
        await asyncio.to_thread(_verify, _DUMMY_HASH, password)
        return False
    return await asyncio.to_thread(_verify, password_hash, password)
