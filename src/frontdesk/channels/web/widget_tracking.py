"""Visitor tracking hooks of the widget (actions/web/visits.py does the recording): arrival on the
socket's hello and on POST /sessions with a page, pages of single-page sites, departure when the
visitor's last socket in this process closes, and a keep-alive of every open visit.

Best effort throughout: tracking never fails or delays a chat (errors are logged). The client
address is scope["client"]: uvicorn has already put X-Forwarded-For there when the peer is a
trusted proxy (FORWARDED_ALLOW_IPS, default 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

from frontdesk.actions.web.visits import (
    PageView,
    do_record_arrival,
    do_record_departure,
    do_record_page,
    do_touch_visits,
    visit_left_event,
    visit_updated_event,
)
from frontdesk.channels.web.client import describe_client
from frontdesk.domain.input import clean
from frontdesk.services import Services

log = logging.getLogger(__name__)
TOUCH_SECONDS = 240.0  # open visits' last_seen_at is refreshed this often (live = seen < 10 min)


def page_view(value: Any) -> PageView | None:
    """A page from the widget ({url, title?, referrer?}); anything else is no page."""
    if not isinstance(value, Mapping) or not isinstance(value.get("url"), str):
        return None
    title, referrer = clean(value.get("title")), clean(value.get("referrer"))
    return PageView(
        url=clean(value["url"])[:2000],
        title=title[:500] if isinstance(title, str) else None,
        referrer=referrer[:2000] if isinstance(referrer, str) else None,
    )


class Tracker:
    """One per app (tracker_of): counts this process's sockets per visit and keeps the open
    visits alive with one statement every TOUCH_SECONDS, in one task for the whole process."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.sockets: dict[int, int] = {}  # visit id → open sockets in this process
        self.toucher: asyncio.Task[None] | None = None

    async def arrive(
        self,
        inbox: Mapping[str, Any],
        contact_id: int,
        identity_id: int,
        page: PageView | None,
        headers: Mapping[str, str],
        ip: str,
        language: Any,
        *,
        socket: bool,
    ) -> int | None:
        """Record the arrival; with socket=True the visit is counted open until leave()."""
        try:
            lang = language if isinstance(language, str) else headers.get("accept-language")
            facts = await describe_client(self.svc.settings, ip, headers.get("user-agent"), lang)
            async with self.svc.db.write() as tx:
                visit = await do_record_arrival(tx, inbox, contact_id, identity_id, page, facts)
            await self.svc.bus.publish([visit_updated_event(visit)])
        except Exception:
            log.warning("could not record a visitor's arrival", exc_info=True)
            return None
        visit_id = int(visit["id"])
        if socket:
            self.sockets[visit_id] = self.sockets.get(visit_id, 0) + 1
            if self.toucher is None or self.toucher.done():
                self.toucher = asyncio.create_task(self._touch())
        return visit_id

    async def page(self, visit_id: int | None, page: PageView | None) -> None:
        if visit_id is None or page is None:
            return
        try:
            async with self.svc.db.write() as tx:
                visit = await do_record_page(tx, visit_id, page)
            if visit is not None:
                await self.svc.bus.publish([visit_updated_event(visit)])
        except Exception:
            log.warning("could not record a visitor's page", exc_info=True)

    async def leave(self, visit_id: int | None, workspace_id: int, inbox_id: int) -> None:
        if visit_id is None or visit_id not in self.sockets:
            return
        self.sockets[visit_id] -= 1
        if self.sockets[visit_id] > 0:
            return  # another tab of the same visit is still open here
        del self.sockets[visit_id]
        if not self.sockets and self.toucher is not None:
            self.toucher.cancel()
            self.toucher = None
        try:
            async with self.svc.db.write() as tx:
                await do_record_departure(tx, visit_id)
            await self.svc.bus.publish([visit_left_event(workspace_id, inbox_id, visit_id)])
        except Exception:
            log.warning("could not record a visitor's departure", exc_info=True)

    async def _touch(self) -> None:
        while self.sockets:
            await asyncio.sleep(TOUCH_SECONDS)
            try:
                async with self.svc.db.write() as tx:
                    await do_touch_visits(tx, list(self.sockets))
            except Exception:
                log.warning("could not refresh open visits", exc_info=True)


def tracker_of(app: Any) -> Tracker:
    state = app.state
    tracker: Tracker | None = getattr(state, "widget_tracker", None)
    if tracker is None:
        tracker = state.widget_tracker = Tracker(state.services)
    return tracker
