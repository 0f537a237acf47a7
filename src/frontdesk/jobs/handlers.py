"""Job handlers: send_reply (deliver an outgoing message through its channel), wake_snoozed, and
the emails send_password_reset and send_invitation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.actions.conversations import do_wake_snoozed
from frontdesk.actions.delivery import do_begin_attempt, do_schedule_retry
from frontdesk.actions.email_templates import HEADER_IMAGE_PREFIX
from frontdesk.actions.messages import do_set_delivery
from frontdesk.channels.base import ChannelError, Installation, Opening, Outbound
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.enums import DeliveryStatus, FailureReason, MessageKind
from frontdesk.domain.people import PASSWORD_RESET_HOURS
from frontdesk.i18n import translate
from frontdesk.mail.outbound import MailConfig, MailError, build_message, send_mail
from frontdesk.security import SecretBox
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx
from frontdesk.store.types import utcnow


@dataclass(frozen=True)
class JobContext:
    db: Database
    http: httpx.AsyncClient
    box: SecretBox
    public_url: str  # absolute base for links the provider follows (attachments)
    mail: MailConfig | None = None  # None: this process sends no email
    installation: Installation = field(default_factory=Installation)  # what email needs to send


@dataclass(frozen=True)
class JobFailure:
    """Why an attempt failed: a code the dashboard translates, and the words of whoever refused."""

    code: FailureReason
    detail: str

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class PermanentJobError(Exception):
    """Retrying cannot help: the job fails at once with this reason."""

    def __init__(self, code: FailureReason, detail: str) -> None:
        super().__init__(detail)
        self.failure = JobFailure(code, detail)


def failure_of(exc: Exception) -> JobFailure:
    """What a handler's exception says of the failure; anything not typed is our own fault."""
    if isinstance(exc, PermanentJobError):
        return exc.failure
    if isinstance(exc, ChannelError):
        return JobFailure(exc.code, exc.detail)
    if isinstance(exc, MailError):
        return JobFailure(exc.code, exc.reason)
    return JobFailure(FailureReason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")


Handler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]
# Called in the transaction that fails the job for good, or that schedules its next attempt.
OnDead = Callable[[Tx, dict[str, Any], JobFailure], Awaitable[None]]
OnRetry = Callable[[Tx, dict[str, Any], JobFailure, datetime], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    handler: Handler
    on_dead: OnDead | None = None
    on_retry: OnRetry | None = None


def _template(row: Any, public_url: str) -> dict[str, Any] | None:
    """The inbox's saved email template (E5) for the email adapter, or None when it has none."""
    if row["template_fields"] is None:
        return None
    image = row["header_image_path"]
    return {
        "fields": row["template_fields"],
        "header_image_url": public_url.rstrip("/") + HEADER_IMAGE_PREFIX + image if image else None,
    }


async def send_reply(ctx: JobContext, payload: dict[str, Any]) -> None:
    m, conv, ci = t.messages, t.conversations, t.contact_identities
    latest = m.alias("latest")
    thread = (
        sa.select(latest.c.data)
        .where(latest.c.conversation_id == conv.c.id, latest.c.kind == MessageKind.INCOMING.value)
        .order_by(latest.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    async with ctx.db.read() as conn:
        row = (
            (
                await conn.execute(
                    sa.select(
                        m.c.id,
                        m.c.kind,
                        m.c.text,
                        m.c.content_type,
                        m.c.delivery_status,
                        m.c.sender_id,
                        m.c.data,
                        conv.c.id.label("conversation_id"),
                        conv.c.number,
                        ci.c.source_id.label("recipient"),
                        t.contacts.c.name.label("contact_name"),
                        t.inboxes.c.channel_type,
                        t.inboxes.c.settings,
                        t.inboxes.c.secrets_encrypted,
                        t.inboxes.c.is_enabled,
                        t.users.c.name.label("sender_name"),
                        t.workspaces.c.mail_slug,
                        thread.label("thread"),
                        t.email_templates.c.fields.label("template_fields"),
                        t.email_templates.c.header_image_path,
                    )
                    .join(conv, conv.c.id == m.c.conversation_id)
                    .join(ci, ci.c.id == conv.c.identity_id)
                    .join(t.contacts, t.contacts.c.id == conv.c.contact_id)
                    .join(t.inboxes, t.inboxes.c.id == m.c.inbox_id)
                    .join(t.workspaces, t.workspaces.c.id == m.c.workspace_id)
                    .outerjoin(t.users, t.users.c.id == m.c.sender_id)
                    .outerjoin(t.email_templates, t.email_templates.c.inbox_id == m.c.inbox_id)
                    .where(m.c.id == payload["message_id"])
                )
            )
            .mappings()
            .first()
        )
        conversation_cc: tuple[dict[str, Any], ...] = ()
        opening = Opening()
        if row is not None and row["channel_type"] == "email":
            conversation_cc = await _conversation_copies(conn, row["conversation_id"])
            opening = await _opening(conn, row["conversation_id"], row["id"])
    if row is None:
        return  # the message was deleted: nothing to deliver
    # Shared guards: a note or an incoming message is never sent out; a message already
    # past "queued" (a repeated job after a lost completion, or a cancelled reply) is not sent.
    if row["kind"] != MessageKind.OUTGOING or row["delivery_status"] != DeliveryStatus.QUEUED:
        return
    if not row["is_enabled"]:
        # Disabled after the reply was queued: it fails visibly and can be retried once enabled.
        raise PermanentJobError(
            FailureReason.INBOX_DISABLED, "the inbox was disabled before this reply could be sent"
        )
    adapter = adapter_class(row["channel_type"])(
        row["settings"], ctx.box.open(row["secrets_encrypted"]), ctx.http, ctx.installation
    )
    outbound = Outbound(
        message_id=row["id"],
        conversation_id=row["conversation_id"],
        conversation_number=row["number"],
        text=row["text"],
        content_type=row["content_type"],
        recipient_source_id=row["recipient"],
        recipient_name=row["contact_name"],
        sender_name=row["sender_name"],
        attachments=tuple(
            {**a, "url": ctx.public_url.rstrip("/") + a["url"]} for a in row["data"].get("attachments", [])
        ),
        thread=row["thread"] or {},
        conversation_cc=conversation_cc,
        mail_slug=row["mail_slug"],
        email_template=_template(row, ctx.public_url),
        opening=opening,
    )
    # The last moment an agent's cancel can win: past this write the attempt is on its way.
    async with ctx.db.write() as tx:
        if not await do_begin_attempt(tx, row["id"]):
            return
    try:
        receipt = await adapter.send(outbound)
    except ChannelError as exc:
        if exc.retryable:
            raise
        raise PermanentJobError(exc.code, exc.detail) from None
    async with ctx.db.write() as tx:
        current = (await tx.conn.execute(sa.select(m).where(m.c.id == row["id"]))).mappings().one()
        await do_set_delivery(tx, current, DeliveryStatus.SENT, source_id=receipt.source_id)


COPIES_FROM_MAILS = 50  # the latest incoming mails whose Cc and To are kept on replies


async def _conversation_copies(conn: AsyncConnection, conversation_id: int) -> tuple[dict[str, Any], ...]:
    """The Cc and To addresses of the conversation's latest incoming mails, newest first: the
    adapter leaves out our own addresses and the reply's To."""
    m = t.messages
    rows = await conn.execute(
        sa.select(m.c.data)
        .where(m.c.conversation_id == conversation_id, m.c.kind == MessageKind.INCOMING.value)
        .order_by(m.c.id.desc())
        .limit(COPIES_FROM_MAILS)
    )
    found: list[dict[str, Any]] = []
    for (data,) in rows:
        mail = (data or {}).get("email") or {}
        for entry in (*(mail.get("cc") or []), *(mail.get("to") or [])):
            if isinstance(entry, dict) and isinstance(entry.get("address"), str):
                found.append({"name": str(entry.get("name") or ""), "address": entry["address"]})
    return tuple(found)


async def _opening(conn: AsyncConnection, conversation_id: int, message_id: int) -> Opening:
    """The conversation's first message, when an agent started it by email with a subject."""
    m = t.messages
    first = (
        await conn.execute(
            sa.select(m.c.id, m.c.kind, m.c.data, m.c.source_id)
            .where(m.c.conversation_id == conversation_id)
            .order_by(m.c.id)
            .limit(1)
        )
    ).first()
    if first is None or first.kind != MessageKind.OUTGOING.value:
        return Opening()
    subject = ((first.data or {}).get("email") or {}).get("subject")
    if not isinstance(subject, str) or not subject:
        return Opening()
    return Opening(subject=subject, message_id=first.source_id, is_this=first.id == message_id)


async def fail_reply(tx: Tx, payload: dict[str, Any], failure: JobFailure) -> None:
    m = t.messages
    current = (await tx.conn.execute(sa.select(m).where(m.c.id == payload["message_id"]))).mappings().first()
    if current is not None:
        await do_set_delivery(tx, current, DeliveryStatus.FAILED, reason=failure.code, detail=failure.detail)


async def retry_reply(tx: Tx, payload: dict[str, Any], failure: JobFailure, run_at: datetime) -> None:
    await do_schedule_retry(tx, payload["message_id"], failure.code, failure.detail, run_at)


async def wake_snoozed(ctx: JobContext, payload: dict[str, Any]) -> None:
    async with ctx.db.write() as tx:
        await do_wake_snoozed(
            tx, payload["conversation_id"], datetime.fromisoformat(payload["snoozed_until"])
        )


async def _mail(ctx: JobContext, to: str, subject: str, text: str) -> None:
    if ctx.mail is None or not ctx.mail.enabled:
        raise PermanentJobError(
            FailureReason.NO_RELAY_CONFIGURED,
            "this worker has no SMTP server configured (FRONTDESK_SMTP_HOST)",
        )
    try:
        await send_mail(ctx.mail, build_message(ctx.mail, to, subject, text))
    except MailError as exc:
        if exc.retryable:
            raise
        raise PermanentJobError(exc.code, exc.reason) from None


async def send_password_reset(ctx: JobContext, payload: dict[str, Any]) -> None:
    r, u = t.password_resets, t.users
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(u.c.email, u.c.name, u.c.display_name, u.c.locale, r.c.used_at, r.c.expires_at)
                .join(u, u.c.id == r.c.user_id)
                .where(r.c.id == payload["reset_id"])
            )
        ).first()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return  # used or expired before we got to it: a link that cannot work is not sent
    token = ctx.box.open(payload["sealed"])["token"]
    link = f"{ctx.public_url.rstrip('/')}/reset-password?token={token}"
    name = row.display_name or row.name
    await _mail(
        ctx,
        row.email,
        translate(row.locale, "password_reset.subject"),
        translate(row.locale, "password_reset.body", name=name, link=link, minutes=PASSWORD_RESET_HOURS * 60),
    )


async def send_invitation(ctx: JobContext, payload: dict[str, Any]) -> None:
    inv, u, w = t.invitations, t.users, t.workspaces
    async with ctx.db.read() as conn:
        row = (
            await conn.execute(
                sa.select(
                    inv.c.email,
                    inv.c.role,
                    inv.c.accepted_at,
                    w.c.name.label("workspace"),
                    u.c.name.label("inviter"),
                    u.c.display_name,
                    u.c.locale,
                )
                .join(w, w.c.id == inv.c.workspace_id)
                .outerjoin(u, u.c.id == inv.c.invited_by)
                .where(inv.c.id == payload["invitation_id"])
            )
        ).first()
    if row is None or row.accepted_at is not None:
        return  # withdrawn or already accepted
    token = ctx.box.open(payload["sealed"])["token"]
    locale = row.locale or "en"
    params = {
        "inviter": row.display_name or row.inviter or "Frontdesk",
        "workspace": row.workspace,
        "role": translate(locale, f"role.{row.role}"),
        "link": f"{ctx.public_url.rstrip('/')}/accept-invitation?token={token}",
    }
    await _mail(
        ctx,
        row.email,
        translate(locale, "invitation.subject", **params),
        translate(locale, "invitation.body", **params),
    )


HANDLERS: dict[str, JobKind] = {
    "send_reply": JobKind(send_reply, on_dead=fail_reply, on_retry=retry_reply),
    "wake_snoozed": JobKind(wake_snoozed),
    "send_password_reset": JobKind(send_password_reset),
    "send_invitation": JobKind(send_invitation),
}
