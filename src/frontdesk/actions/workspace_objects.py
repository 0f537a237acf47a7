"""Teams, inboxes, contacts, labels and canned responses: the workspace's furniture."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
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
from frontdesk.domain.contacts import check_attributes
from frontdesk.domain.errors import Conflict, InvalidInput, NotFound
from frontdesk.events import ContactUpdated, InboxMembersUpdated, LabelDeleted, LabelUpdated, TeamDeleted
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


async def _update_unique(tx: Tx, stmt: sa.Update, what: str, field: str) -> int:
    """Run an UPDATE that may hit a unique name; returns the number of rows changed."""
    try:
        async with tx.conn.begin_nested():
            return int((await tx.conn.execute(stmt)).rowcount)
    except IntegrityError:
        raise Conflict(f"{what} already exists", field=field) from None


async def check_rename_team(tx: Tx, actor: Actor, team_id: int, name: str) -> dict[str, Any]:
    actor.require_admin()
    team = await access_team_by_id(tx.conn, actor, team_id)
    name = _name(name)
    if name != team["name"]:
        await _update_unique(
            tx,
            t.teams.update().where(t.teams.c.id == team_id).values(name=name),
            f"a team named {name!r}",
            "name",
        )
        await do_audit(
            tx,
            actor.workspace_id,
            actor.user_id,
            "team.rename",
            "team",
            team_id,
            name=name,
            before=team["name"],
        )
    return {**team, "name": name}


async def check_delete_team(tx: Tx, actor: Actor, team_id: int) -> None:
    """The team's conversations stay where they are, with no team (team.deleted tells clients)."""
    actor.require_admin()
    team = await access_team_by_id(tx.conn, actor, team_id)
    await tx.conn.execute(
        t.conversations.update()
        .where(t.conversations.c.workspace_id == actor.workspace_id, t.conversations.c.team_id == team_id)
        .values(team_id=None)
    )
    await tx.conn.execute(t.team_members.delete().where(t.team_members.c.team_id == team_id))
    await tx.conn.execute(t.teams.delete().where(t.teams.c.id == team_id))
    await tx.emit(TeamDeleted(actor.workspace_id, None, team_id))
    await do_audit(tx, actor.workspace_id, actor.user_id, "team.delete", "team", team_id, name=team["name"])


async def check_remove_team_member(tx: Tx, actor: Actor, team_id: int, user_id: int) -> None:
    actor.require_admin()
    await access_team_by_id(tx.conn, actor, team_id)
    user = await access_member_by_id(tx.conn, actor, user_id)
    tm = t.team_members
    result = await tx.conn.execute(tm.delete().where(tm.c.team_id == team_id, tm.c.user_id == user_id))
    if result.rowcount == 0:
        raise NotFound(f"{user['name']} is not a member of this team", field="user_id")
    await do_audit(
        tx, actor.workspace_id, actor.user_id, "team.remove_member", "team", team_id, user_id=user_id
    )


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


SettingsModel = TypeVar("SettingsModel", bound=BaseModel)


def parse_settings(schema: type[SettingsModel], settings: dict[str, Any]) -> SettingsModel:
    """A channel's settings model, or InvalidInput naming the first wrong field (settings.<name>)."""
    try:
        return schema.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"settings.{where}: {first['msg']}", field=f"settings.{where}") from None


def _validate_settings(cls: type[ChannelSpec], settings: dict[str, Any]) -> dict[str, Any]:
    return parse_settings(cls.settings_schema, settings).model_dump(mode="json")


async def _check_unique_settings(
    tx: Tx, actor: Actor, cls: type[ChannelSpec], settings: dict[str, Any], inbox_id: int | None = None
) -> None:
    """Settings the channel declares unique (an email inbox's local part) are not another
    inbox's of the same channel in this workspace."""
    if not cls.unique_settings:
        return
    i = t.inboxes
    query = sa.select(i.c.id, i.c.settings).where(
        i.c.workspace_id == actor.workspace_id, i.c.channel_type == cls.channel_type
    )
    for row in await tx.conn.execute(query):
        for name in cls.unique_settings:
            value = settings.get(name)
            if row.id != inbox_id and value is not None and row.settings.get(name) == value:
                raise Conflict(
                    f"settings.{name}: another inbox of this workspace already uses {value!r}",
                    field=f"settings.{name}",
                )


MAX_SECRET_LENGTH = 4096


