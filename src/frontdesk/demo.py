"""`frontdesk demo`: a living inbox for a first look — people, a team, an API inbox, contacts
and a few dozen conversations in every state. Built through the same actions as real use."""

from __future__ import annotations

import random
import sys
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import sqlalchemy as sa

from frontdesk.access import Actor, access_actor_by_workspace
from frontdesk.actions.conversations import check_assign, check_set_labels, check_set_status
from frontdesk.actions.email.intake import do_receive_email
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
from frontdesk.domain.email.addresses import hosted_address
from frontdesk.domain.enums import ConversationStatus, DeliveryStatus, Role
from frontdesk.domain.inbound import InboundContact, InboundMessage
from frontdesk.mail.parse import parse_email
from frontdesk.security import SecretBox
from frontdesk.settings import Settings
from frontdesk.store import tables as t
from frontdesk.store.db import Database, Tx
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


# Customers' mails for the demo's email inbox: (sender, subject, plain text, HTML or None, Cc).
MAILS = [
    (
        "Zeynep Arslan <zeynep@example.com>",
        "Kargom nerede?",
        "Merhaba,\n\n3 gün önce verdiğim 10482 numaralı sipariş hâlâ kargoya verilmedi. "
        "Ne zaman gönderilir?\n\nTeşekkürler,\nZeynep",
        "<p>Merhaba,</p><p>3 gün önce verdiğim <b>10482</b> numaralı sipariş hâlâ kargoya "
        "verilmedi. Ne zaman gönderilir?</p><p>Teşekkürler,<br>Zeynep</p>",
        None,
    ),
    (
        "Mina Rahimi <mina@example.com>",
        "درخواست بازگشت کالا",
        "سلام،\nکفشی که خریدم اندازه نیست. چطور می‌توانم آن را پس بدهم؟\nبا سپاس، مینا",
        None,
        None,
    ),
    (
        "Tom Becker <tom@example.com>",
        "Invoice for order 10467",
        "Hi,\n\nCould you send the invoice for order 10467 to our accounts team (copied)?\n\nThanks,\nTom",
        None,
        "Accounts <accounts@example.com>",
    ),
    (
        "Selim Kaya <selim@example.com>",
        "Fatura adresi değişikliği",
        "İyi günler,\nfatura adresimi Kadıköy, İstanbul olarak güncelleyebilir misiniz?\nSelim Kaya",
        None,
        None,
    ),
]


async def create_demo(settings: Settings) -> list[str]:
    db = Database(settings.effective_database_url, channels=adapter_class)
    try:
        async with db.read() as conn:
            exists = (
                await conn.execute(sa.select(t.users.c.id).where(t.users.c.email_lower == ADMIN_EMAIL))
            ).first()
        if exists is None:
            await _build(db, SecretBox(settings.secret_key))
        simulated = await _simulated_inboxes(db, settings) if settings.demo_simulated_channels else []
        async with db.read() as conn:
            web = sa.select(t.inboxes.c.uid).where(t.inboxes.c.channel_type == "web")
            site_uid = (await conn.execute(web.order_by(t.inboxes.c.id))).scalar()
            demo_shop = (
                sa.select(t.workspaces.c.mail_slug)
                .join(t.memberships, t.memberships.c.workspace_id == t.workspaces.c.id)
                .join(t.users, t.users.c.id == t.memberships.c.user_id)
                .where(t.users.c.email_lower == ADMIN_EMAIL)
            )
            slug = (await conn.execute(demo_shop)).scalar()
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
    if settings.mail_domain and settings.smtp_listen_port and slug:
        address = hosted_address("support", slug, settings.mail_domain)
        lines.append(
            f"Mail the email inbox at {address} through the SMTP listener on "
            f"{settings.smtp_listen_host}:{settings.smtp_listen_port}, e.g. "
            f"{_program()} send-test-mail --to {address} --port {settings.smtp_listen_port}"
        )
        if settings.demo_relay_port:
            lines.append(
                f"Replies go to the demo relay on 127.0.0.1:{settings.demo_relay_port}, which keeps them "
                f"(nothing is delivered): see {url}/demo/outbox"
            )
        elif not settings.smtp_host:
            lines.append("Email replies need a relay: FRONTDESK_SMTP_HOST (docs/settings.md)")
    if settings.demo_simulated_channels:
        lines.append(
            f"Simulated channels ({', '.join(simulated)}): write as their customers at {url}/demo/customer "
            "(the providers are simulated inside Frontdesk; nothing leaves this machine)"
        )
    return lines


