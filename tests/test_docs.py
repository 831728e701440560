"""The documentation keeps up with the code: every hook and every setting is documented,
and every hook is exercised by at least one test."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from freeway import hookspecs
from freeway.settings import _ENV_FIELDS

ROOT = Path(__file__).resolve().parents[1]
HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("freeway_")
)


def test_there_are_six_hooks():
    assert HOOKS == [
        "freeway_auth_backends",
        "freeway_jobs",
        "freeway_providers",
        "freeway_rankers",
        "freeway_routes",
        "freeway_usage_sinks",
    ]


def test_every_hook_has_a_docstring():
    for name in HOOKS:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name


def test_every_hook_is_documented_in_plugins_md():
    text = (ROOT / "docs" / "plugins.md").read_text()
    headings = set(re.findall(r"^### `(freeway_\w+)\(", text, flags=re.M))
    assert set(HOOKS) <= headings, sorted(set(HOOKS) - headings)


def test_every_setting_is_documented_and_in_env_example():
    config_doc = (ROOT / "docs" / "configuration.md").read_text()
    env_example = (ROOT / ".env.example").read_text()
    for env_name in _ENV_FIELDS:
        assert f"`{env_name}`" in config_doc or env_name in config_doc, env_name
        assert re.search(rf"^#?\s*{env_name}=", env_example, flags=re.M), env_name


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("\n## ", 1)[0]
    assert "make run" in head and "make test" in head


def test_every_hook_is_exercised_by_a_test():
    """A plugin (or test double) implementing each hook is used in at least one test."""
    test_files = [
        path
        for pattern in ("core/tests/**/*.py", "tests/**/*.py", "plugins/*/tests/**/*.py")
        for path in ROOT.glob(pattern)
        if path.name != "test_docs.py"
    ]
    texts = [path.read_text() for path in test_files]
    missing = [hook for hook in HOOKS if not any(hook in text for text in texts)]
    assert not missing, missing


def test_relative_links_in_the_docs_resolve():
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            path = target.split("#", 1)[0]
            if not path or target.startswith(("http://", "https://", "mailto:")):
                continue
            if not (page.parent / path).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
