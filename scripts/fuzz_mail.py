"""Fuzz parse_email with hypothesis: random MIME trees and mutated corpus messages.

parse_email must never raise and must return within a time bound. Run through scripts/fuzz-mail
(not part of the test suite): `scripts/fuzz-mail [--minutes 3] [--bound 2.0] [--out DIR]`.
A failing input is shrunk by hypothesis, written to --out and the command exits 1."""

from __future__ import annotations

import argparse
import base64
import quopri
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontdesk.mail.parse import parse_email

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "channels" / "email" / "mail_corpus"
SEEDS = [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]
HANG_SECONDS = 20


class Hang(BaseException):
    """Raised by the alarm; a BaseException so parse_email's catch-all cannot swallow it."""


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang


CHARSETS = [
    "utf-8",
    "iso-8859-9",
    "windows-1254",
    "windows-1256",
    "us-ascii",
    "x-bogus",
    "utf-7",
    "rot13",
    "",
]
TEXT = st.text(
    alphabet=st.sampled_from("abc xyz\n\r\t=?_-<>@\"';:,.ŞşİıĞğÜüÖöÇçسلامیک۱۲\x00\x7f\ufeff"), max_size=300
)
TYPES = [
    "text/plain",
    "text/html",
    "image/png",
    "application/pdf",
    "application/ms-tnef",
    "message/rfc822",
    "message/delivery-status",
    "text/rfc822-headers",
    "application/octet-stream",
    "multipart/mixed",
]


@st.composite
def encoded_word(draw: Any) -> str:
    charset = draw(st.sampled_from(CHARSETS))
    text = draw(TEXT)
    if draw(st.booleans()):
        payload = base64.b64encode(text.encode("utf-8", "replace")).decode()
        if draw(st.booleans()):
            payload = payload[: draw(st.integers(0, len(payload)))]  # broken padding
        return f"=?{charset}?B?{payload}?="
    payload = quopri.encodestring(text.encode("utf-8", "replace"), header=True).decode()
    return f"=?{charset}?{draw(st.sampled_from(['Q', 'q', 'X']))}?{payload}?="


HEADER_VALUE = st.one_of(TEXT, encoded_word(), st.lists(encoded_word(), max_size=4).map(" ".join))
ADDRESS = st.one_of(
    st.just("a@b.c"),
    st.builds(lambda n, a: f'"{n}" <{a}>', TEXT, TEXT),
    st.builds(lambda n: f"{n} <x@örnek.com.tr>", encoded_word()),
    TEXT,
)


@st.composite
def headers(draw: Any) -> list[str]:
    lines = []
    for name, value in (
        ("From", ADDRESS),
        ("To", st.lists(ADDRESS, max_size=4).map(", ".join)),
        ("Cc", st.lists(ADDRESS, max_size=3).map(", ".join)),
        ("Subject", HEADER_VALUE),
        ("Message-ID", st.one_of(TEXT, st.builds(lambda s: f"<{s}>", TEXT))),
        ("References", st.lists(st.builds(lambda s: f"<{s}>", TEXT), max_size=5).map(" ".join)),
        ("Date", st.one_of(TEXT, st.just("Tue, 24 Nov 2026 10:00:00 +0300"))),
        ("Auto-Submitted", st.sampled_from(["no", "auto-replied", ""])),
    ):
        if draw(st.booleans()):
            lines.append(f"{name}: {draw(value)}")
    return lines


def _body(draw: Any, cte: str, charset: str) -> bytes:
    raw: bytes = draw(st.binary(max_size=400))
    if charset in ("utf-8", "iso-8859-9", "windows-1254", "windows-1256", "us-ascii", "") and draw(
        st.booleans()
    ):
        raw = draw(TEXT).encode(charset or "utf-8", "replace")
    if cte == "base64":
        encoded = base64.encodebytes(raw)
        return encoded[: draw(st.integers(0, len(encoded)))] if draw(st.booleans()) else encoded
    if cte == "quoted-printable":
        return quopri.encodestring(raw)
    return raw


@st.composite
def mime_part(draw: Any, depth: int = 0) -> bytes:
    content_type = draw(st.sampled_from(TYPES))
    params = []
    charset = draw(st.sampled_from(CHARSETS))
    if charset:
        params.append(f"charset={charset}")
    if draw(st.booleans()):
        params.append(
            draw(st.sampled_from(['name="f.pdf"', "name*=utf-8''%C5%9F%FF.pdf", 'name="winmail.dat"']))
        )
    lines = []
    if content_type.startswith("multipart/") and depth < 6:
        boundary = draw(st.sampled_from(["b", "bb", "", "a b", "--", "x" * 80]))
        subtype = draw(
            st.sampled_from(["mixed", "alternative", "related", "report; report-type=delivery-status"])
        )
        lines.append(f'Content-Type: multipart/{subtype}; boundary="{boundary}"')
        children = draw(st.lists(mime_part(depth + 1), max_size=4))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + child + b"\r\n" for child in children)
        if draw(st.booleans()):
            body += b"--" + boundary.encode() + b"--\r\n"  # sometimes left open (truncated MIME)
    else:
        cte = draw(st.sampled_from(["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", ""]))
        lines.append("Content-Type: " + "; ".join([content_type, *params]))
        if cte:
            lines.append(f"Content-Transfer-Encoding: {cte}")
        if draw(st.booleans()):
            lines.append(f"Content-ID: <{draw(TEXT)}>")
        if draw(st.booleans()):
            lines.append(
                "Content-Disposition: "
                + draw(st.sampled_from(["inline", "attachment", "attachment; filename="]))
            )
        body = _body(draw, cte, charset)
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape")
    return head + b"\r\n\r\n" + body


