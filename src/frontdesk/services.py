"""What one process holds: the database, the bus and hub, the HTTP client, the worker."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from frontdesk.bus import Bus
from frontdesk.bus.hub import Hub
from frontdesk.http.inbox_cache import InboxCache
from frontdesk.jobs.worker import Worker
from frontdesk.security import SecretBox
from frontdesk.settings import Settings
from frontdesk.store.db import Database


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
    # Called after an inbox was added, changed or removed: a channel's background service (an
    # IMAP import) picks the change up at once instead of at its next scan.
    inbox_listeners: list[Callable[[], None]] = field(default_factory=list)
    # What a channel's background services keep while they run, by a name the channel owns
    # (the email channel's IMAP supervisor), for its own code and its tests.
    running_services: dict[str, object] = field(default_factory=dict)

    def inboxes_changed(self) -> None:
        for listener in self.inbox_listeners:
            listener()
