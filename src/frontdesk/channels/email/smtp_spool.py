"""aiosmtpd's SMTP with DATA written to a spool instead of gathered in memory.

aiosmtpd keeps every line of DATA in a list, then joins them: a 34 MB mail is held twice before
the handler sees it. Here a mail stays in memory only while it is small (the usual case, and
the fastest); past SPOOL_MEMORY_BYTES it goes on to a file in its own folder under
data_dir/tmp, and the handler gets the path. The folder is removed once the handler has
answered, whatever the outcome (stored, duplicate, 451, 552, or the connection dropped).

The reading keeps aiosmtpd's rules: dot-unstuffing, the `.` line that ends DATA, the size limit
answered with 552 after the whole mail was read, over-long lines answered with 500. Unlike
aiosmtpd it also ends a line at a bare LF or a lone CR (written to the spool as CRLF), as Postfix
does: scripts and web apps send such mail, and every line of it over 1,000 bytes was refused as
one over-long line. DATA still ends only at CRLF "." CRLF (never at LF "." LF), so a second
message cannot be smuggled inside the body of the first.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from aiosmtpd.smtp import MISSING, SMTP, Envelope

__all__ = [
    "SPOOL_MEMORY_BYTES",
    "Spool",
    "SpooledEnvelope",
    "SpoolingSMTP",
    "new_spool_folder",
    "remove_stale_spools",
]

log = logging.getLogger(__name__)

SPOOL_MEMORY_BYTES = 1_048_576
TOO_LONG = "500 Line too long (see RFC5321 4.5.3.1.6)"
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# The common path of MAIL FROM / RCPT TO: <dot-atom@domain>, then the parameters if any.
_PLAIN_PATH = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(?: +([^ \t(].*))?")


@dataclass(frozen=True)
class Spool:
    """One received mail: in memory when small, else a file (in a folder of its own, where
    parsing may put the mail's large decoded files too)."""

    size: int
    data: bytes | None = None
    path: Path | None = None

    @property
    def folder(self) -> Path | None:
        return None if self.path is None else self.path.parent


class SpooledEnvelope(Envelope):
    def __init__(self) -> None:
        super().__init__()
        self.spool: Spool | None = None


# A spool this old belongs to no session: SMTP gives up on a silent DATA long before.
STALE_SPOOL_SECONDS = 3600.0


def remove_stale_spools(spool_dir: Path, older_than: float = STALE_SPOOL_SECONDS) -> int:
    """Remove spool folders left behind by a process that stopped mid-DATA (a crash or a kill:
    the sender got no answer and sends again, so nothing in them is needed). Only old ones: other
    processes sharing the data folder may be receiving into theirs now. Returns how many went."""
    if not spool_dir.is_dir():
        return 0
    cutoff = time.time() - older_than
    removed = 0
    for folder in spool_dir.glob("mail-*"):
        try:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder)
                removed += 1
        except OSError:
            continue  # gone meanwhile, or not ours to remove: left for the next start
    return removed


def new_spool_folder(spool_dir: Path) -> Path:
    """A folder of its own for one mail being received (the IMAP importer's big mails; the
    listener's _Writer makes its own the same way); the caller removes it when done."""
    folder = spool_dir / f"mail-{secrets.token_hex(8)}"
    folder.mkdir(parents=True, mode=0o700)
    return folder


class _Writer:
    """Collects DATA lines: bytes in memory up to `memory_limit`, then a file."""

    def __init__(self, tmp_root: Path, memory_limit: int) -> None:
        self.tmp_root = tmp_root
        self.memory_limit = memory_limit
        self.buffer = bytearray()
        self.file: IO[bytes] | None = None
        self.path: Path | None = None
        self.size = 0

    def write(self, line: bytes) -> None:
        self.size += len(line)
        if self.file is not None:
            self.file.write(line)
            return
        self.buffer += line
        if len(self.buffer) > self.memory_limit:
            self.path = new_spool_folder(self.tmp_root) / "message.eml"
            self.file = self.path.open("wb")
            self.file.write(self.buffer)
            self.buffer = bytearray()

    def discard(self) -> None:
        """Drop what was gathered (the mail is refused; the rest is only counted)."""
        self.close()
        self.remove()
        self.buffer = bytearray()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def remove(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path.parent, ignore_errors=True)
            self.path = None

    def spool(self) -> Spool:
        self.close()
        if self.path is not None:
            return Spool(self.size, path=self.path)
        return Spool(self.size, data=bytes(self.buffer))


