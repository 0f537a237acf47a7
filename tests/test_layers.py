"""The one-way data flow of DESIGN.md: domain/ and actions/ never import http/ or channels/,
and domain/ does no I/O (no database, no network); generic code names no channel."""

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


# --- Generic code names no channel (issue 12) ---------------------------------------------------
# A channel is one package (channels/<name>/, with its writes in actions/<name>/ and its rules in
# domain/<name>/); the registry hands its routes and services to app.py. The modules below serve
# every channel, so they neither import a channel's modules nor compare a channel type with a
# literal: a new channel must not need an edit there.
CHANNELS = frozenset(
    p.parent.name for p in (PACKAGE / "channels").glob("*/__init__.py") if p.parent.name != "__pycache__"
)
GENERIC = (
    "access.py",
    "actions/messages.py",
    "app.py",
    "channels/base.py",
    "channels/registry.py",
    "jobs/handlers.py",
    "services.py",
)
# The registry is where the built-in channels are listed: it may import their adapters, nothing else.
ALLOWED_IMPORTS = {"channels/registry.py": {f"frontdesk.channels.{name}.adapter" for name in CHANNELS}}


def channel_packages(channels: frozenset[str]) -> tuple[str, ...]:
    return tuple(
        f"frontdesk.{layer}.{name}" for layer in ("channels", "actions", "domain") for name in channels
    )


def _is_channel_type(node: ast.expr) -> bool:
    """channel_type, x.channel_type, row["channel_type"], row.get("channel_type")."""
    if isinstance(node, ast.Name):
        return node.id == "channel_type"
    if isinstance(node, ast.Attribute):
        return node.attr == "channel_type"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "channel_type"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return (
            bool(node.args)
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "channel_type"
        )
    return False


def _literals(node: ast.AST) -> list[str]:
    """The string constants of a value, a tuple, list or set of them, or a call's arguments."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [s for element in node.elts for s in _literals(element)]
    return []


# Column methods that compare (a .label("…") names a column and compares nothing).
SQL_COMPARISONS = frozenset(
    {
        "in_",
        "not_in",
        "notin_",
        "is_",
        "is_not",
        "isnot",
        "startswith",
        "endswith",
        "contains",
        "like",
        "ilike",
        "__eq__",
        "__ne__",
    }
)


def channel_branches(tree: ast.AST) -> list[str]:
    """Comparisons of a channel type with a literal: ==, !=, in, not in, `match`, and SQL's
    .in_()/.is_()/.startswith() on a channel_type column."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if any(_is_channel_type(o) for o in operands):
                found += [
                    f"line {node.lineno}: channel_type vs {s!r}" for o in operands for s in _literals(o)
                ]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if _is_channel_type(node.func.value) and node.func.attr in SQL_COMPARISONS:
                literals = [s for arg in node.args for s in _literals(arg)]
                found += [f"line {node.lineno}: channel_type.{node.func.attr}({s!r})" for s in literals]
        elif isinstance(node, ast.Match) and _is_channel_type(node.subject):
            patterns = [p for case in node.cases for p in ast.walk(case.pattern)]
            found += [
                f"line {node.lineno}: match channel_type case {p.value.value!r}"
                for p in patterns
                if isinstance(p, ast.MatchValue) and isinstance(p.value, ast.Constant)
            ]
    return found


def channel_imports(tree: ast.AST, channels: frozenset[str], allowed: set[str]) -> list[str]:
    """Imports of a channel's package (channels/<name>, actions/<name>, domain/<name>), also as
    `from frontdesk.channels import <name>`."""
    packages = channel_packages(channels)
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module not in allowed:
            names.append(node.module)
            names += [f"{node.module}.{alias.name}" for alias in node.names]
    # A module named after a channel outside its package (http/api/email_dns.py, as it was) too.
    prefixes = tuple(f"{channel}_" for channel in channels)
    return sorted(
        {
            name
            for name in names
            if name not in allowed
            and (
                any(name == p or name.startswith(p + ".") for p in packages)
                or any(part.startswith(prefixes) for part in name.split(".")[1:])
            )
        }
    )


# Whole folders every channel goes through: a channel's own routes live in its package, not here.
GENERIC_FOLDERS = ("http", "jobs", "bus")


def generic_modules() -> list[Path]:
    folders = [p for folder in GENERIC_FOLDERS for p in sorted((PACKAGE / folder).rglob("*.py"))]
    return [*(PACKAGE / name for name in GENERIC), *folders]


def test_every_generic_module_is_there() -> None:
    """A renamed module would otherwise leave the check below silently."""
    assert [name for name in GENERIC if not (PACKAGE / name).is_file()] == []
    assert {"api", "email", "web"} <= CHANNELS


@pytest.mark.parametrize("path", generic_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_generic_code_names_no_channel(path: Path) -> None:
    name = str(path.relative_to(PACKAGE))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    offenders = channel_imports(tree, CHANNELS, ALLOWED_IMPORTS.get(name, set())) + channel_branches(tree)
    assert offenders == [], f"{name} names a channel"


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("from frontdesk.channels.email.listener import mail_listener", True),
        ("import frontdesk.channels.web.adapter", True),
        ("from frontdesk.channels import email", True),
        ("from frontdesk.actions.email.intake import do_receive_email", True),
        ("from frontdesk.domain.email.addresses import hosted_address", True),
        ("from frontdesk.http.api import email_dns", True),
        ("from frontdesk.http.api.web_visits import router", True),
        ("if row['channel_type'] != 'email': pass", True),
        ("x = inbox.channel_type == 'web'", True),
        ("x = channel_type in ('api', 'email')", True),
        ("x = row.get('channel_type') == 'sms'", True),
        ("q = t.inboxes.c.channel_type.in_(['email'])", True),
        ("match channel_type:\n    case 'email':\n        pass", True),
        ("from frontdesk.channels.base import ChannelAdapter", False),
        ("from frontdesk.channels.registry import adapter_class", False),
        ("from frontdesk.channels.email.adapter import EmailAdapter", True),
        ("from frontdesk.mail.outbound import send_mail", False),
        ("x = adapter_class(row['channel_type'])", False),
        ("x = {'email': contact.email}", False),
        ("x = channel_type == other_type", False),
    ],
)
def test_the_channel_check_finds_what_it_should(source: str, named: bool) -> None:
    """The check itself: every way of naming a channel is found, generic code is not."""
    tree = ast.parse(source)
    found = channel_imports(tree, frozenset({"api", "email", "web"}), set()) + channel_branches(tree)
    assert bool(found) is named, found


def test_source_never_imports_test_equipment() -> None:
    """tests/fakes/ (fake providers, signers) is test equipment: nothing in src/ may use it."""
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for name in imports_of(path)
        if name == "tests" or name.startswith("tests.")
    ]
    assert offenders == []
