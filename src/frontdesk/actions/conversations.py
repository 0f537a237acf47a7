"""Conversation changes: open, status and snooze, assignment and transfer, team, priority,
labels, participants, read state. Each writes an activity line and emits conversation.updated."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from frontdesk.access import (
    Actor,
    access_conversation_by_id,
    access_member_by_id,
    access_team_by_id,
    conversation_select,
)
from frontdesk.actions import counters
from frontdesk.actions.audit import do_audit
from frontdesk.actions.reply_windows import do_with_window
from frontdesk.domain.enums import ConversationStatus, MessageKind, Priority, Role, SenderType
from frontdesk.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from frontdesk.domain.rules import can_manage_workspace, sees_every_inbox
from frontdesk.events import ConversationUpdated, MessageCreated
from frontdesk.jobs.queue import enqueue
from frontdesk.store import tables as t
from frontdesk.store.conversation_numbers import insert_numbered
from frontdesk.store.db import Tx
from frontdesk.store.direct import Direct, run
from frontdesk.store.types import utcnow
from frontdesk.store.views import conversation_view, message_view

Row = Mapping[Any, Any]  # a result row (RowMapping) or a dict built like one


_conv = t.conversations
_UPDATE_CONVERSATION = _conv.update().where(_conv.c.id == sa.bindparam("id_"))


# Run on the driver (store/direct.py): every message's ingest opens or updates a conversation.
# One compiled form per set of columns given, as SQLAlchemy's own cache keeps.
@functools.cache
def _update_conversation(keys: tuple[str, ...]) -> Direct:
    return Direct(_UPDATE_CONVERSATION, keys)


_UPDATE_LABEL_COPIES = t.conversation_labels.update().where(
    t.conversation_labels.c.conversation_id == sa.bindparam("id_")
)


async def do_open_conversation(
    tx: Tx,
    *,
    workspace_id: int,
    inbox_id: int,
    contact_id: int,
    identity_id: int,
    contact_name: str,
    now: datetime,
    **initial: Any,
) -> dict[str, Any]:
    """Insert a new open conversation with its per-workspace number; `initial` overrides defaults."""
    values: dict[str, Any] = {
        "workspace_id": workspace_id,
        "inbox_id": inbox_id,
        "contact_id": contact_id,
        "identity_id": identity_id,
        "status": ConversationStatus.OPEN.value,
        "snoozed_until": None,
        "assignee_id": None,
        "team_id": None,
        "priority": Priority.NONE.value,
        "last_activity_at": now,
        "waiting_since": None,
        "first_reply_at": None,
        "first_reply_seconds": None,
        "last_message_preview": "",
        "unread_count": 0,
        "labels": [],
        "customer_last_at": None,
        "replies_since_customer": 0,
        "created_at": now,
        **initial,
    }
    conversation_id, number = await insert_numbered(tx.conn, values)
    row = {**values, "id": conversation_id, "number": number, "contact_name": contact_name}
    await counters.move(tx, None, counters.key_of(row))
    return row


async def do_update_conversation(
    tx: Tx, before: Row, changes: dict[str, Any], *, inbox: Row | None = None, written: bool = False
) -> dict[str, Any]:
    """Apply column changes, move the counters, emit conversation.updated; returns the new row,
    with its reply window (`inbox`: the conversation's, where `before` does not carry its
    channel). `written`: the row's columns were already changed by the caller's statement."""
    after = {**before, **changes}
    if changes:
        if not written:
            await run(tx.conn, _update_conversation(tuple(sorted(changes))), {"id_": before["id"], **changes})
        await counters.move(tx, counters.key_of(before), counters.key_of(after))
        if after["labels"] and (
            after["status"] != before["status"] or after["last_activity_at"] != before["last_activity_at"]
        ):
            await tx.conn.execute(
                _UPDATE_LABEL_COPIES,
                {
                    "id_": before["id"],
                    "status": after["status"],
                    "last_activity_at": after["last_activity_at"],
                },
            )
    after = await do_with_window(tx, after, inbox)
    await tx.emit(ConversationUpdated(after["workspace_id"], after["inbox_id"], conversation_view(after)))
    return after


async def do_activity(tx: Tx, conversation: Row, actor_id: int | None, text: str, **data: Any) -> None:
    """An activity line in the thread. `text` is the English fallback; `data` lets the
    dashboard render it in the agent's language."""
    now = utcnow()
    values: dict[str, Any] = dict(
        workspace_id=conversation["workspace_id"],
        conversation_id=conversation["id"],
        inbox_id=conversation["inbox_id"],
        kind=MessageKind.ACTIVITY.value,
        sender_type=SenderType.SYSTEM.value if actor_id is None else SenderType.AGENT.value,
        sender_id=actor_id,
        text=text,
        content_type="text",
        source_id=None,
        delivery_status=None,
        failure_reason=None,
        data=data,
        created_at=now,
    )
    message_id = (
        await tx.conn.execute(t.messages.insert().values(**values).returning(t.messages.c.id))
    ).scalar_one()
    await tx.emit(
        MessageCreated(
            conversation["workspace_id"], conversation["inbox_id"], message_view({**values, "id": message_id})
        )
    )


