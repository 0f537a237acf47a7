"""`frontdesk demo`: a living inbox for a first look — people, a team, an API inbox, contacts
and a few dozen conversations in every state. Built through the same actions as real use."""

from __future__ import annotations

import random
from datetime import timedelta

import sqlalchemy as sa

from frontdesk.access import access_actor_by_workspace
from frontdesk.actions.conversations import check_assign, check_set_labels, check_set_status
from frontdesk.actions.messages import (
    check_add_note,
    check_send_reply,
    do_receive_message,
    do_set_delivery,
)
from frontdesk.actions.users import do_add_member, do_create_user, do_create_workspace
from frontdesk.actions.workspace_objects import (
    check_add_team_member,
    check_create_canned,
    check_create_inbox,
    check_create_label,
    check_create_team,
    check_set_inbox_members,
)
from frontdesk.channels.registry import adapter_class
from frontdesk.domain.enums import ConversationStatus, DeliveryStatus, Role
from frontdesk.domain.inbound import InboundContact, InboundMessage
from frontdesk.security import SecretBox
from frontdesk.settings import Settings
from frontdesk.store import tables as t
from frontdesk.store.db import Database
from frontdesk.store.types import utcnow

DEMO_PASSWORD = "frontdesk-demo"
ADMIN_EMAIL = "admin@demo.frontdesk.test"
PEOPLE = [
    "Ayşe Yılmaz",
    "Mehmet Demir",
    "Zeynep Kaya",
    "Ali Rezaei",
    "Sara Ahmadi",
    "John Smith",
    "Maria Garcia",
    "Can Öztürk",
    "Leila Karimi",
    "Emma Brown",
    "Reza Hosseini",
    "Elif Şahin",
]
OPENERS = [
    "Hello, my order #{n} has not arrived yet. Can you check?",
    "Merhaba, faturamı nasıl indirebilirim?",
    "سلام، چطور می‌توانم رمز عبورم را تغییر دهم؟",
    "Is there a discount for annual plans?",
    "The app crashes when I upload a photo.",
    "Siparişimi iptal etmek istiyorum, sipariş no {n}.",
    "I was charged twice this month.",
    "سفارش من هنوز ارسال نشده است.",
]
REPLIES = [
    "Thanks for writing! Let me check that for you.",
    "Rica ederim, hemen bakıyorum.",
    "ممنون از پیام شما، بررسی می‌کنم.",
]


async def create_demo(settings: Settings) -> list[str]:
    db = Database(settings.effective_database_url)
    try:
        async with db.read() as conn:
            exists = (
                await conn.execute(sa.select(t.users.c.id).where(t.users.c.email_lower == ADMIN_EMAIL))
            ).first()
        if exists is None:
            await _build(db, SecretBox(settings.secret_key))
        async with db.read() as conn:
            web = sa.select(t.inboxes.c.uid).where(t.inboxes.c.channel_type == "web")
            site_uid = (await conn.execute(web.order_by(t.inboxes.c.id))).scalar()
    finally:
        await db.dispose()
    url = settings.effective_public_url
    lines = [
        f"Frontdesk demo is ready at {url}/ (the API and its docs at {url}/api/docs)",
        f"Sign in as {ADMIN_EMAIL} with the password {DEMO_PASSWORD}",
        "(agents: agent1@demo.frontdesk.test and agent2@demo.frontdesk.test, same password)",
    ]
    if site_uid is not None:
        lines.append(f"Chat as a website visitor on the preview page: {url}/widget/preview/{site_uid}")
    return lines


async def _build(db: Database, box: SecretBox) -> None:
    rng = random.Random(40)
    async with db.write() as tx:
        admin = await do_create_user(tx, ADMIN_EMAIL, "Deniz Admin", DEMO_PASSWORD)
        workspace_id = await do_create_workspace(tx, "Demo Shop", admin)
        agents = [
            await do_create_user(tx, f"agent{i}@demo.frontdesk.test", name, DEMO_PASSWORD)
            for i, name in ((1, "Aylin Agent"), (2, "Parsa Agent"))
        ]
        for agent in agents:
            await do_add_member(tx, workspace_id, agent, Role.AGENT)
        actor = await access_actor_by_workspace(tx.conn, admin, workspace_id)
        team = await check_create_team(tx, actor, "Support")
        for agent in agents:
            await check_add_team_member(tx, actor, team, agent)
        inbox_id = await check_create_inbox(tx, actor, box, adapter_class, "Shop app (API)", "api", {}, {})
        await check_set_inbox_members(tx, actor, inbox_id, agents)
        site_id = await check_create_inbox(
            tx,
            actor,
            box,
            adapter_class,
            "Shop website",
            "web",
            {"greeting": "Hi! Ask us anything about your order.", "prechat_enabled": True},
            {},
        )
        await check_set_inbox_members(tx, actor, site_id, agents)
        for name, color in (("billing", "#2563eb"), ("shipping", "#16a34a"), ("bug", "#dc2626")):
            await check_create_label(tx, actor, name, color)
        await check_create_canned(tx, actor, "hello", "Hello! How can I help you today?")
        await check_create_canned(tx, actor, "bye", "Thanks for contacting us. Have a nice day!")
        inbox = (
            (await tx.conn.execute(sa.select(t.inboxes).where(t.inboxes.c.id == inbox_id))).mappings().one()
        )
    for n in range(36):
        async with db.write() as tx:
            person = PEOPLE[n % len(PEOPLE)]
            received = await do_receive_message(
                tx,
                inbox,
                InboundMessage(
                    source_id=f"demo-{n}",
                    text=rng.choice(OPENERS).format(n=1000 + n),
                    contact=InboundContact(
                        source_id=f"demo-contact-{n}", name=person, email=f"customer{n}@example.com"
                    ),
                ),
            )
            conv_id = received.conversation_id
            if n % 3 == 0:
                continue  # left waiting, unassigned
            agent = agents[n % 2]
            await check_assign(tx, actor, conv_id, assignee_id=agent, team_id=team, comment=None)
            reply = await check_send_reply(tx, actor, conv_id, rng.choice(REPLIES))
            # Demo history: the reply counts as delivered; its job then finds nothing to send
            # (send_reply only sends messages still queued) and completes.
            msg = (
                (await tx.conn.execute(sa.select(t.messages).where(t.messages.c.id == reply["id"])))
                .mappings()
                .one()
            )
            await do_set_delivery(tx, msg, DeliveryStatus.DELIVERED)
            if n % 4 == 0:
                await check_set_labels(tx, actor, conv_id, [rng.choice(["billing", "shipping", "bug"])])
            if n % 5 == 0:
                await check_add_note(tx, actor, conv_id, "@aylin can you follow up on this tomorrow?")
            if n % 3 == 2:
                await check_set_status(tx, actor, conv_id, ConversationStatus.RESOLVED)
            elif n % 7 == 1:
                await check_set_status(
                    tx,
                    actor,
                    conv_id,
                    ConversationStatus.SNOOZED,
                    utcnow() + timedelta(hours=rng.randint(2, 48)),
                )