async def _simulated_inboxes(db: Database, settings: Settings) -> list[str]:
    """DEMO EQUIPMENT (frontdesk/demo_sim/): an inbox of each channel with a simulated provider,
    added once, registered with its simulator as saving it in the dashboard would. The labels of
    the simulated channels, and a warning for each one the installation does not point at its
    simulator (its provider address setting, which `make demo` sets)."""
    from frontdesk.demo_sim.customer import register
    from frontdesk.demo_sim.registry import simulators

    box = SecretBox(settings.secret_key)
    labels: list[str] = []
    for channel, sim in simulators(settings).items():
        labels.append(sim.label)
        if not sim.is_wired():
            print(
                f"warning: the {sim.label} channel does not use its simulator at {sim.base_url}",
                file=sys.stderr,
            )
        wanted = sim.demo_inbox()
        async with db.write() as tx:
            admin = (
                await tx.conn.execute(sa.select(t.users.c.id).where(t.users.c.email_lower == ADMIN_EMAIL))
            ).scalar_one()
            mine = sa.select(t.memberships.c.workspace_id).where(t.memberships.c.user_id == admin)
            workspace_id = (await tx.conn.execute(mine.order_by(t.memberships.c.workspace_id))).scalar_one()
            inboxes = t.inboxes.c
            present = sa.select(t.inboxes).where(
                inboxes.workspace_id == workspace_id, inboxes.channel_type == channel
            )
            row = (await tx.conn.execute(present.order_by(inboxes.id))).mappings().first()
            if row is None:
                actor = await access_actor_by_workspace(tx.conn, admin, workspace_id)
                inbox_id = await check_create_inbox(
                    tx,
                    actor,
                    box,
                    adapter_class,
                    wanted.name,
                    channel,
                    dict(wanted.settings),
                    dict(wanted.secrets),
                )
                agents = sa.select(t.users.c.id).where(
                    t.users.c.email_lower.like("agent%@demo.frontdesk.test")
                )
                await check_set_inbox_members(
                    tx, actor, inbox_id, list((await tx.conn.execute(agents)).scalars())
                )
                made = sa.select(t.inboxes).where(inboxes.id == inbox_id)
                row = (await tx.conn.execute(made)).mappings().one()
            elif str(row["uid"]) in (await sim.store.read(channel))["accounts"]:
                continue  # registered already (unless the simulator's state was removed since)
        problem = await register(settings, sim, row, box)
        if problem:
            print(f"warning: {wanted.name} did not register with its simulator: {problem}", file=sys.stderr)
    return labels


def _program() -> str:
    """How this `frontdesk` was started (`make demo` runs .venv/bin/frontdesk), so that the
    printed command can be pasted as it is."""
    return sys.argv[0] if Path(sys.argv[0]).name == "frontdesk" else "frontdesk"


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
    await _email_inbox(db, box, actor, agents)
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
            reply = await check_send_reply(tx, actor, conv_id, rng.choice(REPLIES), channels=adapter_class)
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


async def _email_inbox(db: Database, box: SecretBox, actor: Actor, agents: list[int]) -> None:
    """An email inbox on the hosted address with customers' mails, taken in as the SMTP listener
    takes them in (parsed, threaded, stored); the first one answered."""
    async with db.write() as tx:
        settings = {"local_part": "support", "from_name": "Demo Shop Support"}
        mail_id = await check_create_inbox(tx, actor, box, adapter_class, "Shop mail", "email", settings, {})
        await check_set_inbox_members(tx, actor, mail_id, agents)
        select = sa.select(t.inboxes).where(t.inboxes.c.id == mail_id)
        inbox = (await tx.conn.execute(select)).mappings().one()
    reply_secret = str(box.open(inbox["secrets_encrypted"])["reply_secret"])
    for n, (sender, subject, text, html, cc) in enumerate(MAILS):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = sender, "support@demo-shop.example", subject
        msg["Date"] = format_datetime(utcnow() - timedelta(hours=len(MAILS) - n))
        msg["Message-ID"] = f"<demo-mail-{n}@example.com>"
        if cc:
            msg["Cc"] = cc
        msg.set_content(text)
        if html:
            msg.add_alternative(html, subtype="html")
        async with db.write() as tx:
            received = await do_receive_email(tx, inbox, parse_email(msg.as_bytes()), (), reply_secret)
            if n == 0:
                await _answered(tx, actor, received.conversation_id, agents[0])


async def _answered(tx: Tx, actor: Actor, conversation_id: int, agent: int) -> None:
    await check_assign(tx, actor, conversation_id, assignee_id=agent, team_id=None, comment=None)
    reply = await check_send_reply(
        tx, actor, conversation_id, "Merhaba, siparişiniz bugün kargoya veriliyor.", channels=adapter_class
    )
    select = sa.select(t.messages).where(t.messages.c.id == reply["id"])
    await do_set_delivery(tx, (await tx.conn.execute(select)).mappings().one(), DeliveryStatus.DELIVERED)
