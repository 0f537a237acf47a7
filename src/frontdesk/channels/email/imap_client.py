"""A small IMAP4rev1 client on asyncio streams: just what the import and the connection check
need (CAPABILITY, STARTTLS, LOGIN, EXAMINE, NOOP, UID FETCH, IDLE, LOGOUT), every read under a
timeout. Written here rather than through aioimaplib, which has no STARTTLS and hides connection
errors in a background task, so the failing stage could not be reported exactly.

`open_imap` walks the stages dns → connect → tls and raises StageFailed naming the one that failed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from frontdesk.channels.email.connection import StageFailed, connect_tcp, resolve

__all__ = ["FetchedSize", "ImapClient", "ImapClosed", "ImapRefused", "Mailbox", "open_imap"]

Security = Literal["ssl", "starttls", "none"]
MAX_LINE = 64 * 1024
LITERAL_CHUNK = 64 * 1024
MAX_LITERAL_IN_MEMORY = 16 * 1024 * 1024
_LITERAL = re.compile(rb"\{(\d+)\+?\}\r\n$")
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]", re.I)
_FETCH = re.compile(rb"^\* \d+ FETCH \(", re.I)
_UID = re.compile(rb"\bUID (\d+)", re.I)
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)", re.I)
_EXISTS = re.compile(rb"^\* \d+ EXISTS", re.I)
_UNTRUSTED = {18, 19, 20, 21, 27}  # X509_V_ERR_*: self-signed, unknown issuer, untrusted


class ImapClosed(Exception):
    """The server closed the connection, or stopped answering."""


class ImapRefused(Exception):
    """A command answered NO or BAD; `text` is the server's words."""

    def __init__(self, command: str, status: str, text: str) -> None:
        super().__init__(f"{command}: {status} {text}")
        self.status = status
        self.text = text


@dataclass
class Reply:
    """One untagged response: its text (literals replaced by their {n} markers) and literals;
    a literal written to a file instead (body_to_file) is an empty bytes and its path."""

    text: bytes
    literals: list[bytes] = field(default_factory=list)
    spooled: Path | None = None


@dataclass(frozen=True)
class Mailbox:
    uidvalidity: int


@dataclass(frozen=True)
class FetchedSize:
    uid: int
    size: int


def _quoted(value: str) -> bytes | None:
    if all(" " <= ch <= "~" for ch in value):
        return b'"' + value.replace("\\", "\\\\").replace('"', '\\"').encode() + b'"'
    return None  # not safe in a quoted string: sent as a literal


