"""Docs that fail the build when stale: every setting and every event type is documented."""

from __future__ import annotations

from pathlib import Path

from frontdesk.events import EPHEMERAL_TYPES, LOGGED_TYPES
from frontdesk.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text(encoding="utf-8")
    missing = [
        f"FRONTDESK_{name.upper()}"
        for name in Settings.model_fields
        if f"FRONTDESK_{name.upper()}" not in text
    ]
    assert not missing, f"docs/settings.md does not document: {', '.join(missing)}"


def test_every_event_type_is_documented() -> None:
    text = (DOCS / "events.md").read_text(encoding="utf-8")
    missing = [t for t in (*LOGGED_TYPES, *EPHEMERAL_TYPES) if f"`{t}`" not in text]
    assert not missing, f"docs/events.md does not document: {', '.join(missing)}"