async def user_name(tx: Tx, user_id: int) -> str:
    return str((await tx.conn.execute(sa.select(t.users.c.name).where(t.users.c.id == user_id))).scalar_one())


async def check_set_status(
    tx: Tx,
    actor: Actor,
    conversation_id: int,
    status: ConversationStatus,
    snoozed_until: datetime | None = None,
) -> dict[str, Any]:
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
    now = utcnow()
    if status == ConversationStatus.SNOOZED:
        if snoozed_until is None:
            raise InvalidInput("snoozed_until is required to snooze", field="snoozed_until")
        if snoozed_until <= now:
            raise InvalidInput("snoozed_until must be in the future", field="snoozed_until")
    elif snoozed_until is not None:
        raise InvalidInput("snoozed_until is only allowed with status snoozed", field="snoozed_until")
    if conv["status"] == status and conv["snoozed_until"] == snoozed_until:
        return dict(conv)
    changes: dict[str, Any] = {"status": status.value, "snoozed_until": snoozed_until}
    if status == ConversationStatus.RESOLVED:
        changes["waiting_since"] = None
    name = await user_name(tx, actor.user_id)
    await do_activity(
        tx,
        conv,
        actor.user_id,
        f"{name} set the status to {status.value}",
        activity="status_changed",
        status=status.value,
        by=name,
        snoozed_until=snoozed_until.isoformat() if snoozed_until else None,
    )
    if snoozed_until is not None:
        await enqueue(
            tx,
            "wake_snoozed",
            {"conversation_id": conv["id"], "snoozed_until": snoozed_until.isoformat()},
            run_at=snoozed_until,
        )
    await do_audit(
        tx,
        actor.workspace_id,
        actor.user_id,
        "conversation.status",
        "conversation",
        conv["id"],
        status=status.value,
    )
    return await do_update_conversation(tx, conv, changes)


async def do_wake_snoozed(tx: Tx, conversation_id: int, snoozed_until: datetime) -> bool:
    """Reopen a snoozed conversation whose time has come; a later change wins over the job."""
    row = (
        (await tx.conn.execute(conversation_select().where(t.conversations.c.id == conversation_id)))
        .mappings()
        .first()
    )
    if row is None or row["status"] != ConversationStatus.SNOOZED or row["snoozed_until"] != snoozed_until:
        return False
    await do_activity(
        tx, row, None, "The snooze ended; the conversation is open again", activity="snooze_ended"
    )
    await do_update_conversation(tx, row, {"status": ConversationStatus.OPEN.value, "snoozed_until": None})
    return True


async def _may_handle(tx: Tx, actor: Actor, user: Row, inbox_id: int) -> bool:
    if sees_every_inbox(Role(user["role"])):
        return True
    found = (
        await tx.conn.execute(
            sa.select(sa.literal(1)).where(
                t.inbox_members.c.inbox_id == inbox_id, t.inbox_members.c.user_id == user["id"]
            )
        )
    ).first()
    return found is not None


async def check_assign(
    tx: Tx,
    actor: Actor,
    conversation_id: int,
    *,
    assignee_id: int | None,
    team_id: int | None,
    comment: str | None,
) -> dict[str, Any]:
    """Assign or transfer to an agent and/or a team, with an optional comment."""
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
    parts: list[str] = []
    if assignee_id is not None:
        user = await access_member_by_id(tx.conn, actor, assignee_id)
        if not await _may_handle(tx, actor, user, conv["inbox_id"]):
            raise InvalidInput(
                f"{user['name']} is not a member of this conversation's inbox", field="assignee_id"
            )
        parts.append(str(user["name"]))
    if team_id is not None:
        team = await access_team_by_id(tx.conn, actor, team_id)
        parts.append(str(team["name"]))
    name = await user_name(tx, actor.user_id)
    target = " / ".join(parts) if parts else "nobody"
    text = f"{name} assigned the conversation to {target}" + (f": {comment}" if comment else "")
    await do_activity(
        tx,
        conv,
        actor.user_id,
        text,
        activity="assigned",
        by=name,
        assignee_id=assignee_id,
        team_id=team_id,
        comment=comment,
    )
    await do_audit(
        tx,
        actor.workspace_id,
        actor.user_id,
        "conversation.assign",
        "conversation",
        conv["id"],
        assignee_id=assignee_id,
        team_id=team_id,
    )
    return await do_update_conversation(tx, conv, {"assignee_id": assignee_id, "team_id": team_id})


async def check_set_priority(
    tx: Tx, actor: Actor, conversation_id: int, priority: Priority
) -> dict[str, Any]:
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
    if conv["priority"] == priority:
        return dict(conv)
    name = await user_name(tx, actor.user_id)
    await do_activity(
        tx,
        conv,
        actor.user_id,
        f"{name} set the priority to {priority.value}",
        activity="priority_changed",
        by=name,
        priority=priority.value,
    )
    return await do_update_conversation(tx, conv, {"priority": priority.value})


