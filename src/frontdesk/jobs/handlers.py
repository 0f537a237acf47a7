"""Job handlers: send_reply (deliver an outgoing message through its channel), wake_snoozed, the
emails send_password_reset and send_invitation, fetch_media (jobs/media.py) and fetch_profile
(jobs/profiles.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.actions.conversations import do_wake_snoozed
from frontdesk.actions.delivery import do_begin_attempt, do_schedule_retry
from frontdesk.actions.messages import do_correct_window, do_set_delivery
from frontdesk.channels.base import ChannelAdapter, ChannelError, Outbound
from frontdesk.channels.registry import adapter_class, channel_job_kinds
from frontdesk.domain.enums import DeliveryStatus, FailureReason, MessageKind
from frontdesk.domain.people import PASSWORD_RESET_HOURS
from frontdesk.i18n import translate
from frontdesk.jobs.adapters import job_adapter
from frontdesk.jobs.kinds import JobContext, JobFailure, JobKind, PermanentJobError
from frontdesk.jobs.media import FETCH_MEDIA
from frontdesk.jobs.profiles import FETCH_PROFILE_JOB
from frontdesk.mail.outbound import MailError, build_message, send_mail
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow


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
                        t.inboxes.c.id.label("inbox_id"),
                        t.inboxes.c.channel_type,
                        t.inboxes.c.settings,
                        t.inboxes.c.secrets_encrypted,
                        t.inboxes.c.is_enabled,
                        t.users.c.name.label("sender_name"),
                        thread.label("thread"),
                    )
                    .join(conv, conv.c.id == m.c.conversation_id)
                    .join(ci, ci.c.id == conv.c.identity_id)
                    .join(t.contacts, t.contacts.c.id == conv.c.contact_id)
                    .join(t.inboxes, t.inboxes.c.id == m.c.inbox_id)
                    .outerjoin(t.users, t.users.c.id == m.c.sender_id)
                    .where(m.c.id == payload["message_id"])
                )
            )
            .mappings()
            .first()
        )
        prepared = await _prepared(ctx, conn, row)
    if prepared is None:
        return
    adapter, outbound = prepared
    # The last moment an agent's cancel can win: past this write the attempt is on its way.
    async with ctx.db.write() as tx:
        if not await do_begin_attempt(tx, outbound.message_id):
            return
    try:
        receipt = await adapter.send(outbound)
    except ChannelError as exc:
        if exc.retryable:
            raise
        raise PermanentJobError(exc.code, exc.detail) from None
    async with ctx.db.write() as tx:
        current = (await tx.conn.execute(sa.select(m).where(m.c.id == outbound.message_id))).mappings().one()
        await do_set_delivery(tx, current, DeliveryStatus.SENT, source_id=receipt.source_id)


async def _prepared(
    ctx: JobContext, conn: AsyncConnection, row: Any
) -> tuple[ChannelAdapter, Outbound] | None:
    """The adapter and the reply it sends, with what the channel reads for it (on the same
    connection); None when there is nothing to send."""
    if row is None:
        return None  # the message was deleted: nothing to deliver
    # Shared guards: a note or an incoming message is never sent out; a message already
    # past "queued" (a repeated job after a lost completion, or a cancelled reply) is not sent.
    if row["kind"] != MessageKind.OUTGOING or row["delivery_status"] != DeliveryStatus.QUEUED:
        return None
    if not row["is_enabled"]:
        # Disabled after the reply was queued: it fails visibly and can be retried once enabled.
        raise PermanentJobError(
            FailureReason.INBOX_DISABLED, "the inbox was disabled before this reply could be sent"
        )
    adapter = job_adapter(ctx, row, row["inbox_id"])
    data = row["data"] or {}
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
            {**a, "url": ctx.public_url.rstrip("/") + a["url"]} for a in data.get("attachments", [])
        ),
        thread=row["thread"] or {},
        data=data,
    )
    return adapter, await adapter.prepare(conn, outbound)


async def fail_reply(tx: Tx, payload: dict[str, Any], failure: JobFailure) -> None:
    m = t.messages
    current = (await tx.conn.execute(sa.select(m).where(m.c.id == payload["message_id"]))).mappings().first()
    if current is not None:
        await do_set_delivery(tx, current, DeliveryStatus.FAILED, reason=failure.code, detail=failure.detail)
        if failure.code in (FailureReason.WINDOW_CLOSED, FailureReason.REPLY_LIMIT_REACHED):
            await _correct_window(tx, current, failure.code)


async def _correct_window(tx: Tx, message: Any, reason: FailureReason) -> None:
    """The provider said the window is closed or its cap used up: the conversation's window
    follows what the provider says (decision 0043)."""
    inbox = (
        await tx.conn.execute(
            sa.select(t.inboxes.c.channel_type, t.inboxes.c.settings).where(
                t.inboxes.c.id == message["inbox_id"]
            )
        )
    ).first()
    if inbox is not None:
        rules = adapter_class(inbox.channel_type).rules_for(inbox.settings or {})
        await do_correct_window(tx, message["conversation_id"], reason, rules)


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


GENERIC: dict[str, JobKind] = {
    "send_reply": JobKind(send_reply, on_dead=fail_reply, on_retry=retry_reply),
    "wake_snoozed": JobKind(wake_snoozed),
    "send_password_reset": JobKind(send_password_reset),
    "send_invitation": JobKind(send_invitation),
    "fetch_media": FETCH_MEDIA,
    "fetch_profile": FETCH_PROFILE_JOB,
}


def job_kinds() -> dict[str, JobKind]:
    """Every job kind the worker runs: the generic ones and each channel's own."""
    return {**GENERIC, **channel_job_kinds()}
