"""Project keys: generation and lookup properties (hypothesis)."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from freeway.projects.cache import CachedProject, ProjectCache
from freeway.projects.keys import generate_key, hash_key, key_matches

URLSAFE = set(string.ascii_letters + string.digits + "-_")


def project(i: int) -> CachedProject:
    return CachedProject(
        id=f"p{i}", name=f"project {i}", rate_limit_per_minute=None, is_active=True, metadata={}
    )


@settings(max_examples=60)
@given(count=st.integers(min_value=1, max_value=40))
def test_keys_are_unique_well_formed_and_prefix_matches(count):
    keys = [generate_key() for _ in range(count)]
    assert len({k.raw for k in keys}) == count
    assert len({k.hash for k in keys}) == count
    for key in keys:
        assert key.raw.startswith("fw_")
        assert len(key.raw) == 3 + 43  # 32 random bytes, url-safe base64 without padding
        assert set(key.raw[3:]) <= URLSAFE
        assert key.prefix == key.raw[:8] and len(key.prefix) == 8
        assert key.hash == hash_key(key.raw) and len(key.hash) == 64
        assert key.raw not in key.hash
        assert key_matches(key.raw, key.hash)


@settings(max_examples=60)
@given(count=st.integers(min_value=1, max_value=25), data=st.data())
def test_hash_lookup_finds_exactly_the_issued_key(count, data):
    keys = [generate_key() for _ in range(count)]
    cache = ProjectCache(db=None)  # type: ignore[arg-type]  # lookups never touch the DB
    cache.replace({key.hash: project(i) for i, key in enumerate(keys)})
    assert len(cache) == count
    for i, key in enumerate(keys):
        assert cache.lookup(key.raw) == project(i)
        assert cache.get(f"p{i}") == project(i)

    # Any single-character change, truncation or extension of an issued key finds nothing.
    target = data.draw(st.sampled_from(keys)).raw
    position = data.draw(st.integers(min_value=0, max_value=len(target) - 1))
    replacement = data.draw(st.sampled_from(sorted(URLSAFE - {target[position]})))
    mutated = target[:position] + replacement + target[position + 1 :]
    for wrong in (mutated, target[:-1], target + "A", target[:8], target.upper()):
        if wrong not in {k.raw for k in keys}:
            assert cache.lookup(wrong) is None
    for key in keys:
        assert not key_matches(mutated, key.hash) or mutated == key.raw


@settings(max_examples=200)
@given(text=st.text(max_size=80))
def test_arbitrary_strings_never_match_an_issued_key(text):
    key = generate_key()
    cache = ProjectCache(db=None)  # type: ignore[arg-type]
    cache.replace({key.hash: project(0)})
    assert (cache.lookup(text) is None) == (text != key.raw)
    assert (cache.lookup("fw_" + text) is None) == ("fw_" + text != key.raw)


def test_rotation_style_replace_drops_the_old_key():
    old, new = generate_key(), generate_key()
    cache = ProjectCache(db=None)  # type: ignore[arg-type]
    cache.replace({old.hash: project(1)})
    cache.replace({new.hash: project(1)})
    assert cache.lookup(old.raw) is None
    assert cache.lookup(new.raw) == project(1)