class SpoolingSMTP(SMTP):
    """SMTP whose DATA goes to a Spool (on `envelope.spool`) rather than `original_content`."""

    def __init__(
        self,
        handler: Any,
        *,
        spool_dir: Path,
        spool_memory_bytes: int = SPOOL_MEMORY_BYTES,
        envelope_class: type[SpooledEnvelope] = SpooledEnvelope,
        **kwargs: Any,
    ) -> None:
        self.spool_dir = spool_dir
        self.spool_memory_bytes = spool_memory_bytes
        self.envelope_class = envelope_class
        super().__init__(handler, **kwargs)

    def _create_envelope(self) -> Envelope:
        return self.envelope_class()

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        # aiosmtpd reads every address with the email package's header parser (and defines a
        # class on each call): a tenth of the intake's time. A plain <local@domain> reads to
        # the same address and parameters without it; anything else goes the full way.
        plain = _PLAIN_PATH.fullmatch(arg)
        if plain is None:
            return super()._getaddr(arg)
        address, rest = plain.group(1), plain.group(2) or ""
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, rest

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        writer = _Writer(self.spool_dir, self.spool_memory_bytes)
        try:
            refusal = await self._read_data(writer)
            if refusal is not None:
                writer.discard()
                await self.push(refusal)
                self._set_post_data_state()  # type: ignore[no-untyped-call]  # untyped in aiosmtpd
                return
            envelope = self.envelope
            if isinstance(envelope, SpooledEnvelope):
                envelope.spool = writer.spool()
            status = await self._call_handler_hook("DATA")
        finally:
            writer.close()
            writer.remove()
        self._set_post_data_state()  # type: ignore[no-untyped-call]  # untyped in aiosmtpd
        await self.push("250 OK" if status is MISSING else status)

    async def _read_data(self, writer: _Writer) -> str | None:
        """Read DATA up to its `.` line; the refusal to answer, or None when the mail is whole.

        Read in large pieces (a line at a time cost more than the rest of the intake): the
        stream is searched for CRLF "." CRLF, which never reads past the end of DATA, so a
        pipelined next command stays in the stream. Only where a piece ends in the middle of a
        possible end marker is it read on a byte at a time."""
        lines = _Lines(writer, self.data_size_limit, self.line_length_limit)
        seen = b""  # the last bytes read (at most 5): where the end marker may have begun
        total = 0  # bytes read
        pending = bytearray()  # read but not yet handed to `lines`: the last, unfinished line
        try:
            while True:
                if self.transport is None:  # closed before the end of DATA: nothing to hand on
                    raise asyncio.CancelledError
                if _ends_data(seen, total):
                    lines.block(bytes(pending[:-3]))
                    return lines.refusal
                try:
                    if _may_end_next(seen, total):
                        piece = await self._reader.readexactly(1)
                    else:
                        piece = await self._reader.readuntil(b"\r\n.\r\n")
                except asyncio.LimitOverrunError as e:
                    # No end marker within the stream's limit: what comes before where it could
                    # begin (or before the marker found beyond the limit) is mail.
                    piece = await self._reader.readexactly(e.consumed)
                total += len(piece)
                seen = piece[-5:] if len(piece) >= 5 else (seen + piece)[-5:]
                pending += piece
                if _ends_data(seen, total):
                    continue
                cut = _last_line_end(pending)
                if cut:
                    lines.block(bytes(pending[:cut]))
                    del pending[:cut]
                if len(pending) > self.line_length_limit + 1:
                    # Longer than any line may be, and no end yet: counted and refused now,
                    # rather than held. The last byte stays: it may be the CR of its CRLF.
                    lines.over_long(len(pending) - 1)
                    del pending[:-1]
        except asyncio.CancelledError:
            log.info("connection lost during DATA")
            self._writer.close()
            raise


