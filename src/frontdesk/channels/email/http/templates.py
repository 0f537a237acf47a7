"""The email template of an email inbox (E5): read, save, header image, and the preview, which is
the renderer's own output for a reply (mail/template.py), so it is exactly what would be sent."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from frontdesk.actions.attachments import storage_path, write_file
from frontdesk.actions.email.templates import (
    HEADER_IMAGE_PREFIX,
    SavedTemplate,
    do_save_template,
    do_set_header_image,
    load_template,
)
from frontdesk.channels.email.access import access_email_inbox
from frontdesk.domain.email.template import HEADER_IMAGE_MAX_BYTES, check_header_image, check_template
from frontdesk.domain.input import Id
from frontdesk.http.api.attachments import _read_limited
from frontdesk.http.api.models import AgentInput
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.stored_images import stored_image_response
from frontdesk.mail.template import render, sample_reply
from frontdesk.services import Services
from frontdesk.store import tables as t
from frontdesk.store.types import utcnow

__all__ = ["files_router", "router"]

router = APIRouter(tags=["inboxes"])
files_router = APIRouter(tags=["inboxes"], default_response_class=FileResponse)
_PATH = "/workspaces/{workspace_id}/inboxes/{inbox_id}/email-template"
_FILE = re.compile(r"^\d{4}/\d{2}/[0-9a-f]{32}$")


class EmailTemplateIn(AgentInput):
    """The editable fields; lengths and URLs are checked by the domain (422 naming the field)."""

    subject: str = ""
    heading: str = ""
    body_text: str = ""
    footnote: str = ""
    website_url: str | None = None
    app_store_url: str | None = None
    google_play_url: str | None = None
    terms_url: str | None = None
    privacy_url: str | None = None
    show_header_image: bool = False


class EmailTemplate(BaseModel):
    subject: str
    heading: str
    body_text: str
    footnote: str
    website_url: str | None
    app_store_url: str | None
    google_play_url: str | None
    terms_url: str | None
    privacy_url: str | None
    show_header_image: bool
    header_image_url: str | None = Field(description="Capability URL of the uploaded header image.")
    updated_at: str | None = Field(description="When it was last saved; null: never saved (defaults).")


class EmailTemplatePreviewIn(EmailTemplateIn):
    reply_text: str | None = Field(
        default=None, max_length=20_000, description="The reply to show; a sample reply when absent."
    )
    locale: Literal["en", "tr", "fa"] | None = Field(
        default=None, description="Language of the fixed words; detected from the reply text when absent."
    )


class EmailTemplatePreview(BaseModel):
    subject: str
    html: str
    text: str


def _out(saved: SavedTemplate) -> EmailTemplate:
    return EmailTemplate(
        **saved.template.as_dict(),
        header_image_url=saved.header_image_url,
        updated_at=saved.updated_at.isoformat() if saved.updated_at else None,
    )


async def _email_inbox(svc: Services, actor: Any, inbox_id: int) -> SavedTemplate:
    async with svc.db.read() as conn:
        await access_email_inbox(conn, actor, inbox_id)
        return await load_template(conn, inbox_id)


@router.get(_PATH, response_model=EmailTemplate)
async def get_email_template(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> EmailTemplate:
    return _out(await _email_inbox(svc, actor, inbox_id))


@router.put(_PATH, response_model=EmailTemplate)
async def put_email_template(
    inbox_id: Id, body: EmailTemplateIn, actor: WorkspaceActor, svc: Svc
) -> EmailTemplate:
    """Administrators only."""
    await _email_inbox(svc, actor, inbox_id)
    actor.require_admin()
    template = check_template(body.model_dump())
    async with svc.db.write() as tx:
        await do_save_template(tx, inbox_id, actor.user_id, template)
        saved = await load_template(tx.conn, inbox_id)
    return _out(saved)


@router.post(_PATH + "/header-image", response_model=EmailTemplate)
async def upload_header_image(
    inbox_id: Id,
    actor: WorkspaceActor,
    svc: Svc,
    file: Annotated[UploadFile, File(description="A PNG, JPEG, WebP or GIF image of at most 1 MiB.")],
) -> EmailTemplate:
    """Administrators only. Replaces the previous image; `show_header_image` decides if it is used."""
    await _email_inbox(svc, actor, inbox_id)
    actor.require_admin()
    content = await _read_limited(file, HEADER_IMAGE_MAX_BYTES)
    check_header_image(content)
    root = svc.settings.attachments_dir
    relative = storage_path(utcnow())
    write_file(root, relative, content)
    try:
        async with svc.db.write() as tx:
            old = await do_set_header_image(tx, inbox_id, actor.user_id, relative)
            saved = await load_template(tx.conn, inbox_id)
    except Exception:
        (root / relative).unlink(missing_ok=True)
        raise
    if old:
        (root / old).unlink(missing_ok=True)
    return _out(saved)


@router.post(_PATH + "/preview", response_model=EmailTemplatePreview)
async def preview_email_template(
    inbox_id: Id, body: EmailTemplatePreviewIn, actor: WorkspaceActor, svc: Svc
) -> EmailTemplatePreview:
    """The unsaved form rendered around a reply, exactly as a reply would be sent (the header
    image is the saved one, at its public address)."""
    saved = await _email_inbox(svc, actor, inbox_id)
    template = check_template(body.model_dump(exclude={"reply_text", "locale"}))
    locale = body.locale
    text = body.reply_text if body.reply_text and body.reply_text.strip() else sample_reply(locale or "en")
    image = svc.settings.effective_public_url + saved.header_image_url if saved.header_image_url else None
    rendered = render(template, text, locale, image)
    return EmailTemplatePreview(subject=template.subject, html=rendered.html, text=rendered.text)


@files_router.get(HEADER_IMAGE_PREFIX + "{year}/{month}/{token}")
async def download_header_image(year: str, month: str, token: str, svc: Svc) -> FileResponse:
    """Public by its unguessable name: mail clients fetch it without signing in."""
    return await stored_image_response(
        svc,
        f"{year}/{month}/{token}",
        shape=_FILE,
        owner=t.email_templates.c.header_image_path,
        missing="no such image",
        cache_control="public, max-age=86400",
    )
