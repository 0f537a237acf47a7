"""*Test connection* for an own-server email inbox (E3): connects to its IMAP and SMTP servers
with the settings on the form, saved or not, and reports the stage each one reached.

Administrators only: the check makes this server connect to a host and port they choose, which
is what configuring a mail server means; nothing is sent and no mail is read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from frontdesk.actions.workspace_objects import parse_settings
from frontdesk.channels.email.access import access_email_inbox
from frontdesk.channels.email.adapter import EmailSettings
from frontdesk.channels.email.connection import Advice, ConnectionReport, Stage
from frontdesk.channels.email.imap import check_imap
from frontdesk.channels.email.smtp_check import check_smtp
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.input import Id
from frontdesk.http.api.models import AgentInput
from frontdesk.http.deps import Svc, WorkspaceActor

__all__ = ["router"]

router = APIRouter(tags=["inboxes"])


class ConnectionTestIn(AgentInput):
    settings: dict[str, Any] = Field(
        description="The inbox's email settings as on the form (address_mode own_server); with "
        "inbox_id, they are laid over the saved ones."
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="imap_password and smtp_password as typed; one left out is the saved one "
        "(with inbox_id).",
    )
    inbox_id: Id | None = Field(default=None, description="The inbox being edited; null while adding one.")


class StageReport(BaseModel):
    ok: bool
    stage: Stage | None = Field(description="The stage that failed; null when all passed.")
    detail: str = Field(description="What happened, with the server's own words where it gave any (English).")
    passed: list[Stage] = Field(description="The stages that passed, in order.")
    advice: Advice | None = Field(description="A known provider's advice (Gmail, Outlook app passwords).")


class ConnectionTest(BaseModel):
    imap: StageReport
    smtp: StageReport


def _report(report: ConnectionReport) -> StageReport:
    return StageReport(
        ok=report.ok,
        stage=report.stage,
        detail=report.detail,
        passed=list(report.passed),
        advice=report.advice,
    )


def _settings(values: dict[str, Any]) -> EmailSettings:
    settings = parse_settings(EmailSettings, values)
    if settings.address_mode != "own_server":
        raise InvalidInput(
            "only an inbox on your own mail server (address_mode own_server) has a connection to test",
            field="settings.address_mode",
        )
    return settings


@router.post("/workspaces/{workspace_id}/email-connection-test", response_model=ConnectionTest)
async def test_connection(body: ConnectionTestIn, actor: WorkspaceActor, svc: Svc) -> ConnectionTest:
    actor.require_admin()
    saved_settings: dict[str, Any] = {}
    saved_secrets: dict[str, Any] = {}
    if body.inbox_id is not None:
        async with svc.db.read() as conn:
            inbox = await access_email_inbox(conn, actor, body.inbox_id)
        saved_settings = dict(inbox["settings"])
        saved_secrets = svc.box.open(inbox["secrets_encrypted"])
    settings = _settings({**saved_settings, **body.settings})
    secrets = {**saved_secrets, **{k: v for k, v in body.secrets.items() if v}}
    config = svc.settings
    imap, smtp = await asyncio.gather(
        check_imap(
            settings, secrets.get("imap_password"), config.mail_ca_file, config.outbound_timeout_seconds
        ),
        check_smtp(
            settings, secrets.get("smtp_password"), config.mail_ca_file, config.outbound_timeout_seconds
        ),
    )
    return ConnectionTest(imap=_report(imap), smtp=_report(smtp))
