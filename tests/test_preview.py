"""The list preview of a message: whitespace collapsed, cut to PREVIEW_LENGTH — computed from a
prefix of long texts, which must give exactly what collapsing the whole text gives."""

from __future__ import annotations

import random

from frontdesk.actions.messages import PREVIEW_LENGTH, _preview


def test_preview_of_a_prefix_equals_the_preview_of_the_whole_text() -> None:
    rng = random.Random(7)
    pieces = ["söz", "a", " ", "\n", "\t", "   ", "سلام"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 3000)))
        assert _preview(text) == " ".join(text.split())[:PREVIEW_LENGTH]
    mostly_blank = " " * (PREVIEW_LENGTH * 20) + "late words"
    assert _preview(mostly_blank) == "late words"
