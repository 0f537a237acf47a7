"""The mail HTML sanitiser keeps the text that follows (or sits inside) malformed or unknown
markup, while scripts and styles stay removed: probes, then a property over generated mail."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.mail.sanitize import sanitize_html

AFTER = "Kind regards, Ann"


def visible_text(sanitised: str) -> str:
    """The text a browser would show, with whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]*>", " ", sanitised)).split())


@pytest.mark.parametrize(
    "markup",
    [
        "<p>an unclosed paragraph",
        "a stray < in the text",
        "<!-- a comment that never ends",
        "<![CDATA[ character data ]]>",
        "<![CDATA[ character data that never ends",
        "<blink>an unknown tag</blink>",
        "<svg><text>a drawing's text</text></svg>",
        "<math><mi>x</mi></math>",
        "</p an end tag cut short",
        "<p an open tag cut short",
        "<img src=x alt='cut short'",
        "<?xml never closed",
        "<!DOCTYPE never closed",
    ],
)
def test_text_after_malformed_markup_survives(markup: str) -> None:
    assert AFTER in visible_text(sanitize_html(f"Hello, {markup} {AFTER}"))


@pytest.mark.parametrize(
    ("markup", "inner"),
    [
        ("<svg><text>{}</text></svg>", "drawn words"),
        ("<math><mi>{}</mi></math>", "maths words"),
        ("<foo>{}</foo>", "unknown words"),
        ("<![CDATA[{}]]>", "cdata words"),
    ],
)
def test_text_inside_removed_markup_survives(markup: str, inner: str) -> None:
    assert inner in visible_text(sanitize_html(markup.format(inner)))


@pytest.mark.parametrize(
    "active",
    [
        "<script>SECRET()</script>",
        "<style>SECRET{}</style>",
        "<svg><script>SECRET()</script></svg>",
        "<svg><style>SECRET{}</style></svg>",
        "<math><style>SECRET{}</style></math>",
        "<![CDATA[<script>SECRET()</script>]]>",
        "<title>SECRET</title>",
    ],
)
def test_scripts_and_styles_stay_removed(active: str) -> None:
    cleaned = sanitize_html(f"{active} {AFTER}")
    assert "<script" not in cleaned and "<style" not in cleaned, cleaned
    if "CDATA" not in active:  # CDATA is text: it shows, escaped, and never runs
        assert "SECRET" not in cleaned, cleaned
    assert AFTER in visible_text(cleaned)


MALFORMED = st.sampled_from(
    [
        "<p>",
        "<b><i>",
        "</div>",
        "<",
        "< ",
        "<!--",
        "<!-- closed -->",
        "<![CDATA[",
        "<![CDATA[ x ]]>",
        "<x-unknown>",
        "<svg>",
        "<math>",
        "<table><tr><td>",
        "<blink>",
        "<p title='a'",
        "</",
        "<!",
        "<?",
        "<textarea>",
        "<noscript>",
    ]
)
WORDS = st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(prefix=st.lists(MALFORMED, max_size=4), words=st.lists(WORDS, min_size=1, max_size=5))
def test_plain_words_after_any_malformed_prefix_survive(prefix: list[str], words: list[str]) -> None:
    text = " ".join(words)
    cleaned = sanitize_html(" ".join(prefix) + " " + text)
    assert text in visible_text(cleaned), cleaned


@settings(max_examples=200, deadline=None)
@given(prefix=st.lists(MALFORMED, max_size=4), words=WORDS)
def test_scripts_never_survive_any_malformed_prefix(prefix: list[str], words: str) -> None:
    cleaned = sanitize_html(" ".join(prefix) + f"<script>alert('{words}')</script><style>b{{}}</style>")
    assert "<script" not in cleaned.lower() and "<style" not in cleaned.lower(), cleaned
