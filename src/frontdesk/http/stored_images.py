"""Serving an image stored under the attachments folder by its unguessable path (avatars, email
template header images): only a path some row still names is served, typed by its leading bytes,
never run as a page."""

from __future__ import annotations

import re

import sqlalchemy as sa
from fastapi.responses import FileResponse

from frontdesk.domain.errors import NotFound
from frontdesk.domain.people import sniff_image
from frontdesk.services import Services


async def stored_image_response(
    svc: Services,
    relative: str,
    *,
    shape: re.Pattern[str],
    owner: sa.Column[str],
    missing: str,
    cache_control: str,
) -> FileResponse:
    """`relative` must match `shape` and be the value of `owner` in some row; else 404 `missing`."""
    if not shape.match(relative):
        raise NotFound(missing, field="file")
    async with svc.db.read() as conn:
        found = (await conn.execute(sa.select(sa.literal(1)).where(owner == relative).limit(1))).first()
    path = svc.settings.attachments_dir / relative
    if found is None or not path.is_file():
        raise NotFound(missing, field="file")
    with path.open("rb") as f:
        content_type = sniff_image(f.read(16)) or "application/octet-stream"
    return FileResponse(
        path,
        media_type=content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": cache_control,
        },
    )
