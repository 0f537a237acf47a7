"""Taking a spooled mail's large files out before it is parsed.

The standard parser holds a mail several times over (its lines, the joined payload, the decoded
bytes), so a 34 MB mail costs hundreds of MB. Here the spooled mail is read line by line once:
each large base64 body of a part that is a file is decoded in chunks straight to a file of its
own, and what is left (headers, text, small parts, each large body replaced by a marker header
naming its file) is small enough to hand to the standard parser as before.

Only what is certainly the same either way is taken out: a clean base64 body (nothing but the
base64 alphabet, padding only at its end) of a non-text, non-message leaf found under a known
boundary. Anything unusual (a bare CR, a header block not ended by an empty line, a boundary
that is not ASCII, damaged base64) gives up, and the caller parses the whole mail the old way.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy as email_policy
from email.message import Message
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import IO

from frontdesk.mail.mime_parts import SPOOLED_HEADER, is_file_part

__all__ = ["Extraction", "extract_large_bodies"]

MIN_BODY_BYTES = 256 * 1024  # smaller bodies stay in the mail: taking them out gains nothing
DECODE_CHUNK = 256 * 1024  # of base64 text: a few such buffers are all the decoding holds
_HEADER_LINE = re.compile(rb"(From |[\041-\071\073-\176]*:|[\t ])")  # the standard parser's rule


@dataclass
class Extraction:
    mail: bytes  # the mail, each large body replaced by a marker header
    bodies: dict[str, Path] = field(default_factory=dict)  # by the marker's value


class _GiveUp(Exception):
    pass


def _boundary_pattern(part: Message) -> re.Pattern[bytes] | None:
    boundary = part.get_boundary()
    if boundary is None:
        return None
    if not boundary.isascii():
        raise _GiveUp
    # The standard parser's boundary line: the separator, "--" when it closes, spaces, the end.
    sep = re.escape(b"--" + boundary.encode("ascii"))
    return re.compile(sep + rb"(?P<end>--)?[ \t]*(\r\n|\r|\n)?\Z")


class _Base64File:
    """Decodes a clean base64 body in chunks into a file; anything else gives up."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[bytes] = path.open("wb")
        self.pending = bytearray()
        self.padded = False

    def add(self, line: bytes) -> None:
        self.pending += line.rstrip(b"\r\n")
        if len(self.pending) >= DECODE_CHUNK:
            self._decode(len(self.pending) - len(self.pending) % 4)

    def _decode(self, upto: int) -> None:
        chunk = bytes(self.pending[:upto])
        del self.pending[:upto]
        if not chunk:
            return
        if self.padded:  # data after the padding: not a clean body
            raise _GiveUp
        try:
            self.file.write(binascii.a2b_base64(chunk, strict_mode=True))
        except binascii.Error as e:
            raise _GiveUp from e
        self.padded = chunk.endswith(b"=")

    def finish(self) -> None:
        try:
            if len(self.pending) % 4:
                raise _GiveUp
            self._decode(len(self.pending))
        finally:
            self.file.close()


class _Scanner:
    def __init__(self, source: IO[bytes], folder: Path) -> None:
        self.lines = self._lines(source)
        self.folder = folder
        self.token = secrets.token_hex(12)
        self.out = bytearray()
        self.bodies: dict[str, Path] = {}
        self.boundaries: list[re.Pattern[bytes]] = []
        self.back: bytes | None = None

    @staticmethod
    def _lines(source: IO[bytes]) -> Iterator[bytes]:
        for line in source:
            # The standard parser also ends lines at a lone CR; this reader does not.
            if b"\r" in line[:-2] or line.endswith(b"\r"):
                raise _GiveUp
            yield line

    def _next(self) -> bytes | None:
        if self.back is not None:
            line, self.back = self.back, None
            return line
        return next(self.lines, None)

    def _boundary(self, line: bytes) -> tuple[int, bool] | None:
        """The index of the boundary this line is (innermost first) and whether it closes."""
        if not line.startswith(b"--"):
            return None
        for index in range(len(self.boundaries) - 1, -1, -1):
            found = self.boundaries[index].match(line)
            if found is not None:
                return index, found.group("end") is not None
        return None

    def run(self) -> None:
        self._part()
        while (line := self._next()) is not None:
            found = self._boundary(line)
            self.out += line
            if found is None:
                continue
            index, closes = found
            del self.boundaries[index + (0 if closes else 1) :]
            if not closes:
                self._part()

    def _part(self) -> None:
        """A header block and the body after it (up to the next boundary)."""
        header = bytearray()
        while True:
            line = self._next()
            if line is None or self._boundary(line) is not None:
                self.back = line
                self.out += header
                return  # headers only: nothing to take out
            if line in (b"\r\n", b"\n"):
                break
            if not _HEADER_LINE.match(line):
                self.out += header
                self.back = line  # no empty line: not a part to take apart
                return
            header += line
        part = BytesHeaderParser(policy=email_policy.compat32).parsebytes(bytes(header))
        if part.get_content_maintype() == "multipart":
            pattern = _boundary_pattern(part)
            if pattern is not None:
                self.boundaries.append(pattern)
        base64 = str(part.get("content-transfer-encoding", "")).lower() == "base64"
        if base64 and is_file_part(part):
            self._file_body(header, line)
        else:
            self.out += header + line

    def _file_body(self, header: bytearray, blank: bytes) -> None:
        held: list[bytes] = []
        size = 0
        decoder: _Base64File | None = None
        try:
            while (line := self._next()) is not None and self._boundary(line) is None:
                if decoder is not None:
                    decoder.add(line)
                    continue
                held.append(line)
                size += len(line)
                if size >= MIN_BODY_BYTES:
                    decoder = _Base64File(self.folder / f"body-{len(self.bodies) + 1}")
                    for kept in held:
                        decoder.add(kept)
                    held = []
            self.back = line
            if decoder is None:
                self.out += header + blank + b"".join(held)
                return
            decoder.finish()
        finally:
            if decoder is not None:
                decoder.file.close()
        mark = f"{self.token}-{len(self.bodies) + 1}"
        self.bodies[mark] = decoder.path
        self.out += header + f"{SPOOLED_HEADER}: {mark}".encode("ascii") + blank + blank


def extract_large_bodies(path: Path, folder: Path) -> Extraction | None:
    """The spooled mail at `path` with its large file bodies decoded into `folder`; None when it
    is not plain enough to take apart safely (the files written so far are left in `folder`)."""
    with path.open("rb") as source:
        scanner = _Scanner(source, folder)
        try:
            scanner.run()
        except _GiveUp:
            return None
    return Extraction(bytes(scanner.out), scanner.bodies)
