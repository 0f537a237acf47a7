"""The fold of quoted history finds its candidate lines with one regex pass over the text; these
properties hold it to the plain line-by-line reading it replaced (kept here as the oracle)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from frontdesk.mail import quotes
from frontdesk.mail.quotes import fold


def _oracle_history_start(lines: list[str]) -> int | None:
    wrote = [any(w in line.lower() for w in ("wrote", "yazd", "نوشت", "écrit", "schrieb")) for line in lines]
    for i, line in enumerate(lines):
        if quotes._ORIGINAL.match(line) or quotes._is_outlook_header(lines, i):
            return i
        if quotes._UNDERSCORES.match(line) and i + 1 < len(lines) and quotes._is_outlook_header(lines, i + 1):
            return i
        if wrote[i] and quotes._WROTE.match(line.strip()):
            return i
        joined = f"{line.strip()} {lines[i + 1].strip()}" if i + 1 < len(lines) else ""
        if i + 1 < len(lines) and wrote[i + 1] and line.strip() and quotes._WROTE.match(joined):
            return i
    return None


def _oracle_signature_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if quotes._SIGNATURE.match(line) or quotes._MOBILE.match(line):
            return i
    return None


def _oracle_trailing_quote_start(lines: list[str]) -> int | None:
    start: int | None = None
    for i, line in enumerate(lines):
        if line.startswith(">"):
            if start is None:
                start = i
        elif line.strip():
            start = None
    return start


def _oracle_fold(text: str) -> quotes.Folded:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    forward = next((i for i, line in enumerate(lines) if quotes._FORWARD.match(line)), len(lines))
    head = lines[:forward]
    found = (_oracle_history_start(head), _oracle_trailing_quote_start(head), _oracle_signature_start(head))
    starts = [s for s in found if s]
    if not starts:
        return quotes.Folded(text.strip("\n"), "")
    cut = min(starts)
    new = "\n".join(lines[:cut]).strip("\n")
    if not new.strip():
        return quotes.Folded(text.strip("\n"), "")
    return quotes.Folded(new.rstrip(), "\n".join(lines[cut:]).strip("\n"))


# Lines built from the pieces that matter (rules, header words, "wrote" forms, blanks, odd
# whitespace) so that the interesting cases are common, plus arbitrary text.
PIECES = [
    "",
    " ",
    "\t",
    "\x0c",
    "\u2028",
    "-----Original Message-----",
    "-- Özgün ileti --",
    "--",
    "-- ",
    "________________",
    "From: Ayşe <a@b.c>",
    "*From:* Ali",
    "Kimden: Ali",
    "از: علی",
    "Sent: Monday",
    "To: x@y.z",
    "Subject: Re: order",
    "Konu: sipariş",
    "On Tue, 3 Mar 2026 at 10:00, Ayşe <a@b.c> wrote:",
    "On Tue, 3 Mar 2026 at 10:00, Ayşe",
    "<a@b.c> wrote:",
    "3 Mart 2026 tarihinde Ali şunu yazdı:",
    "علی نوشت:",
    "Le mardi, Paul a écrit :",
    "WROTE:",
    "Sent from my iPhone",
    "iPhone'umdan gönderildi",
    "> quoted",
    ">",
    "---------- Forwarded message ---------",
    "Begin forwarded message:",
    "Merhaba, siparişim nerede?",
    "سلام",
]
line = st.one_of(
    st.sampled_from(PIECES),
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=3).map(" ".join),
    st.text(alphabet=st.characters(blacklist_characters="\n\r"), max_size=40),
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(line, max_size=30))
def test_candidate_scan_finds_what_reading_every_line_finds(lines: list[str]) -> None:
    assert quotes._history_start(lines) == _oracle_history_start(lines)
    assert quotes._signature_start(lines) == _oracle_signature_start(lines)
    assert quotes._trailing_quote_start(lines) == _oracle_trailing_quote_start(lines)
    for newline in ("\n", "\r\n"):
        text = newline.join(lines)
        assert fold(text) == _oracle_fold(text)


def test_a_long_reply_folds_at_its_history() -> None:
    body = "Merhaba, siparişim hakkında bir sorum var.\n" * 1200
    text = f"{body}\nOn Tue, 3 Mar 2026 at 10:00, Destek <support@acme.test>\nwrote:\n> Önceki yanıt"
    folded = fold(text)
    assert folded.new == body.rstrip()
    assert folded.quoted.startswith("On Tue, 3 Mar 2026")


def test_candidate_lines_are_numbered_by_line_breaks_only() -> None:
    text = "a\n\nb -----\n--- x\nfrom: y\nİİİ wrote"
    assert quotes._pattern_lines(text, quotes._LINE_START) == [3, 4]
    # "İ".lower() is two characters: line numbers still hold.
    assert quotes._wrote_lines(text) == {5}