def _clean_secrets(cls: type[ChannelSpec], secrets: dict[str, Any]) -> dict[str, str]:
    """Only the channel's declared secret fields, each a non-empty string."""
    unknown = sorted(set(secrets) - set(cls.secret_fields))
    if unknown:
        known = ", ".join(cls.secret_fields) or "none"
        raise InvalidInput(
            f"unknown secret field(s): {', '.join(unknown)}; this channel's are: {known}",
            field=f"secrets.{unknown[0]}",
            code="unknown_field",
        )
    for name, value in secrets.items():
        if not isinstance(value, str) or not value.strip():
            raise InvalidInput(f"secrets.{name} must be a non-empty string", field=f"secrets.{name}")
        if len(value) > MAX_SECRET_LENGTH:
            raise InvalidInput(
                f"secrets.{name} is longer than {MAX_SECRET_LENGTH} characters", field=f"secrets.{name}"
            )
    return dict(secrets)


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
    await _check_unique_settings(tx, actor, cls, clean)
    all_secrets = {**cls.generated_secrets(), **_clean_secrets(cls, secrets)}
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
    *,
    box: SecretBox | None = None,
    is_enabled: bool | None = None,
    secrets: dict[str, Any] | None = None,
) -> None:
    """Everything is checked before anything is written: one bad field changes nothing. A
    disabled inbox refuses webhooks and new replies; its conversations stay readable."""
    actor.require_admin()
    inbox = await access_inbox_by_id(tx.conn, actor, inbox_id)
    cls = channels(inbox["channel_type"])
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _name(name)
    if settings is not None:
        changes["settings"] = _validate_settings(cls, {**inbox["settings"], **settings})
        await _check_unique_settings(tx, actor, cls, changes["settings"], inbox_id)
    if secrets:
        if box is None:
            raise TypeError("changing secrets needs the SecretBox")
        changes["secrets_encrypted"] = box.seal(
            {**box.open(inbox["secrets_encrypted"]), **_clean_secrets(cls, secrets)}
        )
    if is_enabled is not None and is_enabled != bool(inbox["is_enabled"]):
        changes["is_enabled"] = is_enabled
    if not changes:
        return
    await tx.conn.execute(t.inboxes.update().where(t.inboxes.c.id == inbox_id).values(**changes))
    if "is_enabled" in changes:
        action = "inbox.enable" if is_enabled else "inbox.disable"
        await do_audit(tx, actor.workspace_id, actor.user_id, action, "inbox", inbox_id)
    if "secrets_encrypted" in changes:
        # The names of the secrets changed, never their values.
        await do_audit(
            tx,
            actor.workspace_id,
            actor.user_id,
            "inbox.secrets",
            "inbox",
            inbox_id,
            fields=sorted(secrets or {}),
        )
    fields = sorted(set(changes) & {"name", "settings"})
    if fields:
        await do_audit(
            tx, actor.workspace_id, actor.user_id, "inbox.update", "inbox", inbox_id, fields=fields
        )


async def check_rotate_inbox_secrets(
    tx: Tx, actor: Actor, box: SecretBox, channels: ChannelLookup, inbox_id: int
) -> dict[str, Any]:
    """Replace the secrets Frontdesk generated (the API channel's HMAC secret); the old ones stop
    working at once. Secrets the administrator typed in are kept, and stay write-only: the result
    holds the generated ones only."""
    actor.require_admin()
    inbox = await access_inbox_by_id(tx.conn, actor, inbox_id)
    channel = channels(inbox["channel_type"])
    fresh = channel.rotated_secrets()
    if not fresh:
        raise InvalidInput("this channel has no secrets Frontdesk generates", field="inbox_id")
    secrets = {**box.open(inbox["secrets_encrypted"]), **fresh}
    await tx.conn.execute(
        t.inboxes.update().where(t.inboxes.c.id == inbox_id).values(secrets_encrypted=box.seal(secrets))
    )
    await do_audit(tx, actor.workspace_id, actor.user_id, "inbox.rotate_secrets", "inbox", inbox_id)
    generated = channel.generated_secret_names()
    return {k: v for k, v in secrets.items() if k in generated}


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


async def _refuse_taken_email(tx: Tx, workspace_id: int, email: str | None, contact_id: int = 0) -> None:
    """An agent or API client adding a contact whose email another contact has would split
    one customer in two: 409, with the existing contact's id so the client can use it."""
    if not email or not email.strip():
        return
    c = t.contacts
    existing = (
        await tx.conn.execute(
            sa.select(c.c.id)
            .where(
                c.c.workspace_id == workspace_id,
                sa.func.lower(c.c.email) == email.strip().lower(),
                c.c.id != contact_id,
            )
            .order_by(c.c.id)
            .limit(1)
        )
    ).scalar()
    if existing is not None:
        raise Conflict(
            f"contact {existing} already has the email {email.strip()!r}",
            field="email",
            code="contact_email_taken",
            details={"contact_id": existing},
        )


async def check_create_contact(tx: Tx, actor: Actor, name: str, email: str | None, phone: str | None) -> int:
    await _refuse_taken_email(tx, actor.workspace_id, email)
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
    if "attributes" in changes:
        check_attributes(changes["attributes"])
    if changes.get("email"):
        await _refuse_taken_email(tx, actor.workspace_id, changes["email"], contact_id)
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


