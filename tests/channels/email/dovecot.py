"""A real Dovecot for the IMAP tests: Debian's /usr/sbin/dovecot started with its own config in a
temporary folder (listeners on free 127.0.0.1 ports: imap for plain/STARTTLS, imaps for TLS from
the start; a test certificate; passwd-file users; maildir storage). Mail is put in with stdlib
imaplib APPEND, and read back the same way to prove Frontdesk left it untouched.

Skipped when Dovecot is not installed, unless FRONTDESK_MAIL_SERVERS_REQUIRED=1.
"""

from __future__ import annotations

import atexit
import imaplib
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.channels.email.cert_authority import ServerCert, make_server_cert
from tests.conftest import free_port

DOVECOT = Path("/usr/sbin/dovecot")
USER, PASSWORD = "support@acme.test", "s3cret pass"
# One authority for the whole run, so that tests can name its file in their settings up front.
_CERT_ROOT = Path(tempfile.mkdtemp(prefix="frontdesk-dovecot-ca-"))
_CERT_ROOT.chmod(0o755)
atexit.register(shutil.rmtree, _CERT_ROOT, True)
SHARED_CERT = make_server_cert(_CERT_ROOT)

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:{root}/mail/%u
mailbox_idle_check_interval = 1 secs
auth_mechanisms = plain login
disable_plaintext_auth = no
auth_failure_delay = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
"""


@dataclass
class Dovecot:
    root: Path
    cert: ServerCert
    imap_port: int
    imaps_port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def config(self) -> Path:
        return self.root / "dovecot.conf"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self._why()}")
            if _listening(self.imap_port) and _listening(self.imaps_port):
                return
            time.sleep(0.05)
        raise RuntimeError(f"dovecot did not start listening: {self._why()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self.process = None
        deadline = time.monotonic() + 10
        while _listening(self.imap_port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def log_tail(self, lines: int = 40) -> str:
        log = self.root / "dovecot.log"
        text = log.read_text(errors="replace") if log.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _why(self) -> str:
        err = b""
        if self.process is not None and self.process.poll() is not None and self.process.stderr:
            err = self.process.stderr.read()
        return err.decode(errors="replace") + "\n" + self.log_tail()

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.cert.ca_file))
        imap = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context, timeout=10)
        imap.login(USER, PASSWORD)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        imap = self.client()
        try:
            typ, data = imap.append(folder, "", None, raw)
            assert typ == "OK", data
        finally:
            imap.logout()

    def create(self, folder: str) -> None:
        imap = self.client()
        try:
            typ, data = imap.create(folder)
            assert typ == "OK", data
        finally:
            imap.logout()

    def delete(self, folder: str) -> None:
        imap = self.client()
        try:
            typ, data = imap.delete(folder)
            assert typ == "OK", data
        finally:
            imap.logout()

    def flags(self, folder: str = "INBOX") -> list[bytes]:
        """Each message's FLAGS as the server keeps them (EXAMINE: reading changes nothing)."""
        imap = self.client()
        try:
            typ, data = imap.select(folder, readonly=True)
            assert typ == "OK", data
            if int(data[0] or 0) == 0:
                return []
            typ, data = imap.fetch("1:*", "(FLAGS)")
            assert typ == "OK", data
            return [d for d in data if isinstance(d, bytes)]
        finally:
            imap.logout()

    def uidvalidity(self, folder: str = "INBOX") -> int:
        imap = self.client()
        try:
            typ, data = imap.status(folder, "(UIDVALIDITY)")
            assert typ == "OK", data
            return int(data[0].split(b"UIDVALIDITY ")[1].rstrip(b")"))  # type: ignore[union-attr]
        finally:
            imap.logout()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _prepare(root: Path, cert: ServerCert = SHARED_CERT, extra_config: str = "") -> Dovecot:
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    mail = root / "mail"
    mail.mkdir()
    shutil.chown(mail, "dovecot", "dovecot")
    server = Dovecot(root, cert, free_port(), free_port())
    server.config.write_text(
        _CONFIG.format(
            root=root,
            cert=cert.cert_file,
            key=cert.key_file,
            imap_port=server.imap_port,
            imaps_port=server.imaps_port,
        )
        + extra_config
    )
    return server


@contextmanager
def running_dovecot(cert: ServerCert = SHARED_CERT, extra_config: str = "") -> Iterator[Dovecot]:
    """A started Dovecot presenting `cert` (and `extra_config` lines), stopped and removed afterwards."""
    if not DOVECOT.exists():
        if os.environ.get("FRONTDESK_MAIL_SERVERS_REQUIRED") == "1":
            pytest.fail(
                "Dovecot is required (FRONTDESK_MAIL_SERVERS_REQUIRED=1) but /usr/sbin/dovecot is missing"
            )
        pytest.skip("Dovecot is not installed (scripts/mail-servers-up installs it)")
    # Not pytest's tmp_path: that is private to root, and Dovecot's mail processes run as dovecot.
    root = Path(tempfile.mkdtemp(prefix="frontdesk-dovecot-"))
    root.chmod(0o755)
    server = _prepare(root, cert, extra_config)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(name="dovecot")
def dovecot_fixture() -> Iterator[Dovecot]:
    with running_dovecot() as server:
        yield server
