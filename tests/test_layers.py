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


# Code every channel goes through (DESIGN.md "Generic code never names a channel"): it may not
# import the website channel's modules nor compare anything with its channel type.
GENERIC = (
    "http",
    "jobs",
    "bus",
    "access.py",
    "app.py",
    "services.py",
    "channels/base.py",
    "actions/messages.py",
)
WEB_MODULES = ("frontdesk.channels.web", "frontdesk.actions.web", "frontdesk.domain.web")


def compares_with(path: Path, value: str) -> bool:
    return any(
        isinstance(operand, ast.Constant) and operand.value == value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Compare)
        for operand in (node.left, *node.comparators)
    )


def generic_files() -> list[Path]:
    found: list[Path] = []
    for name in GENERIC:
        path = PACKAGE / name
        found.extend([path] if path.suffix == ".py" else path.rglob("*.py"))
    return sorted(found)


def test_generic_code_names_no_web_channel() -> None:
    paths = generic_files()
    assert len(paths) > len(GENERIC)  # the folders were found
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in paths
        for name in imports_of(path)
        if name.startswith(WEB_MODULES)
    ]
    offenders += [
        f"{path.relative_to(PACKAGE)} compares with 'web'" for path in paths if compares_with(path, "web")
    ]
    assert offenders == []
