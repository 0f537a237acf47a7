"""The LINE tests talk to the fake provider: the channel's installation settings point there
before the server starts (the quota poller reads its period at start-up)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeProvider


@pytest.fixture(autouse=True)
def line_at_fake_provider(monkeypatch: pytest.MonkeyPatch, fake_provider: FakeProvider) -> FakeProvider:
    for name in ("LINE_API_URL", "LINE_DATA_URL", "LINE_STICKER_URL"):
        monkeypatch.setenv(f"FRONTDESK_{name}", fake_provider.url)
    monkeypatch.setenv("FRONTDESK_LINE_QUOTA_POLL_SECONDS", "0.2")
    return fake_provider
