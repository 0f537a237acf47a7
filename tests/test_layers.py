"""The one-way data flow of DESIGN.md: domain/ and actions/ never import http/ or channels/,
and domain/ does no I/O (no database, no network)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "src" / "frontdesk"
FORBIDDEN = {
    "domain": (
        "frontdesk.http",
        "frontdesk.channels",
        "frontdesk.store",
        "frontdesk.actions",
        "sqlalchemy",
        "httpx",
        "fastapi",
    ),
    "actions": ("frontdesk.http", "frontdesk.channels", "fastapi", "httpx"),
}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_does_not_import_outer_layers(layer: str) -> None:
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted((PACKAGE / layer).rglob("*.py"))
        for name in imports_of(path)
        if name.startswith(FORBIDDEN[layer])
    ]
    assert offenders == []


def test_source_never_imports_test_equipment() -> None:
    """tests/fakes/ (fake providers, signers) is test equipment: nothing in src/ may use it."""
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in imports_of(path)
        if name == "tests" or name.startswith("tests.")
    ]
    assert offenders == []