async def check_set_labels(tx: Tx, actor: Actor, conversation_id: int, names: list[str]) -> dict[str, Any]:
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
    wanted = sorted(set(names))
    rows = (
        await tx.conn.execute(
            sa.select(t.labels.c.id, t.labels.c.name).where(
                t.labels.c.workspace_id == actor.workspace_id, t.labels.c.name.in_(wanted)
            )
        )
    ).all()
    by_name = {r.name: r.id for r in rows}
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise InvalidInput(f"unknown label(s): {', '.join(unknown)}; create them first", field="labels")
    await tx.conn.execute(
        t.conversation_labels.delete().where(t.conversation_labels.c.conversation_id == conv["id"])
    )
    if wanted:
        await tx.conn.execute(
            t.conversation_labels.insert(),
            [
                {
                    "conversation_id": conv["id"],
                    "label_id": by_name[n],
                    "status": conv["status"],
                    "last_activity_at": conv["last_activity_at"],
                }
                for n in wanted
            ],
        )
    return await do_update_conversation(tx, conv, {"labels": wanted})


async def check_add_participant(tx: Tx, actor: Actor, conversation_id: int, user_id: int) -> dict[str, Any]:
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id)
    user = await access_member_by_id(tx.conn, actor, user_id)
    if not await _may_handle(tx, actor, user, conv["inbox_id"]):
        raise InvalidInput(f"{user['name']} is not a member of this conversation's inbox", field="user_id")
    await do_add_participants(tx, conv["id"], [user_id])
    name = await user_name(tx, actor.user_id)
    await do_activity(
        tx,
        conv,
        actor.user_id,
        f"{name} invited {user['name']}",
        activity="participant_added",
        by=name,
        user_id=user_id,
    )
    return await do_update_conversation(tx, conv, {})


async def check_remove_participant(
    tx: Tx, actor: Actor, conversation_id: int, user_id: int
) -> dict[str, Any]:
    """An agent may leave a conversation; an administrator may remove anyone from it."""
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id, for_update=True)
    if user_id != actor.user_id and not can_manage_workspace(actor.role):
        raise Forbidden("only an administrator may remove someone else from a conversation", field="user_id")
    user = await access_member_by_id(tx.conn, actor, user_id)
    p = t.participants
    removed = await tx.conn.execute(
        p.delete().where(p.c.conversation_id == conv["id"], p.c.user_id == user_id)
    )
    if removed.rowcount == 0:
        raise NotFound(f"{user['name']} is not a participant of this conversation", field="user_id")
    name = await user_name(tx, actor.user_id)
    text = f"{name} left the conversation" if user_id == actor.user_id else f"{name} removed {user['name']}"
    await do_activity(tx, conv, actor.user_id, text, activity="participant_removed", by=name, user_id=user_id)
    return await do_update_conversation(tx, conv, {})


async def participant_ids(conn: AsyncConnection, conversation_id: int) -> list[int]:
    p = t.participants
    rows = await conn.execute(sa.select(p.c.user_id).where(p.c.conversation_id == conversation_id))
    return sorted(rows.scalars())


async def check_offer(conn: AsyncConnection, actor: Actor, conversation_id: int) -> dict[str, Any]:
    """The data of a conversation.offered event: an agent passes an unassigned incoming
    conversation on to the others who may see it. Nothing is written."""
    conv = await access_conversation_by_id(conn, actor, conversation_id)
    if conv["assignee_id"] is not None:
        raise Conflict(
            "this conversation is already assigned; there is nothing to offer", code="already_assigned"
        )
    return {
        "conversation_id": conv["id"],
        "offered_by": actor.user_id,
        "contact_name": conv["contact_name"],
        "preview": conv["last_message_preview"],
        "inbox_id": conv["inbox_id"],
    }


async def do_add_participants(tx: Tx, conversation_id: int, user_ids: list[int]) -> None:
    if not user_ids:
        return
    existing = set(
        (
            await tx.conn.execute(
                sa.select(t.participants.c.user_id).where(
                    t.participants.c.conversation_id == conversation_id,
                    t.participants.c.user_id.in_(user_ids),
                )
            )
        ).scalars()
    )
    new = [u for u in dict.fromkeys(user_ids) if u not in existing]
    if new:
        now = utcnow()
        await tx.conn.execute(
            t.participants.insert(),
            [{"conversation_id": conversation_id, "user_id": u, "created_at": now} for u in new],
        )


async def check_mark_read(tx: Tx, actor: Actor, conversation_id: int) -> dict[str, Any]:
    conv = await access_conversation_by_id(tx.conn, actor, conversation_id)
    if conv["unread_count"] == 0:
        return dict(conv)
    return await do_update_conversation(tx, conv, {"unread_count": 0})
