"""Uploading files with a reply or note, and downloading them by their unguessable URL."""

from __future__ import annotations

import re
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse

from frontdesk.actions.attachments import StoredFile, discard_files, store_file
from frontdesk.actions.messages import check_add_note, check_send_reply
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.errors import InvalidInput, NotFound, TooLarge
from frontdesk.domain.input import Id
from frontdesk.http.api import schemas
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.openapi import answers
from frontdesk.store import tables as t

router = APIRouter(tags=["attachments"])
files_router = APIRouter(tags=["attachments"], default_response_class=FileResponse)
MAX_FILES = 5
CHUNK = 256 * 1024
_PATH = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}$")
INLINE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"{upload.filename} is larger than {limit} bytes", field="file")
        chunks.append(chunk)
    return b"".join(chunks)


async def _store_uploads(svc: Svc, uploads: list[UploadFile]) -> list[StoredFile]:
    if not uploads or len(uploads) > MAX_FILES:
        raise InvalidInput(f"attach between 1 and {MAX_FILES} files", field="file")
    stored: list[StoredFile] = []
    limit, root = svc.settings.max_attachment_bytes, svc.settings.attachments_dir
    try:
        for upload in uploads:
            content = await _read_limited(upload, limit)
            stored.append(
                store_file(root, upload.filename or "file", upload.content_type or "", content, limit)
            )
    except Exception:
        discard_files(root, stored)  # one refused file: none of them is kept
        raise
    return stored


@router.post(
    "/workspaces/{workspace_id}/conversations/{conversation_id}/attachments",
    status_code=201,
    response_model=schemas.Message,
    responses=answers(409),
)
async def upload(
    conversation_id: Id,
    actor: WorkspaceActor,
    svc: Svc,
    file: Annotated[list[UploadFile], File(description="One to five files.")],
    text: Annotated[str, Form(max_length=65_536)] = "",
    private: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """A reply (or with private=true a note) carrying files; the text may be empty."""
    stored = await _store_uploads(svc, file)
    try:
        async with svc.db.write() as tx:
            if private:
                return await check_add_note(tx, actor, conversation_id, text, stored)
            return await check_send_reply(tx, actor, conversation_id, text, stored, channels=adapter_class)
    except Exception:
        discard_files(svc.settings.attachments_dir, stored)  # no message, no files
        raise


@files_router.get("/files/{year}/{month}/{token}")
async def download(year: str, month: str, token: str, svc: Svc) -> FileResponse:
    relative = f"{year}/{month}/{token}"
    if not _PATH.match(relative):
        raise NotFound("no such file", field="file")
    async with svc.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(t.attachments.c.file_name, t.attachments.c.content_type).where(
                    t.attachments.c.path == relative
                )
            )
        ).first()
    path = svc.settings.attachments_dir / relative
    if row is None or not path.is_file():
        raise NotFound("no such file", field="file")
    disposition = "inline" if row.content_type in INLINE_TYPES else "attachment"
    return FileResponse(
        path,
        media_type=row.content_type,
        filename=row.file_name,
        content_disposition_type=disposition,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )
