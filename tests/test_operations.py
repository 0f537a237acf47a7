"""Operations endpoints, settings, the CLI, and secrets at rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from pydantic import ValidationError

from frontdesk.cli import main
from frontdesk.settings import DEV_SECRET_KEY, Settings
from frontdesk.store import tables as t
from tests.conftest import BACKEND, Server
from tests.factories import make_admin, make_inbox, receive


async def test_health_ready_and_metrics(server: Server, http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).json() == {"status": "ok"}
    assert (await http.get("/readyz")).json() == {"status": "ok"}
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    await receive(http, inbox, "m-1")
    text = (await http.get("/metrics")).text
    assert 'frontdesk_ingest_total{channel="api",outcome="stored"}' in text
    assert "frontdesk_queue_depth" in text and "frontdesk_queue_oldest_seconds" in text
    assert "frontdesk_websocket_connections" in text
    assert 'route="/webhooks/{channel_type}/{inbox_uid}"' in text


async def test_openapi_documents_the_api(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/api/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/workspaces/{workspace_id}/conversations",
        "/api/v1/workspaces/{workspace_id}/conversations/{conversation_id}/messages",
        "/api/v1/workspaces/{workspace_id}/search",
        "/webhooks/{channel_type}/{inbox_uid}",
    ):
        assert path in paths, path
    assert (await http.get("/api/docs")).status_code == 200


async def test_channel_secrets_are_encrypted_at_rest(server: Server, http: httpx.AsyncClient) -> None:
    admin, ws = await make_admin(server, http)
    inbox = await make_inbox(http, admin, ws)
    async with server.services.db.read() as conn:
        row = (await conn.execute(sa.select(t.inboxes).where(t.inboxes.c.id == inbox.id))).mappings().one()
    assert inbox.secret not in row["secrets_encrypted"]
    assert inbox.secret not in json.dumps(row["settings"])
    assert server.services.box.open(row["secrets_encrypted"])["hmac_secret"] == inbox.secret


def test_settings_refuse_the_placeholder_secret_outside_dev_mode() -> None:
    with pytest.raises(ValidationError, match="FRONTDESK_SECRET_KEY"):
        Settings(secret_key=DEV_SECRET_KEY, dev_mode=False)
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(secret_key="short", dev_mode=False)
    assert Settings(secret_key=DEV_SECRET_KEY, dev_mode=True).dev_mode


@pytest.mark.skipif(BACKEND != "sqlite", reason="the CLI is exercised once, on the embedded database")
def test_cli_version_migrate_create_admin_and_demo(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"FRONTDESK_DATA_DIR": str(tmp_path), "FRONTDESK_DEV_MODE": "1", "FRONTDESK_DATABASE_URL": ""}
    assert "frontdesk 0.1.0" in runner.invoke(main, ["version"]).output
    refused = runner.invoke(main, ["migrate"], env={**env, "FRONTDESK_DEV_MODE": "0"})
    assert refused.exit_code == 2 and "FRONTDESK_SECRET_KEY" in refused.output
    assert runner.invoke(main, ["migrate"], env=env).exit_code == 0
    args = ["create-admin", "--email", "Boss@Example.com", "--name", "Boss", "--password", "long-enough-pw"]
    created = runner.invoke(main, args, env=env)
    assert created.exit_code == 0, created.output
    again = runner.invoke(main, [*args[:2], "boss@example.com", *args[3:]], env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    mail = {
        "FRONTDESK_MAIL_DOMAIN": "mail.localhost",
        "FRONTDESK_SMTP_LISTEN_PORT": "2525",
        "FRONTDESK_DEMO_RELAY_PORT": "2526",
    }
    demo = runner.invoke(main, ["demo"], env={**env, **mail})
    assert demo.exit_code == 0, demo.output
    assert "admin@demo.frontdesk.test" in demo.output and "frontdesk-demo" in demo.output
    assert "support@demo-shop.mail.localhost through the SMTP listener on 127.0.0.1:2525" in demo.output
    assert "send-test-mail --to support@demo-shop.mail.localhost --port 2525" in demo.output
    assert "demo relay on 127.0.0.1:2526" in demo.output and "/demo/outbox" in demo.output
    assert runner.invoke(main, ["demo"], env=env).exit_code == 0  # a second run changes nothing
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'frontdesk.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.conversations)).scalar_one() == 40
        assert conn.execute(sa.select(sa.func.count()).select_from(t.users)).scalar_one() == 4
        # The email inbox's mails were taken in as mail is: threaded, with their email data.
        c, m, i = t.conversations, t.messages, t.inboxes
        email = sa.select(m.c.data).join(i, i.c.id == m.c.inbox_id).where(i.c.channel_type == "email")
        mails = [row.data["email"] for row in conn.execute(email.where(m.c.kind == "incoming"))]
        assert len(mails) == 4 and {mail["subject"] for mail in mails} >= {
            "Kargom nerede?",
            "درخواست بازگشت کالا",
        }
        assert any(mail.get("html") for mail in mails) and any(mail.get("cc") for mail in mails)
        emailed = sa.select(sa.func.count()).select_from(c.join(i, i.c.id == c.c.inbox_id))
        assert conn.execute(emailed.where(i.c.channel_type == "email")).scalar_one() == 4
    engine.dispose()


def test_response_schemas_mirror_the_event_views() -> None:
    """Events and API responses share store/views.py; the OpenAPI schemas must describe them."""
    from frontdesk.http.api import schemas
    from frontdesk.store import views

    now = datetime.now(UTC)
    conversation = dict.fromkeys(t.conversations.c.keys()) | {
        "contact_name": "A",
        "labels": [],
        "last_activity_at": now,
        "created_at": now,
    }
    message = dict.fromkeys(t.messages.c.keys()) | {"created_at": now}
    contact = dict.fromkeys(t.contacts.c.keys()) | {"created_at": now}
    inbox = dict.fromkeys(t.inboxes.c.keys()) | {"created_at": now}
    pairs = [
        (views.conversation_view(conversation), schemas.Conversation),
        (views.message_view(message), schemas.Message),
        (views.contact_view(contact), schemas.Contact),
        (views.inbox_view(inbox, "/webhooks/api/x"), schemas.Inbox),
    ]
    for view, model in pairs:
        assert set(view) == set(model.model_fields), model.__name__


METRICS_TOKEN = "metrics-token-0123456789"


@pytest.mark.parametrize("server", [{"dev_mode": False, "metrics_token": METRICS_TOKEN}], indirect=True)
async def test_metrics_need_the_token_when_one_is_set(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
        r = await http.get("/metrics", headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["error"]["code"] == "unauthenticated"
        assert "frontdesk_queue_depth" not in r.text
    r = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert r.status_code == 200 and "frontdesk_queue_depth" in r.text
    with pytest.raises(ValidationError, match="FRONTDESK_METRICS_TOKEN must be at least 16"):
        Settings(secret_key=METRICS_TOKEN, metrics_token="short")


@pytest.mark.parametrize("server", [{"dev_mode": False}], indirect=True)
async def test_metrics_are_off_without_a_token_outside_dev_mode(http: httpx.AsyncClient) -> None:
    r = await http.get("/metrics")
    assert r.status_code == 404 and "FRONTDESK_METRICS_TOKEN" in r.json()["error"]["message"]
    assert (await http.get("/healthz")).status_code == 200


def test_logs_never_carry_a_credential_from_a_provider_url() -> None:
    """httpx logs each request's URL at INFO; Telegram's bot token is part of its URLs."""
    import subprocess
    import sys

    code = (
        "import logging, httpx\n"
        "from frontdesk.logs import configure_logging\n"
        "configure_logging('text', 'info')\n"
        "logging.getLogger('frontdesk').info('logging works')\n"
        "client = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200)))\n"
        "client.get('https://api.telegram.org/bot123:SECRET-TOKEN/getMe')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "logging works" in done.stderr  # INFO lines are written ...
    assert "SECRET-TOKEN" not in done.stderr + done.stdout  # ... but not httpx's request lines
