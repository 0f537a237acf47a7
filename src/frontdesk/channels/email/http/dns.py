"""An own-address email inbox's DNS records (E2): the records to add, Check DNS, and a new DKIM
key. Administrators of the workspace only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from frontdesk.access import Actor
from frontdesk.actions.email.dkim_keys import check_set_dkim_key
from frontdesk.channels.email.access import access_email_inbox, mail_slug_of
from frontdesk.channels.email.dns_check import check_records
from frontdesk.domain.email.addresses import hosted_address
from frontdesk.domain.email.dns import DnsRecord, RecordKind, RecordStatus, own_domain, records_for
from frontdesk.domain.errors import Conflict
from frontdesk.domain.input import Id
from frontdesk.http.deps import Svc, WorkspaceActor
from frontdesk.http.openapi import answers
from frontdesk.mail.dkim import DkimError, generate_private_key, public_key
from frontdesk.services import Services

__all__ = ["EmailDns", "EmailDnsCheck", "router"]

# 409 for an inbox without its own address or an installation without a mail domain.
router = APIRouter(tags=["inboxes"], responses=answers(409))
_PATH = "/workspaces/{workspace_id}/inboxes/{inbox_id}/email-dns"


class DnsRecordOut(BaseModel):
    kind: RecordKind = Field(description="forward, mx, spf, dkim or dmarc.")
    name: str = Field(description="Where the record goes (the DNS name; for forward, your own address).")
    type: Literal["FORWARD", "MX", "TXT"] = Field(
        description="The DNS record type; FORWARD is a forwarding rule set at your mail provider."
    )
    value: str = Field(
        description="The record's value (MX: the mail host; FORWARD: the address to forward to)."
    )
    purpose: str = Field(description="What the record is for, in English.")
    group: str | None = Field(description="Records with the same group are alternatives: one is enough.")
    required: bool = Field(description="False for a suggestion or for one of a group of alternatives.")


class EmailDns(BaseModel):
    own_address: str
    domain: str
    dkim_selector: str
    dkim_key_present: bool = Field(
        description="False for an inbox made before DKIM keys were generated: POST email-dns/dkim-key "
        "makes one; until then replies are sent unsigned and no DKIM record is listed."
    )
    records: list[DnsRecordOut]


class RecordCheckOut(DnsRecordOut):
    status: RecordStatus = Field(
        description="ok; missing; wrong (found, but not right); manual (DNS cannot show it); unknown "
        "(the DNS could not be asked: try again)."
    )
    code: str = Field(description="The status's reason as a code for the dashboard to translate.")
    detail: str = Field(description="The same in English, with what to do.")
    found: list[str] = Field(description="What the DNS holds at that name (TXT strings joined per record).")


class EmailDnsCheck(BaseModel):
    domain: str
    sending_ready: bool = Field(description="SPF and DKIM are both right: replies will pass both.")
    records: list[RecordCheckOut]


@dataclass(frozen=True)
class _Inbox:
    records: list[DnsRecord]
    own: str
    selector: str
    has_key: bool


async def _own_address_inbox(svc: Services, actor: Actor, inbox_id: int) -> _Inbox:
    async with svc.db.read() as conn:
        inbox = await access_email_inbox(conn, actor, inbox_id)
        actor.require_admin()
        slug = await mail_slug_of(conn, inbox["workspace_id"])
    settings, conf = inbox["settings"], svc.settings
    if settings.get("address_mode") != "own_address" or not settings.get("own_address"):
        raise Conflict(
            "DNS records are for inboxes in own_address mode; this inbox is in "
            f"{settings.get('address_mode', 'hosted')} mode",
            field="settings.address_mode",
            code="not_own_address",
        )
    if not conf.mail_domain or not slug:
        raise Conflict("this installation has no mail domain (FRONTDESK_MAIL_DOMAIN)", code="no_mail_domain")
    key = svc.box.open(inbox["secrets_encrypted"]).get("dkim_private_key")
    try:
        public = public_key(key) if key else None
    except DkimError:
        public = None  # an unusable key is reported as absent: making a new one is the remedy
    selector = settings.get("dkim_selector") or "frontdesk"
    records = records_for(
        settings["own_address"],
        hosted_address(settings["local_part"], slug, conf.mail_domain),
        conf.mail_mx_host or conf.mail_domain,
        _spf_include(svc),
        selector,
        public,
    )
    return _Inbox(records, settings["own_address"], selector, bool(public))


def _spf_include(svc: Services) -> str:
    return svc.settings.spf_include or f"_spf.{svc.settings.mail_domain.strip('.')}"


def _out(found: _Inbox) -> EmailDns:
    return EmailDns(
        own_address=found.own,
        domain=own_domain(found.own),
        dkim_selector=found.selector,
        dkim_key_present=found.has_key,
        records=[DnsRecordOut(**vars(r)) for r in found.records],
    )


@router.get(_PATH, response_model=EmailDns)
async def email_dns(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> EmailDns:
    return _out(await _own_address_inbox(svc, actor, inbox_id))


@router.post(_PATH + "/check", response_model=EmailDnsCheck)
async def check_email_dns(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> EmailDnsCheck:
    """Looks the records up (a few seconds at most) and judges each."""
    found = await _own_address_inbox(svc, actor, inbox_id)
    checks = await check_records(found.records, svc.settings.dns_servers, _spf_include(svc))
    out = [
        RecordCheckOut(**vars(r), status=c.status, code=c.code, detail=c.detail, found=list(c.found))
        for r, c in zip(found.records, checks, strict=True)
    ]
    ok = {c.kind for c in checks if c.status == "ok"}
    return EmailDnsCheck(domain=own_domain(found.own), sending_ready={"spf", "dkim"} <= ok, records=out)


@router.post(_PATH + "/dkim-key", response_model=EmailDns)
async def make_dkim_key(inbox_id: Id, actor: WorkspaceActor, svc: Svc) -> EmailDns:
    """A new DKIM key (replacing the old one: replies fail DKIM until the DNS record shown is
    updated). Returns the records, with the new DKIM one."""
    await _own_address_inbox(svc, actor, inbox_id)
    private = await asyncio.to_thread(generate_private_key)  # RSA generation takes a while
    async with svc.db.write() as tx:
        await check_set_dkim_key(tx, actor, svc.box, inbox_id, private)
    svc.inboxes.forget(inbox_id)
    return _out(await _own_address_inbox(svc, actor, inbox_id))
