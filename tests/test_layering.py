"""Layering: the core never imports a plugin; plugins import only freeway's public modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PUBLIC = {
    "freeway",
    "freeway.hookspecs",
    "freeway.providers",
    "freeway.testing",
    "freeway.errors",
    "freeway.settings",
    "freeway.http",
}
# The panel is a plugin of the whole app: it may call the services the JSON API calls.
PANEL_ALSO = ("freeway.",)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_import_linter_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_provider_plugins_import_only_public_freeway_modules():
    offenders = []
    for path in (ROOT / "plugins").glob("*/src/**/*.py"):
        for module in imported_modules(path):
            if module.startswith("freeway.") or module == "freeway":
                public = any(
                    module == p or module.startswith(p + ".") for p in PUBLIC - {"freeway"}
                )
                if not (public or module == "freeway"):
                    offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert not offenders, offenders


def test_core_source_names_no_provider_plugin():
    names = ("openrouter", "gemini", "groq", "mistral", "cohere", "huggingface")
    offenders = []
    for path in (ROOT / "core" / "src").rglob("*.py"):
        code = "\n".join(
            line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
        )
        tree = ast.parse(code)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                continue  # docs and messages may mention providers
            if isinstance(node, ast.Name | ast.Attribute):
                ident = node.id if isinstance(node, ast.Name) else node.attr
                if any(n in ident.lower() for n in names):
                    offenders.append(f"{path.relative_to(ROOT)}: {ident}")
        for module in imported_modules(path):
            if module.startswith(("freeway_provider_", "freeway_panel")):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offenders, offenders