def mailbox_name(folder: str) -> str:
    """RFC 3501's modified UTF-7 for folder names outside ASCII."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in folder:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


class ImapClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.capabilities: set[str] = set()
        self._tag = 0
        self._idling = False
        # Set when the server reports a new message outside IDLE (an EXISTS riding on the
        # answer to another command); the server will not repeat it in the next IDLE.
        self.new_mail_noted = False
        # Set by body_to_file while its command runs: where a literal goes instead of memory.
        self._spool_path: Path | None = None

    async def _line(self, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(self.timeout if timeout is None else timeout):
                line = await self.reader.readuntil(b"\r\n")
        except asyncio.IncompleteReadError as exc:
            raise ImapClosed("the server closed the connection") from exc
        except asyncio.LimitOverrunError as exc:
            raise ImapClosed("the server sent an overlong line") from exc
        except (ConnectionError, ssl.SSLError) as exc:
            raise ImapClosed(f"the connection broke: {exc}") from exc
        return line

    async def _reply(self, timeout: float | None = None) -> Reply:
        """One response with its literals read in."""
        line = await self._line(timeout)
        reply = Reply(b"")
        while (match := _LITERAL.search(line)) is not None:
            size = int(match[1])
            if self._spool_path is not None and reply.spooled is None:
                await self._literal_to_file(size, self._spool_path)
                reply.spooled = self._spool_path
                reply.literals.append(b"")
            else:
                if size > MAX_LITERAL_IN_MEMORY:
                    # Bodies are fetched to memory only when the server said they are small.
                    raise ImapClosed(f"the server sent {size:,} bytes where a small answer was due")
                try:
                    async with asyncio.timeout(self.timeout):
                        reply.literals.append(await self.reader.readexactly(size))
                except asyncio.IncompleteReadError as exc:
                    raise ImapClosed("the server closed the connection") from exc
            reply.text += line
            line = await self._line()
        reply.text += line
        return reply

    async def _literal_to_file(self, size: int, path: Path) -> None:
        """A literal streamed to `path` in chunks, each read under the timeout."""
        with path.open("wb") as file:
            left = size
            while left:
                async with asyncio.timeout(self.timeout):
                    chunk = await self.reader.read(min(left, LITERAL_CHUNK))
                if not chunk:
                    raise ImapClosed("the server closed the connection")
                file.write(chunk)
                left -= len(chunk)

    async def _send(self, data: bytes) -> None:
        try:
            self.writer.write(data)
            async with asyncio.timeout(self.timeout):
                await self.writer.drain()
        except (ConnectionError, ssl.SSLError) as exc:
            raise ImapClosed(f"the connection broke: {exc}") from exc

    async def command(self, name: str, *args: str | bytes) -> list[Reply]:
        """Send a command, wait for its tagged answer; NO/BAD raise ImapRefused."""
        self._tag += 1
        tag = f"F{self._tag}".encode()
        parts: list[bytes] = [tag, name.encode()]
        for arg in args:
            if isinstance(arg, bytes):
                parts.append(arg)
                continue
            quoted = _quoted(arg)
            if quoted is not None:
                parts.append(quoted)
                continue
            # A synchronising literal: send the size, wait for "+", then the bytes.
            data = arg.encode()
            await self._send(b" ".join(parts) + b" {%d}\r\n" % len(data))
            await self._continuation(name)
            parts = [data]
        await self._send(b" ".join(parts) + b"\r\n")
        return await self._until_tagged(name, tag)

    async def _continuation(self, name: str) -> None:
        while True:
            reply = await self._reply()
            if reply.text.startswith(b"+"):
                return
            if not reply.text.startswith(b"*"):
                status, _, text = reply.text.partition(b" ")[2].partition(b" ")
                raise ImapRefused(
                    name, status.decode(errors="replace"), text.decode(errors="replace").strip()
                )

    async def _until_tagged(self, name: str, tag: bytes) -> list[Reply]:
        untagged: list[Reply] = []
        while True:
            reply = await self._reply()
            if reply.text.startswith(tag + b" "):
                status, _, text = reply.text[len(tag) + 1 :].partition(b" ")
                words = text.decode(errors="replace").strip()
                if status.upper() != b"OK":
                    raise ImapRefused(name, status.decode(errors="replace").upper(), words)
                self._note_capabilities(reply.text)
                return untagged
            self._note_capabilities(reply.text)
            if _EXISTS.match(reply.text):
                self.new_mail_noted = True
            untagged.append(reply)

    def _note_capabilities(self, text: bytes) -> None:
        upper = text.upper()
        if upper.startswith(b"* CAPABILITY "):
            self.capabilities = set(upper[13:].decode(errors="replace").split())
        elif (start := upper.find(b"[CAPABILITY ")) >= 0:
            end = upper.find(b"]", start)
            self.capabilities = set(upper[start + 12 : end].decode(errors="replace").split())

    async def greeting(self) -> None:
        reply = await self._reply()
        if reply.text.upper().startswith(b"* BYE"):
            raise ImapClosed(
                f"the server refused the session: {reply.text[6:].decode(errors='replace').strip()}"
            )
        if not reply.text.upper().startswith((b"* OK", b"* PREAUTH")):
            raise ImapClosed("the server did not greet as an IMAP server does")
        self._note_capabilities(reply.text)

    async def login(self, user: str, password: str) -> None:
        if "LOGINDISABLED" in self.capabilities:
            raise ImapRefused("LOGIN", "NO", "the server refuses login before TLS (LOGINDISABLED)")
        await self.command("LOGIN", user, password)
        if not self.capabilities or "IMAP4REV1" not in self.capabilities:
            await self.command("CAPABILITY")

    async def examine(self, folder: str) -> Mailbox:
        """Open the folder read-only: nothing done here can change a flag or remove a message."""
        replies = await self.command("EXAMINE", mailbox_name(folder))
        for reply in replies:
            if (match := _UIDVALIDITY.search(reply.text)) is not None:
                return Mailbox(uidvalidity=int(match[1]))
        raise ImapRefused("EXAMINE", "BAD", "the server did not tell the folder's UIDVALIDITY")

    async def sizes_after(self, last_uid: int) -> list[FetchedSize]:
        """UIDs above `last_uid` with their sizes, in UID order (one command, no bodies).
        An EXISTS from now on means mail this answer may not hold: `new_mail_noted`."""
        self.new_mail_noted = False
        replies = await self.command("UID FETCH", f"{last_uid + 1}:*".encode(), b"(UID RFC822.SIZE)")
        found: dict[int, int] = {}
        for reply in replies:
            if not _FETCH.match(reply.text):
                continue
            uid, size = _UID.search(reply.text), _SIZE.search(reply.text)
            # "n:*" names the newest message even when its UID is below n.
            if uid is not None and size is not None and int(uid[1]) > last_uid:
                found[int(uid[1])] = int(size[1])
        return [FetchedSize(uid, size) for uid, size in sorted(found.items())]

    async def body(self, uid: int) -> bytes | None:
        """The raw message; BODY.PEEK never sets \\Seen. None when the message is gone."""
        reply = _fetched(await self.command("UID FETCH", str(uid).encode(), b"(UID BODY.PEEK[])"), uid)
        return reply.literals[0] if reply is not None else None

    async def body_to_file(self, uid: int, path: Path) -> Path | None:
        """Like body(), for a big message: it is written to `path` as it arrives, never held
        whole. None when the message is gone."""
        self._spool_path = path
        try:
            replies = await self.command("UID FETCH", str(uid).encode(), b"(UID BODY.PEEK[])")
        finally:
            self._spool_path = None
        reply = _fetched(replies, uid)
        return reply.spooled if reply is not None else None

    async def idle(self, seconds: float) -> bool:
        """Wait in IDLE up to `seconds`; True as soon as the folder reports a new message."""
        self._tag += 1
        tag = f"F{self._tag}".encode()
        await self._send(tag + b" IDLE\r\n")
        self._idling = True
        await self._continuation("IDLE")
        arrived = False
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not arrived and (left := deadline - loop.time()) > 0:
            try:
                reply = await self._reply(timeout=left)
            except ImapClosed:
                if loop.time() < deadline:
                    raise
                break
            except TimeoutError:
                break
            arrived = bool(_EXISTS.match(reply.text))
        await self._send(b"DONE\r\n")
        self._idling = False
        await self._until_tagged("IDLE", tag)
        return arrived

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                if self._idling:  # stopped while idling: LOGOUT is only heard after DONE
                    await self._send(b"DONE\r\n")
                await self.command("LOGOUT")
        self.writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self.writer.wait_closed()


def _fetched(replies: list[Reply], uid: int) -> Reply | None:
    """The FETCH response carrying the message with this UID, with its body literal."""
    for reply in replies:
        found = _UID.search(reply.text)
        if _FETCH.match(reply.text) and reply.literals and found is not None and int(found[1]) == uid:
            return reply
    return None


async def _connect(host: str, port: int, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    sock = await connect_tcp(host, port, await resolve(host, port, timeout), timeout)
    return await asyncio.open_connection(sock=sock, limit=MAX_LINE)


def _tls_failure(exc: ssl.SSLError) -> StageFailed:
    if isinstance(exc, ssl.SSLCertVerificationError):
        words = exc.verify_message or exc.reason or "verification failed"
        if exc.verify_code == 10:
            return StageFailed("tls", "the server's certificate has expired")
        if exc.verify_code in _UNTRUSTED:
            return StageFailed("tls", f"the server's certificate is not trusted ({words})")
        return StageFailed("tls", f"the server's certificate was refused ({words})")
    return StageFailed("tls", f"the TLS handshake failed ({exc.reason or exc})")


async def _start_tls(client: ImapClient, host: str, context: ssl.SSLContext, timeout: float) -> None:
    try:
        async with asyncio.timeout(timeout):
            await client.writer.start_tls(context, server_hostname=host)
    except ssl.SSLError as exc:
        raise _tls_failure(exc) from exc
    except TimeoutError as exc:
        raise StageFailed("tls", f"the TLS handshake took longer than {timeout:g} s") from exc
    except (ConnectionError, OSError) as exc:
        raise StageFailed("tls", f"the connection broke during the TLS handshake ({exc})") from exc


async def open_imap(
    host: str, port: int, security: Security, context: ssl.SSLContext, timeout: float
) -> ImapClient:
    """A greeted connection, TLS in place as `security` asks (certificates verified)."""
    reader, writer = await _connect(host, port, timeout)
    client = ImapClient(reader, writer, timeout)
    try:
        if security == "ssl":
            await _start_tls(client, host, context, timeout)
        try:
            await client.greeting()
        except (ImapClosed, TimeoutError) as exc:
            raise StageFailed(
                "connect", f"{host} port {port} did not answer as an IMAP server: {exc}"
            ) from exc
        if security == "starttls":
            await _upgrade(client, host, context, timeout)
    except BaseException:
        writer.close()
        raise
    return client


async def _upgrade(client: ImapClient, host: str, context: ssl.SSLContext, timeout: float) -> None:
    try:
        await client.command("CAPABILITY")
        if "STARTTLS" not in client.capabilities:
            raise StageFailed("tls", "the server does not offer STARTTLS; use ssl or ask its admin")
        await client.command("STARTTLS")
    except (ImapClosed, ImapRefused, TimeoutError) as exc:
        raise StageFailed("tls", f"STARTTLS failed: {exc}") from exc
    await _start_tls(client, host, context, timeout)
    client.capabilities = set()  # what was said before TLS no longer counts (RFC 3501 6.2.1)
