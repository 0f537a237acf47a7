"""Plain text from an HTML mail body (for mail that has no text/plain part): block elements
become line breaks, links keep their address, blockquotes are marked as quotes."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCK = frozenset(
    {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr", "pre", "ul", "ol"}
)
_SKIP = frozenset({"script", "style", "head", "title", "template"})


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.quote_depth = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag == "blockquote":
            self.quote_depth += 1
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
            self.parts.append("\n")
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag == "a":
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        text = re.sub(r"[ \t\r\n\f]+", " ", data)
        if self.href and self.href.startswith(("http://", "https://")) and self.href not in text:
            text = f"{text} ({self.href})"
        if self.quote_depth:
            text = text.replace("\n", "\n" + "> " * self.quote_depth)
            if not self.parts or self.parts[-1].endswith("\n"):
                text = "> " * self.quote_depth + text.lstrip()
        self.parts.append(text)


def html_to_text(html: str) -> str:
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except (AssertionError, ValueError):  # html.parser gives up on some broken markup
        pass
    lines = [" ".join(line.split()) for line in "".join(collector.parts).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
