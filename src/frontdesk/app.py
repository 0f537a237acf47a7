"""create_app(settings): wires the store, bus, hub, worker, routers and channels."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
from fastapi import FastAPI, WebSocket
from starlette.types import Receive, Scope, Send

from frontdesk import __version__
from frontdesk.bus import make_bus
from frontdesk.bus.hub import Hub
from frontdesk.channels.base import SocketRoute
from frontdesk.channels.registry import (
    adapter_class,
    channel_background,
    channel_middleware,
    channel_routers,
    channel_socket_routes,
)
from frontdesk.events import ephemeral
from frontdesk.http import errors, openapi, ops, web, webhooks, ws
from frontdesk.http.api import (
    attachments,
    auth,
    contacts,
    conversations,
    inbox_setup,
    inboxes,
    people,
    resources,
    workspaces,
)
from frontdesk.http.inbox_cache import InboxCache
from frontdesk.http.middleware import BodyLimitAndMetrics
from frontdesk.http.url_guard import RefuseNulInUrl
from frontdesk.jobs.handlers import job_kinds
from frontdesk.jobs.kinds import JobContext
from frontdesk.jobs.queue import JobQueue
from frontdesk.jobs.worker import Worker, worker_id
from frontdesk.security import SecretBox
from frontdesk.services import Services
from frontdesk.settings import Settings
from frontdesk.store.db import Database


def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url, channels=adapter_class)
    http = httpx.AsyncClient(timeout=httpx.Timeout(settings.outbound_timeout_seconds), follow_redirects=False)
    box = SecretBox(settings.secret_key)
    return Services(
        settings=settings,
        db=db,
        bus=make_bus(settings.redis_url, settings.redis_channel),
        hub=Hub(),
        http=http,
        box=box,
        inboxes=InboxCache(db, box),
    )


def build_worker(services: Services) -> Worker:
    s = services.settings
    queue = JobQueue(
        services.db,
        worker_id=worker_id(),
        lease_seconds=s.job_lease_seconds,
        backoff_base=s.job_backoff_base_seconds,
        backoff_max=s.job_backoff_max_seconds,
    )
    worker = Worker(
        queue,
        JobContext(
            db=services.db,
            http=services.http,
            box=services.box,
            public_url=s.effective_public_url,
            mail=s.mail_config,
            settings=s,
        ),
        job_kinds(),
        poll_seconds=s.job_poll_seconds,
        max_attempts=s.job_max_attempts,
        events_retention_days=s.events_retention_days,
    )
    services.db.on_jobs_enqueued(worker.wake)
    return worker


JOBS_WAKE = "jobs.wake"


def _wake_remote_workers(services: Services) -> None:
    """A web-only process tells the workers elsewhere, over the bus, that a job was committed,
    so they need not wait for their next poll (which still catches anything this misses)."""
    pending: set[asyncio.Task[None]] = set()

    async def publish() -> None:
        with contextlib.suppress(Exception):  # best effort: the workers poll anyway
            await services.bus.publish([ephemeral(JOBS_WAKE, 0, None, {})])

    def wake() -> None:
        task = asyncio.create_task(publish())
        pending.add(task)
        task.add_done_callback(pending.discard)

    services.db.on_jobs_enqueued(wake)


@contextlib.asynccontextmanager
async def running(services: Services, *, with_worker: bool) -> AsyncIterator[Services]:
    """Start the bus (and the worker); stop them in reverse order."""

    async def deliver(event: dict[str, Any]) -> None:
        if event["type"] == JOBS_WAKE:
            if services.worker is not None:
                services.worker.wake()
            return
        await services.hub.deliver(event)

    await services.bus.start(deliver, services.hub.bus_changed)
    services.db.on_commit(services.bus.publish)
    worker_task: asyncio.Task[None] | None = None
    if with_worker:
        services.worker = build_worker(services)
        worker_task = asyncio.create_task(services.worker.run())
    elif services.settings.redis_url:
        _wake_remote_workers(services)
    try:
        async with contextlib.AsyncExitStack() as stack:
            # Each channel's own services (the SMTP listener, the IMAP imports), stopped first.
            for service in channel_background(services, with_worker=with_worker):
                await stack.enter_async_context(service)
            yield services
    finally:
        if services.worker is not None and worker_task is not None:
            await services.worker.stop()
            await worker_task
        await services.bus.close()
        await services.http.aclose()
        await services.db.dispose()


class FrontdeskApp(FastAPI):
    """Providers' webhook POSTs are served past the middleware stack and the router too
    (http/webhooks.py serve_post): the hottest path, which needs none of those layers.

    A channel's socket routes (the website visitors') go straight to their handler, past the
    middleware stack and the router: those layers do nothing for them (no body, no CORS, no
    dependencies), yet each kept a frame alive for as long as the socket stays open, and an idle
    site visitor's socket stays open for the whole visit (bench/widget.py measures the memory per
    socket)."""

    socket_routes: Sequence[SocketRoute] = ()  # set by create_app from the installed channels

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            hook = webhooks.PATH.fullmatch(scope["path"])
            if hook is not None:
                scope["app"] = self
                await webhooks.serve_post(self.state.services, scope, receive, send, *hook.groups())
                return
        elif scope["type"] == "websocket":
            for route in self.socket_routes:
                match = route.path.fullmatch(scope["path"])
                if match is not None:
                    scope["app"] = self
                    scope["path_params"] = match.groupdict()
                    await route.handler(WebSocket(scope, receive, send))
                    return
        await super().__call__(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        cached = self.openapi_schema
        document = super().openapi()
        # FastAPI makes the document again when routes were added; ours is written into each one.
        return document if document is cached else openapi.document_errors(document, self.routes)


def _demo_relay(settings: Settings) -> contextlib.AbstractAsyncContextManager[None]:
    """The demo's capturing relay (dev mode only, see settings); never loaded otherwise."""
    if not settings.demo_relay_port:
        return contextlib.nullcontext()
    from frontdesk.demo_relay import demo_relay

    return demo_relay(settings)


