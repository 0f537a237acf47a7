"""The floor: the least an endpoint on Frontdesk's stack can do for one inbound message.

Same stack as `frontdesk serve`: uvicorn (uvloop, httptools, websockets-sansio), FastAPI, the same
`Database` class (so on SQLite the same write lock, inline connection and pragmas; on PostgreSQL
the same asyncpg pool) and the same bus and hub. Per request it does ONE INSERT (an `events` row,
through `Tx.emit`) and ONE publish (after commit, through the bus), and a websocket on
/stream receives what was published, exactly as an agent socket would.

    FRONTDESK_DEV_MODE=1 FRONTDESK_DATA_DIR=... [FRONTDESK_DATABASE_URL=...] [FRONTDESK_REDIS_URL=...]
    .venv/bin/python bench/floor_app.py --port 8100
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar

import orjson
import uvicorn
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response

from frontdesk.bus import make_bus
from frontdesk.bus.hub import Hub
from frontdesk.events import Event
from frontdesk.settings import Settings
from frontdesk.store import tables as t
from frontdesk.store.db import Database


@dataclass(frozen=True)
class FloorEvent(Event):
    type: ClassVar[str] = "floor"
    message: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        return {"message": self.message}


def create() -> FastAPI:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    bus = make_bus(settings.redis_url)
    hub = Hub()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: t.events.create(c, checkfirst=True))
        await bus.start(hub.deliver)
        db.on_commit(bus.publish)
        try:
            yield
        finally:
            await bus.close()
            await db.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/floor/{workspace_id}")
    async def ingest(workspace_id: int, request: Request) -> Response:
        body = await request.body()
        message = orjson.loads(body)
        async with db.write() as tx:
            await tx.emit(FloorEvent(workspace_id, None, {"source_id": message.get("source_id")}))
        return Response(b'{"ok":true}', media_type="application/json")

    @app.get("/floor/read")
    async def read() -> Response:
        async with db.read() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return Response(b'{"ok":true}', media_type="application/json")

    @app.websocket("/floor/{workspace_id}/stream")
    async def stream(ws: WebSocket, workspace_id: int) -> None:
        await ws.accept()
        sub = hub.subscribe(workspace_id, 0, None)
        try:
            await ws.send_text('{"type":"ready"}')
            while True:
                event = await sub.queue.get()
                if event is None:
                    await ws.close(code=4408)
                    return
                await ws.send_text(orjson.dumps(event).decode())
        except WebSocketDisconnect:
            pass
        finally:
            hub.unsubscribe(sub)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        create(),
        host="127.0.0.1",
        port=args.port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        # permessage-deflate keeps a zlib compressor per socket (~45 KiB each, measured in
        # bench/widget.py) for frames of a few hundred bytes: docs/decisions/0012.
        ws_per_message_deflate=False,
        lifespan="on",
    )


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
