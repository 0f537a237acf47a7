"""Splitting a plain-text mail body into what is new and what is history: the quoted earlier
messages of a reply and the sender's signature are folded (shown on demand), never dropped."""

from __future__ import annotations

import re
from dataclasses import dataclass

# "On Tue, 3 Mar 2026 at 10:00, Ayşe <a@b.c> wrote:" (Gmail, Apple Mail, Thunderbird), in
# English, Turkish and Persian; the line may be wrapped once, so two lines are tried together.
_WROTE = re.compile(
    r"^(?:on\b.{0,300}\bwrote\s*:"
    r"|.{0,300}\b(?:tarihinde|zaman[ıi]nda)\b.{0,300}(?:yazd[ıi]|şunu yazd[ıi])\s*:"
    r"|.{0,300}\bنوشت\s*:"
    r"|le\b.{0,300}\ba écrit\s*:"
    r"|am\b.{0,300}\bschrieb\b.{0,200}:)\s*$",
    re.IGNORECASE,
)
# Outlook puts a header block of the earlier mail under a rule or a blank line.
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:original message|özgün ileti|orijinal mesaj|ileti asl[ıi]|پیام اصلی)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|kimden|از)\s*:\*?\s*\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(
    r"^\s*\*?(?:sent|date|to|subject|cc|gönderildi|gönderilme|tarih|kime|konu|ارسال|تاریخ|به|موضوع)\s*:",
    re.IGNORECASE,
)
# A forwarded message is the point of the mail, not history: nothing after this is folded.
_FORWARD = re.compile(
    r"^\s*(?:-{2,}\s*(?:forwarded message|iletilen ileti|ileti[lş]mi[sş] ileti"
    r"|پیام هدایت شده|پیام بازارسال شده)\s*-{2,}|begin forwarded message:)\s*$",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_SIGNATURE = re.compile(r"^--\s?$")
_MOBILE = re.compile(r"^\s*(?:sent from my|iphone'umdan gönderildi|ارسال شده از)\b", re.IGNORECASE)


# A line can only start history if it holds a "wrote" word (every _WROTE form ends with one) or
# starts with a rule, underscores or a From word (_ORIGINAL, _UNDERSCORES, _OUTLOOK_FROM). Finding
# those lines with str.find and one regex whose literal "\n" prefix the engine scans for quickly
# spares the full patterns (a few hundred steps a line) on every other line of a long reply.
# [^\S\n] is \s without the line break, so a match never starts on an earlier blank line.
_WROTE_WORDS = ("wrote", "yazd", "نوشت", "écrit", "schrieb")
_LINE_START = re.compile(r"\n[^\S\n]*(?:-{2,}|_{10,}|\*?(?:from|kimden|از)[^\S\n]*:)", re.IGNORECASE)
_FORWARD_START = re.compile(r"\n[^\S\n]*(?:-{2,}|begin forwarded message:)", re.IGNORECASE)
_SIGNATURE_START = re.compile(
    r"\n(?:--|[^\S\n]*(?:sent from my|iphone'umdan gönderildi|ارسال شده از))", re.IGNORECASE
)


class _LineCounter:
    """Line numbers of offsets into one text, asked for in increasing order (linear overall)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 0

    def at(self, offset: int) -> int:
        if offset < self.pos:  # out of order: count again from the start
            self.pos, self.line = 0, 0
        self.line += self.text.count("\n", self.pos, offset)
        self.pos = offset
        return self.line


def _wrote_lines(text: str) -> set[int]:
    """The lines holding a "wrote" word, case-insensitively (lower() keeps every line break, so
    line numbers in the lowered text are those of the text)."""
    lowered = text.lower()
    found: set[int] = set()
    for word in _WROTE_WORDS:
        counter = _LineCounter(lowered)
        start = lowered.find(word)
        while start != -1:
            found.add(counter.at(start))
            end = lowered.find("\n", start)
            if end == -1:
                break
            start = lowered.find(word, end + 1)
    return found


def _pattern_lines(text: str, pattern: re.Pattern[str]) -> list[int]:
    """The lines at whose start `pattern` (which begins with "\n") matches."""
    counter = _LineCounter("\n" + text)
    return [counter.at(m.start()) for m in pattern.finditer("\n" + text)]


@dataclass(frozen=True)
class Folded:
    new: str
    quoted: str


def _is_outlook_header(lines: list[str], i: int) -> bool:
    """A "From:" line followed within three lines by Sent/Date/To/Subject lines."""
    if not _OUTLOOK_FROM.match(lines[i]):
        return False
    following = [line for line in lines[i + 1 : i + 5] if line.strip()]
    return sum(1 for line in following if _OUTLOOK_NEXT.match(line)) >= 2


def _history_start(lines: list[str]) -> int | None:
    """Where the quoted history begins, or None."""
    text = "\n".join(lines)
    wrote = _wrote_lines(text)
    # A "wrote" line may be the second half of a header wrapped over two lines.
    candidates = {*_pattern_lines(text, _LINE_START), *wrote, *(i - 1 for i in wrote if i > 0)}
    for i in sorted(candidates):
        line = lines[i]
        if _ORIGINAL.match(line) or _is_outlook_header(lines, i):
            return i
        if _UNDERSCORES.match(line) and i + 1 < len(lines) and _is_outlook_header(lines, i + 1):
            return i
        if i in wrote and _WROTE.match(line.strip()):
            return i
        if i + 1 in wrote and line.strip() and _WROTE.match(f"{line.strip()} {lines[i + 1].strip()}"):
            return i
    return None


def _trailing_quote_start(lines: list[str]) -> int | None:
    """The start of a block of '>' lines (blank lines allowed) that runs to the end."""
    start: int | None = None
    for i in range(len(lines) - 1, -1, -1):  # from the end: usually stops at the last line
        if lines[i].startswith(">"):
            start = i
        elif lines[i].strip():
            break
    return start


def _signature_start(lines: list[str]) -> int | None:
    for i in _pattern_lines("\n".join(lines), _SIGNATURE_START):
        if _SIGNATURE.match(lines[i]) or _MOBILE.match(lines[i]):
            return i
    return None


def fold(text: str) -> Folded:
    """Split `text` at the earliest of: quoted history, a trailing '>' block, the signature.
    When nothing new would be left, the whole text stays new (a bare forward, say)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    forward = next(
        (i for i in _pattern_lines("\n".join(lines), _FORWARD_START) if _FORWARD.match(lines[i])), len(lines)
    )
    head = lines[:forward]
    starts = [s for s in (_history_start(head), _trailing_quote_start(head), _signature_start(head)) if s]
    if not starts:
        return Folded(text.strip("\n"), "")
    cut = min(starts)
    new = "\n".join(lines[:cut]).strip("\n")
    if not new.strip():
        return Folded(text.strip("\n"), "")
    return Folded(new.rstrip(), "\n".join(lines[cut:]).strip("\n"))