def create_app(settings: Settings, *, with_worker: bool = True) -> FastAPI:
    services = build_services(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with running(services, with_worker=with_worker), _demo_relay(settings):
            yield

    app = FrontdeskApp(
        title="Frontdesk",
        version=__version__,
        lifespan=lifespan,
        openapi_url="/api/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.services = services
    app.socket_routes = channel_socket_routes()
    errors.install(app)
    # Webhooks first: routes are matched in order, and inbound traffic is the hottest path.
    app.include_router(webhooks.router)
    api = (auth, people, workspaces, inboxes, inbox_setup, contacts, conversations, resources, attachments)
    for module in api:
        app.include_router(module.router, prefix="/api/v1")
    for channel in channel_routers():
        app.include_router(channel.router, prefix=channel.prefix)
    app.include_router(attachments.files_router)
    app.include_router(people.files_router)
    app.include_router(ws.router)
    app.include_router(ops.router)
    if settings.demo_relay_port:
        from frontdesk.http import demo_outbox

        app.include_router(demo_outbox.router)
    if settings.demo_simulated_channels:
        # Demo equipment (dev mode only, see settings): the simulated providers and /demo/customer.
        from frontdesk.http import demo_customer

        for demo_router in demo_customer.routers(settings):
            app.include_router(demo_router)
    # Last: the dashboard answers every path the routers above do not.
    app.include_router(web.router)

    app.add_middleware(
        BodyLimitAndMetrics,
        max_body=settings.max_body_bytes,
        max_upload=settings.max_attachment_bytes * attachments.MAX_FILES + 65_536,
    )
    app.add_middleware(RefuseNulInUrl)
    # Added last, so outermost: a refused body or an error answer is readable by the widget too.
    for middleware in channel_middleware():
        app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    return app
