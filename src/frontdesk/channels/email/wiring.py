"""What the email channel brings to the installation: its admin API, its public files, the
SMTP listener (serve process) and the IMAP imports (worker process)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from frontdesk.channels.base import ChannelRouter
from frontdesk.channels.email.imap_supervisor import ImapSupervisor

if TYPE_CHECKING:
    from frontdesk.services import Services


def routers() -> Sequence[ChannelRouter]:
    from frontdesk.channels.email.http import (
        addresses,
        connection,
        conversations,
        dns,
        imap_status,
        templates,
    )

    api = [
        ChannelRouter(module.router, "/api/v1")
        for module in (
            addresses,
            connection,
            conversations,
            dns,
            templates,
            imap_status,
        )
    ]
    return [*api, ChannelRouter(templates.files_router)]


IMAP_SUPERVISOR = "email.imap_supervisor"


def imap_supervisor(services: Services) -> ImapSupervisor | None:
    """This process's IMAP supervisor while it runs (in a process with the worker)."""
    found = services.running_services.get(IMAP_SUPERVISOR)
    return found if isinstance(found, ImapSupervisor) else None


@contextlib.asynccontextmanager
async def imap_imports(services: Services) -> AsyncIterator[None]:
    """One IMAP import per enabled own-server inbox, woken when an inbox is saved."""
    supervisor = ImapSupervisor(services)
    services.inbox_listeners.append(supervisor.wake)
    services.running_services[IMAP_SUPERVISOR] = supervisor
    task = asyncio.create_task(supervisor.run())
    try:
        yield
    finally:
        services.inbox_listeners.remove(supervisor.wake)
        services.running_services.pop(IMAP_SUPERVISOR, None)
        await supervisor.stop()
        await task


def background(
    services: Services, *, with_worker: bool
) -> Sequence[contextlib.AbstractAsyncContextManager[object]]:
    from frontdesk.channels.email.listener import mail_listener

    # The listener for hosted addresses runs in the serve process (off unless
    # FRONTDESK_SMTP_LISTEN_PORT is set); the imports only where the worker runs.
    found: list[contextlib.AbstractAsyncContextManager[object]] = [mail_listener(services)]
    if with_worker:
        found.append(imap_imports(services))
    return found
