"""Project API keys: ``fw_`` + 32 random bytes (url-safe base64), stored as SHA-256.

The raw key is shown once (create / rotate) and never stored: the database keeps the
SHA-256 hex digest, used for lookup, and the first 8 characters so people can tell keys
apart.  SHA-256 (not argon2) is right here: the key has 256 bits of entropy, so a
slow hash adds nothing but latency on the hot path.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import msgspec

KEY_PREFIX = "fw_"
KEY_BYTES = 32
PREFIX_LENGTH = 8


class IssuedKey(msgspec.Struct, frozen=True):
    """A freshly generated key: ``raw`` goes to the caller once, the rest to the DB."""

    raw: str
    hash: str
    prefix: str


def hash_key(raw: str) -> str:
    """SHA-256 hex digest of a raw key (what the database and the cache store)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def key_prefix(raw: str) -> str:
    """The first 8 characters, e.g. ``fw_abc12``."""
    return raw[:PREFIX_LENGTH]


def generate_key() -> IssuedKey:
    """A new random project key with its hash and prefix."""
    raw = KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)
    return IssuedKey(raw=raw, hash=hash_key(raw), prefix=key_prefix(raw))


def looks_like_project_key(value: str) -> bool:
    """Cheap shape check before hashing: our keys start with ``fw_``."""
    return value.startswith(KEY_PREFIX) and len(value) > len(KEY_PREFIX)


def key_matches(raw: str, stored_hash: str) -> bool:
    """Constant-time comparison of a raw key against a stored hash."""
    return hmac.compare_digest(hash_key(raw), stored_hash)