@st.composite
def mime_message(draw: Any) -> bytes:
    head = "\r\n".join(draw(headers())).encode("utf-8", "replace")
    body: bytes = draw(mime_part())
    return head + b"\r\nMIME-Version: 1.0\r\n" + body


@st.composite
def mutated_seed(draw: Any) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 12))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "delete", "duplicate", "insert", "truncate"]))
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 200))]
        elif op == "duplicate":
            chunk = data[at : at + draw(st.integers(1, 400))]
            data[at:at] = chunk * draw(st.integers(1, 50))
        elif op == "insert":
            token = draw(
                st.sampled_from(
                    [
                        b"--",
                        b"\r\n\r\n",
                        b"=?utf-8?B?",
                        b"?=",
                        b"Content-Type: multipart/mixed; boundary=x\r\n",
                        b"<",
                        b">",
                    ]
                )
            )
            data[at:at] = token * draw(st.integers(1, 200))
        else:
            del data[at:]
    return bytes(data)


# Long repetitions of the constructs a parser may spend super-linear time on.
STRESS_TOKENS = [
    b"<div>",
    b"<table><tr><td>",
    b"> quoted\n",
    b"=?utf-8?B?QQ==?= ",
    b"<a@b> ",
    b"On x wrote:\n",
    b"From: x\nSent: y\nTo: z\n",
    b"--b\nContent-Type: text/plain\n\nx\n",
    b"a@b.c, ",
]


@st.composite
def stressed_seed(draw: Any) -> bytes:
    seed: bytes = draw(st.sampled_from(SEEDS))
    token: bytes = draw(st.sampled_from(STRESS_TOKENS))
    at: int = draw(st.integers(0, len(seed)))
    times: int = draw(st.integers(1_000, 40_000))
    return seed[:at] + token * times + seed[at:]


MAIL = st.one_of(
    mime_message().map(lambda b: ("tree", b)),
    mutated_seed().map(lambda b: ("mutated", b)),
    stressed_seed().map(lambda b: ("stress", b)),
)


class Stats:
    def __init__(self) -> None:
        self.tried: Counter[str] = Counter()
        self.problems = 0
        self.times: list[float] = []
        self.slowest = (0.0, 0)
        self.largest = 0
        self.last_failing = b""
        self.crashes = 0


def run(minutes: float, bound: float, out: Path) -> int:
    stats = Stats()

    @settings(
        max_examples=500,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(MAIL)
    def check(case: tuple[str, bytes]) -> None:
        source, raw = case
        signal.alarm(HANG_SECONDS)
        started = time.perf_counter()
        stats.last_failing = raw  # hypothesis replays the shrunk failing input last
        try:
            mail = parse_email(raw)
        finally:
            signal.alarm(0)
        elapsed = time.perf_counter() - started
        stats.tried[source] += 1
        stats.times.append(elapsed)
        stats.largest = max(stats.largest, len(raw))
        stats.slowest = max(stats.slowest, (elapsed, len(raw)))
        stats.problems += mail.problem is not None
        if mail.problem and mail.problem.startswith("the parser failed"):
            # Caught and stored as message.eml, but a sign of a bug worth fixing: keep a few.
            stats.crashes += 1
            if stats.crashes <= 5:
                out.mkdir(parents=True, exist_ok=True)
                (out / f"caught-{stats.crashes}.eml").write_bytes(raw)
                print(f"caught: {mail.problem}", flush=True)
        assert elapsed < bound, f"parse_email took {elapsed:.2f} s on {len(raw)} bytes"
        assert "\x00" not in mail.text
        stats.last_failing = b""

    signal.signal(signal.SIGALRM, _on_alarm)
    deadline = time.monotonic() + minutes * 60
    failed = 0
    while time.monotonic() < deadline:
        try:
            check()
        except (Exception, Hang) as e:  # a failing input: keep it and go on searching
            failed += 1
            out.mkdir(parents=True, exist_ok=True)
            (out / f"failure-{failed}.txt").write_text(f"{type(e).__name__}: {e}\n", "utf-8")
            (out / f"failure-{failed}.eml").write_bytes(stats.last_failing)
            print(f"FAILURE {failed}: {type(e).__name__}: {e}", flush=True)
    total = sum(stats.tried.values())
    print(f"fuzz-mail: {minutes:g} min, {total} messages parsed ({dict(stats.tried)})")
    if stats.times:
        ordered = sorted(stats.times)
        print(
            f"time per message: median {statistics.median(ordered) * 1000:.2f} ms, "
            f"p99 {ordered[int(len(ordered) * 0.99)] * 1000:.2f} ms, "
            f"max {stats.slowest[0] * 1000:.1f} ms (on {stats.slowest[1]} bytes); bound {bound:g} s"
        )
    print(
        f"largest input {stats.largest} bytes; {stats.problems} parsed with a problem (kept as message.eml), "
        f"{stats.crashes} of them from an exception caught inside the parser (examples in {out})"
    )
    print(f"failures (exceptions, over the bound or hangs over {HANG_SECONDS} s): {failed}")
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--bound", type=float, default=2.0, help="seconds one message may take")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "fuzz-mail-failures")
    args = parser.parse_args()
    return run(args.minutes, args.bound, args.out)


if __name__ == "__main__":
    sys.exit(main())