def _last_line_end(pending: bytearray) -> int:
    """Where the last whole line of `pending` ends (0: none yet). A line ends at LF (after a CR
    or not) or at a lone CR; a CR that is the last byte read may yet be followed by its LF."""
    return max(pending.rfind(b"\n"), pending.rfind(b"\r", 0, len(pending) - 1)) + 1


def _ends_data(seen: bytes, total: int) -> bool:
    """Whether the bytes read end DATA: "." alone on a line."""
    return seen.endswith(b"\r\n.\r\n") or (total == 3 and seen == b".\r\n")


def _may_end_next(seen: bytes, total: int) -> bool:
    """Whether the end marker may have begun in what was read already (at the start of DATA,
    or after a CR): searching the stream for CRLF "." CRLF would then miss it."""
    return total == 0 or (total == 1 and seen == b".") or seen.endswith((b"\r", b"\r\n", b"\r\n."))


# A line ends at CRLF, or at a bare LF or a lone CR (scripts and some gateways send these; the
# end of DATA is still only CRLF "." CRLF, so a bare-LF "." line never ends the mail).
_LINE_END = re.compile(rb"\r\n|\r|\n")
_LINE = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)")


class _Lines:
    """The rules for DATA's lines, applied to blocks of whole lines: dot-unstuffing, the size
    limit (552) and the line length limit (500); the first one broken is the answer."""

    def __init__(self, writer: _Writer, size_limit: int | None, line_limit: int) -> None:
        self.writer = writer
        self.size_limit = size_limit
        self.line_limit = line_limit
        self.received = 0
        self.refusal: str | None = None

    def block(self, data: bytes) -> None:
        """Whole lines, each with its line end: CRLF, or a bare LF or lone CR (written as CRLF)."""
        if not data:
            return
        if self.refusal is not None:
            self.received += len(data)
            return
        if not self.size_limit or self.received + len(data) <= self.size_limit:
            # The usual mail has CRLF only: one split finds its longest line (and counts its CRLFs).
            split = data.split(b"\r\n")
            crlf_only = len(split) - 1 == data.count(b"\n") == data.count(b"\r")
            if not crlf_only:
                split = _LINE_END.split(data)
            if len(data) <= self.line_limit or max(map(len, split)) + 2 <= self.line_limit:
                self.received += len(data)
                if not crlf_only:
                    data = _LINE_END.sub(b"\r\n", data)
                # RFC 5321 4.5.2: a leading dot was doubled by the sender.
                if data[:1] == b".":
                    data = data[1:]
                self.writer.write(data.replace(b"\r\n.", b"\r\n"))
                return
        for line in _LINE.findall(data):
            self._line(line)

    def _line(self, line: bytes) -> None:
        """One line with its line end, as received."""
        self.received += len(line)
        if self.refusal is not None:
            return
        # A line longer than the stream's limit (the line length limit) overruns it and is
        # refused for its length first, as aiosmtpd's line reader does.
        if len(line) > self.line_limit + 2:
            self.refusal = TOO_LONG
        elif self.size_limit and self.received > self.size_limit:
            self.refusal = "552 Error: Too much mail data"
        elif len(line) > self.line_limit:
            self.refusal = TOO_LONG
        else:
            content = line.rstrip(b"\r\n")
            self.writer.write((content[1:] if content[:1] == b"." else content) + b"\r\n")
            return
        self.writer.discard()

    def over_long(self, count: int) -> None:
        """The first `count` bytes of a line already too long."""
        self.received += count
        if self.refusal is None:
            self.refusal = TOO_LONG
            self.writer.discard()
