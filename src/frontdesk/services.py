"""What one process holds: the database, the bus and hub, the HTTP client, the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from frontdesk.bus import Bus
from frontdesk.bus.hub import Hub
from frontdesk.http.inbox_cache import InboxCache
from frontdesk.jobs.worker import Worker
from frontdesk.security import SecretBox
from frontdesk.settings import Settings
from frontdesk.store.db import Database

if TYPE_CHECKING:
    from frontdesk.mail.imap_supervisor import ImapSupervisor


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: Bus
    hub: Hub
    http: httpx.AsyncClient
    box: SecretBox
    inboxes: InboxCache
    worker: Worker | None = None
    imap: ImapSupervisor | None = None  # the IMAP imports, in a process that runs the worker