async def _access_label(tx: Tx, actor: Actor, label_id: int) -> dict[str, Any]:
    lb = t.labels
    row = (
        (
            await tx.conn.execute(
                sa.select(lb.c.id, lb.c.name, lb.c.color).where(
                    lb.c.id == label_id, lb.c.workspace_id == actor.workspace_id
                )
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("label not found", field="label_id")
    # Plain str keys: the row's are SQLAlchemy names, which the event encoder refuses.
    return {"id": row["id"], "name": row["name"], "color": row["color"]}


async def _relabel(tx: Tx, label_id: int, old: str, new: str | None) -> None:
    """Rename (or, with new None, remove) a label in the name list each of its conversations
    keeps for the list view: one read and one batched write, however many conversations."""
    c, cl = t.conversations, t.conversation_labels
    stmt = (
        sa.select(c.c.id, c.c.labels)
        .join(cl, cl.c.conversation_id == c.c.id)
        .where(cl.c.label_id == label_id)
    )
    if tx.dialect == "postgresql":
        stmt = stmt.with_for_update(of=c)
    rows = (await tx.conn.execute(stmt)).all()
    updates = [
        {"id_": r.id, "labels_": sorted({n for n in r.labels if n != old} | ({new} if new else set()))}
        for r in rows
    ]
    if updates:
        await tx.conn.execute(
            c.update().where(c.c.id == sa.bindparam("id_")).values(labels=sa.bindparam("labels_")), updates
        )


async def check_update_label(
    tx: Tx, actor: Actor, label_id: int, name: str | None, color: str | None
) -> dict[str, Any]:
    actor.require_supervisor()
    label = await _access_label(tx, actor, label_id)
    changes: dict[str, Any] = {}
    if name is not None and _name(name, limit=100) != label["name"]:
        changes["name"] = _name(name, limit=100)
    if color is not None and color != label["color"]:
        changes["color"] = color
    after = {**label, **changes}
    if not changes:
        return after
    await _update_unique(
        tx,
        t.labels.update().where(t.labels.c.id == label_id).values(**changes),
        f"a label named {after['name']!r}",
        "name",
    )
    if "name" in changes:
        await _relabel(tx, label_id, label["name"], changes["name"])
    await tx.emit(LabelUpdated(actor.workspace_id, None, after, label["name"]))
    await do_audit(
        tx,
        actor.workspace_id,
        actor.user_id,
        "label.update",
        "label",
        label_id,
        before=label["name"],
        **changes,
    )
    return after


async def check_delete_label(tx: Tx, actor: Actor, label_id: int) -> None:
    """Removed from every conversation that had it, then deleted."""
    actor.require_supervisor()
    label = await _access_label(tx, actor, label_id)
    await _relabel(tx, label_id, label["name"], None)
    await tx.conn.execute(t.conversation_labels.delete().where(t.conversation_labels.c.label_id == label_id))
    await tx.conn.execute(t.labels.delete().where(t.labels.c.id == label_id))
    await tx.emit(LabelDeleted(actor.workspace_id, None, label))
    await do_audit(
        tx, actor.workspace_id, actor.user_id, "label.delete", "label", label_id, name=label["name"]
    )


def _short_code(value: str) -> str:
    code = _name(value, "short_code", 60).lstrip("/")
    if not code or not code.replace("_", "").replace("-", "").isalnum():
        raise InvalidInput("short_code may hold only letters, digits, '-' and '_'", field="short_code")
    return code


async def check_create_canned(tx: Tx, actor: Actor, short_code: str, text: str) -> int:
    actor.require_supervisor()
    code = _short_code(short_code)
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


async def check_update_canned(
    tx: Tx, actor: Actor, canned_id: int, short_code: str | None, text: str | None
) -> dict[str, Any]:
    actor.require_supervisor()
    cr = t.canned_responses
    changes: dict[str, Any] = {}
    if short_code is not None:
        changes["short_code"] = _short_code(short_code)
    if text is not None:
        changes["text"] = _name(text, "text", 10_000)
    if not changes:
        raise InvalidInput("nothing to change: give short_code and/or text", field="short_code")
    where = (cr.c.id == canned_id, cr.c.workspace_id == actor.workspace_id)
    updated = await _update_unique(
        tx,
        cr.update().where(*where).values(**changes),
        f"a canned response /{changes.get('short_code')}",
        "short_code",
    )
    if updated == 0:
        raise NotFound("canned response not found", field="canned_response_id")
    row = (
        (await tx.conn.execute(sa.select(cr.c.id, cr.c.short_code, cr.c.text).where(*where))).mappings().one()
    )
    return dict(row)


async def check_delete_canned(tx: Tx, actor: Actor, canned_id: int) -> None:
    actor.require_supervisor()
    result = await tx.conn.execute(
        t.canned_responses.delete().where(
            t.canned_responses.c.id == canned_id, t.canned_responses.c.workspace_id == actor.workspace_id
        )
    )
    if result.rowcount == 0:
        raise NotFound("canned response not found", field="canned_response_id")
