"""Teams, inboxes, contacts, labels and canned responses: the workspace's furniture."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError

from frontdesk.access import (
    Actor,
    access_contact_by_id,
    access_inbox_by_id,
    access_member_by_id,
    access_team_by_id,
)
from frontdesk.actions.audit import do_audit
from frontdesk.domain.channels import ChannelLookup, ChannelSpec
from frontdesk.domain.errors import Conflict, InvalidInput, NotFound
from frontdesk.events import ContactUpdated, InboxMembersUpdated
from frontdesk.security import SecretBox, new_token
from frontdesk.store import tables as t
from frontdesk.store.db import Tx
from frontdesk.store.types import utcnow
from frontdesk.store.views import contact_view


def _name(value: str, field: str = "name", limit: int = 200) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{field} must not be empty", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", field=field)
    return value


async def _insert_unique(tx: Tx, table: sa.Table, values: dict[str, Any], what: str, field: str) -> int:
    try:
        async with tx.conn.begin_nested():
            return int(
                (await tx.conn.execute(table.insert().values(**values).returning(table.c.id))).scalar_one()
            )
    except IntegrityError:
        raise Conflict(f"{what} already exists", field=field) from None


async def check_create_team(tx: Tx, actor: Actor, name: str) -> int:
    actor.require_admin()
    name = _name(name)
    team_id = await _insert_unique(
        tx,
        t.teams,
        {"workspace_id": actor.workspace_id, "name": name, "created_at": utcnow()},
        f"a team named {name!r}",
        "name",
    )
    await do_audit(tx, actor.workspace_id, actor.user_id, "team.create", "team", team_id, name=name)
    return team_id


async def check_add_team_member(tx: Tx, actor: Actor, team_id: int, user_id: int) -> None:
    actor.require_admin()
    await access_team_by_id(tx.conn, actor, team_id)
    await access_member_by_id(tx.conn, actor, user_id)
    exists = (
        await tx.conn.execute(
            sa.select(sa.literal(1)).where(
                t.team_members.c.team_id == team_id, t.team_members.c.user_id == user_id
            )
        )
    ).first()
    if exists is None:
        await tx.conn.execute(t.team_members.insert().values(team_id=team_id, user_id=user_id))


def _validate_settings(cls: type[ChannelSpec], settings: dict[str, Any]) -> dict[str, Any]:
    try:
        model = cls.settings_schema.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"settings.{where}: {first['msg']}", field=f"settings.{where}") from None
    return model.model_dump(mode="json")


async def check_create_inbox(
    tx: Tx,
    actor: Actor,
    box: SecretBox,
    channels: ChannelLookup,
    name: str,
    channel_type: str,
    settings: dict[str, Any],
    secrets: dict[str, Any],
) -> int:
    actor.require_admin()
    name = _name(name)
    cls = channels(channel_type)
    clean = _validate_settings(cls, settings)
    unknown = set(secrets) - set(cls.secret_fields)
    if unknown:
        raise InvalidInput(f"unknown secret field(s): {', '.join(sorted(unknown))}", field="secrets")
    all_secrets = {**cls.generated_secrets(), **secrets}
    inbox_id = int(
        (
            await tx.conn.execute(
                t.inboxes.insert()
                .values(
                    workspace_id=actor.workspace_id,
                    name=name,
                    channel_type=channel_type,
                    uid=new_token("in").split("_", 1)[1][:24],
                    settings=clean,
                    secrets_encrypted=box.seal(all_secrets),
                    created_at=utcnow(),
                )
                .returning(t.inboxes.c.id)
            )
        ).scalar_one()
    )
    await do_audit(
        tx, actor.workspace_id, actor.user_id, "inbox.create", "inbox", inbox_id, channel_type=channel_type
    )
    return inbox_id


async def check_update_inbox(
    tx: Tx,
    actor: Actor,
    channels: ChannelLookup,
    inbox_id: int,
    name: str | None,
    settings: dict[str, Any] | None,
) -> None:
    actor.require_admin()
    inbox = await access_inbox_by_id(tx.conn, actor, inbox_id)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _name(name)
    if settings is not None:
        changes["settings"] = _validate_settings(
            channels(inbox["channel_type"]), {**inbox["settings"], **settings}
        )
    if changes:
        await tx.conn.execute(t.inboxes.update().where(t.inboxes.c.id == inbox_id).values(**changes))
        await do_audit(tx, actor.workspace_id, actor.user_id, "inbox.update", "inbox", inbox_id)


async def check_rotate_inbox_secrets(
    tx: Tx, actor: Actor, box: SecretBox, channels: ChannelLookup, inbox_id: int
) -> dict[str, Any]:
    """Replace the secrets Frontdesk generated (the API channel's HMAC secret); the old ones stop
    working at once. Secrets the administrator typed in are kept."""
    actor.require_admin()
    inbox = await access_inbox_by_id(tx.conn, actor, inbox_id)
    fresh = channels(inbox["channel_type"]).generated_secrets()
    if not fresh:
        raise InvalidInput("this channel has no secrets Frontdesk generates", field="inbox_id")
    secrets = {**box.open(inbox["secrets_encrypted"]), **fresh}
    await tx.conn.execute(
        t.inboxes.update().where(t.inboxes.c.id == inbox_id).values(secrets_encrypted=box.seal(secrets))
    )
    await do_audit(tx, actor.workspace_id, actor.user_id, "inbox.rotate_secrets", "inbox", inbox_id)
    return secrets


async def check_set_inbox_members(tx: Tx, actor: Actor, inbox_id: int, user_ids: list[int]) -> None:
    actor.require_admin()
    await access_inbox_by_id(tx.conn, actor, inbox_id)
    for user_id in set(user_ids):
        await access_member_by_id(tx.conn, actor, user_id)
    await tx.conn.execute(t.inbox_members.delete().where(t.inbox_members.c.inbox_id == inbox_id))
    if user_ids:
        await tx.conn.execute(
            t.inbox_members.insert(), [{"inbox_id": inbox_id, "user_id": u} for u in sorted(set(user_ids))]
        )
    await tx.emit(InboxMembersUpdated(actor.workspace_id, None, inbox_id, sorted(set(user_ids))))
    await do_audit(
        tx,
        actor.workspace_id,
        actor.user_id,
        "inbox.members",
        "inbox",
        inbox_id,
        user_ids=sorted(set(user_ids)),
    )


async def check_create_contact(tx: Tx, actor: Actor, name: str, email: str | None, phone: str | None) -> int:
    return int(
        (
            await tx.conn.execute(
                t.contacts.insert()
                .values(
                    workspace_id=actor.workspace_id,
                    name=_name(name),
                    email=email,
                    phone=phone,
                    attributes={},
                    created_at=utcnow(),
                )
                .returning(t.contacts.c.id)
            )
        ).scalar_one()
    )


async def check_update_contact(tx: Tx, actor: Actor, contact_id: int, changes: dict[str, Any]) -> None:
    before = await access_contact_by_id(tx.conn, actor, contact_id)
    if "name" in changes:
        changes["name"] = _name(changes["name"])
    if not changes:
        return
    await tx.conn.execute(t.contacts.update().where(t.contacts.c.id == contact_id).values(**changes))
    # One event per inbox the contact wrote to: only agents who may see the contact hear of it.
    inbox_ids = (
        await tx.conn.execute(
            sa.select(t.contact_identities.c.inbox_id).where(t.contact_identities.c.contact_id == contact_id)
        )
    ).scalars()
    view = contact_view({**before, **changes})
    for inbox_id in sorted(set(inbox_ids)):
        await tx.emit(ContactUpdated(actor.workspace_id, inbox_id, view))
    await do_audit(
        tx, actor.workspace_id, actor.user_id, "contact.update", "contact", contact_id, fields=sorted(changes)
    )


async def check_create_label(tx: Tx, actor: Actor, name: str, color: str) -> int:
    actor.require_supervisor()
    name = _name(name, limit=100)
    return await _insert_unique(
        tx,
        t.labels,
        {"workspace_id": actor.workspace_id, "name": name, "color": color, "created_at": utcnow()},
        f"a label named {name!r}",
        "name",
    )


async def check_create_canned(tx: Tx, actor: Actor, short_code: str, text: str) -> int:
    actor.require_supervisor()
    code = _name(short_code, "short_code", 60).lstrip("/")
    if not code.replace("_", "").replace("-", "").isalnum():
        raise InvalidInput("short_code may hold only letters, digits, '-' and '_'", field="short_code")
    return await _insert_unique(
        tx,
        t.canned_responses,
        {
            "workspace_id": actor.workspace_id,
            "short_code": code,
            "text": _name(text, "text", 10_000),
            "created_at": utcnow(),
        },
        f"a canned response /{code}",
        "short_code",
    )


async def check_update_canned(tx: Tx, actor: Actor, canned_id: int, text: str) -> None:
    actor.require_supervisor()
    result = await tx.conn.execute(
        t.canned_responses.update()
        .where(t.canned_responses.c.id == canned_id, t.canned_responses.c.workspace_id == actor.workspace_id)
        .values(text=_name(text, "text", 10_000))
    )
    if result.rowcount == 0:
        raise NotFound("canned response not found", field="canned_response_id")


async def check_delete_canned(tx: Tx, actor: Actor, canned_id: int) -> None:
    actor.require_supervisor()
    result = await tx.conn.execute(
        t.canned_responses.delete().where(
            t.canned_responses.c.id == canned_id, t.canned_responses.c.workspace_id == actor.workspace_id
        )
    )
    if result.rowcount == 0:
        raise NotFound("canned response not found", field="canned_response_id")
