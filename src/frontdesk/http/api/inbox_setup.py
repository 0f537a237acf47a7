"""An inbox's setup hooks, for every channel alike: Test connection (check_connection), and the
entry points a customer starts a conversation at (entry_points), with their QR codes made here
by segno (nothing is sent to a QR service)."""

from __future__ import annotations

import asyncio
import inspect
import io
from typing import Any, Literal

import segno
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from frontdesk.access import access_inbox_by_id
from frontdesk.channels.base import EntryPoint
from frontdesk.domain.enums import FailureReason
from frontdesk.domain.errors import NotFound
from frontdesk.domain.input import Id
from frontdesk.http.channel_hooks import SETUP_SECONDS, adapter_for, address_of
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.openapi import answers

router = APIRouter(tags=["inboxes"])
BASE = "/workspaces/{workspace_id}/inboxes/{inbox_id}"


class ConnectionCheckOut(BaseModel):
    ok: bool
    detail: str = Field(
        description="What the provider answered, in its own words where it gave any (English)."
    )
    code: str | None = Field(description="A failure reason code (translated by the dashboard); null when ok.")


class EntryPointOut(BaseModel):
    kind: str = Field(description="deep_link, address, …")
    label: str
    url: str
    qr_svg_url: str
    qr_png_url: str


@router.post(f"{BASE}/check-connection", response_model=ConnectionCheckOut, responses=answers(403, 404))
async def check_connection(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> dict[str, Any]:
    """Administrators only: calls the provider with the saved settings and credentials (the API
    channel POSTs a signed {"event": "ping"} to its webhook_url) and reports the answer."""
    actor.require_admin()
    async with svc.db.read() as conn:
        row = await access_inbox_by_id(conn, actor, inbox_id)
    try:
        async with asyncio.timeout(SETUP_SECONDS):
            result = await adapter_for(svc, row).check_connection()
    except TimeoutError:
        return {
            "ok": False,
            "detail": f"the provider did not answer within {SETUP_SECONDS:.0f} seconds",
            "code": FailureReason.TIMEOUT.value,
        }
    return {"ok": result.ok, "detail": result.detail, "code": None if result.ok else result.code}


async def _entry_points(inbox_id: int, actor: WorkspaceActor, svc: Svc) -> list[EntryPoint]:
    async with svc.db.read() as conn:
        row = await access_inbox_by_id(conn, actor, inbox_id)
    points = adapter_for(svc, row).entry_points(address_of(svc, row))
    if inspect.isawaitable(points):  # made by the provider (a scene QR code's address)
        async with asyncio.timeout(SETUP_SECONDS):
            points = await points
    return list(points)


@router.get(f"{BASE}/entry-points", response_model=list[EntryPointOut])
async def list_entry_points(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> list[dict[str, Any]]:
    """Deep links and addresses of this inbox, each with its QR code (empty for channels that
    have none, such as the API channel)."""
    base = f"/api/v1/workspaces/{actor.workspace_id}/inboxes/{inbox_id}/entry-points"
    return [
        {
            "kind": p.kind,
            "label": p.label,
            "url": p.url,
            "qr_svg_url": f"{base}/{n}/qr.svg",
            "qr_png_url": f"{base}/{n}/qr.png",
        }
        for n, p in enumerate(await _entry_points(inbox_id, actor, svc))
    ]


@router.get(
    f"{BASE}/entry-points/{{number}}/qr.{{image_format}}",
    response_class=Response,
    responses={**answers(404), 200: {"content": {"image/svg+xml": {}, "image/png": {}}}},
)
async def entry_point_qr(
    inbox_id: Id, number: int, image_format: Literal["svg", "png"], actor: WorkspaceActor, svc: Svc
) -> Response:
    """The entry point's url as a QR code (SVG or PNG), made locally."""
    points = await _entry_points(inbox_id, actor, svc)
    if not 0 <= number < len(points):
        raise NotFound("this inbox has no such entry point", field="number")
    qr = segno.make(points[number].url, error="m")
    out = io.BytesIO()
    if image_format == "svg":
        qr.save(out, kind="svg", scale=8, border=2, xmldecl=False)
        media_type = "image/svg+xml"
    else:
        qr.save(out, kind="png", scale=8, border=2)
        media_type = "image/png"
    return Response(out.getvalue(), media_type=media_type, headers={"Cache-Control": "private, max-age=300"})
