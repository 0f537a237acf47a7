"""A private Postfix instance for the tests: a real MTA between the customer and Frontdesk.

Debian's Postfix (scripts/mail-servers-up installs it) started as root with its own
configuration, queue and data folders under a temporary folder, one smtpd on a free 127.0.0.1
port and nothing else listening. Mail for each routed domain (and its subdomains) is relayed to
`[127.0.0.1]:<port>`; no DNS is used. Retries come within seconds (short queue run and backoff),
and the mail log is a file the tests read (`log`, `wait_for_log`) and print when they fail.

Skipped where Postfix is missing or we are not root, unless FRONTDESK_MAIL_SERVERS_REQUIRED=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.channels.email.cert_authority import ServerCert
from tests.conftest import free_port

POSTFIX = Path("/usr/sbin/postfix")
REQUIRED = os.environ.get("FRONTDESK_MAIL_SERVERS_REQUIRED") == "1"

# Only the services a relay needs: no pickup (nothing is dropped into maildrop), no local delivery,
# no TLS manager. Every service runs unchrooted, so nothing is copied into the queue folder.
_MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix n - n - 0 cleanup
qmgr      unix n - n 300 1 qmgr
rewrite   unix - - n - - trivial-rewrite
bounce    unix - - n - 0 bounce
defer     unix - - n - 0 bounce
trace     unix - - n - 0 bounce
verify    unix - - n - 1 verify
flush     unix n - n 1000 0 flush
proxymap  unix - - n - - proxymap
smtp      unix - - n - - smtp
relay     unix - - n - - smtp
error     unix - - n - - error
retry     unix - - n - - error
discard   unix - - n - - discard
anvil     unix - - n - 1 anvil
scache    unix - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
tlsmgr    unix - - n 1000? 1 tlsmgr
"""

_MAIN_CF = """\
compatibility_level = 3.6
config_directory = {root}/etc
queue_directory = {root}/spool
data_directory = {root}/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix.test
mydomain = postfix.test
myorigin = postfix.test
# Nothing is delivered here: every accepted mail is relayed by the transport table.
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains = {domains}
transport_maps = texthash:{root}/etc/transport
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
"""

# STARTTLS offered (not required) with a certificate from tests/channels/email/cert_authority.py.
_TLS_CF = """\
smtpd_tls_security_level = may
smtpd_tls_chain_files = {root}/etc/server.key, {root}/etc/server.pem
"""


@dataclass(frozen=True)
class Postfix:
    port: int  # its smtpd on 127.0.0.1
    root: Path

    @property
    def maillog(self) -> Path:
        return self.root / "maillog"

    def log(self) -> str:
        return self.maillog.read_text(errors="replace") if self.maillog.exists() else ""

    async def wait_for_log(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first mail-log line matching `pattern` (a regular expression), once it is written."""
        compiled = re.compile(pattern)
        async with asyncio.timeout(timeout):
            while True:
                found = compiled.search(self.log())
                if found:
                    return found
                await asyncio.sleep(0.1)


def _postfix(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(POSTFIX), "-c", str(root / "etc"), *args], capture_output=True, text=True, timeout=60
    )


def _unavailable(why: str) -> None:
    if REQUIRED:
        pytest.fail(f"Postfix is required (FRONTDESK_MAIL_SERVERS_REQUIRED=1) but {why}")
    pytest.skip(f"Postfix tests skipped: {why} (scripts/mail-servers-up installs it)")


def _master_pid(root: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int((root / "spool" / "pid" / "master.pid").read_text().split()[0])
    return None


def _end(master: int) -> None:
    """`postfix stop` asks the master to end; one still there after 10 s is killed."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(master, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(master, signal.SIGKILL)


@contextlib.contextmanager
def running_postfix(routes: Mapping[str, int], tls: ServerCert | None = None) -> Iterator[Postfix]:
    """Postfix relaying mail for each domain of `routes` (and its subdomains) to 127.0.0.1:port;
    offering STARTTLS with `tls`."""
    if not POSTFIX.exists():
        _unavailable(f"{POSTFIX} is missing")
    if os.geteuid() != 0:
        _unavailable("starting Postfix needs root")
    # Not under pytest's tmp_path: its folders are private to root, and Postfix's own processes
    # (user postfix) must reach the data folder.
    root = Path(tempfile.mkdtemp(prefix="frontdesk-postfix-"))
    root.chmod(0o755)
    try:
        with _started(root, routes, tls) as postfix:
            yield postfix
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def _started(root: Path, routes: Mapping[str, int], tls: ServerCert | None) -> Iterator[Postfix]:
    port = free_port()
    for folder in ("etc", "spool", "data"):
        (root / folder).mkdir()
    shutil.chown(root / "data", user="postfix")
    main_cf = _MAIN_CF.format(root=root, domains=" ".join(routes))
    if tls is not None:
        shutil.copy(tls.cert_file, root / "etc" / "server.pem")
        shutil.copy(tls.key_file, root / "etc" / "server.key")
        main_cf += _TLS_CF.format(root=root)
    (root / "etc" / "main.cf").write_text(main_cf)
    (root / "etc" / "master.cf").write_text(_MASTER_CF.format(port=port))
    (root / "etc" / "transport").write_text(
        "".join(
            f"{name} smtp:[127.0.0.1]:{to}\n.{name} smtp:[127.0.0.1]:{to}\n" for name, to in routes.items()
        )
    )
    postfix = Postfix(port, root)
    checked = _postfix(root, "check")
    started = _postfix(root, "start") if checked.returncode == 0 else checked
    if started.returncode != 0:
        pytest.fail(f"Postfix did not start: {started.stdout}{started.stderr}\n{postfix.log()}")
    try:
        yield postfix
    finally:
        master = _master_pid(root)
        _postfix(root, "stop")
        if master is not None:
            _end(master)
        # Shown with a failing test's captured output: what Postfix did and why.
        print(f"--- Postfix mail log ({postfix.maillog}), last lines ---")
        print("\n".join(postfix.log().splitlines()[-40:]))
