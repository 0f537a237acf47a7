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


# Every _WROTE form ends with one of these words: a line without any of them is skipped before
# the pattern (whose bounded wildcards cost a few hundred steps a line) is tried.
_WROTE_WORDS = ("wrote", "yazd", "نوشت", "écrit", "schrieb")


def _has_wrote_word(line: str) -> bool:
    lowered = line.lower()
    return any(word in lowered for word in _WROTE_WORDS)


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
    wrote = [_has_wrote_word(line) for line in lines]
    for i, line in enumerate(lines):
        if _ORIGINAL.match(line) or _is_outlook_header(lines, i):
            return i
        if _UNDERSCORES.match(line) and i + 1 < len(lines) and _is_outlook_header(lines, i + 1):
            return i
        if wrote[i] and _WROTE.match(line.strip()):
            return i
        if (
            i + 1 < len(lines)
            and wrote[i + 1]
            and line.strip()
            and _WROTE.match(f"{line.strip()} {lines[i + 1].strip()}")
        ):
            return i
    return None


def _trailing_quote_start(lines: list[str]) -> int | None:
    """The start of a block of '>' lines (blank lines allowed) that runs to the end."""
    start: int | None = None
    for i, line in enumerate(lines):
        if line.startswith(">"):
            if start is None:
                start = i
        elif line.strip():
            start = None
    return start


def _signature_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if _SIGNATURE.match(line) or _MOBILE.match(line):
            return i
    return None


def fold(text: str) -> Folded:
    """Split `text` at the earliest of: quoted history, a trailing '>' block, the signature.
    When nothing new would be left, the whole text stays new (a bare forward, say)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    forward = next((i for i, line in enumerate(lines) if _FORWARD.match(line)), len(lines))
    head = lines[:forward]
    starts = [s for s in (_history_start(head), _trailing_quote_start(head), _signature_start(head)) if s]
    if not starts:
        return Folded(text.strip("\n"), "")
    cut = min(starts)
    new = "\n".join(lines[:cut]).strip("\n")
    if not new.strip():
        return Folded(text.strip("\n"), "")
    return Folded(new.rstrip(), "\n".join(lines[cut:]).strip("\n"))
